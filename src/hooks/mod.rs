//! The exported shells, one file per libc family, all generated from the one table in
//! [`table`]. A shell marshals C arguments into bytes, asks the stack where the path goes and
//! calls the real function; nothing here decides what a view means.
//!
//! This directory is the FFI edge: `unsafe` is confined to it, to [`crate::real`] and to
//! [`crate::sys`].

pub mod attr;
pub mod clock;
pub mod dir;
pub mod env;
pub mod exec;
pub mod fd;
pub mod identity;
pub mod link;
pub mod misc;
pub mod modify;
pub mod name;
pub mod open;
pub mod stat;
pub mod syscall;
pub mod table;
pub mod temp;
pub mod types;

use crate::sys::PBuf;
use crate::real::Failed;
use crate::stack::{self, Route};
pub use crate::views::Access;
use crate::sys;
use libc::{c_char, c_int};
use std::ffi::CStr;

/// Runs one hook: a panic inside the library never unwinds into C and never falls back to
/// the real call (which could repeat a side effect); the call fails with `EIO` and one line on
/// stderr says which.
#[inline(always)]
pub fn guard<R: Failed>(name: &str, f: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::fault::maybe_panic(name);
        f()
    })) {
        Ok(r) => r,
        Err(_) => {
            sys::write_stderr(&[b"kmview: internal error in ", name.as_bytes(), b"(); the call fails with EIO\n"]);
            sys::set_errno(libc::EIO);
            R::failed()
        }
    }
}

/// The bytes of a C path argument; `None` for NULL (the real call reports `EFAULT` itself).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
#[inline(always)]
pub unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: per the contract.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes())
    }
}

/// The path to hand the kernel for `p` (the caller's own pointer on the hot path), or the
/// errno the view gives. `host` must outlive the returned pointer.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
#[inline(always)]
pub unsafe fn route_ptr(p: *const c_char, follow: bool, access: Access, host: &mut PBuf) -> Result<*const c_char, c_int> {
    // SAFETY: per the contract.
    unsafe { route_kind(libc::AT_FDCWD, p, follow, access, host) }.map(|(q, _)| q)
}

/// [`route_at`], also saying whether the host path came from the fast path through a mount
/// whose source is not `/` (see [`Route::Fast`]).
///
/// # Safety
/// As [`route_ptr`].
#[inline(always)]
pub unsafe fn route_kind(dirfd: c_int, p: *const c_char, follow: bool, access: Access, host: &mut PBuf) -> Result<(*const c_char, bool), c_int> {
    // SAFETY: per the contract.
    let Some(path) = (unsafe { bytes(p) }) else { return Ok((p, false)) };
    if path.is_empty() {
        return Ok((p, false));
    }
    let route = if dirfd != libc::AT_FDCWD && path.first().is_some_and(|&b| b != b'/') {
        if !crate::fds::is_recorded(dirfd) {
            return Ok((p, false));
        }
        let mut abs = PBuf::new();
        if stack::at_path(dirfd, path, &mut abs).is_none() {
            return Ok((p, false));
        }
        stack::route(abs.as_bytes(), follow, access, host)?
    } else {
        stack::route(path, follow, access, host)?
    };
    Ok(match route {
        // The kernel takes the path as it is; if it fails for want of a name, a symlink on the
        // way may have led into a mount it does not know: worth one exact walk (`retry` checks
        // that the view has a mount at all, after the failure, off the hot path).
        Route::Native => (p, dirfd == libc::AT_FDCWD || path.first() == Some(&b'/')),
        Route::Host => (host.as_cptr(), false),
        Route::Fast => (host.as_cptr(), dirfd == libc::AT_FDCWD || path.first() == Some(&b'/')),
    })
}

/// Like [`route_ptr`] for the `*at` calls: a relative path from a directory descriptor goes to
/// the kernel with that descriptor unless the descriptor table says the view must resolve it.
///
/// # Safety
/// As [`route_ptr`].
#[inline(always)]
pub unsafe fn route_at(dirfd: c_int, p: *const c_char, follow: bool, access: Access, host: &mut PBuf) -> Result<*const c_char, c_int> {
    // SAFETY: per the contract.
    unsafe { route_kind(dirfd, p, follow, access, host) }.map(|(q, _)| q)
}

/// What glibc's fortified functions do on a buffer overflow: abort the program.
pub fn chk_fail() -> ! {
    sys::write_stderr(&[b"*** buffer overflow detected ***: terminated\n"]);
    // SAFETY: abort has no preconditions.
    unsafe { libc::abort() }
}

