//! The stat family, with the old `__xstat` forms that binaries built before glibc 2.33 call,
//! and `access`.

use super::types::*;
use super::follows_at;
use super::Access;
use super::{with_path, with_path_at};
use crate::real;

pub unsafe fn stat(path: CStrP, buf: *mut Stat) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::stat(p, buf)) }
}

pub unsafe fn stat64(path: CStrP, buf: *mut Stat64) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::stat64(p, buf)) }
}

pub unsafe fn lstat(path: CStrP, buf: *mut Stat) -> c_int {
    unsafe { with_path(path, false, Access::Look, |p| real::lstat(p, buf)) }
}

pub unsafe fn lstat64(path: CStrP, buf: *mut Stat64) -> c_int {
    unsafe { with_path(path, false, Access::Look, |p| real::lstat64(p, buf)) }
}

pub unsafe fn fstatat(dirfd: c_int, path: CStrP, buf: *mut Stat, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Look, |p| real::fstatat(dirfd, p, buf, flags)) }
}

pub unsafe fn fstatat64(dirfd: c_int, path: CStrP, buf: *mut Stat64, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Look, |p| real::fstatat64(dirfd, p, buf, flags)) }
}

pub unsafe fn statx(dirfd: c_int, path: CStrP, flags: c_int, mask: c_uint, buf: *mut Statx) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Look, |p| real::statx(dirfd, p, flags, mask, buf)) }
}

pub unsafe fn __xstat(ver: c_int, path: CStrP, buf: *mut Stat) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::__xstat(ver, p, buf)) }
}

pub unsafe fn __xstat64(ver: c_int, path: CStrP, buf: *mut Stat64) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::__xstat64(ver, p, buf)) }
}

pub unsafe fn __lxstat(ver: c_int, path: CStrP, buf: *mut Stat) -> c_int {
    unsafe { with_path(path, false, Access::Look, |p| real::__lxstat(ver, p, buf)) }
}

pub unsafe fn __lxstat64(ver: c_int, path: CStrP, buf: *mut Stat64) -> c_int {
    unsafe { with_path(path, false, Access::Look, |p| real::__lxstat64(ver, p, buf)) }
}

pub unsafe fn __fxstatat(ver: c_int, dirfd: c_int, path: CStrP, buf: *mut Stat, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Look, |p| real::__fxstatat(ver, dirfd, p, buf, flags)) }
}

pub unsafe fn __fxstatat64(ver: c_int, dirfd: c_int, path: CStrP, buf: *mut Stat64, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Look, |p| real::__fxstatat64(ver, dirfd, p, buf, flags)) }
}

pub unsafe fn access(path: CStrP, mode: c_int) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::access(p, mode)) }
}

pub unsafe fn faccessat(dirfd: c_int, path: CStrP, mode: c_int, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Look, |p| real::faccessat(dirfd, p, mode, flags)) }
}

pub unsafe fn eaccess(path: CStrP, mode: c_int) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::eaccess(p, mode)) }
}

pub unsafe fn euidaccess(path: CStrP, mode: c_int) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::euidaccess(p, mode)) }
}

// The descriptor forms name no path: the descriptor was opened through the view already.
pub unsafe fn fstat(fd: c_int, buf: *mut Stat) -> c_int {
    unsafe { real::fstat(fd, buf) }
}

pub unsafe fn fstat64(fd: c_int, buf: *mut Stat64) -> c_int {
    unsafe { real::fstat64(fd, buf) }
}

pub unsafe fn __fxstat(ver: c_int, fd: c_int, buf: *mut Stat) -> c_int {
    unsafe { real::__fxstat(ver, fd, buf) }
}

pub unsafe fn __fxstat64(ver: c_int, fd: c_int, buf: *mut Stat64) -> c_int {
    unsafe { real::__fxstat64(ver, fd, buf) }
}

pub unsafe fn statfs(path: CStrP, buf: *mut libc::statfs) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::statfs(p, buf)) }
}

pub unsafe fn statfs64(path: CStrP, buf: *mut libc::statfs64) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::statfs64(p, buf)) }
}

pub unsafe fn statvfs(path: CStrP, buf: *mut libc::statvfs) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::statvfs(p, buf)) }
}

pub unsafe fn statvfs64(path: CStrP, buf: *mut libc::statvfs64) -> c_int {
    unsafe { with_path(path, true, Access::Look, |p| real::statvfs64(p, buf)) }
}

pub unsafe fn pathconf(path: CStrP, name: c_int) -> libc::c_long {
    unsafe { with_path(path, true, Access::Look, |p| real::pathconf(p, name)) }
}
