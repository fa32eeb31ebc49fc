//! The names the kernel gives a process's descriptors and directories — `/proc/self/fd/N`,
//! `/dev/fd/N`, `/proc/self/cwd`, `/proc/self/root`, and the same under `/proc/<pid>` and
//! `/proc/<pid>/task/<tid>` — are links the kernel follows by itself, past any view. Walking
//! *through* one (`/proc/self/fd/3/secret`) is taken back into the view: the link is replaced
//! by the virtual name of what it leads to, and the path goes on from there. Their text gives
//! them away, so this costs the hot path nothing (`proc` and `dev` are in the index).

use super::below::{readlink_into, Below};
use super::{cwd, reverse, Call, Routed};
use crate::errno::{Errno, Res};
use crate::path::{normalize, parse_decimal, Shape};
use crate::runtime::Runtime;
use crate::state::fds;
use crate::sys::PBuf;

/// What [`expand`] made of a path.
pub enum Expanded {
    /// Go on with this path (in the buffer), normalized as the shape says.
    Path(Shape),
    /// The magic link itself, followed: the kernel's object is the right one.
    Done(Routed),
}

/// Which link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    Fd(i32),
    Cwd,
    Root,
}

/// A magic link found at the start of a path: whose, which, and where the rest begins.
struct Link {
    /// This process's (or one of its threads').
    own: bool,
    pid: i32,
    what: What,
    /// Bytes of the path the link takes.
    len: usize,
}

/// Reads `/proc/<who>[/task/<tid>]/<what>` or `/dev/fd/N` at the start of `p` (normalized).
fn parse(p: &[u8], own_pid: i32) -> Option<Link> {
    if let Some(rest) = p.strip_prefix(b"/dev/fd/") {
        let end = memchr::memchr(b'/', rest).unwrap_or(rest.len());
        let n = parse_decimal(&rest[..end])?;
        return Some(Link { own: true, pid: own_pid, what: What::Fd(n), len: 8 + end });
    }
    let rest = p.strip_prefix(b"/proc/")?;
    let mut comps = rest.split(|&b| b == b'/');
    let who = comps.next()?;
    let mut len = 6 + who.len();
    let (own, pid) = match who {
        b"self" | b"thread-self" => (true, own_pid),
        digits => {
            let n = parse_decimal(digits)?;
            (n == own_pid, n)
        }
    };
    let mut what = comps.next()?;
    len += 1 + what.len();
    if what == b"task" && who != b"thread-self" {
        let tid = comps.next()?;
        parse_decimal(tid)?;
        what = comps.next()?;
        len += 1 + tid.len() + 1 + what.len();
    }
    let what = match what {
        b"cwd" => What::Cwd,
        b"root" => What::Root,
        b"fd" => {
            let n = comps.next()?;
            len += 1 + n.len();
            What::Fd(parse_decimal(n)?)
        }
        _ => return None,
    };
    Some(Link { own, pid, what, len })
}

#[inline]
fn may_be_magic(p: &[u8]) -> bool {
    // The second byte first: most paths are neither.
    match p.get(1) {
        Some(b'p') => p.starts_with(b"/proc/"),
        Some(b'd') => p.starts_with(b"/dev/fd/"),
        _ => false,
    }
}

