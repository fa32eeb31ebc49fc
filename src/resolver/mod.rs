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
pub mod beyond;
pub mod cwd;
pub mod dotdot;
pub mod fast;
pub mod hot;
pub mod kernel;
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

    /// The textual way through the mount `m` (its prefix of `out` replaced by its source): the
    /// path now goes to the kernel as a host path, and an `ENOENT` from it is worth one exact
    /// walk (a symlink below may lead where the kernel, on the host, finds nothing).
    #[inline(always)]
    fn through(&mut self, m: &crate::views::Entry, out: &mut PBuf) -> Res<()> {
        crate::views::Layer::map_out(m, out)?;
        self.route = Route::Host;
        self.retry = true;
        Ok(())
    }

    /// Done with the views: a host path gets back the trailing `/` or `/.` the caller wrote.
    #[inline(always)]
    fn finish(self, out: &mut PBuf, shape: Shape) -> Res<Option<Routed>> {
        if self.route == Route::Host {
            put_trail(out, shape)?;
        }
        Ok(Some(self))
    }
}

/// Carries `path` through every view. A host path, if one differs from the caller's, lands in
/// `out`; a view's refusal is `Err` (`ENOENT` hidden, `EACCES` denied, and the lookup errors).
#[inline(always)]
pub fn route<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<Routed> {
    route_keeping(b, rt, path, call, out, None)
}

/// [`route`], and the path's virtual name (absolute, canonical) into `virt` when the resolver
/// had it on the way (else `virt` is left empty): what the open family records for the new
/// descriptor, without working it out twice.
#[inline(always)]
pub fn route_keeping<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf, virt: Option<&mut PBuf>) -> Res<Routed> {
    let mut routed = route_in(b, rt, path, call, out, virt)?;
    // From a descriptor opened before the view, the kernel's walk stays on the mount it was
    // opened on: no read-only mount of the view applies.
    if call.dirfd != libc::AT_FDCWD && path.first() != Some(&b'/') && fds::flags(call.dirfd) & fds::OUTSIDE != 0 {
        routed.read_only = false;
    }
    Ok(routed)
}

