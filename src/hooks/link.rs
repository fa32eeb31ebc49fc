//! Reading links. A link's contents are never translated: `readlink` returns what is stored.
//! The one name the view itself answers is `/proc/self/cwd` (and `/proc/<own pid>/cwd`).

use super::types::*;
use super::{fail, with_path, with_path_at};
use crate::sys::PBuf;
use crate::{cwd, real, sys};

/// If `path` is this process's `/proc/…/cwd`, the virtual cwd.
fn proc_cwd(path: &[u8], out: &mut PBuf) -> bool {
    let Some(rest) = path.strip_prefix(b"/proc/") else { return false };
    let Some(who) = rest.strip_suffix(b"/cwd") else { return false };
    let mut pid = [0u8; 16];
    let own = who == b"self" || who == b"thread-self" || who == fmt_pid(sys::getpid(), &mut pid);
    own && crate::stack::runtime().is_some() && cwd::get(out, None).is_ok()
}

fn fmt_pid(mut n: i32, buf: &mut [u8; 16]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Copies a link's value into the caller's buffer the way `readlink` does (truncated, no NUL).
unsafe fn answer(value: &[u8], buf: *mut c_char, size: size_t) -> ssize_t {
    let n = value.len().min(size);
    // SAFETY: the caller's buffer holds `size` bytes.
    unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), buf.cast(), n) };
    n as ssize_t
}

pub unsafe fn readlink(path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t {
    if let Some(p) = unsafe { super::bytes(path) } {
        if p.starts_with(b"/proc/") {
            let mut v = PBuf::new();
            if proc_cwd(p, &mut v) {
                return unsafe { answer(v.as_bytes(), buf, size) };
            }
        }
    }
    unsafe { with_path(path, false, |p| real::readlink(p, buf, size)) }
}

pub unsafe fn readlinkat(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t {
    if let Some(p) = unsafe { super::bytes(path) } {
        if p.starts_with(b"/proc/") {
            let mut v = PBuf::new();
            if proc_cwd(p, &mut v) {
                return unsafe { answer(v.as_bytes(), buf, size) };
            }
        }
    }
    if size == 0 {
        return fail(libc::EINVAL);
    }
    unsafe { with_path_at(dirfd, path, false, |p| real::readlinkat(dirfd, p, buf, size)) }
}