/// Takes the `..` components of a normalized `/proc/…` path that follow `/proc`'s own
/// directories (a process, `self`, `thread-self`, a process's `task`, a thread) lexically: none
/// of them leads anywhere but into `/proc`, so `/proc/1/../self/exe` is `/proc/self/exe`. The
/// first `..` after anything else (a magic link, a file) and all that follows are left alone.
/// True if something changed.
pub fn proc_dotdots(p: &mut PBuf) -> Res<bool> {
    if !p.as_bytes().starts_with(b"/proc/") || !crate::path::has_dotdot(p.as_bytes()) {
        return Ok(false);
    }
    // Depth below /proc of the kept prefix, and what its last component is.
    #[derive(Clone, Copy, PartialEq)]
    enum Own {
        Proc,
        Pid,
        Task,
        Tid,
    }
    let mut out = crate::sys::pool::copy_of(b"/proc")?;
    let mut stack: [Own; 8] = [Own::Proc; 8];
    let mut depth = 1;
    let bytes = p.as_bytes();
    let mut rest_at = bytes.len();
    let mut at = 5;
    while at < bytes.len() {
        let start = at + 1;
        let end = memchr::memchr(b'/', &bytes[start..]).map_or(bytes.len(), |k| start + k);
        let comp = &bytes[start..end];
        let top = stack[depth - 1];
        let next = match (top, comp) {
            (_, b"..") if depth > 1 => None,
            (Own::Proc, b"self" | b"thread-self") => Some(Own::Pid),
            (Own::Proc, c) if parse_decimal(c).is_some() => Some(Own::Pid),
            (Own::Pid, b"task") => Some(Own::Task),
            (Own::Task, c) if parse_decimal(c).is_some() => Some(Own::Tid),
            _ => {
                rest_at = at;
                break;
            }
        };
        match next {
            None => {
                depth -= 1;
                let cut = memchr::memrchr(b'/', out.as_bytes()).unwrap_or(0);
                out.truncate(cut.max(1));
            }
            Some(own) if depth < stack.len() => {
                stack[depth] = own;
                depth += 1;
                out.push_byte(b'/')?;
                out.push_bytes(comp)?;
            }
            Some(_) => {
                rest_at = at;
                break;
            }
        }
        at = end;
    }
    out.push_bytes(&bytes[rest_at..])?;
    let changed = out.as_bytes() != p.as_bytes();
    if changed {
        p.set(out.as_bytes())?;
    }
    Ok(changed)
}

/// Takes a magic link at the start of `out` back into the view.
#[inline]
pub fn expand<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call) -> Res<Expanded> {
    if !rt.proc_is_host || !may_be_magic(out.as_bytes()) {
        return Ok(Expanded::Path(shape));
    }
    expand_link(b, rt, out, shape, call)
}

/// [`expand`] after `/proc`'s own `..` were taken lexically.
#[inline(never)]
fn expand_link<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf, mut shape: Shape, call: &Call) -> Res<Expanded> {
    if shape.dotdot && proc_dotdots(out)? {
        shape.dotdot = crate::path::has_dotdot(out.as_bytes());
    }
    link_through(b, rt, out, shape, call)
}

fn link_through<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call) -> Res<Expanded> {
    let Some(link) = parse(out.as_bytes(), b.pid()) else {
        return Ok(Expanded::Path(shape));
    };
    let whole = link.len == out.len();
    if whole && !call.follow {
        // The link itself: lstat, readlink (whose answer `names` gives).
        return Ok(Expanded::Path(shape));
    }
    if whole && link.what != What::Root {
        // Followed as the last component: the kernel opens the very object, which is right;
        // only a write is checked against where the object lies in the view.
        let ro = call.op.writes() && target_is_read_only(b, rt, &link);
        return Ok(Expanded::Done(Routed { read_only: ro, ..Routed::NATIVE }));
    }
    crate::sys::pool::with_buf(|base| {
        if !target(b, rt, &link, base)? {
            // Not a directory the kernel could name (a pipe, a socket): its answer stands.
            return Ok(Expanded::Done(Routed::NATIVE));
        }
        out.replace_prefix(link.len, base.as_bytes())?;
        let renormalized = normalize(out);
        Ok(Expanded::Path(Shape { dotdot: renormalized.dotdot, trail: shape.trail }))
    })
}

/// In the walk: if the virtual position `virt` is a magic link to jump through (not the last
/// component, or the root link), its target's virtual path into `out`.
pub fn jump<B: Below>(b: &B, rt: &Runtime, virt: &[u8], is_last: bool, out: &mut PBuf) -> Res<bool> {
    if !may_be_magic(virt) {
        return Ok(false);
    }
    let Some(link) = parse(virt, b.pid()) else {
        return Ok(false);
    };
    if link.len != virt.len() || (is_last && link.what != What::Root) {
        return Ok(false);
    }
    target(b, rt, &link, out)
}

