//! The fake root's calls at the C edge (`views::fakeroot` decides): stat results adjusted on
//! their way back, and chown, chmod and mknod on the host path the view routed them to
//! (the generated shells call these instead of libc's when a fake root is active, after the
//! view's own checks), and the record forgotten with an inode's last link.

use super::table::real;
use super::types::*;
use crate::views::fakeroot::{self as facet, StatFields};

pub use facet::{active, maybe};

/// Whether a fake root is active, loading the stack first if no call has yet.
#[inline]
pub fn active_loaded() -> bool {
    crate::runtime::get().is_some_and(|rt| rt.fake.is_some())
}

/// Whether a fake root is active: one byte once the stack is loaded (loading it if not).
#[inline(always)]
pub fn on() -> bool {
    if facet::known() {
        active()
    } else {
        active_loaded()
    }
}

/// A stat form's result on its way back: the record's owner, mode and device number.
///
/// # Safety
/// `buf` is NULL or the caller's buffer that the call filled when it returned 0.
#[inline(always)]
pub unsafe fn stat_out<T: StatFields>(r: c_int, buf: *mut T) -> c_int {
    if r == 0 && !buf.is_null() && (active() || (!facet::known() && active_loaded())) {
        // SAFETY: per the contract.
        facet::adjust(unsafe { &mut *buf });
    }
    r
}

/// The real file's fields at `path` from `dirfd`, errno left as it was (a look the caller did
/// not ask for).
unsafe fn probe_stat(dirfd: c_int, path: CStrP, flags: c_int) -> Option<libc::stat> {
    let e = crate::sys::errno();
    // SAFETY: per the caller's contract.
    let r = unsafe { real_stat(dirfd, path, flags) }.ok();
    crate::sys::set_errno(e);
    r
}

/// The real file's fields at `path` from `dirfd` (`flags`: `AT_SYMLINK_NOFOLLOW`,
/// `AT_EMPTY_PATH`), or -1 with errno set.
unsafe fn real_stat(dirfd: c_int, path: CStrP, flags: c_int) -> Result<libc::stat, c_int> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the caller's path; a buffer of the right type.
    match unsafe { real::fstatat(dirfd, path, &mut st, flags & (libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)) } {
        0 => Ok(st),
        r => Err(r),
    }
}

fn done(r: crate::errno::Res<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => super::fail(e),
    }
}

pub unsafe fn fchownat(dirfd: c_int, path: CStrP, uid: libc::uid_t, gid: libc::gid_t, flags: c_int) -> c_int {
    // SAFETY: the caller's path.
    match unsafe { real_stat(dirfd, path, flags) } {
        Ok(st) => done(facet::chown(&st, uid, gid)),
        Err(r) => r,
    }
}

pub unsafe fn chown(path: CStrP, uid: libc::uid_t, gid: libc::gid_t) -> c_int {
    unsafe { fchownat(libc::AT_FDCWD, path, uid, gid, 0) }
}

pub unsafe fn lchown(path: CStrP, uid: libc::uid_t, gid: libc::gid_t) -> c_int {
    unsafe { fchownat(libc::AT_FDCWD, path, uid, gid, libc::AT_SYMLINK_NOFOLLOW) }
}

pub unsafe fn fchown(fd: c_int, uid: libc::uid_t, gid: libc::gid_t) -> c_int {
    unsafe { fchownat(fd, c"".as_ptr(), uid, gid, libc::AT_EMPTY_PATH) }
}

/// `chmod` on a host path: the mode recorded, a safe one put on disk (a real `EPERM`, on a
/// file the real user does not own, is the fake root's success, as with fakeroot).
pub unsafe fn fchmodat(dirfd: c_int, path: CStrP, mode: mode_t, flags: c_int) -> c_int {
    // SAFETY: the caller's path.
    let st = match unsafe { real_stat(dirfd, path, flags) } {
        Ok(st) => st,
        Err(r) => return r,
    };
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        // A symlink's own mode: glibc's answer (EOPNOTSUPP).
        // SAFETY: the caller's arguments.
        return unsafe { real::fchmodat(dirfd, path, mode, flags) };
    }
    let e = crate::sys::errno();
    // SAFETY: the caller's path.
    let r = unsafe { real::fchmodat(dirfd, path, facet::safe_mode(st.st_mode & libc::S_IFMT, mode), flags & libc::AT_SYMLINK_NOFOLLOW) };
    chmodded(r, e, &st, mode)
}

/// After the disk's chmod (`r`; `e`: errno before it): recorded if it worked, or if the real user
/// may not (the fake root may): then errno is as it was.
fn chmodded(r: c_int, e: c_int, st: &libc::stat, mode: mode_t) -> c_int {
    if r != 0 && crate::sys::errno() != libc::EPERM {
        return r;
    }
    crate::sys::set_errno(e);
    done(facet::chmod(st, mode).map(|_| ()))
}

pub unsafe fn chmod(path: CStrP, mode: mode_t) -> c_int {
    unsafe { fchmodat(libc::AT_FDCWD, path, mode, 0) }
}

pub unsafe fn lchmod(path: CStrP, mode: mode_t) -> c_int {
    unsafe { fchmodat(libc::AT_FDCWD, path, mode, libc::AT_SYMLINK_NOFOLLOW) }
}

