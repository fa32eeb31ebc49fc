//! The open family. glibc's `fopen` and `freopen` open their file without going through the
//! exported `open`, so each needs its own shell.

use super::types::*;
use super::{bytes, fail, route_at};
use crate::sys::PBuf;
use crate::{real, stack, sys};

/// Whether the last component is followed: `O_NOFOLLOW` and `O_CREAT|O_EXCL` do not.
fn follows(flags: c_int) -> bool {
    flags & libc::O_NOFOLLOW == 0 && flags & (libc::O_CREAT | libc::O_EXCL) != (libc::O_CREAT | libc::O_EXCL)
}

/// Routes `path` (from `dirfd`), runs the open, and records the new descriptor's virtual name
/// when it lies in a view (see [`crate::fds`]).
unsafe fn opened(dirfd: c_int, path: CStrP, follow: bool, call: impl FnOnce(*const c_char) -> c_int) -> c_int {
    let mut host = PBuf::new();
    // SAFETY: the caller's path.
    let routed = match unsafe { route_at(dirfd, path, follow, &mut host) } {
        Ok(q) => q,
        Err(e) => return fail(e),
    };
    let fd = call(routed);
    if fd >= 0 {
        if let Some(p) = unsafe { bytes(path) } {
            let e = sys::errno();
            stack::note_open(fd, dirfd, p, routed != path);
            sys::set_errno(e);
        }
    }
    fd
}

/// [`opened`] for the stdio forms: the descriptor recorded is the stream's.
unsafe fn fopened(path: CStrP, call: impl FnOnce(*const c_char) -> *mut FILE) -> *mut FILE {
    let mut host = PBuf::new();
    // SAFETY: the caller's path.
    let routed = match unsafe { route_at(libc::AT_FDCWD, path, true, &mut host) } {
        Ok(q) => q,
        Err(e) => return fail(e),
    };
    let f = call(routed);
    if !f.is_null() {
        if let Some(p) = unsafe { bytes(path) } {
            let e = sys::errno();
            // SAFETY: f is the stream just opened.
            stack::note_open(unsafe { libc::fileno(f) }, libc::AT_FDCWD, p, routed != path);
            sys::set_errno(e);
        }
    }
    f
}

pub unsafe fn open(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, follows(flags), |p| real::open(p, flags, mode)) }
}

pub unsafe fn open64(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, follows(flags), |p| real::open64(p, flags, mode)) }
}

pub unsafe fn __open_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, follows(flags), |p| real::__open_2(p, flags)) }
}

pub unsafe fn __open64_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, follows(flags), |p| real::__open64_2(p, flags)) }
}

pub unsafe fn openat(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(dirfd, path, follows(flags), |p| real::openat(dirfd, p, flags, mode)) }
}

pub unsafe fn openat64(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(dirfd, path, follows(flags), |p| real::openat64(dirfd, p, flags, mode)) }
}

pub unsafe fn __openat_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(dirfd, path, follows(flags), |p| real::__openat_2(dirfd, p, flags)) }
}

pub unsafe fn __openat64_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(dirfd, path, follows(flags), |p| real::__openat64_2(dirfd, p, flags)) }
}

pub unsafe fn creat(path: CStrP, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, true, |p| real::creat(p, mode)) }
}

pub unsafe fn creat64(path: CStrP, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, true, |p| real::creat64(p, mode)) }
}

pub unsafe fn fopen(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { fopened(path, |p| real::fopen(p, mode)) }
}

pub unsafe fn fopen64(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { fopened(path, |p| real::fopen64(p, mode)) }
}

/// The descriptor under a stream that libc is about to close without calling `close`.
unsafe fn forget_stream(stream: *mut FILE) {
    if !stream.is_null() {
        // SAFETY: the caller's stream.
        crate::fds::forget(unsafe { libc::fileno(stream) });
    }
}

pub unsafe fn fclose(stream: *mut FILE) -> c_int {
    unsafe { forget_stream(stream) };
    unsafe { real::fclose(stream) }
}

pub unsafe fn freopen(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    // A NULL path reopens the stream's own file with a new mode: no path to route.
    if !path.is_null() {
        unsafe { forget_stream(stream) };
    }
    unsafe { fopened(path, |p| real::freopen(p, mode, stream)) }
}

pub unsafe fn freopen64(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    if !path.is_null() {
        unsafe { forget_stream(stream) };
    }
    unsafe { fopened(path, |p| real::freopen64(p, mode, stream)) }
}
