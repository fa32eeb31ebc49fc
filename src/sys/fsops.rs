//! The file operations the overlay makes on its own account (copy-up, whiteouts, markers):
//! raw system calls on NUL-terminated [`PBuf`] paths, so that none goes back through a hook.
#![allow(unsafe_code)]

use super::raw::{check, syscall4, syscall6};
use crate::errno::Res;
use crate::sys::PBuf;
use libc::{c_int, mode_t};

const CWD: usize = libc::AT_FDCWD as usize;

pub fn lstat(p: &PBuf) -> Res<libc::stat> {
    super::raw::fstatat(libc::AT_FDCWD, p, libc::AT_SYMLINK_NOFOLLOW)
}

pub fn exists(p: &PBuf) -> bool {
    lstat(p).is_ok()
}

pub fn mkdir(p: &PBuf, mode: mode_t) -> Res<()> {
    // SAFETY: p is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_mkdirat, CWD, p.as_cptr() as usize, mode as usize, 0) }).map(|_| ())
}

pub fn unlink(p: &PBuf, flags: c_int) -> Res<()> {
    // SAFETY: p is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_unlinkat, CWD, p.as_cptr() as usize, flags as usize, 0) }).map(|_| ())
}

pub fn rename(from: &PBuf, to: &PBuf) -> Res<()> {
    // SAFETY: both NUL-terminated.
    check(unsafe { syscall4(libc::SYS_renameat, CWD, from.as_cptr() as usize, CWD, to.as_cptr() as usize) }).map(|_| ())
}

pub fn symlink(target: &[u8], at: &PBuf) -> Res<()> {
    let mut t = super::pool::take()?;
    t.set(target)?;
    // SAFETY: both NUL-terminated.
    check(unsafe { syscall4(libc::SYS_symlinkat, t.as_cptr() as usize, CWD, at.as_cptr() as usize, 0) }).map(|_| ())
}

pub fn open(p: &PBuf, flags: c_int, mode: mode_t) -> Res<c_int> {
    // SAFETY: p is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_openat, CWD, p.as_cptr() as usize, (flags | libc::O_CLOEXEC) as usize, mode as usize) }).map(|fd| fd as c_int)
}

pub fn mknod(p: &PBuf, mode: mode_t, dev: libc::dev_t) -> Res<()> {
    // SAFETY: p is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_mknodat, CWD, p.as_cptr() as usize, mode as usize, dev as usize) }).map(|_| ())
}

/// `fchownat(p, uid, gid, AT_SYMLINK_NOFOLLOW)`.
pub fn lchown(p: &PBuf, uid: u32, gid: u32) -> Res<()> {
    // SAFETY: p is NUL-terminated.
    check(unsafe { syscall6(libc::SYS_fchownat, CWD, p.as_cptr() as usize, uid as usize, gid as usize, libc::AT_SYMLINK_NOFOLLOW as usize, 0) })
        .map(|_| ())
}

pub fn fchmod(fd: c_int, mode: mode_t) -> Res<()> {
    // SAFETY: no pointer.
    check(unsafe { syscall4(libc::SYS_fchmod, fd as usize, mode as usize, 0, 0) }).map(|_| ())
}

pub fn chmod(p: &PBuf, mode: mode_t) -> Res<()> {
    // SAFETY: p is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_fchmodat, CWD, p.as_cptr() as usize, mode as usize, 0) }).map(|_| ())
}

/// The access and modification times of `st`, set on `p` (not following a last symlink).
pub fn copy_times(p: &PBuf, st: &libc::stat) -> Res<()> {
    let times =
        [libc::timespec { tv_sec: st.st_atime, tv_nsec: st.st_atime_nsec }, libc::timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec }];
    // SAFETY: p is NUL-terminated; times holds two timespecs.
    check(unsafe { syscall4(libc::SYS_utimensat, CWD, p.as_cptr() as usize, times.as_ptr() as usize, libc::AT_SYMLINK_NOFOLLOW as usize) })
        .map(|_| ())
}

/// Copies what remains of `from` into `to` (kernel to kernel, no buffer of ours).
pub fn copy_data(from: c_int, to: c_int) -> Res<()> {
    loop {
        // SAFETY: no pointer (a NULL offset: the descriptors' own).
        let n = check(unsafe { syscall6(libc::SYS_copy_file_range, from as usize, 0, to as usize, 0, 1 << 30, 0) });
        match n {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            // Across file systems on an old kernel, or a file system without it: sendfile.
            Err(crate::errno::Errno(libc::EXDEV | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) => loop {
                // SAFETY: no pointer.
                let n = check(unsafe { syscall4(libc::SYS_sendfile, to as usize, from as usize, 0, 1 << 30) })?;
                if n == 0 {
                    return Ok(());
                }
            },
            Err(e) => return Err(e),
        }
    }
}

pub fn fsync(fd: c_int) -> Res<()> {
    // SAFETY: no pointer.
    check(unsafe { syscall4(libc::SYS_fsync, fd as usize, 0, 0, 0) }).map(|_| ())
}

/// The extended attributes of `from` copied to `to` (both paths, not following symlinks); the
/// ones this process may not read or set are left (as the kernel's overlay leaves `trusted.*`
/// to a privileged mounter).
pub fn copy_xattrs(from: &PBuf, to: &PBuf) {
    // Buffers from the pool: the call path's stack budget has no room for two pages.
    let (Ok(mut nb), Ok(mut vb)) = (super::pool::take(), super::pool::take()) else { return };
    let (names, value) = (nb.all_mut(), vb.all_mut());
    // SAFETY: from is NUL-terminated, names valid for its length.
    let Ok(n) = check(unsafe { syscall4(libc::SYS_llistxattr, from.as_cptr() as usize, names.as_mut_ptr() as usize, names.len(), 0) }) else {
        return;
    };
    for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let mut cname = [0u8; 256];
        if name.len() >= cname.len() {
            continue;
        }
        cname[..name.len()].copy_from_slice(name);
        // SAFETY: NUL-terminated name and path; value valid for its length.
        let Ok(len) = check(unsafe {
            syscall4(libc::SYS_lgetxattr, from.as_cptr() as usize, cname.as_ptr() as usize, value.as_mut_ptr() as usize, value.len())
        }) else {
            continue;
        };
        // SAFETY: as above.
        let _ = unsafe { syscall6(libc::SYS_lsetxattr, to.as_cptr() as usize, cname.as_ptr() as usize, value.as_ptr() as usize, len, 0, 0) };
    }
}

/// Whether resolving `p` meets a symlink (`openat2` with `RESOLVE_NO_SYMLINKS`; the last
/// component counts only when `follow`). An error other than the link's `ELOOP` (the path does
/// not exist) says no: the call will say it.
pub fn meets_link(p: &PBuf, follow: bool) -> bool {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    let how = OpenHow { flags: (libc::O_PATH | nofollow | libc::O_CLOEXEC) as u64, mode: 0, resolve: RESOLVE_NO_SYMLINKS };
    // SAFETY: p is NUL-terminated; how is a valid open_how of its size.
    let r = unsafe { syscall4(libc::SYS_openat2, CWD, p.as_cptr() as usize, &how as *const OpenHow as usize, std::mem::size_of::<OpenHow>()) };
    match check(r) {
        Ok(fd) => {
            super::raw::close(fd as c_int);
            false
        }
        Err(e) => e == crate::errno::Errno::ELOOP,
    }
}
