//! Calls that remove or rename a name, link one, or truncate through a descriptor: each path
//! goes through the view (the last component never followed: a symlink is removed or renamed,
//! not its target), after the kernel's checks between mounts (`resolver::tree`). The plain
//! ones (mkdir, mknod, symlink, truncate…) are generated from the table.

use super::fakeroot::{removing, replacing};
use super::table::real;
use super::types::*;
use super::{bytes, fail, guard, is_hot, Sym};
use crate::errno::Errno;
use crate::resolver::kernel::Kernel;
use crate::resolver::tree::{self, Pair};
use crate::resolver::{Call, Route};
use crate::runtime;
use crate::sys::raw;

/// unlink, unlinkat, rmdir, remove: a mountpoint cannot be removed (`EBUSY`).
#[inline(always)]
unsafe fn removed(sym: Sym, dirfd: c_int, path: CStrP, op: Op, call: impl Fn(*const c_char) -> c_int) -> c_int {
    let how = Call { dirfd, follow: false, op, empty: false };
    // SAFETY: the caller's path.
    if unsafe { is_hot(dirfd, path, op) } {
        let r = call(path);
        if r < 0 {
            // SAFETY: as above.
            return unsafe { super::after_hot(sym, path, how, r, &call) };
        }
        return r;
    }
    guard(sym, || {
        let r = (|| {
            // A last component `.` or `..` is the kernel's to refuse first (EINVAL, ENOTEMPTY).
            if let (Some(rt), Some(p)) = (runtime::get(), unsafe { bytes(path) }.filter(|p| !ends_in_dots(p))) {
                if let Err(e) = tree::not_mountpoint(&Kernel, rt, dirfd, p, op == Op::RemoveDir) {
                    return fail(e);
                }
            }
            // SAFETY: as above.
            unsafe { super::with_path(path, how, &call) }
        })();
        // SAFETY: as above.
        unsafe { super::observe::path(sym, path, &how, &r) };
        r
    })
}

/// Whether the last component of `p` is `.` or `..`.
fn ends_in_dots(p: &[u8]) -> bool {
    let mut end = p.len();
    while end > 1 && p[end - 1] == b'/' {
        end -= 1;
    }
    let last = &p[memchr::memrchr(b'/', &p[..end]).map_or(0, |i| i + 1)..end];
    last == b"." || last == b".."
}

// A fake root forgets what it recorded of an inode with its last link (`removing`, and
// `replacing` for a rename over a name).

pub unsafe fn rmdir(path: CStrP) -> c_int {
    unsafe { removed(Sym::rmdir, libc::AT_FDCWD, path, Op::RemoveDir, |p| removing(libc::AT_FDCWD, p, || real::rmdir(p))) }
}

pub unsafe fn unlink(path: CStrP) -> c_int {
    unsafe { removed(Sym::unlink, libc::AT_FDCWD, path, Op::Remove, |p| removing(libc::AT_FDCWD, p, || real::unlink(p))) }
}

pub unsafe fn unlinkat(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    let op = if flags & libc::AT_REMOVEDIR != 0 { Op::RemoveDir } else { Op::Remove };
    unsafe { removed(Sym::unlinkat, dirfd, path, op, |p| removing(dirfd, p, || real::unlinkat(dirfd, p, flags))) }
}

/// `remove` as glibc does it: unlink, and rmdir if that says `EISDIR`; both through the view.
pub unsafe fn remove(path: CStrP) -> c_int {
    let r = unsafe { unlinkat(libc::AT_FDCWD, path, 0) };
    if r == 0 || crate::sys::errno() != libc::EISDIR {
        return r;
    }
    unsafe { unlinkat(libc::AT_FDCWD, path, libc::AT_REMOVEDIR) }
}

/// Whether the old name's last component is followed, and what each name is checked for.
fn ops(pair: Pair) -> (bool, Op, Op) {
    match pair {
        Pair::Rename => (false, Op::Rename, Op::Rename),
        Pair::Link { follow } => (follow, Op::Look, Op::Create),
    }
}

/// Routes the two paths of a rename or link; `call` gets both. What the views add to the
/// kernel's answer (`EXDEV`, `EROFS`, `EBUSY`) comes first, in the kernel's order
/// (`resolver::tree::pair`).
#[allow(clippy::too_many_arguments)]
unsafe fn two_paths(
    sym: Sym,
    d1: c_int,
    p1: CStrP,
    d2: c_int,
    p2: CStrP,
    pair: Pair,
    flags: c_int,
    call: impl Fn(*const c_char, *const c_char) -> c_int,
) -> c_int {
    let (follow1, op1, op2) = ops(pair);
    // `linkat(fd, "", …, AT_EMPTY_PATH)` links the descriptor's own file: where it lies matters.
    // SAFETY: the caller's paths.
    let names_fd = unsafe { bytes(p1) }.is_some_and(|b| b.is_empty()) && crate::state::fds::flags(d1) != 0;
    // SAFETY: as above.
    if !names_fd && unsafe { is_hot(d1, p1, op1) && is_hot(d2, p2, op2) } {
        return call(p1, p2);
    }
    guard(sym, || {
        // SAFETY: as above.
        let r = unsafe { two_paths_slow(d1, p1, d2, p2, pair, flags, names_fd, &call) };
        if crate::trace::on().is_some() {
            let access = if pair == Pair::Rename { crate::trace::Access::Rename } else { crate::trace::Access::Link };
            let how = Call { dirfd: d1, follow: follow1, op: op1, empty: names_fd };
            // SAFETY: as above.
            unsafe { super::observe::two_paths(sym, access, &how, p1, d2, p2, r as i64) };
        }
        r
    })
}

