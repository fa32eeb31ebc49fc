//! The merged listing: upper's entries but the markers, then lower's that upper neither has nor
//! whites out (one probe per name, no table), and the directory reading it is built on.

use super::{Overlay, OPAQUE, WHITEOUT};
use crate::errno::Res;
use crate::sys::fsops;
use crate::sys::pool;

impl Overlay {
    /// Whether the merged directory at `rel` lists nothing.
    pub(super) fn merged_is_empty(&self, rel: &[u8]) -> Res<bool> {
        let mut any = false;
        self.each_merged(rel, |_, _, _| {
            any = true;
            false
        })?;
        Ok(!any)
    }

    /// Removes the whiteouts and the opaque marker inside upper's directory `rel`.
    pub(super) fn clear_markers(&self, rel: &[u8]) -> Res<()> {
        let mut up = pool::take()?;
        self.upper_of(rel, &mut up)?;
        let Ok(fd) = fsops::open(&up, libc::O_RDONLY | libc::O_DIRECTORY, 0) else { return Ok(()) };
        let r = each_entry(fd, |name, _, _| {
            if name.starts_with(WHITEOUT) {
                let mut p = match pool::take() {
                    Ok(p) => p,
                    Err(_) => return false,
                };
                if p.set(up.as_bytes()).and_then(|()| p.push_component(name)).is_ok() {
                    let _ = fsops::unlink(&p, 0);
                }
            }
            true
        });
        crate::sys::raw::close(fd);
        r
    }

    /// Calls `f(name, d_type, d_ino)` for each entry the merged directory `rel` lists (`.` and
    /// `..` left out) until it returns false: upper's entries but the markers, then lower's that
    /// upper neither has nor whites out (none if the directory is opaque).
    pub fn each_merged(&self, rel: &[u8], mut f: impl FnMut(&[u8], u8, u64) -> bool) -> Res<()> {
        let mut up = pool::take()?;
        self.upper_of(rel, &mut up)?;
        let up_fd = fsops::open(&up, libc::O_RDONLY | libc::O_DIRECTORY, 0).ok();
        let mut go_on = true;
        if let Some(fd) = up_fd {
            each_entry(fd, |name, t, ino| {
                if name.starts_with(WHITEOUT) || name == b"." || name == b".." {
                    return true;
                }
                go_on = f(name, t, ino);
                go_on
            })?;
        }
        let mut probe = pool::take()?;
        let lower_hidden = self.hidden(rel, &mut probe)? || up_fd.is_some_and(|fd| has_at(fd, OPAQUE));
        if go_on && !lower_hidden {
            let mut low = pool::take()?;
            self.lower_of(rel, &mut low)?;
            if let Ok(lfd) = fsops::open(&low, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
                let r = each_entry(lfd, |name, t, ino| {
                    if name == b"." || name == b".." {
                        return true;
                    }
                    if let Some(ufd) = up_fd {
                        if has_at(ufd, name) || whited_out(ufd, name) {
                            return true;
                        }
                    }
                    f(name, t, ino)
                });
                crate::sys::raw::close(lfd);
                r?;
            }
        }
        if let Some(fd) = up_fd {
            crate::sys::raw::close(fd);
        }
        Ok(())
    }
}

/// Whether upper's directory `fd` has `name` or a whiteout of it: a lower entry of that name
/// is not listed.
pub fn upper_covers(fd: libc::c_int, name: &[u8]) -> bool {
    has_at(fd, name) || whited_out(fd, name)
}

/// Whether directory `fd` has an entry `name`.
pub(super) fn has_at(fd: libc::c_int, name: &[u8]) -> bool {
    let Ok(mut p) = pool::take() else { return false };
    p.set(name).is_ok() && crate::sys::raw::fstatat(fd, &p, libc::AT_SYMLINK_NOFOLLOW).is_ok()
}

/// Whether directory `fd` holds a whiteout of `name`.
pub(super) fn whited_out(fd: libc::c_int, name: &[u8]) -> bool {
    let Ok(mut p) = pool::take() else { return false };
    p.set(WHITEOUT).and_then(|()| p.push_bytes(name)).is_ok() && crate::sys::raw::fstatat(fd, &p, libc::AT_SYMLINK_NOFOLLOW).is_ok()
}

/// Calls `f(name, d_type, d_ino)` for each entry of directory `fd` until it returns false.
pub fn each_entry(fd: libc::c_int, mut f: impl FnMut(&[u8], u8, u64) -> bool) -> Res<()> {
    let mut buf = pool::take()?;
    let space = buf.all_mut();
    loop {
        let n = crate::sys::raw::getdents64(fd, space)?;
        if n == 0 {
            return Ok(());
        }
        let mut at = 0;
        while at + 19 < n {
            let ino = u64::from_ne_bytes(space[at..at + 8].try_into().unwrap_or([0; 8]));
            let reclen = u16::from_ne_bytes([space[at + 16], space[at + 17]]) as usize;
            let t = space[at + 18];
            let name_bytes = &space[at + 19..(at + reclen).min(n)];
            let len = memchr::memchr(0, name_bytes).unwrap_or(name_bytes.len());
            if !f(&name_bytes[..len], t, ino) {
                return Ok(());
            }
            if reclen == 0 {
                return Ok(());
            }
            at += reclen;
        }
    }
}
