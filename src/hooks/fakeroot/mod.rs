//! The fake root's calls at the C edge (`views::fakeroot` decides): stat results adjusted on
//! their way back, and chown, chmod and mknod on the host path the view routed them to
//! (the generated shells call these instead of libc's when a fake root is active, after the
//! view's own checks), and the record forgotten with an inode's last link.

use super::table::real;
use super::types::*;
use crate::views::fakeroot::{self as facet, StatFields};

pub use facet::{active, maybe};
pub use xattr::{
    fgetxattr, flistxattr, fremovexattr, fsetxattr, getxattr, lgetxattr, listxattr, llistxattr, lremovexattr, lsetxattr, removexattr, setxattr,
};

mod xattr;

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
pub(super) unsafe fn probe_stat(dirfd: c_int, path: CStrP, flags: c_int) -> Option<libc::stat> {
    let e = crate::sys::errno();
    // SAFETY: per the caller's contract.
    let r = unsafe { real_stat(dirfd, path, flags) }.ok();
    crate::sys::set_errno(e);
    r
}

/// The real file's fields at `path` from `dirfd` (`flags`: `AT_SYMLINK_NOFOLLOW`,
/// `AT_EMPTY_PATH`), or -1 with errno set.
pub(super) unsafe fn real_stat(dirfd: c_int, path: CStrP, flags: c_int) -> Result<libc::stat, c_int> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the caller's path; a buffer of the right type.
    match unsafe { real::fstatat(dirfd, path, &mut st, flags & (libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)) } {
        0 => Ok(st),
        r => Err(r),
    }
}

pub(super) use super::done;

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
    // The file changed may be another inode than the one looked at: an overlay copies a lower
    // file up before its mode changes. The record goes to the one changed.
    // SAFETY: the caller's path.
    let st = if r == 0 { unsafe { real_stat(dirfd, path, flags) }.unwrap_or(st) } else { st };
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
