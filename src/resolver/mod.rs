//! The resolver: it owns a call's journey through the views. A path enters at the innermost
//! view and travels outwards, each view's table deciding what it means there (`views/`), down
//! to what is handed below (the kernel in preload mode).
//!
//! Ways through, cheapest first:
//! - **hot** ([`hot`]): a path under no entry of any view, with no `..`: the caller's own
//!   pointer goes to the kernel (decided inline in the exported shell, one pass over the path);
//! - **fast** ([`fast`]): the path is made absolute in the innermost view's terms and
//!   normalized, then each view maps it textually (a bind's prefix replaced by its source) and
//!   the kernel walks the rest; a `..` is left to the kernel when it provably stays inside one
//!   mount ([`dotdot`]);
//! - **walk** ([`walk`]): component by component in the innermost view, each symlink read and
//!   resolved in the view: a bind whose source has symlinks leading out of it, a root, a `..`
//!   that crosses an entry, `--exact`, and the retry after an `ENOENT` from the fast way.
//!
//! Names the kernel gives descriptors and directories (`/proc/self/fd/N/…`, `/dev/fd/N/…`,
//! `/proc/self/cwd/…`, `/proc/self/root/…`) are taken back into the view ([`magic`]); names the
//! kernel hands out (getcwd, `/proc/self/…` links) are named in the view ([`reverse`]).
//! Everything here is generic over [`below::Below`]: no libc, no heap, no lock.

pub mod below;
pub mod cwd;
pub mod dotdot;
pub mod fast;
pub mod hot;
pub mod listing;
pub mod magic;
pub mod names;
pub mod refusal;
pub mod reverse;
pub mod start;
pub mod tree;
pub mod walk;

use crate::errno::{Errno, Res};
use crate::path::{normalize, Shape};
use crate::runtime::Runtime;
use crate::state::fds;
use crate::sys::PBuf;
use crate::views::Op;
use below::Below;
use libc::c_int;

/// How a call names its path, beside the path itself.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// `AT_FDCWD` or the descriptor a relative path starts from.
    pub dirfd: c_int,
    /// The last component is followed (`stat`, not `lstat`).
    pub follow: bool,
    pub op: Op,
    /// An empty path names `dirfd` itself (`AT_EMPTY_PATH`).
    pub empty: bool,
}

impl Call {
    pub fn at_cwd(follow: bool, op: Op) -> Call {
        Call { dirfd: libc::AT_FDCWD, follow, op, empty: false }
    }
}

/// Where a path goes after the views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// To the kernel as the caller gave it (its descriptor and path).
    Native,
    /// To the kernel as the absolute host path now in the buffer.
    Host,
}

/// The resolver's answer for one path.
#[derive(Clone, Copy, Debug)]
pub struct Routed {
    pub route: Route,
    /// The host path came from the textual way through a mount: if the call fails with
    /// `ENOENT`, a symlink below the mount may have led where the kernel, on the host, finds
    /// nothing (out of the source, or into the view), and the exact walk may lead elsewhere.
    pub retry: bool,
    /// The path lies under a read-only mount and the call writes: the caller turns this into
    /// the kernel's errno for it ([`refusal`]), which may also let the call through (a device
    /// opened for writing).
    pub read_only: bool,
}

impl Routed {
    pub const NATIVE: Routed = Routed { route: Route::Native, retry: false, read_only: false };
    pub const HOST: Routed = Routed { route: Route::Host, retry: false, read_only: false };
}

/// Carries `path` through every view. A host path, if one differs from the caller's, lands in
/// `out`; a view's refusal is `Err` (`ENOENT` hidden, `EACCES` denied, and the lookup errors).
#[inline(always)]
pub fn route<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<Routed> {
    let mut routed = route_in(b, rt, path, call, out)?;
    // From a descriptor opened before the view, the kernel's walk stays on the mount it was
    // opened on: no read-only mount of the view applies.
    if call.dirfd != libc::AT_FDCWD && path.first() != Some(&b'/') && fds::flags(call.dirfd) & fds::OUTSIDE != 0 {
        routed.read_only = false;
    }
    Ok(routed)
}

#[inline(always)]
fn route_in<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<Routed> {
    if path.is_empty() {
        // The descriptor itself (with AT_EMPTY_PATH), or the kernel's ENOENT.
        let ro = call.empty && call.op.writes() && fds::flags(call.dirfd) & fds::READ_ONLY != 0;
        return Ok(Routed { read_only: ro, ..Routed::NATIVE });
    }
    let mut shape = match prepare(b, rt, path, call, out)? {
        magic::Expanded::Path(s) => s,
        magic::Expanded::Done(r) => return Ok(r),
    };
    if !rt.exact {
        let fast = if shape.dotdot { dotdot::route(rt, out, shape, call)? } else { fast::route(rt, out, shape, call)? };
        if let Some(r) = fast {
            return Ok(r);
        }
        // A mount on the way must be walked: start over from the innermost view's path.
        shape = match prepare(b, rt, path, call, out)? {
            magic::Expanded::Path(s) => s,
            magic::Expanded::Done(r) => return Ok(r),
        };
    }
    walk::route(b, rt, out, shape, call)
}

