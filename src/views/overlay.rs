//! `overlay`: the outer view's `lower` shown at `at` copy-on-write, as the kernel's overlayfs
//! would (it is the oracle of the tests). An entry is read from `upper` where it is there, else
//! from `lower`; the first change to a lower entry copies it up first; a removed lower entry
//! leaves a whiteout `.wh.NAME` in `upper`, a directory made where a removed one was holds
//! `.wh..wh..opq` (OCI image-layer conventions, so `upper` is a layer diff as it stands).
//! `lower` is never written: whatever this file does not carry to `upper` is refused.
//!
//! Stateless: each path is decided by probing `upper` (the entry, its whiteout, its ancestors'
//! opaque markers), so several processes share an overlay with no coordination but the file
//! system's. Every probe is a raw system call on a pool buffer: no allocation, no lock.

use super::overlay_cache::{self, PathHash};
use super::{Layer, Listed, Op};
use crate::errno::{Errno, Res};
use crate::path::{base_name, is_under, parent};
use crate::sys::fsops;
use crate::sys::{pool, PBuf};

/// The name a whiteout has in front of the entry it removes.
pub const WHITEOUT: &[u8] = b".wh.";
/// The marker of a directory whose lower entries are all hidden.
pub const OPAQUE: &[u8] = b".wh..wh..opq";

#[derive(Clone, Copy, Debug)]
pub struct Overlay {
    pub at: &'static [u8],
    pub lower: &'static [u8],
    pub upper: &'static [u8],
    /// Scratch space of the overlay's own (what a removal of a lower-only entry hands the
    /// kernel to remove instead).
    pub work: &'static [u8],
    /// The lower tree holds symlinks (the launcher looked): a lower path is checked for one
    /// before the kernel walks it (the view must resolve it: its target may have changed).
    pub lower_links: bool,
    /// Which change count is this overlay's (`sys::ovgen`).
    pub slot: usize,
    /// Which view of the stack it belongs to (0: the outermost, whose outer terms are the
    /// kernel's).
    pub view: usize,
}

/// Where a changing call goes, once [`Overlay::prepare`] made ready what it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Upper's path.
    Upper,
    /// The stand-in now in the buffer given.
    StandIn,
    /// Lower's path: a special file, written as the node it is.
    Lower,
}

/// Symlinks on upper's part of a path.
#[derive(Clone, Copy, Debug, Default)]
struct Links {
    above: bool,
    last: bool,
}

/// Where a path's entry is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `upper` has it.
    Upper,
    /// Only `lower` may have it (it may not exist at all).
    Lower,
    /// A whiteout or an opaque directory above hides the lower entry: nothing is there.
    Gone,
}

impl Overlay {
    /// `path` (canonical, under `at`) relative to `at`: empty, or starting with `/`.
    /// Whether `rel` has a `..` component (the overlay's own names are joined as text: such a
    /// name could lead out of upper or into lower, and is refused).
    fn climbs(rel: &[u8]) -> bool {
        rel.split(|&b| b == b'/').any(|c| c == b"..")
    }