/// Whether an `*at` call with these flags follows a symlink in the last component.
#[inline(always)]
pub fn follows_at(flags: c_int) -> bool {
    flags & libc::AT_SYMLINK_NOFOLLOW == 0
}

/// Fails the call the way C expects: errno set, the failure value returned.
#[inline]
pub fn fail<R: Failed>(errno: c_int) -> R {
    sys::set_errno(errno);
    R::failed()
}

/// Routes one path argument and runs `call` with the pointer to hand the kernel, or fails with
/// the view's errno. The shape of nearly every path hook.
///
/// A call made through the fast path that fails with `ENOENT` is made once more
/// through the exact walk, if that leads elsewhere (a symlink below a mount led out of it).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
#[inline(always)]
pub unsafe fn with_path<R: Failed>(p: *const c_char, follow: bool, access: Access, call: impl Fn(*const c_char) -> R) -> R {
    unsafe { with_path_at(libc::AT_FDCWD, p, follow, access, call) }
}

/// [`with_path`] for the `*at` calls.
///
/// # Safety
/// As [`with_path`].
#[inline(always)]
pub unsafe fn with_path_at<R: Failed>(dirfd: c_int, p: *const c_char, follow: bool, access: Access, call: impl Fn(*const c_char) -> R) -> R {
    unsafe { with_path_routed(dirfd, p, follow, access, call) }.0
}

/// [`with_path_at`], also saying whether the path went to the kernel as the caller gave it.
///
/// # Safety
/// As [`with_path`].
#[inline(always)]
pub unsafe fn with_path_routed<R: Failed>(dirfd: c_int, p: *const c_char, follow: bool, access: Access, call: impl Fn(*const c_char) -> R) -> (R, bool) {
    let mut host = PBuf::new();
    // SAFETY: per the contract.
    match unsafe { route_kind(dirfd, p, follow, access, &mut host) } {
        Ok((q, fast)) => {
            let r = call(q);
            let r = if fast && r.is_failed() {
                // SAFETY: per the contract.
                unsafe { retry(p, follow, access, &mut host, r, call) }
            } else {
                r
            };
            (r, q == p)
        }
        Err(libc::EROFS) if access == Access::Create => (fail(unsafe { create_refused(dirfd, p) }), false),
        Err(e) => (fail(e), false),
    }
}

/// The errno a kernel gives for creating `p` on a read-only mount: `EEXIST` if the name exists,
/// the lookup's error if its directory does not, `EROFS` only then.
///
/// # Safety
/// As [`with_path`].
pub unsafe fn create_refused(dirfd: c_int, p: *const c_char) -> c_int {
    let mut host = PBuf::new();
    let q = match unsafe { route_at(dirfd, p, false, Access::Look, &mut host) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    let mut probe = PBuf::new();
    // SAFETY: q is a C string (the caller's or the host buffer).
    if probe.set(unsafe { CStr::from_ptr(q) }.to_bytes()).is_err() {
        return libc::EROFS;
    }
    let relative_to_fd = dirfd != libc::AT_FDCWD && probe.as_bytes().first() != Some(&b'/');
    if relative_to_fd {
        return libc::EROFS;
    }
    match sys::host_stat(&probe, false) {
        Ok(_) => libc::EEXIST,
        Err(libc::ENOENT) => {
            probe.pop_component();
            match sys::host_stat(&probe, true) {
                Err(e) if probe.as_bytes().first() == Some(&b'/') => e,
                _ => libc::EROFS,
            }
        }
        Err(e) => e,
    }
}

/// The retry of [`with_path`]: the first result stands unless the exact walk differs.
#[cold]
unsafe fn retry<R: Failed>(p: *const c_char, follow: bool, access: Access, host: &mut PBuf, first: R, call: impl Fn(*const c_char) -> R) -> R {
    let e = sys::errno();
    if e != libc::ENOENT || !stack::runtime().is_some_and(|rt| rt.has_mounts) {
        return first;
    }
    // SAFETY: per the contract of the caller.
    let Some(path) = (unsafe { bytes(p) }) else { return first };
    match stack::exact(path, follow, access, host) {
        Ok(true) => call(host.as_cptr()),
        Ok(false) => {
            sys::set_errno(e);
            first
        }
        Err(e2) => fail(e2),
    }
}