/// The path in the innermost view's terms, absolute and normalized, with the names the kernel
/// gives descriptors and directories taken back into the view.
#[inline(always)]
fn prepare<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<magic::Expanded> {
    let shape = virtual_path(b, rt, path, call.dirfd, out)?;
    magic::expand(b, rt, out, shape, call)
}

/// The exact walk for `path`: what a fast-way call that failed with `ENOENT` retries with.
/// `Ok(false)` if it leads where the fast way did (nothing to retry).
pub fn retry<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<bool> {
    // An empty path names a descriptor (or is the kernel's ENOENT): nothing to walk.
    if !rt.has_mounts || path.is_empty() {
        return Ok(false);
    }
    if let magic::Expanded::Done(_) = prepare(b, rt, path, call, out)? {
        return Ok(false);
    }
    let walked = walk::walk(b, rt, out, call.follow, call.op)?;
    Ok(walked.met_mount)
}

/// Writes the absolute virtual path of `path` (from `dirfd`, or the working directory) into
/// `out`, normalized (no empty or `.` component; `..` kept), and says what normalizing found.
#[inline(always)]
pub fn virtual_path<B: Below>(b: &B, rt: &Runtime, path: &[u8], dirfd: c_int, out: &mut PBuf) -> Res<Shape> {
    if path.first() == Some(&b'/') {
        out.set(path)?;
    } else {
        relative_path(b, rt, path, dirfd, out)?;
    }
    if out.len() >= libc::PATH_MAX as usize + 1 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(normalize(out))
}

/// The directory `dirfd` (or the working directory) names in the view, then `/path`.
#[inline(never)]
fn relative_path<B: Below>(b: &B, rt: &Runtime, path: &[u8], dirfd: c_int, out: &mut PBuf) -> Res<()> {
    if dirfd == libc::AT_FDCWD {
        cwd::current(b, rt, out)?;
    } else {
        names::of_fd(b, rt, dirfd, out)?;
    }
    out.push_byte(b'/')?;
    out.push_bytes(path)
}

/// Appends the trailing `/` or `/.` the caller wrote to a host path (not to `/`).
pub(crate) fn put_trail(out: &mut PBuf, shape: Shape) -> Res<()> {
    if shape.trail.is_some() && out.as_bytes() != b"/" {
        out.push_bytes(shape.trail.text())?;
    }
    Ok(())
}

/// The canonical virtual path `virt` to the host path behind it, through every view, checking
/// `op` on the way. True if some mount rewrote it.
pub fn to_host(rt: &Runtime, virt: &[u8], op: Op, out: &mut PBuf) -> Res<bool> {
    to_host_in(rt.views, virt, op, out)
}

/// [`to_host`] through `views` only (outermost first): a path of the innermost of them.
pub fn to_host_in(views: &[crate::views::View], virt: &[u8], op: Op, out: &mut PBuf) -> Res<bool> {
    out.set(virt)?;
    let mut mapped = false;
    for view in views.iter().rev() {
        let d = view.decide(out.as_bytes(), op)?;
        if let Some(m) = d.mount {
            crate::views::Layer::map_out(m, out)?;
            mapped = true;
        }
    }
    Ok(mapped)
}

/// Whether the canonical virtual path lies under a read-only mount, as the innermost view that
/// decides says.
pub fn is_read_only(rt: &Runtime, virt: &[u8]) -> bool {
    let Ok(mut p) = crate::sys::pool::take() else { return false };
    if p.set(virt).is_err() {
        return false;
    }
    for view in rt.views.iter().rev() {
        match view.decide(p.as_bytes(), Op::Look) {
            Ok(d) if d.read_only => return true,
            Ok(d) => {
                if let Some(m) = d.mount {
                    if crate::views::Layer::map_out(m, &mut p).is_err() {
                        return false;
                    }
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// What the descriptor table should say of a descriptor on `virt` (canonical): nothing (0) for
/// one the view does not change, else `fds::ROUTE` and/or `fds::READ_ONLY`.
pub fn fd_flags_for(rt: &Runtime, virt: &[u8]) -> u8 {
    let mut f = 0;
    for view in rt.views {
        for e in view.entries {
            let at = crate::views::Layer::at(e);
            if crate::path::is_above(virt, at) {
                f |= fds::ROUTE;
            } else if crate::path::is_under(virt, at) && crate::views::Layer::routes_below(e) {
                f |= fds::ROUTE;
            }
        }
    }
    if is_read_only(rt, virt) {
        f |= fds::READ_ONLY;
    }
    // Under a mount that does not route below itself, relative paths without `..` are the
    // kernel's (the descriptor is the host directory); it is named all the same, for `..`,
    // `fchdir` and `/proc/self/fd`.
    let under = rt.views.iter().any(|v| v.entries.iter().any(|e| crate::path::is_under(virt, crate::views::Layer::at(e))));
    if f == 0 && under {
        f = fds::NAMED;
    }
    f
}