#[inline(always)]
fn route_in<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf, virt: Option<&mut PBuf>) -> Res<Routed> {
    if let Some(v) = &virt {
        debug_assert!(v.is_empty());
    }
    if rt.views.last().is_some_and(|v| v.chroot) {
        if let Some(r) = beyond::route(b, rt, path, call, out)? {
            return Ok(r);
        }
    }
    if path.is_empty() {
        // The descriptor itself (with AT_EMPTY_PATH), or the kernel's ENOENT.
        let ro = call.empty
            && call.op.writes()
            && if call.dirfd == libc::AT_FDCWD {
                (rt.has_read_only || rt.has_overlay) && cwd_is_read_only(b, rt)
            } else {
                fds::flags(call.dirfd) & fds::READ_ONLY != 0
            };
        return Ok(Routed { read_only: ro, ..Routed::NATIVE });
    }
    let mut shape = match prepare(b, rt, path, call, out)? {
        magic::Expanded::Path(s) => s,
        magic::Expanded::Done(r) => return Ok(r),
    };
    // Normalized and without `..`: the virtual name as it stands.
    if let (Some(v), false) = (virt, shape.dotdot) {
        v.set(out.as_bytes())?;
    }
    // With an overlay, a change is resolved in the view component by component: a symlink
    // outside it may lead into it, and the kernel would follow it to the lower tree.
    if !rt.exact && !(rt.has_overlay && call.op.writes() && call.op != Op::AccessW) {
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

/// Whether the working directory lies where changes are refused (a read-only mount, an
/// overlay's lower tree): a change to it by an empty path (`AT_EMPTY_PATH`) is refused too.
fn cwd_is_read_only<B: Below>(b: &B, rt: &Runtime) -> bool {
    let Ok(mut here) = crate::sys::pool::take() else { return true };
    cwd::current(b, rt, &mut here).map_or(true, |()| is_unchangeable(rt, here.as_bytes()))
}

/// The exact walk for `path`: what a fast-way call that failed with `ENOENT` retries with.
/// `Ok(false)` if it leads where the fast way did (nothing to retry).
pub fn retry<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<bool> {
    // An empty path names a descriptor (or is the kernel's ENOENT): nothing to walk.
    if !rt.has_mounts || path.is_empty() {
        return Ok(false);
    }
    // From the working directory: the published one may be stale (a directory above it was
    // renamed): named anew from the kernel's first.
    if path.first() != Some(&b'/') && call.dirfd == libc::AT_FDCWD {
        cwd::settle(b, rt);
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
    if out.len() > libc::PATH_MAX as usize {
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
            mapped = true;
            if overlaid(m, op, out)? {
                continue;
            }
            crate::views::Layer::map_out(m, out)?;
        }
    }
    Ok(mapped)
}

/// Before a call that writes under an overlay: the overlay carries what it changes to its upper
/// tree (see `views::overlay`) and the path is mapped there (or to the stand-in a removal of a
/// lower-only entry hands the kernel). True when this mapped it.
#[inline(always)]
pub fn overlaid(m: &crate::views::Entry, op: Op, path: &mut PBuf) -> Res<bool> {
    let crate::views::Entry::Overlay(o) = m else { return Ok(false) };
    if op == Op::AccessW {
        return overlay_access(o, path);
    }
    if !op.writes() {
        return Ok(false);
    }
    let mut to = crate::sys::pool::take()?;
    match o.prepare(path.as_bytes(), op, &mut to)? {
        // Whatever the call changes now lies in upper, or is made there.
        crate::views::overlay::Target::Upper => o.upper_out(o.rel(path.as_bytes()), &mut to)?,
        crate::views::overlay::Target::Lower => o.lower_out(o.rel(path.as_bytes()), &mut to)?,
        crate::views::overlay::Target::StandIn => {}
    }
    path.set(to.as_bytes())?;
    Ok(true)
}

/// Whether the canonical virtual path lies under a read-only mount, as the innermost view that
/// decides says.
pub fn is_read_only(rt: &Runtime, virt: &[u8]) -> bool {
    if !rt.has_read_only {
        return false;
    }
    let Ok(mut p) = crate::sys::pool::take() else {
        return false;
    };
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

/// `access(W_OK)` under an overlay changes nothing: it asks the entry where it is, except under
/// a fake root, where whatever exists in the overlay is writable as root would find it (a write
/// would copy it up into upper, which the real user owns): the question goes to upper's root.
fn overlay_access(o: &crate::views::Overlay, path: &mut PBuf) -> Res<bool> {
    if !crate::views::fakeroot::active() || o.side(path.as_bytes())? == crate::views::overlay::Side::Gone {
        return Ok(false);
    }
    let mut probe = crate::sys::pool::take()?;
    crate::views::Layer::map_out(&crate::views::Entry::Overlay(*o), path)?;
    probe.set(path.as_bytes())?;
    if crate::sys::fsops::lstat(&probe).is_err() {
        // Nothing there: the kernel's ENOENT.
        return Ok(true);
    }
    path.set(o.upper)?;
    Ok(true)
}

/// Whether every overlay of the stack is untouched (`sys::ovgen`): the lower trees are then the
/// merged trees.
pub fn overlays_untouched(rt: &Runtime) -> bool {
    rt.views.iter().flat_map(|v| v.entries.iter()).all(|e| match e {
        crate::views::Entry::Overlay(o) => o.is_untouched(),
        _ => true,
    })
}

/// Whether the entry at `virt` (canonical, innermost terms) may not be changed in place: it lies
/// under a read-only mount, or in an overlay's lower tree (changed only through its name, which
/// copies it up first). What a descriptor or a magic link leads to is judged by this.
pub fn is_unchangeable(rt: &Runtime, virt: &[u8]) -> bool {
    is_read_only(rt, virt) || on_lower(rt, virt)
}

/// Whether `virt` (canonical, innermost terms) is read from an overlay's lower tree: a
/// descriptor on it refuses changes made through it (`fchmod`, `fchown`, `futimens`…) with
/// `EROFS`, where the kernel's overlay would copy the file up first: the lower tree is never
/// written, whatever the call.
fn on_lower(rt: &Runtime, virt: &[u8]) -> bool {
    if !rt.has_overlay {
        return false;
    }
    // View by view from the innermost, the path in each view's terms.
    let Ok(mut p) = crate::sys::pool::copy_of(virt) else { return true };
    for view in rt.views.iter().rev() {
        match view.mount_of(p.as_bytes()) {
            Some(crate::views::Entry::Overlay(o)) => return o.side(p.as_bytes()).map_or(true, |s| s == crate::views::overlay::Side::Lower),
            Some(m) => {
                if crate::views::Layer::map_out(m, &mut p).is_err() {
                    return true;
                }
            }
            None => {}
        }
    }
    false
}

/// What the descriptor table should say of a descriptor on `virt` (canonical): nothing (0) for
/// one the view does not change, else `fds::ROUTE` and/or `fds::READ_ONLY`.
pub fn fd_flags_for(rt: &Runtime, virt: &[u8]) -> u8 {
    let mut f = 0;
    // Whether something besides an overlay routes below it.
    let mut other = false;
    for view in rt.views {
        for e in view.entries {
            let at = crate::views::Layer::at(e);
            // An entry below it, or one it lies under that refuses or walks below itself.
            if crate::path::is_above(virt, at) || (crate::path::is_under(virt, at) && crate::views::Layer::routes_below(e)) {
                f |= fds::ROUTE;
                other |= !matches!(e, crate::views::Entry::Overlay(_)) || crate::path::is_above(virt, at);
            }
        }
    }
    if is_read_only(rt, virt) {
        f |= fds::READ_ONLY;
    }
    if on_lower(rt, virt) {
        f |= fds::READ_ONLY | if other { 0 } else { fds::LOWER };
    }
    // Under a mount that does not route below itself, relative paths without `..` are the
    // kernel's (the descriptor is the host directory); it is named all the same, for `..`,
    // `fchdir` and `/proc/self/fd`.
    let under = rt.views.iter().any(|v| v.entries.iter().any(|e| crate::path::is_under(virt, crate::views::Layer::at(e))));
    // A trace names what a descriptor-relative call reaches by the descriptor's name: kept, so
    // that it is not asked of the kernel at every call.
    if f == 0 && (under || rt.is_traced()) {
        f = fds::NAMED;
    }
    f
}

/// The resolver on its own, over an in-memory tree (`below::tests::Tree`) instead of the
/// kernel: the fast way, the `..` rules and the exact walk decide as a mount namespace would.
#[cfg(test)]
mod tests {
    use super::below::tests::Tree;
    use super::*;
    use crate::runtime::Index;
    use crate::views::{Bind, Entry, Mark, View};
    use kmview_api::Walk;

    fn leak<T>(v: T) -> &'static T {
        Box::leak(Box::new(v))
    }

    /// One view of `entries` (longest path first, as the loader sorts them).
    fn runtime(entries: Vec<Entry>, exact: bool) -> &'static Runtime {
        let entries: &'static [Entry] = Box::leak(entries.into_boxed_slice());
        let views: &'static [View] = Box::leak(vec![View { entries, chroot: false }].into_boxed_slice());
        let mut index = Index::empty();
        for e in entries {
            index.add_path(crate::views::Layer::at(e));
        }
        leak(Runtime {
            views,
            index,
            stack_env: c"KMVIEW_STACK=kmview1",
            preload_env: c"LD_PRELOAD=/x",
            lib_path: b"/x",
            static_policy: kmview_api::StaticPolicy::Warn,
            complete: None,
            exact,
            has_table: true,
            has_mounts: true,
            has_root: false,
            has_read_only: false,
            has_overlay: false,
            proc_is_host: false,
            start_cwd: None,
            start_exe: None,
            fake: None,
            fakes: [None; crate::sys::shared::MAX_LAYERS],
            traces: [None; crate::sys::tracebuf::MAX_TRACES],
            pwd_env: None,
        })
    }

    fn bind(at: &'static str, source: &'static str, walk: Walk) -> Entry {
        Entry::Bind(Bind { at: at.as_bytes(), source: source.as_bytes(), read_only: false, walk })
    }

    /// What the kernel finds at the path the resolver hands it for `path` (the host path, or
    /// the caller's own when the route is native): its canonical host path, or the errno.
    fn host(t: &Tree, rt: &Runtime, path: &str, op: Op) -> Result<String, Errno> {
        let mut out = PBuf::new();
        let r = route(t, rt, path.as_bytes(), &Call::at_cwd(true, op), &mut out)?;
        let given = match r.route {
            Route::Native => path.as_bytes(),
            Route::Host => out.as_bytes(),
        };
        t.resolve(given, true, 0).map(|p| String::from_utf8_lossy(&p).into_owned())
    }

    fn tree() -> Tree {
        Tree::new(&[
            ("/src", "dir"),
            ("/src/a", "dir"),
            ("/src/a/f", "file"),
            ("/src/b", "file"),
            ("/src/up", "link:../elsewhere"),
            ("/src/abs", "link:/etc"),
            ("/elsewhere", "dir"),
            ("/elsewhere/x", "file"),
            ("/etc", "dir"),
            ("/mnt", "dir"),
            ("/mnt/m", "dir"),
        ])
    }

    #[test]
    fn the_fast_way_and_the_walk_agree_where_no_link_leads_out() {
        let t = tree();
        for exact in [false, true] {
            let rt = runtime(vec![bind("/mnt/m", "/src", Walk::No)], exact);
            assert_eq!(host(&t, rt, "/mnt/m/a/f", Op::Look).as_deref(), Ok("/src/a/f"), "exact {exact}");
            assert_eq!(host(&t, rt, "/mnt/m/a/../b", Op::Look).as_deref(), Ok("/src/b"), "exact {exact}");
            assert_eq!(host(&t, rt, "/mnt/m//./a/", Op::Look).as_deref(), Ok("/src/a"), "exact {exact}");
        }
    }

    #[test]
    fn a_dotdot_from_a_mount_root_goes_to_the_mountpoint_parent() {
        let t = tree();
        let rt = runtime(vec![bind("/mnt/m", "/src", Walk::No)], false);
        // The kernel on the host would go to the source's parent, `/`.
        assert_eq!(host(&t, rt, "/mnt/m/..", Op::Look).as_deref(), Ok("/mnt"));
        assert_eq!(host(&t, rt, "/mnt/m/a/../../m/b", Op::Look).as_deref(), Ok("/src/b"));
    }

    #[test]
    fn links_in_a_source_are_followed_in_the_view() {
        let t = tree();
        // `up` leads out of the source: the launcher marks such a bind to be walked.
        let rt = runtime(vec![bind("/mnt/m", "/src", Walk::All)], false);
        // `../elsewhere` from /mnt/m is the view's /mnt/elsewhere, which is nothing.
        assert_eq!(host(&t, rt, "/mnt/m/up/x", Op::Look), Err(Errno::ENOENT));
        // An absolute target starts from the view's root.
        assert_eq!(host(&t, rt, "/mnt/m/abs", Op::Look).as_deref(), Ok("/etc"));
    }

    #[test]
    fn marks_refuse_by_every_name() {
        let t = tree();
        let rt =
            runtime(vec![Entry::Mark(Mark { at: b"/mnt/m/a", kind: crate::views::marks::MarkKind::Hide }), bind("/mnt/m", "/src", Walk::No)], false);
        assert_eq!(host(&t, rt, "/mnt/m/a/f", Op::Look), Err(Errno::ENOENT));
        assert_eq!(host(&t, rt, "/mnt/m/b/../a/f", Op::Look), Err(Errno::ENOENT));
        assert_eq!(host(&t, rt, "/mnt/m/a/../b", Op::Look), Err(Errno::ENOENT), "a `..` walks through the hidden name");
        assert_eq!(host(&t, rt, "/mnt/m/b", Op::Look).as_deref(), Ok("/src/b"));
    }

    #[test]
    fn host_names_are_named_back_in_the_view() {
        let rt = runtime(vec![bind("/mnt/m", "/src", Walk::No)], false);
        let mut out = PBuf::new();
        // The source is visible under its own name too: the name this process used decides.
        reverse::name(rt, b"/src/a/f", b"/mnt/m/a", &mut out).unwrap();
        assert_eq!(out.as_bytes(), b"/mnt/m/a/f");
        reverse::name(rt, b"/src/a/f", b"", &mut out).unwrap();
        assert_eq!(out.as_bytes(), b"/src/a/f");
        reverse::name(rt, b"/etc", b"", &mut out).unwrap();
        assert_eq!(out.as_bytes(), b"/etc");
    }
}
