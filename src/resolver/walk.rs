//! The exact walk: a path resolved component by component in the innermost view, each prefix
//! translated through every view and read as a link if it is one, a link's target resolved in
//! the view (an absolute one from the view's root), `..` taken from the virtual position, and
//! the names the kernel gives descriptors (`/proc/<pid>/fd/N`, `cwd`, `root`) taken back into
//! the view as they are met. What the kernel would do with the same mounts.
//!
//! Two path buffers of its own (the rest of the path, right-aligned so that a link's target is
//! read straight in front of it, and the virtual position) besides the caller's.

use super::below::Below;
use super::{magic, put_trail, Call, Route, Routed};
use crate::errno::{Errno, Res};
use crate::path::{Shape, Trail};
use crate::runtime::Runtime;
use crate::sys::{PBuf, CAP};
use crate::views::{Layer, Op};

/// Links followed in one resolution before `ELOOP`, as the kernel.
const MAX_LINKS: u32 = 40;

/// What a walk found, beside the host path.
#[derive(Clone, Copy, Debug, Default)]
pub struct Walked {
    /// Some mount rewrote a prefix on the way.
    pub met_mount: bool,
    /// The final position lies under a read-only mount.
    pub read_only: bool,
}

/// The rest of a path still to walk: the bytes `buf[start..]`, so that the free space in front
/// can take a link's target.
struct Rest<'a> {
    buf: &'a mut [u8],
    start: usize,
}

impl<'a> Rest<'a> {
    fn new(space: &'a mut PBuf, path: &[u8]) -> Res<Rest<'a>> {
        if path.len() > CAP {
            return Err(Errno::ENAMETOOLONG);
        }
        let buf = space.all_mut();
        let start = CAP - path.len();
        buf[start..].copy_from_slice(path);
        Ok(Rest { buf, start })
    }

    /// The next component (empty ones skipped), taken off the front.
    fn next(&mut self) -> Option<(usize, usize)> {
        while self.start < CAP && self.buf[self.start] == b'/' {
            self.start += 1;
        }
        if self.start == CAP {
            return None;
        }
        let s = self.start;
        let e = memchr::memchr(b'/', &self.buf[s..]).map_or(CAP, |i| s + i);
        self.start = e;
        Some((s, e))
    }

    /// Whether only slashes remain.
    fn is_done(&self) -> bool {
        self.buf[self.start..].iter().all(|&b| b == b'/')
    }

    /// Reads a link's target in front of the rest (`read` fills a slice and says how much), with
    /// a `/` between them; `ENAMETOOLONG` if it does not fit.
    fn splice(&mut self, read: impl FnOnce(&mut [u8]) -> Res<usize>) -> Res<()> {
        if self.start < 2 {
            return Err(Errno::ENAMETOOLONG);
        }
        let room = self.start - 1;
        let n = read(&mut self.buf[..room])?;
        let to = room - n;
        self.buf.copy_within(0..n, to);
        self.buf[room] = b'/';
        self.start = to;
        Ok(())
    }

    /// Puts `target` in front of the rest, as `splice` does.
    fn splice_bytes(&mut self, target: &[u8]) -> Res<()> {
        self.splice(|room| {
            if target.len() >= room.len() {
                return Err(Errno::ENAMETOOLONG);
            }
            room[..target.len()].copy_from_slice(target);
            Ok(target.len())
        })
    }
}

/// `virt` (canonical) through every view with `op` checked: the host path into `out`.
fn translate(rt: &Runtime, virt: &[u8], op: Op, out: &mut PBuf) -> Res<Walked> {
    out.set(virt)?;
    let mut w = Walked::default();
    for view in rt.views.iter().rev() {
        let d = view.decide(out.as_bytes(), op)?;
        w.read_only |= d.read_only;
        if let Some(m) = d.mount {
            w.met_mount = true;
            if super::overlaid(m, op, out)? {
                continue;
            }
            m.map_out(out)?;
        }
    }
    Ok(w)
}

/// Walks the absolute virtual path in `out` (as [`super::virtual_path`] left it, whose trail
/// `shape` says): the host path lands in `out`, the canonical virtual path in `virt_out` if
/// given. Every directory passed through is checked as a look (a hidden or denied one stops
/// the walk); the final position against `op`.
pub fn walk_into<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf, shape: Shape, follow: bool, op: Op, virt_out: Option<&mut PBuf>) -> Res<Walked> {
    crate::sys::pool::with_bufs(|space, virt| walk_with(b, rt, out, shape, follow, op, virt_out, space, virt))
}