    pub fn rel<'a>(&self, path: &'a [u8]) -> &'a [u8] {
        if self.at == b"/" {
            if path == b"/" {
                b""
            } else {
                path
            }
        } else {
            &path[self.at.len()..]
        }
    }

    fn join(base: &[u8], rel: &[u8], out: &mut PBuf) -> Res<()> {
        out.set_under(base, rel)
    }

    /// Upper's path for `rel`, as the kernel names it (for the overlay's own probes and
    /// changes): an overlay of a view inside another has its trees named in the outer view's
    /// terms, which the views outside map to the host's.
    pub fn upper_of(&self, rel: &[u8], out: &mut PBuf) -> Res<()> {
        Self::join(self.upper, rel, out)?;
        self.in_kernel_terms(out)
    }

    /// Lower's path for `rel`, as the kernel names it.
    pub fn lower_of(&self, rel: &[u8], out: &mut PBuf) -> Res<()> {
        Self::join(self.lower, rel, out)?;
        self.in_kernel_terms(out)
    }

    /// Upper's path for `rel` as this view hands it outward (the views outside map it on).
    pub fn upper_out(&self, rel: &[u8], out: &mut PBuf) -> Res<()> {
        Self::join(self.upper, rel, out)
    }

    /// Lower's path for `rel` as this view hands it outward.
    pub fn lower_out(&self, rel: &[u8], out: &mut PBuf) -> Res<()> {
        Self::join(self.lower, rel, out)
    }

    /// A path of the view outside this overlay's, as the kernel names it.
    fn in_kernel_terms(&self, p: &mut PBuf) -> Res<()> {
        if self.view == 0 {
            return Ok(());
        }
        let Some(rt) = crate::runtime::get() else { return Ok(()) };
        let outer = pool::copy_of(p.as_bytes())?;
        crate::resolver::to_host_in(&rt.views[..self.view.min(rt.views.len())], outer.as_bytes(), Op::Look, p).map(|_| ())
    }

    /// The work directory, as the kernel names it.
    fn work_host(&self, out: &mut PBuf) -> Res<()> {
        out.set(self.work)?;
        self.in_kernel_terms(out)
    }

    /// Whether nothing was ever made in upper (see `sys::ovgen`).
    pub fn is_untouched(&self) -> bool {
        self.untouched()
    }

    fn untouched(&self) -> bool {
        crate::sys::ovgen::untouched(self.slot, |p| self.work_host(p))
    }

    /// `upper/dir/.wh.NAME` (or `upper/dir/.wh..wh..opq` with `name` None) for `rel`'s parent.
    fn marker(&self, dir: &[u8], name: Option<&[u8]>, out: &mut PBuf) -> Res<()> {
        self.upper_of(dir, out)?;
        match name {
            Some(n) => {
                let mut w = [0u8; 260];
                if n.len() + WHITEOUT.len() > w.len() {
                    return Err(Errno::ENAMETOOLONG);
                }
                w[..WHITEOUT.len()].copy_from_slice(WHITEOUT);
                w[WHITEOUT.len()..WHITEOUT.len() + n.len()].copy_from_slice(n);
                out.push_component(&w[..WHITEOUT.len() + n.len()])
            }
            None => out.push_component(OPAQUE),
        }
    }

    /// The parent of a relative path (`/a/b` → `/a`, `/a` → ``).
    fn rel_parent(rel: &[u8]) -> &[u8] {
        let p = parent(rel);
        if p == b"/" {
            b""
        } else {
            p
        }
    }

    /// Whether the lower entry at `rel` is hidden: a whiteout of it or of a directory above it,
    /// or an opaque marker in a directory above it.
    fn hidden(&self, rel: &[u8], probe: &mut PBuf) -> Res<bool> {
        let mut cur = rel;
        while !cur.is_empty() {
            let dir = Self::rel_parent(cur);
            self.marker(dir, Some(base_name(cur)), probe)?;
            if fsops::exists(probe) {
                return Ok(true);
            }
            self.marker(dir, None, probe)?;
            if fsops::exists(probe) {
                return Ok(true);
            }
            cur = dir;
        }
        Ok(false)
    }

    /// Where `path` (canonical, under `at`) is read from.
    pub fn side(&self, path: &[u8]) -> Res<Side> {
        let rel = self.rel(path);
        let mut probe = pool::take()?;
        Ok(self.descend(rel, &mut probe)?.0)
    }

    /// The decision for `rel`, top down through upper: at each level, upper's entry (and on),
    /// or a whiteout or an opaque directory (gone), or nothing in upper: then nothing deeper is
    /// in upper either, no marker can hide what lies below, and the rest is lower's. Also says
    /// where upper's part of the path holds a symlink (upper may gain one at any moment, and the
    /// kernel would follow it on the host): above the last component, and as the last. One
    /// lookup per level upper has, and three probes at the level where it stops: a fresh
    /// overlay costs one lookup and two marker probes.
    fn descend(&self, rel: &[u8], probe: &mut PBuf) -> Res<(Side, Links)> {
        if rel.is_empty() {
            return Ok((Side::Upper, Links::default()));
        }
        let count = crate::sys::ovgen::current(self.slot, |p| self.work_host(p));
        if count == Some(0) {
            return Ok((Side::Lower, Links::default()));
        }
        // A directory above found to lie in lower only, since upper last changed.
        let mut h = PathHash::new(self.slot);
        if let Some(count) = count {
            let mut at = 0;
            while at < rel.len() {
                let end = memchr::memchr(b'/', &rel[at + 1..]).map_or(rel.len(), |i| at + 1 + i);
                h.push(&rel[at..end]);
                if overlay_cache::is_lower(h, count) {
                    return Ok((Side::Lower, Links::default()));
                }
                at = end;
            }
            h = PathHash::new(self.slot);
        }
        let mut at = 0;
        let mut links = Links::default();
        while at < rel.len() {
            // The next component (rel is `/`-separated and normalized).
            let end = memchr::memchr(b'/', &rel[at + 1..]).map_or(rel.len(), |i| at + 1 + i);
            let (dir, name) = (&rel[..at], &rel[at + 1..end]);
            h.push(&rel[at..end]);
            self.upper_of(&rel[..end], probe)?;
            match fsops::lstat(probe) {
                Ok(st) => {
                    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                        if end == rel.len() {
                            links.last = true;
                        } else {
                            links.above = true;
                        }
                    }
                    at = end;
                    continue;
                }
                Err(Errno::ENOENT) => {}
                // Not a directory above (the kernel says so for the call itself), or unreadable.
                Err(_) => return Ok((Side::Upper, links)),
            }
            self.marker(dir, Some(name), probe)?;
            if fsops::exists(probe) {
                return Ok((Side::Gone, links));
            }
            self.marker(dir, None, probe)?;
            if fsops::exists(probe) {
                return Ok((Side::Gone, links));
            }
            // Remembered for what lies below, unless a link above makes the path the walk's.
            if let (Some(count), false) = (count, links.above) {
                overlay_cache::note_lower(h, count);
            }
            return Ok((Side::Lower, links));
        }
        Ok((Side::Upper, links))
    }

    /// The textual way for a call that changes nothing: `path` (canonical, under `at`) becomes
    /// upper's or lower's path for the kernel to walk. False when it must be walked component
    /// by component instead: a symlink the call would follow is on upper's part of the path,
    /// or (`lower_links`) on lower's.
    pub fn route_read(&self, path: &mut PBuf, follow: bool) -> Res<bool> {
        let mut probe = pool::take()?;
        let rel = self.rel(path.as_bytes());
        let (side, links) = self.descend(rel, &mut probe)?;
        if links.above || links.last && follow {
            return Ok(false);
        }
        match side {
            Side::Upper | Side::Gone => self.upper_out(rel, &mut probe)?,
            Side::Lower => {
                // With nothing in upper, no link can lead where upper changed anything.
                if self.lower_links && !self.untouched() {
                    self.lower_of(rel, &mut probe)?;
                    if fsops::meets_link(&probe, follow) {
                        return Ok(false);
                    }
                }
                self.lower_out(rel, &mut probe)?;
            }
        }
        path.set(probe.as_bytes())?;
        Ok(true)
    }

    /// Whether a lower entry shows at `rel` (it exists and nothing hides it).
    fn lower_shows(&self, rel: &[u8]) -> Res<Option<libc::stat>> {
        let mut probe = pool::take()?;
        self.lower_of(rel, &mut probe)?;
        let Ok(st) = fsops::lstat(&probe) else { return Ok(None) };
        if self.hidden(rel, &mut probe)? {
            return Ok(None);
        }
        Ok(Some(st))
    }

    /// Makes `rel`'s directory, and every one above it, exist in `upper` (copied up with the
    /// lower directory's mode, owner and times when there is one).
    fn ensure_parents(&self, rel: &[u8]) -> Res<()> {
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
    fn copy_up_dir(&self, rel: &[u8], up: &mut PBuf) -> Res<()> {
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
                super::fakeroot::copied(&st, &copy);
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
    fn copy_up(&self, rel: &[u8], st: &libc::stat) -> Res<()> {
        self.copy_up_as(rel, st, true)
    }

    /// [`Overlay::copy_up`]; `data`: false when the call truncates the file anyway (nothing of
    /// the lower content would survive, and a file the real user may not read still copies up).
    fn copy_up_as(&self, rel: &[u8], st: &libc::stat, data: bool) -> Res<()> {
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
                super::fakeroot::copied(st, &copy);
            }
            fsops::rename(&tmp, &up)
        });
        if done.is_err() {
            let _ = fsops::unlink(&tmp, 0);
        }
        done
    }

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

    fn prepare_counted(&self, rel: &[u8], path: &[u8], op: Op, out: &mut PBuf) -> Res<Target> {
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

    /// Counts a change about to be made in upper, before it is made: a process that saw the
    /// count at 0 may have taken a path for lower's without a probe.
    fn changing(&self) {
        crate::sys::ovgen::changing(self.slot, |p| self.work_host(p));
    }

    /// Counts a change made (after [`Overlay::changing`]): what was found out while it was
    /// under way is stale.
    pub fn changed(&self) {
        self.changing();
    }

    /// Before a removal: a lower entry that shows gets a whiteout, and the kernel is handed
    /// what lies in upper (or, with nothing there, a stand-in in `work`: true) to remove. The
    /// checks the kernel would make on the lower entry are made here.
    fn remove(&self, rel: &[u8], dir: bool, stand_in: &mut PBuf) -> Res<bool> {
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

    fn stand_in(&self, dir: bool, out: &mut PBuf) -> Res<()> {
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

    /// Whether the merged directory at `rel` lists nothing.
    fn merged_is_empty(&self, rel: &[u8]) -> Res<bool> {
        let mut any = false;
        self.each_merged(rel, |_, _, _| {
            any = true;
            false
        })?;
        Ok(!any)
    }

    /// Removes the whiteouts and the opaque marker inside upper's directory `rel`.
    fn clear_markers(&self, rel: &[u8]) -> Res<()> {
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

    /// A descriptor on the lower directory behind the merged directory `path` (canonical),
    /// unless nothing lower shows there (none, or upper's directory is opaque).
    pub fn lower_dir(&self, path: &[u8]) -> Res<libc::c_int> {
        let rel = self.rel(path);
        let mut p = pool::take()?;
        self.upper_of(rel, &mut p)?;
        p.push_component(OPAQUE)?;
        if fsops::exists(&p) || self.hidden(rel, &mut p)? {
            return Err(Errno::ENOENT);
        }
        self.lower_of(rel, &mut p)?;
        fsops::open(&p, libc::O_RDONLY | libc::O_DIRECTORY, 0)
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
        let name = base_name(host);
        let mut w = [0u8; 260];
        if name.len() + WHITEOUT.len() > w.len() {
            return Ok(());
        }
        w[..WHITEOUT.len()].copy_from_slice(WHITEOUT);
        w[WHITEOUT.len()..WHITEOUT.len() + name.len()].copy_from_slice(name);
        wh.push_component(&w[..WHITEOUT.len() + name.len()])?;
        if !fsops::exists(&wh) {
            return Ok(());
        }
        let mut made = pool::take()?;
        made.set(host)?;
        if fsops::lstat(&made).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR) {
            made.push_component(OPAQUE)?;
            let opq = &made;
            fsops::open(opq, libc::O_WRONLY | libc::O_CREAT, 0o600).map(crate::sys::raw::close)?;
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

    fn before_rename_counted(&self, from: &[u8], to: &[u8], flags: libc::c_int) -> Res<()> {
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

    fn before_link_counted(&self, from: &[u8], to: &[u8]) -> Res<()> {
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

impl Layer for Overlay {
    fn at(&self) -> &[u8] {
        self.at
    }

    fn source(&self) -> Option<&[u8]> {
        Some(self.lower)
    }

    /// To upper where it has the entry (or hides the lower one), else to lower.
    fn map_out(&self, path: &mut PBuf) -> Res<()> {
        let side = self.side(path.as_bytes())?;
        let mut out = pool::take()?;
        let rel = self.rel(path.as_bytes());
        match side {
            Side::Upper | Side::Gone => self.upper_out(rel, &mut out)?,
            Side::Lower => self.lower_out(rel, &mut out)?,
        }
        path.set(out.as_bytes())
    }

    /// Both trees are shown here.
    fn map_back(&self, outer: &[u8], out: &mut PBuf) -> Res<bool> {
        let base = if is_under(outer, self.upper) {
            self.upper
        } else if is_under(outer, self.lower) {
            self.lower
        } else {
            return Ok(false);
        };
        let rest = if base == b"/" { outer } else { &outer[base.len()..] };
        out.set_under(self.at, rest)?;
        Ok(true)
    }

    /// Every path below is decided component by component: a directory may be merged.
    fn walks(&self) -> bool {
        true
    }

    fn listed(&self) -> Listed {
        Listed::AsIs
    }
}

/// Whether upper's directory `fd` has `name` or a whiteout of it: a lower entry of that name
/// is not listed.
pub fn upper_covers(fd: libc::c_int, name: &[u8]) -> bool {
    has_at(fd, name) || whited_out(fd, name)
}

/// A name for a copy in progress: a whiteout's prefix, the thread, a counter.
fn temp_name(out: &mut [u8; 40]) -> usize {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let prefix = b".wh..kmview-copy-";
    out[..prefix.len()].copy_from_slice(prefix);
    let mut at = prefix.len();
    for mut v in [crate::sys::raw::gettid() as u32, N.fetch_add(1, Ordering::Relaxed)] {
        let start = at;
        loop {
            out[at] = b'0' + (v % 10) as u8;
            at += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        out[start..at].reverse();
        out[at] = b'-';
        at += 1;
    }
    at - 1
}

/// The file at `from` copied whole (`data`; else empty) to a new file at `to` (synced: the
/// rename that follows must not publish a name whose data a crash could lose).
fn copy_file(from: &PBuf, to: &PBuf, st: &libc::stat, data: bool) -> Res<()> {
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

/// Whether directory `fd` has an entry `name`.
fn has_at(fd: libc::c_int, name: &[u8]) -> bool {
    let Ok(mut p) = pool::take() else { return false };
    p.set(name).is_ok() && crate::sys::raw::fstatat(fd, &p, libc::AT_SYMLINK_NOFOLLOW).is_ok()
}

/// Whether directory `fd` holds a whiteout of `name`.
fn whited_out(fd: libc::c_int, name: &[u8]) -> bool {
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
