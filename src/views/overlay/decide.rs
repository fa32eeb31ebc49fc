//! Where a path of an overlay is read from: upper's entry, lower's, or gone (a whiteout or an
//! opaque directory above), decided top down through upper, with what the change count and the
//! per-directory memory (`cache`) let it skip.

use super::cache::{self as overlay_cache, PathHash};
use super::{Links, Overlay, Side, OPAQUE};
use crate::errno::{Errno, Res};
use crate::path::base_name;
use crate::sys::fsops;
use crate::sys::{pool, PBuf};

impl Overlay {
    /// Whether the lower entry at `rel` is hidden: a whiteout of it or of a directory above it,
    /// or an opaque marker in a directory above it.
    pub(super) fn hidden(&self, rel: &[u8], probe: &mut PBuf) -> Res<bool> {
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
    pub(super) fn descend(&self, rel: &[u8], probe: &mut PBuf) -> Res<(Side, Links)> {
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
    pub(super) fn lower_shows(&self, rel: &[u8]) -> Res<Option<libc::stat>> {
        let mut probe = pool::take()?;
        self.lower_of(rel, &mut probe)?;
        let Ok(st) = fsops::lstat(&probe) else { return Ok(None) };
        if self.hidden(rel, &mut probe)? {
            return Ok(None);
        }
        Ok(Some(st))
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
}
