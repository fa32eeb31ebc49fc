//! Names the process sees: `getcwd`, `chdir`, `realpath`. glibc's `realpath` and
//! `get_current_dir_name` walk with internal calls that no hook sees, so they are answered here.

use super::types::*;
use super::Access;
use super::{bytes, fail};
use crate::sys::PBuf;
use crate::stack::{self, Route};
use crate::{cwd, real, sys};

/// Hands `value` to a C caller the way getcwd/realpath do: into `buf` of `size` bytes, or into
/// a fresh `malloc` block when `buf` is NULL (the caller frees it).
unsafe fn answer(value: &[u8], buf: *mut c_char, size: usize, range_err: c_int) -> *mut c_char {
    let need = value.len() + 1;
    let out = if buf.is_null() {
        let cap = if size > 0 { size } else { need };
        if cap < need {
            return fail(range_err);
        }
        // SAFETY: plain allocation; the caller owns the block.
        let p = unsafe { libc::malloc(cap) }.cast::<c_char>();
        if p.is_null() {
            return fail(libc::ENOMEM);
        }
        p
    } else {
        if size < need {
            return fail(range_err);
        }
        buf
    };
    // SAFETY: `out` holds at least `need` bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), out.cast::<u8>(), value.len());
        *out.add(value.len()) = 0;
    }
    out
}

pub unsafe fn getcwd(buf: *mut c_char, size: size_t) -> *mut c_char {
    if stack::runtime().is_none() || (!buf.is_null() && size == 0) {
        return unsafe { real::getcwd(buf, size) };
    }
    let mut now = PBuf::new();
    if let Err(e) = sys::host_getcwd(&mut now) {
        return fail(e);
    }
    let mut virt = PBuf::new();
    let mut host = PBuf::new();
    let known = cwd::get(&mut virt, Some(&mut host)).is_ok();
    if !known || host.as_bytes() != now.as_bytes() {
        // The directory was renamed, or the cwd moved without us (a raw syscall, glibc's own
        // fchdir in nftw): name the kernel's path in the view, the old name as the hint.
        let mut renamed = PBuf::new();
        let hint = if known { virt.as_bytes() } else { b"" };
        if stack::reverse(now.as_bytes(), hint, &mut renamed).is_err() {
            renamed.set(now.as_bytes()).ok();
        }
        cwd::set(renamed.as_bytes(), now.as_bytes());
        virt.set(renamed.as_bytes()).ok();
    }
    unsafe { answer(virt.as_bytes(), buf, size, libc::ERANGE) }
}

pub unsafe fn get_current_dir_name() -> *mut c_char {
    if stack::runtime().is_none() {
        return unsafe { real::get_current_dir_name() };
    }
    // As glibc: $PWD if it names the cwd, else getcwd; both in the view's terms.
    if let Some(pwd) = sys::getenv(b"PWD\0") {
        let mut a = PBuf::new();
        let mut b = PBuf::new();
        let same = match stack::route(pwd, true, Access::Look, &mut a) {
            Ok(Route::Native) => PBuf::from_bytes(pwd).ok().and_then(|p| sys::host_stat(&p, true).ok()),
            Ok(Route::Host | Route::Fast) => sys::host_stat(&a, true).ok(),
            Err(_) => None,
        };
        b.set(b".").ok();
        if same.is_some() && same.map(|s| (s.0, s.1)) == sys::host_stat(&b, true).ok().map(|s| (s.0, s.1)) {
            return unsafe { answer(pwd, std::ptr::null_mut(), 0, libc::ERANGE) };
        }
    }
    unsafe { getcwd(std::ptr::null_mut(), 0) }
}