pub unsafe fn fchmod(fd: c_int, mode: mode_t) -> c_int {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a buffer of the right type.
    if unsafe { real::fstat(fd, &mut st) } != 0 {
        return -1;
    }
    let e = crate::sys::errno();
    // SAFETY: the caller's descriptor.
    let r = unsafe { real::fchmod(fd, facet::safe_mode(st.st_mode & libc::S_IFMT, mode)) };
    chmodded(r, e, &st, mode)
}

/// `mknod` on a host path: a device is an empty regular file with its type and number
/// recorded; anything else is made as it is.
pub unsafe fn mknodat(dirfd: c_int, path: CStrP, mode: mode_t, dev: libc::dev_t) -> c_int {
    let kind = mode & libc::S_IFMT;
    if kind != libc::S_IFCHR && kind != libc::S_IFBLK {
        // SAFETY: the caller's arguments.
        return unsafe { real::mknodat(dirfd, path, mode, dev) };
    }
    // SAFETY: the caller's path; the umask applies to the mode as the kernel's mknod would.
    let fd = unsafe { real::openat(dirfd, path, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC, mode & 0o777) };
    if fd < 0 {
        return -1;
    }
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: our own descriptor, a buffer of the right type.
    let r = unsafe { real::fstat(fd, &mut st) };
    crate::sys::raw::close(fd);
    if r != 0 {
        return -1;
    }
    done(facet::mknod(&st, mode, dev))
}

pub unsafe fn mknod(path: CStrP, mode: mode_t, dev: libc::dev_t) -> c_int {
    unsafe { mknodat(libc::AT_FDCWD, path, mode, dev) }
}

pub unsafe fn __xmknod(_ver: c_int, path: CStrP, mode: mode_t, dev: *mut libc::dev_t) -> c_int {
    // SAFETY: glibc's contract: `dev` points at the device number.
    unsafe { mknodat(libc::AT_FDCWD, path, mode, *dev) }
}

pub unsafe fn __xmknodat(_ver: c_int, dirfd: c_int, path: CStrP, mode: mode_t, dev: *mut libc::dev_t) -> c_int {
    // SAFETY: as above.
    unsafe { mknodat(dirfd, path, mode, *dev) }
}

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
        return super::fail(crate::errno::Errno::EFAULT);
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
        return super::fail(crate::errno::Errno::ERANGE);
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
                return super::fail(crate::errno::Errno::ERANGE);
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
            Err(e) => super::fail(e),
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

thread_local! {
    /// The directory stream this thread last read under a fake root, its descriptor and the
    /// device it is on (so a listing costs one `fstat`, not one per entry).
    static LAST_DIR: std::cell::Cell<(usize, c_int, u64)> = const { std::cell::Cell::new((0, -1, 0)) };
}

/// A directory entry on its way back: a recorded device's type instead of the regular file
/// that stands for it on disk (`find -type c` finds it).
///
/// # Safety
/// `dir` is an open stream, `e` NULL or the entry it just returned.
pub unsafe fn entry_out(dir: *mut DIR, e: *mut libc::dirent64) {
    // SAFETY: per the contract.
    if !active() || e.is_null() || unsafe { (*e).d_type } != libc::DT_REG {
        return;
    }
    // SAFETY: an open stream.
    let fd = unsafe { libc::dirfd(dir) };
    let (p, f, mut dev) = LAST_DIR.get();
    if (p, f) != (dir as usize, fd) {
        let Ok(st) = crate::sys::raw::fstat(fd) else { return };
        dev = st.st_dev;
        LAST_DIR.set((dir as usize, fd, dev));
    }
    // SAFETY: per the contract.
    if let Some(t) = facet::device_dtype(dev, unsafe { (*e).d_ino }) {
        // SAFETY: as above.
        unsafe { (*e).d_type = t };
    }
}

/// A stream closed: whatever this thread remembered of it is forgotten (its address and
/// descriptor may be reused).
pub fn dir_closed(dir: *mut DIR) {
    if active() && LAST_DIR.get().0 == dir as usize {
        LAST_DIR.set((0, -1, 0));
    }
}

/// Removes a name (`call`, on the host path `path` from `dirfd`): with the inode's last link,
/// its record is forgotten.
pub fn removing(dirfd: c_int, path: *const c_char, call: impl Fn() -> c_int) -> c_int {
    if !active() {
        return call();
    }
    // SAFETY: the host path the view routed the caller's to.
    let before = unsafe { probe_stat(dirfd, path, libc::AT_SYMLINK_NOFOLLOW) };
    let r = call();
    if let (0, Some(st)) = (r, before) {
        facet::removed(&st);
    }
    r
}

/// A rename (`call`) of `old` over `new` (host paths): the inode `new` named loses a link, and
/// with its last one, its record (unless it is `old`'s own inode, or the names are exchanged).
pub fn replacing(od: c_int, old: *const c_char, nd: c_int, new: *const c_char, flags: c_int, call: impl Fn() -> c_int) -> c_int {
    if !active() || flags & libc::RENAME_EXCHANGE as c_int != 0 {
        return call();
    }
    // SAFETY: the host paths the view routed the caller's to.
    let (src, before) = unsafe { (probe_stat(od, old, libc::AT_SYMLINK_NOFOLLOW), probe_stat(nd, new, libc::AT_SYMLINK_NOFOLLOW)) };
    let r = call();
    if let (0, Some(st), Some(s)) = (r, before, src) {
        if (st.st_dev, st.st_ino) != (s.st_dev, s.st_ino) {
            facet::removed(&st);
        }
    }
    r
}
