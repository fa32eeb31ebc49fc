//! `overlay`: the outer view's `lower` shown at `at` copy-on-write, as the kernel's overlayfs
//! would (it is the oracle of the tests). An entry is read from `upper` where it is there, else
//! from `lower`; the first change to a lower entry copies it up first; a removed lower entry
//! leaves a whiteout `.wh.NAME` in `upper`, a directory made where a removed one was holds
//! `.wh..wh..opq` (OCI image-layer conventions, so `upper` is a layer diff as it stands).
//! `lower` is never written: whatever this file does not carry to `upper` is refused.
//!
//! Each path is decided by probing `upper` (the entry, its whiteout, its directory's opaque
//! marker; `decide`), so several processes share an overlay with no coordination but the file
//! system's and a change count in a shared word (`sys::ovgen`), which lets an untouched overlay
//! skip every probe and each process remember lower-only directories until the next change
//! (`cache`). Before a change, what it changes is copied up (`copyup`) and whiteouts, stand-ins
//! and markers are made (`change`); directories both trees have are listed merged (`listing`).
//! Every probe is a raw system call on a pool buffer: no allocation, no lock.

mod cache;
mod change;
mod copyup;
mod decide;
mod listing;

pub use listing::{each_entry, upper_covers};

use super::{Layer, Listed, Op};
use crate::errno::{Errno, Res};
use crate::path::{is_under, parent};
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
            Some(n) => push_whiteout(out, n),
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

/// `out/.wh.NAME`: the whiteout of `name` in the directory `out` names.
fn push_whiteout(out: &mut PBuf, name: &[u8]) -> Res<()> {
    if name.len() + WHITEOUT.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    out.push_component(WHITEOUT)?;
    out.push_bytes(name)
}
