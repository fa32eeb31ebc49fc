//! The open family. glibc's `fopen` and `freopen` open their file without going through the
//! exported `open`, so each needs its own shell.

use super::types::*;
use super::{with_path, with_path_at};
use crate::real;

/// Whether the last component is followed: `O_NOFOLLOW` and `O_CREAT|O_EXCL` do not.
fn follows(flags: c_int) -> bool {
    flags & libc::O_NOFOLLOW == 0 && flags & (libc::O_CREAT | libc::O_EXCL) != (libc::O_CREAT | libc::O_EXCL)
}

pub unsafe fn open(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { with_path(path, follows(flags), |p| real::open(p, flags, mode)) }
}

pub unsafe fn open64(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { with_path(path, follows(flags), |p| real::open64(p, flags, mode)) }
}

pub unsafe fn __open_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { with_path(path, follows(flags), |p| real::__open_2(p, flags)) }
}

pub unsafe fn __open64_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { with_path(path, follows(flags), |p| real::__open64_2(p, flags)) }
}

pub unsafe fn openat(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { with_path_at(dirfd, path, follows(flags), |p| real::openat(dirfd, p, flags, mode)) }
}

pub unsafe fn openat64(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { with_path_at(dirfd, path, follows(flags), |p| real::openat64(dirfd, p, flags, mode)) }
}

pub unsafe fn __openat_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows(flags), |p| real::__openat_2(dirfd, p, flags)) }
}

pub unsafe fn __openat64_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { with_path_at(dirfd, path, follows(flags), |p| real::__openat64_2(dirfd, p, flags)) }
}

pub unsafe fn creat(path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path(path, true, |p| real::creat(p, mode)) }
}

pub unsafe fn creat64(path: CStrP, mode: mode_t) -> c_int {
    unsafe { with_path(path, true, |p| real::creat64(p, mode)) }
}

pub unsafe fn fopen(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { with_path(path, true, |p| real::fopen(p, mode)) }
}

pub unsafe fn fopen64(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { with_path(path, true, |p| real::fopen64(p, mode)) }
}

pub unsafe fn freopen(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    // A NULL path reopens the stream's own file with a new mode: no path to route.
    unsafe { with_path(path, true, |p| real::freopen(p, mode, stream)) }
}

pub unsafe fn freopen64(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    unsafe { with_path(path, true, |p| real::freopen64(p, mode, stream)) }
}
