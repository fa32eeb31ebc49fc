//! Reading links. A link's contents are never translated: `readlink` returns what is stored.
//! The names the view itself answers are this process's `/proc/…/cwd`, `/proc/…/exe` and
//! `/proc/…/fd/N`.

use super::types::*;
use super::Access;
use super::{fail, with_path, with_path_at};
use crate::sys::PBuf;
use crate::{cwd, real, sys};

/// If `path` is one of this process's `/proc` links that name something in the view (`cwd`,
/// `fd/N` of a descriptor opened through a view), its virtual target.
fn proc_name(path: &[u8], out: &mut PBuf) -> bool {
    if crate::stack::runtime().is_none() {
        return false;
    }
    let Some(rest) = path.strip_prefix(b"/proc/") else { return false };
    let (who, what) = match memchr::memchr(b'/', rest) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => return false,
    };
    let mut pid = [0u8; 10];
    if !(who == b"self" || who == b"thread-self" || who == crate::path::decimal(sys::getpid() as u32, &mut pid)) {
        return false;
    }
    if what == b"cwd" {
        return cwd::get(out, None).is_ok();
    }
    if what == b"exe" {
        return crate::stack::exe_name(out);
    }
    if let Some(n) = what.strip_prefix(b"fd/") {
        let Some(fd) = parse_fd(n) else { return false };
        let mut host = PBuf::new();
        return crate::stack::fd_virtual_name(fd, out, &mut host);
    }
    false
}

fn parse_fd(n: &[u8]) -> Option<c_int> {
    if n.is_empty() || n.len() > 9 || !n.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(n.iter().fold(0, |a, &d| a * 10 + (d - b'0') as c_int))
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
            if proc_name(p, &mut v) {
                return unsafe { answer(v.as_bytes(), buf, size) };
            }
        }
    }
    unsafe { with_path(path, false, Access::Look, |p| real::readlink(p, buf, size)) }
}

pub unsafe fn readlinkat(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t {
    if let Some(p) = unsafe { super::bytes(path) } {
        if p.starts_with(b"/proc/") {
            let mut v = PBuf::new();
            if proc_name(p, &mut v) {
                return unsafe { answer(v.as_bytes(), buf, size) };
            }
        }
    }
    if size == 0 {
        return fail(libc::EINVAL);
    }
    unsafe { with_path_at(dirfd, path, false, Access::Look, |p| real::readlinkat(dirfd, p, buf, size)) }
}

/// The fortified forms: glibc's check (`size` must not exceed the buffer), then the hook.
pub unsafe fn __readlink_chk(path: CStrP, buf: *mut c_char, size: size_t, buflen: size_t) -> ssize_t {
    if size > buflen {
        super::chk_fail();
    }
    unsafe { readlink(path, buf, size) }
}

pub unsafe fn __readlinkat_chk(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t, buflen: size_t) -> ssize_t {
    if size > buflen {
        super::chk_fail();
    }
    unsafe { readlinkat(dirfd, path, buf, size) }
}
