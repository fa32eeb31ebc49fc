//! Mode, ownership, times and extended attributes. The descriptor forms (`fchmod`, `fchown`,
//! `futimens`, `f*xattr`) name no path: they pass through, since the descriptor was opened
//! through the view already.

use super::types::*;
use super::follows_at;
use super::Access;
use super::{with_path, with_path_at};
use crate::real;
use libc::{gid_t, timespec, timeval, uid_t, utimbuf};

pub unsafe fn chmod(path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::chmod(p, mode)) }
}

pub unsafe fn fchmod(fd: c_int, mode: mode_t) -> c_int {
    unsafe { real::fchmod(fd, mode) }
}

pub unsafe fn fchmodat(dirfd: c_int, path: CStrP, mode: mode_t, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Write, |p| real::fchmodat(dirfd, p, mode, flags)) }
}

pub unsafe fn lchmod(path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path(path, false, Access::Write, |p| real::lchmod(p, mode)) }
}

pub unsafe fn chown(path: CStrP, uid: uid_t, gid: gid_t) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::chown(p, uid, gid)) }
}

pub unsafe fn fchown(fd: c_int, uid: uid_t, gid: gid_t) -> c_int {
    unsafe { real::fchown(fd, uid, gid) }
}

pub unsafe fn lchown(path: CStrP, uid: uid_t, gid: gid_t) -> c_int {
    unsafe { with_path(path, false, Access::Write, |p| real::lchown(p, uid, gid)) }
}

pub unsafe fn fchownat(dirfd: c_int, path: CStrP, uid: uid_t, gid: gid_t, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Write, |p| real::fchownat(dirfd, p, uid, gid, flags)) }
}

pub unsafe fn utime(path: CStrP, times: *const utimbuf) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::utime(p, times)) }
}

pub unsafe fn utimes(path: CStrP, times: *const timeval) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::utimes(p, times)) }
}

pub unsafe fn lutimes(path: CStrP, times: *const timeval) -> c_int {
    unsafe { with_path(path, false, Access::Write, |p| real::lutimes(p, times)) }
}

pub unsafe fn futimesat(dirfd: c_int, path: CStrP, times: *const timeval) -> c_int {
    unsafe { with_path_at(dirfd, path, true, Access::Write, |p| real::futimesat(dirfd, p, times)) }
}

/// `utimensat(fd, NULL, …)` is `futimens(fd, …)`: no path to route.
pub unsafe fn utimensat(dirfd: c_int, path: CStrP, times: *const timespec, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows_at(flags), Access::Write, |p| real::utimensat(dirfd, p, times, flags)) }
}

pub unsafe fn futimens(fd: c_int, times: *const timespec) -> c_int {
    unsafe { real::futimens(fd, times) }
}

type Val = *const libc::c_void;
type Buf = *mut libc::c_void;

pub unsafe fn setxattr(path: CStrP, name: CStrP, value: Val, size: size_t, flags: c_int) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::setxattr(p, name, value, size, flags)) }
}

pub unsafe fn lsetxattr(path: CStrP, name: CStrP, value: Val, size: size_t, flags: c_int) -> c_int {
    unsafe { with_path(path, false, Access::Write, |p| real::lsetxattr(p, name, value, size, flags)) }
}

pub unsafe fn fsetxattr(fd: c_int, name: CStrP, value: Val, size: size_t, flags: c_int) -> c_int {
    unsafe { real::fsetxattr(fd, name, value, size, flags) }
}

pub unsafe fn getxattr(path: CStrP, name: CStrP, value: Buf, size: size_t) -> ssize_t {
    unsafe { with_path(path, true, Access::Look, |p| real::getxattr(p, name, value, size)) }
}

pub unsafe fn lgetxattr(path: CStrP, name: CStrP, value: Buf, size: size_t) -> ssize_t {
    unsafe { with_path(path, false, Access::Look, |p| real::lgetxattr(p, name, value, size)) }
}

pub unsafe fn fgetxattr(fd: c_int, name: CStrP, value: Buf, size: size_t) -> ssize_t {
    unsafe { real::fgetxattr(fd, name, value, size) }
}

pub unsafe fn listxattr(path: CStrP, list: *mut c_char, size: size_t) -> ssize_t {
    unsafe { with_path(path, true, Access::Look, |p| real::listxattr(p, list, size)) }
}

pub unsafe fn llistxattr(path: CStrP, list: *mut c_char, size: size_t) -> ssize_t {
    unsafe { with_path(path, false, Access::Look, |p| real::llistxattr(p, list, size)) }
}

pub unsafe fn flistxattr(fd: c_int, list: *mut c_char, size: size_t) -> ssize_t {
    unsafe { real::flistxattr(fd, list, size) }
}

pub unsafe fn removexattr(path: CStrP, name: CStrP) -> c_int {
    unsafe { with_path(path, true, Access::Write, |p| real::removexattr(p, name)) }
}

pub unsafe fn lremovexattr(path: CStrP, name: CStrP) -> c_int {
    unsafe { with_path(path, false, Access::Write, |p| real::lremovexattr(p, name)) }
}

pub unsafe fn fremovexattr(fd: c_int, name: CStrP) -> c_int {
    unsafe { real::fremovexattr(fd, name) }
}