#[allow(clippy::too_many_arguments)]
fn walk_with<B: Below>(
    b: &B,
    rt: &Runtime,
    out: &mut PBuf,
    shape: Shape,
    follow: bool,
    op: Op,
    virt_out: Option<&mut PBuf>,
    space: &mut PBuf,
    virt: &mut PBuf,
) -> Res<Walked> {
    // A trailing `/` makes a look or a read follow the last symlink (`lstat("link/")` is the
    // target's), in the view; the calls that change a name (`rmdir("link/")` is ENOTDIR) keep it
    // on the host path for the kernel to judge.
    let follow = follow || (shape.trail.is_some() && !op.writes());
    let mut rest = Rest::new(space, out.as_bytes())?;
    virt.set(b"/")?;
    let mut links = 0;
    let mut met_mount = false;
    let names_last = matches!(op, Op::Create | Op::CreateDir | Op::Remove | Op::RemoveDir | Op::Rename);
    let mut last_dots = 0;
    while let Some((s, e)) = rest.next() {
        let comp_len = e - s;
        let dots = (comp_len == 1 || comp_len == 2 && rest.buf[s + 1] == b'.') && rest.buf[s] == b'.';
        if dots && names_last && rest.is_done() {
            // `rmdir("a/..")`, `mkdir("a/.")`: the kernel refuses the name itself (ENOTEMPTY,
            // EEXIST…) before anything else; it keeps its text.
            last_dots = comp_len;
            break;
        }
        if comp_len == 1 && rest.buf[s] == b'.' {
            continue;
        }
        if comp_len == 2 && rest.buf[s] == b'.' && rest.buf[s + 1] == b'.' {
            // The kernel goes up only from a directory: `file/..` is ENOTDIR.
            if virt.as_bytes() != b"/" {
                met_mount |= translate(rt, virt.as_bytes(), Op::Look, out)?.met_mount;
                if !b.stat(libc::AT_FDCWD, out, true)?.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
            }
            virt.pop_component();
            continue;
        }
        if comp_len > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let is_last = rest.is_done();
        virt.push_component(&rest.buf[s..e])?;
        if is_last && !follow {
            break;
        }
        if rt.proc_is_host {
            // `out` is free between components: the jump's target lands there.
            if magic::jump(b, rt, virt.as_bytes(), is_last, out)? {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Errno::ELOOP);
                }
                virt.set(b"/")?;
                rest.splice_bytes(out.as_bytes())?;
                continue;
            }
        }
        met_mount |= translate(rt, virt.as_bytes(), Op::Look, out)?.met_mount;
        match rest.splice(|room| b.readlink(libc::AT_FDCWD, out, room)) {
            Ok(()) => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(Errno::ELOOP);
                }
                virt.pop_component();
                if rest.buf[rest.start] == b'/' {
                    virt.set(b"/")?;
                }
            }
            Err(Errno::EINVAL) => {}
            Err(_) if is_last => {}
            Err(e) => return Err(e),
        }
    }
    let mut w = translate(rt, virt.as_bytes(), op, out)?;
    w.met_mount |= met_mount;
    if last_dots > 0 {
        if out.as_bytes() != b"/" {
            out.push_byte(b'/')?;
        }
        out.push_bytes(&b".."[..last_dots])?;
    }
    put_trail(out, shape)?;
    if let Some(v) = virt_out {
        v.set(virt.as_bytes())?;
    }
    Ok(w)
}

/// [`walk_into`] without the virtual path.
pub fn walk<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf, follow: bool, op: Op) -> Res<Walked> {
    walk_into(b, rt, out, Shape { dotdot: true, trail: Trail::None }, follow, op, None)
}

/// The resolver's answer by the walk.
pub fn route<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call) -> Res<Routed> {
    let w = walk_into(b, rt, out, shape, call.follow, call.op, None)?;
    // A walk that met no mount found what the kernel will find from the caller's own path.
    let route = if w.met_mount { Route::Host } else { Route::Native };
    Ok(Routed { route, retry: false, read_only: w.read_only && call.op.writes() })
}

/// The canonical virtual path of `path` (from `dirfd`), every symlink followed: what `realpath`
/// and `chdir` need. The host path lands in `host`.
pub fn canonicalize<B: Below>(b: &B, rt: &Runtime, path: &[u8], dirfd: libc::c_int, virt: &mut PBuf, host: &mut PBuf) -> Res<Walked> {
    let shape = super::virtual_path(b, rt, path, dirfd, host)?;
    let shape = match magic::expand(b, rt, host, shape, &Call { dirfd, follow: true, op: Op::Look, empty: false })? {
        magic::Expanded::Path(s) => s,
        // The magic link itself (followed): the kernel's object, named in the view.
        magic::Expanded::Done(_) => {
            let p = crate::sys::pool::copy_of(path)?;
            let mut hostp = crate::sys::pool::take()?;
            super::below::readlink_into(b, dirfd, &p, &mut hostp)?;
            super::reverse::name(rt, hostp.as_bytes(), b"", virt)?;
            host.set(hostp.as_bytes())?;
            return Ok(Walked::default());
        }
    };
    walk_into(b, rt, host, shape, true, Op::Look, Some(virt))
}
