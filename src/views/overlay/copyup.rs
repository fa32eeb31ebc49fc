//! Copy-up: a lower entry (and the directories above it) made to lie in upper before its first
//! change, with its mode, owner, times and extended attributes, under a temporary name renamed
//! into place once whole.

use super::{temp_name, Overlay};
use crate::errno::{Errno, Res};
use crate::sys::fsops;
use crate::sys::{pool, PBuf};

impl Overlay {
    /// Makes `rel`'s directory, and every one above it, exist in `upper` (copied up with the
    /// lower directory's mode, owner and times when there is one).
    pub(super) fn ensure_parents(&self, rel: &[u8]) -> Res<()> {
        let dir = Self::rel_parent(rel);
        if dir.is_empty() {
            return Ok(());
        }
        let mut up = pool::take()?;
        self.upper_of(dir, &mut up)?;
        if fsops::exists(&up) {
            return Ok(());
        }
        self.ensure_parents(dir)?;
        self.copy_up_dir(dir, &mut up)
    }

    /// `upper/rel` made as a copy of the lower directory (or a plain one if there is none).
    pub(super) fn copy_up_dir(&self, rel: &[u8], up: &mut PBuf) -> Res<()> {
        let mut low = pool::take()?;
        self.lower_of(rel, &mut low)?;
        let st = fsops::lstat(&low).ok().filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
        let mode = st.map_or(0o755, |st| st.st_mode & 0o7777);
        match fsops::mkdir(up, 0o700) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
        if let Some(st) = st {
            // The owner where this process may set it (as the kernel's overlay, whose mounter
            // may); then the mode (a chown clears set-id bits), the attributes and the times.
            let _ = fsops::lchown(up, st.st_uid, st.st_gid);
            fsops::copy_xattrs(&low, up);
            fsops::chmod(up, mode)?;
            let _ = fsops::copy_times(up, &st);
            if let Ok(copy) = fsops::lstat(up) {
                crate::views::fakeroot::copied(&st, &copy);
            }
        } else {
            fsops::chmod(up, mode)?;
        }
        Ok(())
    }

    /// Copies the lower entry at `rel` up: its parents first, then the entry under a temporary
    /// name in the same directory (a whiteout's name: never listed, never a lower entry's),
    /// renamed into place once whole. A writer killed in between leaves the temporary name,
    /// never a half copy under the entry's own.
    pub(super) fn copy_up(&self, rel: &[u8], st: &libc::stat) -> Res<()> {
        self.copy_up_as(rel, st, true)
    }

    /// [`Overlay::copy_up`]; `data`: false when the call truncates the file anyway (nothing of
    /// the lower content would survive, and a file the real user may not read still copies up).
    pub(super) fn copy_up_as(&self, rel: &[u8], st: &libc::stat, data: bool) -> Res<()> {
        self.ensure_parents(rel)?;
        let mut up = pool::take()?;
        self.upper_of(rel, &mut up)?;
        let mut low = pool::take()?;
        self.lower_of(rel, &mut low)?;
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            return self.copy_up_dir(rel, &mut up);
        }
        let mut tmp = pool::take()?;
        self.upper_of(Self::rel_parent(rel), &mut tmp)?;
        let mut name = [0u8; 40];
        let n = temp_name(&mut name);
        tmp.push_component(&name[..n])?;
        let _ = fsops::unlink(&tmp, 0);
        let made = match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => copy_file(&low, &tmp, st, data && st.st_size > 0),
            libc::S_IFLNK => {
                let mut target = pool::take()?;
                let n = crate::sys::raw::readlinkat(libc::AT_FDCWD, &low, target.all_mut())?;
                target.set_len(n);
                fsops::symlink(target.as_bytes(), &tmp)
            }
            // Devices, fifos, sockets: the node itself (a device needs privilege, as on overlayfs).
            _ => fsops::mknod(&tmp, st.st_mode, st.st_rdev),
        };
        let done = made.and_then(|()| {
            let _ = fsops::lchown(&tmp, st.st_uid, st.st_gid);
            fsops::copy_xattrs(&low, &tmp);
            if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
                fsops::chmod(&tmp, st.st_mode & 0o7777)?;
            }
            let _ = fsops::copy_times(&tmp, st);
            // What a fake root recorded of the lower file moves to the copy.
            if let Ok(copy) = fsops::lstat(&tmp) {
                crate::views::fakeroot::copied(st, &copy);
            }
            fsops::rename(&tmp, &up)
        });
        if done.is_err() {
            let _ = fsops::unlink(&tmp, 0);
        }
        done
    }
}

/// The file at `from` copied whole (`data`; else empty) to a new file at `to` (synced: the
/// rename that follows must not publish a name whose data a crash could lose).
pub(super) fn copy_file(from: &PBuf, to: &PBuf, st: &libc::stat, data: bool) -> Res<()> {
    let src = if data { Some(fsops::open(from, libc::O_RDONLY, 0)?) } else { None };
    let dst = match fsops::open(to, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600) {
        Ok(fd) => fd,
        Err(e) => {
            if let Some(src) = src {
                crate::sys::raw::close(src);
            }
            return Err(e);
        }
    };
    let copied = match src {
        Some(src) => fsops::copy_data(src, dst),
        None => Ok(()),
    };
    let r = copied.and_then(|()| fsops::fchmod(dst, st.st_mode & 0o7777)).and_then(|()| fsops::fsync(dst));
    if let Some(src) = src {
        crate::sys::raw::close(src);
    }
    crate::sys::raw::close(dst);
    r
}
