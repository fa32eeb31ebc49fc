//! The fake root's extended attributes at the C edge: `security.*` kept in the record (set,
//! read, listed, removed), a POSIX access ACL taken as the chmod it amounts to, anything else
//! the disk's.

use super::{done, fchmod, fchmodat, probe_stat, real_stat};
use crate::hooks::fail;
use crate::hooks::table::real;
use crate::hooks::types::*;
use crate::views::fakeroot as facet;

/// `setxattr` of a POSIX access ACL (what `cp -a` and `setfacl` write instead of a chmod):
/// its mode recorded as a chmod's; any other attribute as it is.
unsafe fn acl_as_chmod(
    name: CStrP,
    value: *const libc::c_void,
    size: size_t,
    chmod: impl FnOnce(mode_t) -> c_int,
    call: impl FnOnce() -> c_int,
) -> c_int {
    // SAFETY: the caller's attribute name, NUL-terminated.
    if name.is_null() || unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes() != b"system.posix_acl_access" || value.is_null() {
        return call();
    }
    // SAFETY: the caller's value of `size` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) };
    match facet::acl_mode(bytes) {
        Some(mode) => chmod(mode),
        None => call(),
    }
}

/// The attribute name the caller gave, if it is one the fake root keeps itself.
unsafe fn kept(name: CStrP) -> Option<&'static [u8]> {
    // SAFETY: the caller's NUL-terminated name.
    let n = (!name.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes())?;
    facet::keeps_xattr(n).then_some(n)
}

/// `setxattr` of a kept name on the file at `path` from `dirfd` (`stflags` as for `fstatat`).
unsafe fn set_kept(dirfd: c_int, path: CStrP, stflags: c_int, name: &[u8], value: *const libc::c_void, size: size_t, flags: c_int) -> c_int {
    if value.is_null() && size != 0 {
        return fail(crate::errno::Errno::EFAULT);
    }
    // SAFETY: the caller's path; its value of `size` bytes.
    match unsafe { real_stat(dirfd, path, stflags) } {
        Ok(st) => {
            let v = if size == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) } };
            done(facet::xattr_put(&st, name, Some(v), flags))
        }
        Err(r) => r,
    }
}

pub unsafe fn setxattr(path: CStrP, name: CStrP, value: *const libc::c_void, size: size_t, flags: c_int) -> c_int {
    if let Some(n) = unsafe { kept(name) } {
        return unsafe { set_kept(libc::AT_FDCWD, path, 0, n, value, size, flags) };
    }
    unsafe {
        acl_as_chmod(
            name,
            value,
            size,
            |m| fchmodat(libc::AT_FDCWD, path, m | special_bits(libc::AT_FDCWD, path, 0), 0),
            || real::setxattr(path, name, value, size, flags),
        )
    }
}

pub unsafe fn lsetxattr(path: CStrP, name: CStrP, value: *const libc::c_void, size: size_t, flags: c_int) -> c_int {
    if let Some(n) = unsafe { kept(name) } {
        return unsafe { set_kept(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW, n, value, size, flags) };
    }
    unsafe {
        acl_as_chmod(
            name,
            value,
            size,
            |m| fchmodat(libc::AT_FDCWD, path, m | special_bits(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW), libc::AT_SYMLINK_NOFOLLOW),
            || real::lsetxattr(path, name, value, size, flags),
        )
    }
}

pub unsafe fn fsetxattr(fd: c_int, name: CStrP, value: *const libc::c_void, size: size_t, flags: c_int) -> c_int {
    if let Some(n) = unsafe { kept(name) } {
        return unsafe { set_kept(fd, c"".as_ptr(), libc::AT_EMPTY_PATH, n, value, size, flags) };
    }
    unsafe {
        acl_as_chmod(
            name,
            value,
            size,
            |m| fchmod(fd, m | special_bits(fd, c"".as_ptr(), libc::AT_EMPTY_PATH)),
            || real::fsetxattr(fd, name, value, size, flags),
        )
    }
}

/// `getxattr` of a kept name: the recorded value, else what the disk says (no such attribute).
unsafe fn get_kept(
    dirfd: c_int,
    path: CStrP,
    stflags: c_int,
    name: &[u8],
    value: *mut libc::c_void,
    size: size_t,
    real: impl FnOnce() -> ssize_t,
) -> ssize_t {
    let mut v = [0u8; kmview_api::record::XVALUE_MAX];
    // SAFETY: the caller's path.
    let found = unsafe { probe_stat(dirfd, path, stflags) }.and_then(|st| facet::xattr_get(&st, name, &mut v));
    let Some(len) = found else { return real() };
    if size == 0 {
        return len as ssize_t;
    }
    if size < len {
        return fail(crate::errno::Errno::ERANGE);
    }
    // SAFETY: the caller's buffer of `size` >= `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), value.cast::<u8>(), len) };
    len as ssize_t
}

pub unsafe fn getxattr(path: CStrP, name: CStrP, value: *mut libc::c_void, size: size_t) -> ssize_t {
    match unsafe { kept(name) } {
        Some(n) => unsafe { get_kept(libc::AT_FDCWD, path, 0, n, value, size, || real::getxattr(path, name, value, size)) },
        None => unsafe { real::getxattr(path, name, value, size) },
    }
}

