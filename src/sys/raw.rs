//! System calls made directly, for the library's own needs: no libc symbol in between (which
//! inside this object could be its own hook), no errno (the result is `-errno`), usable from a
//! signal handler and, later, from below libc in complete mode.
#![allow(unsafe_code)]

use crate::errno::{Errno, Res};
use crate::sys::PBuf;
use libc::{c_int, c_long};

/// A raw system call with up to four arguments; the kernel's return value.
///
/// # Safety
/// The arguments are what the kernel expects for `nr` (pointers valid for what it reads/writes).
#[inline(always)]
pub unsafe fn syscall4(nr: c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    // In complete mode a `syscall` instruction here would be trapped: libc's is exempt.
    if super::sud::armed() {
        return super::sud::exempt(nr, a, b, c, d, 0, 0);
    }
    let ret: isize;
    // SAFETY: the x86-64 Linux system call convention; rcx and r11 are clobbered by `syscall`.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A raw system call with up to six arguments.
///
/// # Safety
/// As [`syscall4`].
#[inline(always)]
pub unsafe fn syscall6(nr: c_long, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    if super::sud::armed() {
        return super::sud::exempt(nr, a, b, c, d, e, f);
    }
    let ret: isize;
    // SAFETY: as in `syscall4`, with r8 and r9 for the fifth and sixth arguments.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            in("r8") e,
            in("r9") f,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

pub(crate) fn check(r: isize) -> Res<usize> {
    if (-4095..0).contains(&r) {
        Err(Errno(-r as c_int))
    } else {
        Ok(r as usize)
    }
}

pub fn write(fd: c_int, bytes: &[u8]) -> isize {
    // SAFETY: bytes is valid for its length.
    unsafe { syscall4(libc::SYS_write, fd as usize, bytes.as_ptr() as usize, bytes.len(), 0) }
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall4(libc::SYS_getpid, 0, 0, 0, 0) as i32 }
}

pub fn gettid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall4(libc::SYS_gettid, 0, 0, 0, 0) as i32 }
}

/// `readlinkat(dirfd, path)` into `out`: the length; `ENAMETOOLONG` if it may not all fit.
pub fn readlinkat(dirfd: c_int, path: &PBuf, out: &mut [u8]) -> Res<usize> {
    // SAFETY: path is NUL-terminated; out is valid for its length.
    let n = check(unsafe { syscall4(libc::SYS_readlinkat, dirfd as usize, path.as_cptr() as usize, out.as_mut_ptr() as usize, out.len()) })?;
    if n >= out.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(n)
}

/// `newfstatat(dirfd, path, st, flags)`; an empty path is `dirfd` itself.
pub fn fstatat(dirfd: c_int, path: &PBuf, flags: c_int) -> Res<libc::stat> {
    let flags = if path.is_empty() { flags | libc::AT_EMPTY_PATH } else { flags };
    // SAFETY: a zeroed stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: path is NUL-terminated; st is a stat.
    check(unsafe { syscall4(libc::SYS_newfstatat, dirfd as usize, path.as_cptr() as usize, &mut st as *mut libc::stat as usize, flags as usize) })?;
    Ok(st)
}

pub fn fstat(fd: c_int) -> Res<libc::stat> {
    // SAFETY: as in fstatat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a stat.
    check(unsafe { syscall4(libc::SYS_fstat, fd as usize, &mut st as *mut libc::stat as usize, 0, 0) })?;
    Ok(st)
}

/// The kernel's working directory (its length, NUL excluded).
pub fn getcwd(out: &mut PBuf) -> Res<()> {
    let cap = out.capacity();
    // SAFETY: out has room for cap bytes.
    let n = check(unsafe { syscall4(libc::SYS_getcwd, out.as_mut_ptr() as usize, cap, 0, 0) })?;
    // The kernel's length counts the NUL; an unreachable cwd reads "(unreachable)...".
    out.set_len(n.saturating_sub(1));
    if out.as_bytes().first() != Some(&b'/') {
        return Err(Errno::ENOENT);
    }
    Ok(())
}

pub fn openat(dirfd: c_int, path: &PBuf, flags: c_int) -> Res<c_int> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_openat, dirfd as usize, path.as_cptr() as usize, flags as usize, 0) }).map(|fd| fd as c_int)
}

pub fn read(fd: c_int, out: &mut [u8]) -> Res<usize> {
    // SAFETY: out is valid for its length.
    check(unsafe { syscall4(libc::SYS_read, fd as usize, out.as_mut_ptr() as usize, out.len(), 0) })
}

pub fn close(fd: c_int) {
    // SAFETY: closing a descriptor this library opened.
    unsafe { syscall4(libc::SYS_close, fd as usize, 0, 0, 0) };
}

pub fn fcntl(fd: c_int, cmd: c_int) -> Res<c_int> {
    // SAFETY: commands without a pointer argument.
    check(unsafe { syscall4(libc::SYS_fcntl, fd as usize, cmd as usize, 0, 0) }).map(|v| v as c_int)
}

/// `getdents64` into `buf`: the bytes filled (0 at the end).
pub fn getdents64(fd: c_int, buf: &mut [u8]) -> Res<usize> {
    // SAFETY: buf is valid for its length.
    check(unsafe { syscall4(libc::SYS_getdents64, fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0) })
}

/// `getdents64` into the caller's buffer: the kernel's result as it is (`-errno`).
pub fn getdents64_raw(fd: c_int, buf: *mut u8, len: usize) -> isize {
    // SAFETY: the kernel checks the buffer (EFAULT), as for the program's own call.
    unsafe { syscall4(libc::SYS_getdents64, fd as usize, buf as usize, len, 0) }
}

/// `lseek(fd, off, whence)`: the new offset.
pub fn lseek(fd: c_int, off: i64, whence: c_int) -> Res<usize> {
    // SAFETY: no pointer argument.
    check(unsafe { syscall4(libc::SYS_lseek, fd as usize, off as usize, whence as usize, 0) })
}

/// `faccessat(dirfd, path, mode)` as the kernel answers it.
pub fn faccessat(dirfd: c_int, path: &PBuf, mode: c_int) -> Res<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_faccessat, dirfd as usize, path.as_cptr() as usize, mode as usize, 0) }).map(|_| ())
}

/// `memfd_create(name, MFD_CLOEXEC?)`: an anonymous file in memory.
pub fn memfd_create(name: &std::ffi::CStr, cloexec: bool) -> Res<c_int> {
    let flags = if cloexec { libc::MFD_CLOEXEC } else { 0 };
    // SAFETY: name is NUL-terminated.
    check(unsafe { syscall4(libc::SYS_memfd_create, name.as_ptr() as usize, flags as usize, 0, 0) }).map(|fd| fd as c_int)
}

/// Writes all of `bytes` to `fd`.
pub fn write_all(fd: c_int, mut bytes: &[u8]) -> Res<()> {
    while !bytes.is_empty() {
        let n = check(write(fd, bytes))?;
        bytes = &bytes[n..];
    }
    Ok(())
}

/// `lseek(fd, 0, SEEK_SET)`.
pub fn rewind(fd: c_int) -> Res<()> {
    // SAFETY: no pointer argument.
    check(unsafe { syscall4(libc::SYS_lseek, fd as usize, 0, libc::SEEK_SET as usize, 0) }).map(|_| ())
}

/// Ends the process now (no handlers, no flush): for a process that must not go on.
pub fn exit_group(status: c_int) -> ! {
    loop {
        // SAFETY: exit_group takes a status and does not return.
        unsafe { syscall4(libc::SYS_exit_group, status as usize, 0, 0, 0) };
    }
}