pub unsafe fn chdir(path: CStrP) -> c_int {
    let Some(p) = (unsafe { bytes(path) }) else { return unsafe { real::chdir(path) } };
    if stack::runtime().is_none() {
        return unsafe { real::chdir(path) };
    }
    let mut probe = PBuf::new();
    let mut now = PBuf::new();
    match stack::route(p, true, Access::Look, &mut probe) {
        Ok(Route::Native) => {
            let r = unsafe { real::chdir(path) };
            if r == 0 && sys::host_getcwd(&mut now).is_ok() {
                cwd::set(now.as_bytes(), now.as_bytes());
            }
            // A symlink on the way may lead into a mount the kernel does not know.
            if !(r != 0 && sys::errno() == libc::ENOENT && stack::runtime().is_some_and(|rt| rt.has_mounts)) {
                return r;
            }
        }
        Ok(Route::Host | Route::Fast) => {}
        Err(e) => return fail(e),
    }
    let mut virt = PBuf::new();
    let mut host = PBuf::new();
    if let Err(e) = stack::canonicalize(p, &mut virt, &mut host) {
        return fail(e);
    }
    let r = unsafe { real::chdir(host.as_cptr()) };
    if r == 0 {
        let e = sys::errno();
        if sys::host_getcwd(&mut now).is_ok() {
            cwd::set(virt.as_bytes(), now.as_bytes());
        }
        sys::set_errno(e);
    }
    r
}

pub unsafe fn fchdir(fd: c_int) -> c_int {
    let r = unsafe { real::fchdir(fd) };
    if r == 0 && stack::runtime().is_some() {
        let e = sys::errno();
        let mut now = PBuf::new();
        let mut virt = PBuf::new();
        let mut host = PBuf::new();
        if sys::host_getcwd(&mut now).is_ok() {
            if stack::fd_virtual_name(fd, &mut virt, &mut host) {
                cwd::set(virt.as_bytes(), now.as_bytes());
            } else {
                cwd::set(now.as_bytes(), now.as_bytes());
            }
        }
        sys::set_errno(e);
    }
    r
}

pub unsafe fn realpath(path: CStrP, resolved: *mut c_char) -> *mut c_char {
    let Some(p) = (unsafe { bytes(path) }) else { return unsafe { real::realpath(path, resolved) } };
    let mut probe = PBuf::new();
    match stack::route(p, true, Access::Look, &mut probe) {
        Ok(Route::Native) => return unsafe { real::realpath(path, resolved) },
        Ok(Route::Host | Route::Fast) => {}
        Err(e) => return fail(e),
    }
    let mut virt = PBuf::new();
    let mut host = PBuf::new();
    if let Err(e) = stack::canonicalize(p, &mut virt, &mut host) {
        return fail(e);
    }
    // realpath names only what exists.
    if let Err(e) = sys::host_stat(&host, true) {
        return fail(e);
    }
    if virt.len() >= libc::PATH_MAX as usize {
        return fail(libc::ENAMETOOLONG);
    }
    let size = if resolved.is_null() { 0 } else { libc::PATH_MAX as usize };
    unsafe { answer(virt.as_bytes(), resolved, size, libc::ENAMETOOLONG) }
}

pub unsafe fn canonicalize_file_name(path: CStrP) -> *mut c_char {
    unsafe { realpath(path, std::ptr::null_mut()) }
}

pub unsafe fn __realpath_chk(path: CStrP, resolved: *mut c_char, resolvedlen: size_t) -> *mut c_char {
    if !resolved.is_null() && resolvedlen < libc::PATH_MAX as usize {
        super::chk_fail();
    }
    unsafe { realpath(path, resolved) }
}

pub unsafe fn __getcwd_chk(buf: *mut c_char, size: size_t, buflen: size_t) -> *mut c_char {
    if size > buflen {
        super::chk_fail();
    }
    unsafe { getcwd(buf, size) }
}

/// `getwd` assumes a buffer of `PATH_MAX` bytes.
pub unsafe fn getwd(buf: *mut c_char) -> *mut c_char {
    if buf.is_null() {
        return fail(libc::EINVAL);
    }
    unsafe { getcwd(buf, libc::PATH_MAX as usize) }
}

/// `chroot` needs privilege the view does not grant; the path is routed so that the kernel's
/// answer (`EPERM`, or `ENOENT` for a missing directory) is about the right directory.
pub unsafe fn chroot(path: CStrP) -> c_int {
    unsafe { super::with_path(path, true, Access::Look, |p| real::chroot(p)) }
}
