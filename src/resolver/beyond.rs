//! A relative path from a directory beyond the process's root. The kernel lets a process that
//! chrooted into a subdirectory without entering it (or that holds a descriptor opened before
//! its chroot) walk from that directory, `..` included, up to the real root: the root stops
//! only walks that pass through it. So here such a path starts from the directory's name in the
//! views outside the chroot views and goes through those views, with all their checks: a
//! chroot leaves its own root, never the views around it.

use super::below::{readlink_into, Below};
use super::{cwd, names, reverse, Call, Routed};
use crate::errno::{Errno, Res};
use crate::path::normalize;
use crate::runtime::Runtime;
use crate::sys::PBuf;

/// `Some` route when `path` (relative, from `call.dirfd`) starts from a directory the innermost
/// view cannot name because it lies beyond a chroot's root; `None` otherwise (the usual way).
pub fn route<B: Below>(b: &B, rt: &Runtime, path: &[u8], call: &Call, out: &mut PBuf) -> Res<Option<Routed>> {
    let chroots = rt.chroot_views();
    if chroots == 0 || path.first() == Some(&b'/') {
        return Ok(None);
    }
    let outer = &rt.views[..rt.views.len() - chroots];
    // The start directory's host path, if the innermost view cannot name it.
    if call.dirfd == libc::AT_FDCWD {
        if !cwd::beyond_root(b, rt) {
            return Ok(None);
        }
        b.getcwd(out)?;
    } else {
        let mut named = crate::sys::pool::take()?;
        match names::of_fd(b, rt, call.dirfd, &mut named) {
            Err(Errno::EBADF) | Err(Errno::ENOENT) => {}
            _ => return Ok(None),
        }
        let mut link = crate::sys::pool::copy_of(b"/proc/self/fd/")?;
        let mut digits = [0u8; 10];
        link.push_bytes(crate::path::decimal(call.dirfd as u32, &mut digits))?;
        readlink_into(b, libc::AT_FDCWD, &link, out)?;
    }
    let mut virt = crate::sys::pool::take()?;
    // Named in the outer views: a directory none of them shows is out of reach.
    reverse::name_in(outer, out.as_bytes(), b"", &mut virt)?;
    virt.push_byte(b'/')?;
    virt.push_bytes(path)?;
    let shape = normalize(&mut virt);
    if shape.dotdot {
        lexical_dotdot(&mut virt)?;
    }
    let mut read_only = false;
    out.set(virt.as_bytes())?;
    for view in outer.iter().rev() {
        let d = view.decide(out.as_bytes(), call.op)?;
        read_only |= d.read_only;
        if let Some(m) = d.mount {
            crate::views::Layer::map_out(m, out)?;
        }
    }
    super::put_trail(out, shape)?;
    Ok(Some(Routed { route: super::Route::Host, retry: false, read_only: read_only && call.op.writes() }))
}

/// `..` taken lexically in a normalized absolute path (the directories it climbs are real ones
/// outside the root: no view's symlink lies between).
fn lexical_dotdot(p: &mut PBuf) -> Res<()> {
    let mut out = crate::sys::pool::take()?;
    for c in crate::path::components(p.as_bytes()) {
        if c == b".." {
            out.pop_component();
        } else {
            out.push_component(c)?;
        }
    }
    if out.is_empty() {
        out.set(b"/")?;
    }
    p.set(out.as_bytes())
}
