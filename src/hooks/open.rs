//! The open family. glibc's `fopen` and `freopen` open their file without going through the
//! exported `open`, so each needs its own shell.

use super::types::*;
use super::{bytes, Access};
use crate::{real, stack, sys};

/// What an open with these flags does to the file: a write if it may create, truncate or write.
pub fn access_of(flags: c_int) -> Access {
    // O_TMPFILE includes O_DIRECTORY's bit: it must be matched whole.
    let writes = libc::O_WRONLY | libc::O_RDWR | libc::O_TRUNC;
    if flags & writes != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE {
        Access::Write
    } else if flags & libc::O_CREAT != 0 {
        Access::Create
    } else {
        Access::Read
    }
}

/// What an `fopen` mode does: anything but plain `r` writes.
unsafe fn access_of_mode(mode: CStrP) -> Access {
    match unsafe { bytes(mode) } {
        Some(m) if m.first() == Some(&b'r') && !m.contains(&b'+') => Access::Read,
        _ => Access::Write,
    }
}

/// Whether the last component is followed: `O_NOFOLLOW` and `O_CREAT|O_EXCL` do not.
fn follows(flags: c_int) -> bool {
    flags & libc::O_NOFOLLOW == 0 && flags & (libc::O_CREAT | libc::O_EXCL) != (libc::O_CREAT | libc::O_EXCL)
}

/// Routes `path` (from `dirfd`), runs the open, and records the new descriptor's virtual name
/// when it lies in a view (see [`crate::fds`]).
unsafe fn opened(dirfd: c_int, path: CStrP, flags: c_int, call: impl Fn(*const c_char, c_int) -> c_int) -> c_int {
    let (mut fd, native) = unsafe { super::with_path_routed(dirfd, path, follows(flags), access_of(flags), |p| call(p, flags)) };
    if fd < 0 && sys::errno() == libc::EEXIST && access_of(flags) == Access::Create && flags & libc::O_EXCL == 0 {
        // O_CREAT of a name that exists, on a read-only mount: the kernel opens it, read-only
        // as asked, creating nothing (and without O_CREAT, nothing can be created).
        let plain = flags & !libc::O_CREAT;
        fd = unsafe { super::with_path_at(dirfd, path, follows(plain), Access::Read, |p| call(p, plain)) };
    }
    if fd >= 0 {
        unsafe { note(fd, dirfd, path, native) };
    }
    fd
}

/// Records `fd`, just opened as `path`, in the descriptor table if it lies in a view.
/// `native`: the path went to the kernel as given (the hot path, or a path no view changed).
unsafe fn note(fd: c_int, dirfd: c_int, path: CStrP, native: bool) {
    let Some(rt) = stack::runtime() else { return };
    let Some(p) = (unsafe { bytes(path) }) else { return };
    // The hot cases record nothing: a path under no mount and above none, or a path relative to
    // a place that is.
    let quiet = match p.first() {
        None => true,
        Some(b'/') => native && !rt.may_be_above_mount(p) && !crate::path::has_dotdot(p),
        Some(_) if dirfd == libc::AT_FDCWD => crate::cwd::is_plain() && !crate::path::has_dotdot(p),
        Some(_) => !crate::fds::is_recorded(dirfd),
    };
    if quiet {
        return;
    }
    let e = sys::errno();
    stack::note_open(fd, dirfd, p, true);
    sys::set_errno(e);
}

/// [`opened`] for the stdio forms: the descriptor recorded is the stream's.
unsafe fn fopened(path: CStrP, mode: CStrP, call: impl Fn(*const c_char) -> *mut FILE) -> *mut FILE {
    let f = unsafe { super::with_path(path, true, access_of_mode(mode), &call) };
    if !f.is_null() {
        // SAFETY: f is the stream just opened.
        unsafe { note(libc::fileno(f), libc::AT_FDCWD, path, false) };
    }
    f
}

pub unsafe fn open(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, flags, |p, fl| real::open(p, fl, mode)) }
}

pub unsafe fn open64(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, flags, |p, fl| real::open64(p, fl, mode)) }
}

pub unsafe fn __open_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, flags, |p, fl| real::__open_2(p, fl)) }
}

pub unsafe fn __open64_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, flags, |p, fl| real::__open64_2(p, fl)) }
}

pub unsafe fn openat(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(dirfd, path, flags, |p, fl| real::openat(dirfd, p, fl, mode)) }
}

pub unsafe fn openat64(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(dirfd, path, flags, |p, fl| real::openat64(dirfd, p, fl, mode)) }
}

pub unsafe fn __openat_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(dirfd, path, flags, |p, fl| real::__openat_2(dirfd, p, fl)) }
}

pub unsafe fn __openat64_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(dirfd, path, flags, |p, fl| real::__openat64_2(dirfd, p, fl)) }
}

pub unsafe fn creat(path: CStrP, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, |p, _| real::creat(p, mode)) }
}

pub unsafe fn creat64(path: CStrP, mode: mode_t) -> c_int {
    unsafe { opened(libc::AT_FDCWD, path, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, |p, _| real::creat64(p, mode)) }
}

pub unsafe fn fopen(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { fopened(path, mode, |p| real::fopen(p, mode)) }
}

pub unsafe fn fopen64(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { fopened(path, mode, |p| real::fopen64(p, mode)) }
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
    unsafe { fopened(path, mode, |p| real::freopen(p, mode, stream)) }
}

pub unsafe fn freopen64(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    if !path.is_null() {
        unsafe { forget_stream(stream) };
    }
    unsafe { fopened(path, mode, |p| real::freopen64(p, mode, stream)) }
}
