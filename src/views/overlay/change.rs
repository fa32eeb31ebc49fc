//! What a changing call needs before (and after) the kernel makes it: copy-up, whiteouts,
//! stand-ins for removals of lower-only entries, opaque markers, and the rules of rename and
//! link across the two trees.

use super::{push_whiteout, temp_name, Overlay, Side, Target, OPAQUE};
use crate::errno::{Errno, Res};
use crate::path::{base_name, is_under, parent};
use crate::sys::fsops;
use crate::sys::{pool, PBuf};
use crate::views::Op;

impl Overlay {
    /// Before a call that changes `path` (canonical, under `at`): what it changes is made to
    /// lie in upper, and where the kernel's call goes is said: upper's path, a stand-in (a
    /// removal of what only the lower tree had: its path now in `out`), or lower's (a device, a
    /// fifo or a socket opened for writing is the node itself, never copied up, as on overlayfs).
    pub fn prepare(&self, path: &[u8], op: Op, out: &mut PBuf) -> Res<Target> {
        let rel = self.rel(path);
        if rel.is_empty() {
            return Ok(Target::Upper);
        }
        if Self::climbs(rel) {
            return Err(Errno::EXDEV);
        }
        // Counted before and after: what this very call's own probes found while it copied
        // up (and remembered) must not decide where its path goes next.
        self.changing();
        let target = self.prepare_counted(rel, path, op, out);
        self.changed();
        target
    }

    pub(super) fn prepare_counted(&self, rel: &[u8], path: &[u8], op: Op, out: &mut PBuf) -> Res<Target> {
        match op {
            Op::Remove | Op::RemoveDir => {
                let dir = op == Op::RemoveDir;
                if self.remove(rel, dir, out)? {
                    return Ok(Target::StandIn);
                }
                Ok(Target::Upper)
            }
            Op::Open(_) | Op::Modify | Op::Chmod | Op::Truncate => match self.side(path)? {
                Side::Upper => Ok(Target::Upper),
                Side::Gone => self.ensure_parents(rel).map(|()| Target::Upper),
                Side::Lower => match self.lower_shows(rel)? {
                    // It exists: an exclusive create fails before anything is copied.
                    Some(_) if matches!(op, Op::Open(f) if f & (libc::O_CREAT | libc::O_EXCL) == libc::O_CREAT | libc::O_EXCL) => Err(Errno::EEXIST),
                    Some(st) if matches!(op, Op::Open(_)) && !matches!(st.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK) => {
                        Ok(Target::Lower)
                    }
                    Some(st) => {
                        let truncates = matches!(op, Op::Open(f) if f & libc::O_TRUNC != 0 && f & libc::O_ACCMODE != libc::O_RDONLY);
                        self.copy_up_as(rel, &st, !truncates).map(|()| Target::Upper)
                    }
                    None => self.ensure_parents(rel).map(|()| Target::Upper),
                },
            },
            // A name to make: its directory in upper (a whiteout in the way goes in `made`); a
            // name the lower tree shows is there already.
            Op::Create | Op::CreateDir => {
                if self.side(path)? == Side::Lower && self.lower_shows(rel)?.is_some() {
                    return Err(Errno::EEXIST);
                }
                self.ensure_parents(rel).map(|()| Target::Upper)
            }
            // Both names of a rename are prepared by `before_rename`, which knows which is which.
            Op::Rename | Op::Look | Op::Read | Op::AccessW => Ok(Target::Upper),
        }
    }