/// The virtual path a link leads to, into `out`; false if it leads to no directory path.
fn target<B: Below>(b: &B, rt: &Runtime, link: &Link, out: &mut PBuf) -> Res<bool> {
    match link.what {
        // Every process of the view has the view's root.
        What::Root => out.set(b"/").map(|_| true),
        What::Cwd if link.own => cwd::current(b, rt, out).map(|_| true),
        What::Fd(n) if link.own && fds::name_of(n, out) => Ok(true),
        _ => {
            // Named by the kernel: its link, named in the view.
            let mut p = crate::sys::pool::take()?;
            let mut digits = [0u8; 10];
            p.set(b"/proc/")?;
            p.push_bytes(crate::path::decimal(link.pid as u32, &mut digits))?;
            match link.what {
                What::Fd(n) => {
                    p.push_bytes(b"/fd/")?;
                    p.push_bytes(crate::path::decimal(n as u32, &mut digits))?;
                }
                _ => p.push_bytes(b"/cwd")?,
            }
            let mut host = crate::sys::pool::take()?;
            match readlink_into(b, libc::AT_FDCWD, &p, &mut host) {
                Ok(()) => {}
                // A descriptor that is not open: as the kernel, no such name.
                Err(Errno::ENOENT) => return Err(Errno::ENOENT),
                Err(e) => return Err(e),
            }
            if host.as_bytes().first() != Some(&b'/') {
                return Ok(false);
            }
            reverse::name(rt, host.as_bytes(), b"", out)?;
            Ok(true)
        }
    }
}

/// Whether what a link leads to lies under a read-only mount in the view (or in an overlay's
/// lower tree: the kernel would reach the lower file itself).
fn target_is_read_only<B: Below>(b: &B, rt: &Runtime, link: &Link) -> bool {
    if let (What::Fd(n), true) = (link.what, link.own) {
        if fds::flags(n) & fds::NAMED != 0 {
            return fds::flags(n) & fds::READ_ONLY != 0;
        }
    }
    let Ok(mut v) = crate::sys::pool::take() else {
        return false;
    };
    target(b, rt, link, &mut v).unwrap_or(false) && super::is_unchangeable(rt, v.as_bytes())
}

/// Whether `/proc/...` names one of this process's own links (for readlink's answer).
pub fn own_link(p: &[u8], own_pid: i32) -> Option<(bool, i32)> {
    let link = parse(p, own_pid)?;
    if link.len != p.len() || !link.own {
        return None;
    }
    Some(match link.what {
        What::Fd(n) => (true, n),
        What::Cwd => (false, 0),
        What::Root => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(p: &[u8]) -> Option<(bool, i32, What, usize)> {
        parse(p, 77).map(|l| (l.own, l.pid, l.what, l.len))
    }

    #[test]
    fn proc_own_dotdots_are_taken_lexically_and_no_others() {
        let go = |p: &[u8]| {
            let mut b = crate::sys::PBuf::from_bytes(p).unwrap();
            proc_dotdots(&mut b).unwrap();
            String::from_utf8_lossy(b.as_bytes()).into_owned()
        };
        assert_eq!(go(b"/proc/1/../self/exe"), "/proc/self/exe");
        assert_eq!(go(b"/proc/self/task/7/../../cwd/x"), "/proc/self/cwd/x");
        assert_eq!(go(b"/proc/1/fd/3/../x"), "/proc/1/fd/3/../x");
        assert_eq!(go(b"/proc/self/cwd/.."), "/proc/self/cwd/..");
        assert_eq!(go(b"/proc/12/../.."), "/proc/..");
    }

    #[test]
    fn reads_every_form_of_the_links() {
        assert_eq!(parsed(b"/proc/self/fd/3/x"), Some((true, 77, What::Fd(3), 15)));
        assert_eq!(parsed(b"/dev/fd/12/a/b"), Some((true, 77, What::Fd(12), 10)));
        assert_eq!(parsed(b"/proc/77/cwd"), Some((true, 77, What::Cwd, 12)));
        assert_eq!(parsed(b"/proc/thread-self/root/etc"), Some((true, 77, What::Root, 22)));
        assert_eq!(parsed(b"/proc/1/task/1/cwd/x"), Some((false, 1, What::Cwd, 18)));
        assert_eq!(parsed(b"/proc/self/stat"), None);
        assert_eq!(parsed(b"/proc/self/fd"), None);
        assert_eq!(parsed(b"/proc/self/fdx/1"), None);
        assert_eq!(parsed(b"/dev/fdx/1"), None);
    }
}