/// The routed part of [`two_paths`].
#[allow(clippy::too_many_arguments)]
unsafe fn two_paths_slow(
    d1: c_int,
    p1: CStrP,
    d2: c_int,
    p2: CStrP,
    pair: Pair,
    flags: c_int,
    names_fd: bool,
    call: &dyn Fn(*const c_char, *const c_char) -> c_int,
) -> c_int {
    let (follow1, op1, op2) = ops(pair);
    let Some(rt) = runtime::get() else {
        return call(p1, p2);
    };
    // SAFETY: as above.
    if let (Some(a), Some(b)) = unsafe { (bytes(p1), bytes(p2)) } {
        if let Err(e) = tree::pair(&Kernel, rt, (d1, a), (d2, b), pair, flags) {
            return fail(e);
        }
        if let Err(e) = super::overlay_pair(rt, (d1, a), (d2, b), pair == Pair::Rename, flags) {
            return fail(e);
        }
    }
    // What is left for the view to refuse is what it hides or denies (the calls' own ops
    // keep a last `.` or `..` as the kernel must see it).
    super::with_bufs(|h1, h2| {
        // SAFETY: as above.
        let r1 = match unsafe { super::route(rt, p1, &Call { dirfd: d1, follow: follow1, op: op1, empty: names_fd }, h1) } {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        // SAFETY: as above.
        let r2 = match unsafe { super::route(rt, p2, &Call { dirfd: d2, follow: false, op: op2, empty: false }, h2) } {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        // Host paths too long for the kernel, through descriptors on their directories.
        let shorts = (r1.routed.route == Route::Host, r2.routed.route == Route::Host);
        let _s1 = match if shorts.0 { super::shorten(rt.proc_is_host, h1) } else { Ok(super::Short(None)) } {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let _s2 = match if shorts.1 { super::shorten(rt.proc_is_host, h2) } else { Ok(super::Short(None)) } {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let r = call(r1.ptr, r2.ptr);
        if r == 0 && r2.routed.route == Route::Host {
            super::overlay_made(rt, h2.as_bytes());
        }
        r
    })
}

pub unsafe fn rename(old: CStrP, new: CStrP) -> c_int {
    unsafe {
        two_paths(Sym::rename, libc::AT_FDCWD, old, libc::AT_FDCWD, new, Pair::Rename, 0, |a, b| {
            replacing(libc::AT_FDCWD, a, libc::AT_FDCWD, b, 0, || real::rename(a, b))
        })
    }
}

pub unsafe fn renameat(od: c_int, old: CStrP, nd: c_int, new: CStrP) -> c_int {
    unsafe { two_paths(Sym::renameat, od, old, nd, new, Pair::Rename, 0, |a, b| replacing(od, a, nd, b, 0, || real::renameat(od, a, nd, b))) }
}

pub unsafe fn renameat2(od: c_int, old: CStrP, nd: c_int, new: CStrP, flags: c_uint) -> c_int {
    unsafe {
        two_paths(Sym::renameat2, od, old, nd, new, Pair::Rename, flags as c_int, |a, b| {
            replacing(od, a, nd, b, flags as c_int, || real::renameat2(od, a, nd, b, flags))
        })
    }
}

pub unsafe fn link(old: CStrP, new: CStrP) -> c_int {
    unsafe { two_paths(Sym::link, libc::AT_FDCWD, old, libc::AT_FDCWD, new, Pair::Link { follow: false }, 0, |a, b| real::link(a, b)) }
}

pub unsafe fn linkat(od: c_int, old: CStrP, nd: c_int, new: CStrP, flags: c_int) -> c_int {
    let follow = flags & libc::AT_SYMLINK_FOLLOW != 0;
    unsafe { two_paths(Sym::linkat, od, old, nd, new, Pair::Link { follow }, 0, |a, b| real::linkat(od, a, nd, b, flags)) }
}

/// `ftruncate` under a read-only mount: the kernel's order is `EINVAL` for a descriptor not
/// open for writing (libc's call says so), `EROFS` for one that is.
unsafe fn truncated(sym: Sym, fd: c_int, call: impl Fn() -> c_int) -> c_int {
    if super::fd_is_plain(fd) {
        return call();
    }
    guard(sym, || match raw::fcntl(fd, libc::F_GETFL) {
        Ok(fl) if fl & libc::O_ACCMODE == libc::O_RDONLY || fl & libc::O_PATH != 0 => call(),
        Ok(_) => fail(Errno::EROFS),
        Err(e) => fail(e),
    })
}

pub unsafe fn ftruncate(fd: c_int, len: libc::off_t) -> c_int {
    unsafe { truncated(Sym::ftruncate, fd, || real::ftruncate(fd, len)) }
}

pub unsafe fn ftruncate64(fd: c_int, len: libc::off64_t) -> c_int {
    unsafe { truncated(Sym::ftruncate64, fd, || real::ftruncate64(fd, len)) }
}