    /// Before a removal: a lower entry that shows gets a whiteout, and the kernel is handed
    /// what lies in upper (or, with nothing there, a stand-in in `work`: true) to remove. The
    /// checks the kernel would make on the lower entry are made here.
    pub(super) fn remove(&self, rel: &[u8], dir: bool, stand_in: &mut PBuf) -> Res<bool> {
        let Some(st) = self.lower_shows(rel)? else {
            // Upper only (or nothing): the kernel removes it, a directory once only whiteouts
            // and a marker are left in it (which it cannot see as empty).
            if dir && self.merged_is_empty(rel)? {
                self.clear_markers(rel)?;
            }
            return Ok(false);
        };
        let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
        let mut up = pool::take()?;
        self.upper_of(rel, &mut up)?;
        let up_st = fsops::lstat(&up).ok();
        let kind_dir = up_st.map_or(is_dir, |s| s.st_mode & libc::S_IFMT == libc::S_IFDIR);
        if dir && !kind_dir {
            return Err(Errno::ENOTDIR);
        }
        if !dir && kind_dir {
            return Err(Errno::EISDIR);
        }
        if dir {
            if !self.merged_is_empty(rel)? {
                return Err(Errno::ENOTEMPTY);
            }
            self.clear_markers(rel)?;
        }
        self.ensure_parents(rel)?;
        let mut wh = pool::take()?;
        self.marker(Self::rel_parent(rel), Some(base_name(rel)), &mut wh)?;
        match fsops::open(&wh, libc::O_WRONLY | libc::O_CREAT, 0o600) {
            Ok(fd) => crate::sys::raw::close(fd),
            Err(e) => return Err(e),
        }
        if up_st.is_none() {
            // The kernel removes a stand-in of the same kind.
            self.stand_in(dir, stand_in)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The path of a stand-in for a removal with nothing in upper, made fresh for it (a name of
    /// this thread's: two removals at once have one each), as this view hands it outward.
    pub fn stand_in_path(&self, out: &mut PBuf) -> Res<()> {
        out.set(self.work)?;
        let mut name = [0u8; 40];
        let n = temp_name(&mut name);
        out.push_component(&name[..n])
    }

    pub(super) fn stand_in(&self, dir: bool, out: &mut PBuf) -> Res<()> {
        self.stand_in_path(out)?;
        let mut p = pool::copy_of(out.as_bytes())?;
        self.in_kernel_terms(&mut p)?;
        if dir {
            match fsops::mkdir(&p, 0o700) {
                Ok(()) | Err(Errno::EEXIST) => Ok(()),
                Err(e) => Err(e),
            }
        } else {
            fsops::open(&p, libc::O_WRONLY | libc::O_CREAT, 0o600).map(crate::sys::raw::close)
        }
    }

    /// After a call made `host` (a path in some overlay's upper) exist: a whiteout left beside
    /// it goes, and a directory made where a lower one was removed becomes opaque.
    pub fn made(&self, host: &[u8]) -> Res<()> {
        let mut upper = pool::take()?;
        self.upper_of(b"", &mut upper)?;
        if !is_under(host, upper.as_bytes()) || host == upper.as_bytes() {
            return Ok(());
        }
        let mut wh = pool::take()?;
        wh.set(parent(host))?;
        if push_whiteout(&mut wh, base_name(host)).is_err() || !fsops::exists(&wh) {
            return Ok(());
        }
        let mut made = pool::take()?;
        made.set(host)?;
        if fsops::lstat(&made).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR) {
            made.push_component(OPAQUE)?;
            fsops::open(&made, libc::O_WRONLY | libc::O_CREAT, 0o600).map(crate::sys::raw::close)?;
        }
        fsops::unlink(&wh, 0)
    }

    /// Before `rename(from, to)` (both canonical, under `at`): a directory the lower tree shows
    /// is `EXDEV` (the kernel's overlay without `redirect_dir`: `mv` then copies); a lower file
    /// is copied up and its name whited out; `to`'s directory is made in upper.
    pub fn before_rename(&self, from: &[u8], to: &[u8], flags: libc::c_int) -> Res<()> {
        if Self::climbs(self.rel(from)) || Self::climbs(self.rel(to)) {
            return Err(Errno::EXDEV);
        }
        self.changing();
        let r = self.before_rename_counted(from, to, flags);
        self.changed();
        r
    }

    pub(super) fn before_rename_counted(&self, from: &[u8], to: &[u8], flags: libc::c_int) -> Res<()> {
        let (rf, rt) = (self.rel(from), self.rel(to));
        // The new name as the lower tree shows it: `RENAME_NOREPLACE` refuses it, and
        // `RENAME_EXCHANGE` moves it too (copied up first, a directory `EXDEV`).
        if let Some(st) = self.lower_shows(rt)? {
            let mut up = pool::take()?;
            self.upper_of(rt, &mut up)?;
            if !fsops::exists(&up) {
                if flags & libc::RENAME_NOREPLACE as libc::c_int != 0 {
                    return Err(Errno::EEXIST);
                }
                if flags & libc::RENAME_EXCHANGE as libc::c_int != 0 {
                    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                        return Err(Errno::EXDEV);
                    }
                    self.copy_up(rt, &st)?;
                }
            }
        }
        if rf.is_empty() || rt.is_empty() {
            return Err(Errno::EBUSY);
        }
        if let Some(st) = self.lower_shows(rf)? {
            if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                return Err(Errno::EXDEV);
            }
            let mut up = pool::take()?;
            self.upper_of(rf, &mut up)?;
            if !fsops::exists(&up) {
                self.copy_up(rf, &st)?;
            }
            let mut wh = pool::take()?;
            self.marker(Self::rel_parent(rf), Some(base_name(rf)), &mut wh)?;
            fsops::open(&wh, libc::O_WRONLY | libc::O_CREAT, 0o600).map(crate::sys::raw::close)?;
        }
        self.ensure_parents(rt)
    }

    /// Before `link(from, to)`: the file linked is upper's (a link to a lower file would let
    /// writes through it reach the lower tree).
    pub fn before_link(&self, from: &[u8], to: &[u8]) -> Res<()> {
        if Self::climbs(self.rel(from)) || is_under(to, self.at) && Self::climbs(self.rel(to)) {
            return Err(Errno::EXDEV);
        }
        // A new name the lower tree shows is there already.
        if is_under(to, self.at) && self.side(to)? == Side::Lower && self.lower_shows(self.rel(to))?.is_some() {
            return Err(Errno::EEXIST);
        }
        self.changing();
        let r = self.before_link_counted(from, to);
        self.changed();
        r
    }

    pub(super) fn before_link_counted(&self, from: &[u8], to: &[u8]) -> Res<()> {
        let rf = self.rel(from);
        if !rf.is_empty() && self.side(from)? == Side::Lower {
            if let Some(st) = self.lower_shows(rf)? {
                self.copy_up(rf, &st)?;
            }
        }
        if is_under(to, self.at) {
            self.ensure_parents(self.rel(to))?;
        }
        Ok(())
    }
}
