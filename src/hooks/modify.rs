//! Calls that change the tree: create, remove, rename. Each path goes through the view; the
//! last component is never followed (a symlink is removed or renamed, not its target).

use super::types::*;
use super::Access;
use super::{bytes, fail, route_at, with_path, with_path_at};
use crate::stack;
use crate::real;
use crate::sys::PBuf;

pub unsafe fn mkdir(path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path(path, false, Access::Create, |p| real::mkdir(p, mode)) }
}

pub unsafe fn mkdirat(dirfd: c_int, path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path_at(dirfd, path, false, Access::Create, |p| real::mkdirat(dirfd, p, mode)) }
}

/// A mountpoint cannot be removed: `EBUSY`, as the kernel says.
/// (A last component `.` or `..` is the kernel's to refuse, with `EINVAL` or `ENOTEMPTY`.)
unsafe fn not_mountpoint(dirfd: c_int, path: CStrP) -> Result<(), c_int> {
    match unsafe { bytes(path) } {
        Some(_) if unsafe { ends_in_dots(path) } => Ok(()),
        Some(p) => stack::check_not_mountpoint(dirfd, p),
        None => Ok(()),
    }
}

pub unsafe fn rmdir(path: CStrP) -> c_int {
    if let Err(e) = unsafe { not_mountpoint(libc::AT_FDCWD, path) } {
        return fail(e);
    }
    // `rmdir("x/.")` and `rmdir("x/..")` are refused by the kernel before it asks to write.
    let access = if unsafe { ends_in_dots(path) } { Access::Look } else { Access::Write };
    unsafe { with_path(path, false, access, |p| real::rmdir(p)) }
}

/// Whether the last component of `path` is `.` or `..`.
unsafe fn ends_in_dots(path: CStrP) -> bool {
    let Some(p) = (unsafe { bytes(path) }) else { return false };
    let mut end = p.len();
    while end > 1 && p[end - 1] == b'/' {
        end -= 1;
    }
    let last = &p[memchr::memrchr(b'/', &p[..end]).map_or(0, |i| i + 1)..end];
    last == b"." || last == b".."
}

pub unsafe fn unlink(path: CStrP) -> c_int {
    if let Err(e) = unsafe { not_mountpoint(libc::AT_FDCWD, path) } {
        return fail(e);
    }
    unsafe { with_path(path, false, Access::Write, |p| real::unlink(p)) }
}

pub unsafe fn unlinkat(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    if let Err(e) = unsafe { not_mountpoint(dirfd, path) } {
        return fail(e);
    }
    unsafe { with_path_at(dirfd, path, false, Access::Write, |p| real::unlinkat(dirfd, p, flags)) }
}

pub unsafe fn remove(path: CStrP) -> c_int {
    if let Err(e) = unsafe { not_mountpoint(libc::AT_FDCWD, path) } {
        return fail(e);
    }
    unsafe { with_path(path, false, Access::Write, |p| real::remove(p)) }
}

/// Routes the two paths of a rename or link; `call` gets both. Paths under two different
/// mounts give `EXDEV`, a mountpoint `EBUSY`, before anything happens.
unsafe fn two_paths(d1: c_int, p1: CStrP, d2: c_int, p2: CStrP, follow1: bool, new_access: Access, call: impl FnOnce(*const c_char, *const c_char) -> c_int) -> c_int {
    if let (Some(a), Some(b)) = unsafe { (bytes(p1), bytes(p2)) } {
        if let Err(e) = stack::check_same_mount(d1, a, d2, b) {
            return fail(e);
        }
    }
    let mut h1 = PBuf::new();
    let mut h2 = PBuf::new();
    // SAFETY: the caller's paths.
    let q1 = match unsafe { route_at(d1, p1, follow1, Access::Write, &mut h1) } {
        Ok(q) => q,
        Err(e) => return fail(e),
    };
    let q2 = match unsafe { route_at(d2, p2, false, new_access, &mut h2) } {
        Ok(q) => q,
        Err(e) => return fail(e),
    };
    call(q1, q2)
}

pub unsafe fn rename(old: CStrP, new: CStrP) -> c_int {
    unsafe { two_paths(libc::AT_FDCWD, old, libc::AT_FDCWD, new, false, Access::Write, |a, b| real::rename(a, b)) }
}

pub unsafe fn renameat(od: c_int, old: CStrP, nd: c_int, new: CStrP) -> c_int {
    unsafe { two_paths(od, old, nd, new, false, Access::Write, |a, b| real::renameat(od, a, nd, b)) }
}

pub unsafe fn renameat2(od: c_int, old: CStrP, nd: c_int, new: CStrP, flags: c_uint) -> c_int {
    unsafe { two_paths(od, old, nd, new, false, Access::Write, |a, b| real::renameat2(od, a, nd, b, flags)) }
}

pub unsafe fn link(old: CStrP, new: CStrP) -> c_int {
    unsafe { two_paths(libc::AT_FDCWD, old, libc::AT_FDCWD, new, false, Access::Create, |a, b| real::link(a, b)) }
}

pub unsafe fn linkat(od: c_int, old: CStrP, nd: c_int, new: CStrP, flags: c_int) -> c_int {
    let follow = flags & libc::AT_SYMLINK_FOLLOW != 0;
    unsafe { two_paths(od, old, nd, new, follow, Access::Create, |a, b| real::linkat(od, a, nd, b, flags)) }
}

/// `symlink` stores `target` exactly as given: only the link's own path is routed.
pub unsafe fn symlink(target: CStrP, path: CStrP) -> c_int {
    unsafe { with_path(path, false, Access::Create, |p| real::symlink(target, p)) }
}

pub unsafe fn symlinkat(target: CStrP, dirfd: c_int, path: CStrP) -> c_int {
    unsafe { with_path_at(dirfd, path, false, Access::Create, |p| real::symlinkat(target, dirfd, p)) }
}

pub unsafe fn truncate(path: CStrP, len: libc::off_t) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::truncate(p, len)) }
}

pub unsafe fn truncate64(path: CStrP, len: libc::off64_t) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::truncate64(p, len)) }
}

pub unsafe fn mknod(path: CStrP, mode: mode_t, dev: libc::dev_t) -> c_int {
    unsafe { with_path(path, false, Access::Create, |p| real::mknod(p, mode, dev)) }
}

pub unsafe fn mknodat(dirfd: c_int, path: CStrP, mode: mode_t, dev: libc::dev_t) -> c_int {
    unsafe { with_path_at(dirfd, path, false, Access::Create, |p| real::mknodat(dirfd, p, mode, dev)) }
}

pub unsafe fn __xmknod(ver: c_int, path: CStrP, mode: mode_t, dev: *mut libc::dev_t) -> c_int {
    unsafe { with_path(path, false, Access::Create, |p| real::__xmknod(ver, p, mode, dev)) }
}

pub unsafe fn __xmknodat(ver: c_int, dirfd: c_int, path: CStrP, mode: mode_t, dev: *mut libc::dev_t) -> c_int {
    unsafe { with_path_at(dirfd, path, false, Access::Create, |p| real::__xmknodat(ver, dirfd, p, mode, dev)) }
}

pub unsafe fn mkfifo(path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path(path, false, Access::Create, |p| real::mkfifo(p, mode)) }
}

pub unsafe fn mkfifoat(dirfd: c_int, path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path_at(dirfd, path, false, Access::Create, |p| real::mkfifoat(dirfd, p, mode)) }
}