pub unsafe fn lgetxattr(path: CStrP, name: CStrP, value: *mut libc::c_void, size: size_t) -> ssize_t {
    match unsafe { kept(name) } {
        Some(n) => unsafe { get_kept(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW, n, value, size, || real::lgetxattr(path, name, value, size)) },
        None => unsafe { real::lgetxattr(path, name, value, size) },
    }
}

pub unsafe fn fgetxattr(fd: c_int, name: CStrP, value: *mut libc::c_void, size: size_t) -> ssize_t {
    match unsafe { kept(name) } {
        Some(n) => unsafe { get_kept(fd, c"".as_ptr(), libc::AT_EMPTY_PATH, n, value, size, || real::fgetxattr(fd, name, value, size)) },
        None => unsafe { real::fgetxattr(fd, name, value, size) },
    }
}

/// `listxattr`: the disk's names, then the kept ones the file has.
unsafe fn list_kept(
    dirfd: c_int,
    path: CStrP,
    stflags: c_int,
    list: *mut c_char,
    size: size_t,
    real: impl FnOnce(*mut c_char, size_t) -> ssize_t,
) -> ssize_t {
    let r = real(list, size);
    if r < 0 {
        return r;
    }
    // SAFETY: the caller's path.
    let Some(st) = (unsafe { probe_stat(dirfd, path, stflags) }) else { return r };
    let mut v = [0u8; kmview_api::record::XVALUE_MAX];
    let mut len = r as usize;
    for name in facet::KEPT_NAMES {
        if facet::xattr_get(&st, name, &mut v).is_none() {
            continue;
        }
        // Listed by the disk already (a file system that has it too): once.
        // SAFETY: the `r` bytes the disk's listing wrote, when the caller gave a buffer.
        if size != 0 && unsafe { std::slice::from_raw_parts(list.cast::<u8>(), r as usize) }.split(|&b| b == 0).any(|n| n == name) {
            continue;
        }
        if size != 0 {
            if len + name.len() + 1 > size {
                return fail(crate::errno::Errno::ERANGE);
            }
            // SAFETY: the caller's buffer of `size` bytes, `len` of them written.
            unsafe {
                std::ptr::copy_nonoverlapping(name.as_ptr(), list.cast::<u8>().add(len), name.len());
                *list.add(len + name.len()) = 0;
            }
        }
        len += name.len() + 1;
    }
    len as ssize_t
}

pub unsafe fn listxattr(path: CStrP, list: *mut c_char, size: size_t) -> ssize_t {
    unsafe { list_kept(libc::AT_FDCWD, path, 0, list, size, |l, s| real::listxattr(path, l, s)) }
}

pub unsafe fn llistxattr(path: CStrP, list: *mut c_char, size: size_t) -> ssize_t {
    unsafe { list_kept(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW, list, size, |l, s| real::llistxattr(path, l, s)) }
}

pub unsafe fn flistxattr(fd: c_int, list: *mut c_char, size: size_t) -> ssize_t {
    unsafe { list_kept(fd, c"".as_ptr(), libc::AT_EMPTY_PATH, list, size, |l, s| real::flistxattr(fd, l, s)) }
}

/// `removexattr` of a kept name: from the record (`ENODATA` if it is not there).
unsafe fn remove_kept(dirfd: c_int, path: CStrP, stflags: c_int, name: &[u8], real: impl FnOnce() -> c_int) -> c_int {
    // SAFETY: the caller's path.
    match unsafe { real_stat(dirfd, path, stflags) } {
        Ok(st) => match facet::xattr_put(&st, name, None, 0) {
            Ok(()) => 0,
            // Kept nowhere: the disk's, if it has one.
            Err(crate::errno::Errno::ENODATA) => real(),
            Err(e) => fail(e),
        },
        Err(r) => r,
    }
}

pub unsafe fn removexattr(path: CStrP, name: CStrP) -> c_int {
    match unsafe { kept(name) } {
        Some(n) => unsafe { remove_kept(libc::AT_FDCWD, path, 0, n, || real::removexattr(path, name)) },
        None => unsafe { real::removexattr(path, name) },
    }
}

pub unsafe fn lremovexattr(path: CStrP, name: CStrP) -> c_int {
    match unsafe { kept(name) } {
        Some(n) => unsafe { remove_kept(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW, n, || real::lremovexattr(path, name)) },
        None => unsafe { real::lremovexattr(path, name) },
    }
}

pub unsafe fn fremovexattr(fd: c_int, name: CStrP) -> c_int {
    match unsafe { kept(name) } {
        Some(n) => unsafe { remove_kept(fd, c"".as_ptr(), libc::AT_EMPTY_PATH, n, || real::fremovexattr(fd, name)) },
        None => unsafe { real::fremovexattr(fd, name) },
    }
}

/// The setuid, setgid and sticky bits the view shows on a file (an ACL leaves them as they are).
unsafe fn special_bits(dirfd: c_int, path: CStrP, flags: c_int) -> mode_t {
    // SAFETY: the caller's path.
    match unsafe { probe_stat(dirfd, path, flags) } {
        Some(mut st) => {
            facet::adjust(&mut st);
            st.st_mode & 0o7000
        }
        None => 0,
    }
}
