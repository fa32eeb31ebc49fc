//! The rest of the surface that names paths: `dlopen`, AF_UNIX socket addresses, `mount`,
//! POSIX shared memory. (inotify, fanotify, file handles and umount are plain rows of the table.)

use super::table::real;
use super::types::*;
use super::{bytes, fail, guard, Sym};
use crate::errno::Errno;
use crate::resolver::kernel::Kernel;
use crate::resolver::{self, Call, Route};
use crate::runtime::{self, mode};
use crate::state::sockets;
use crate::sys::{self, PBuf};
use libc::{sockaddr, sockaddr_un, socklen_t};

/// `dlopen` of a path (a name without `/` is a library search, which the loader does alone).
pub unsafe fn dlopen(path: CStrP, flags: c_int) -> *mut libc::c_void {
    let has_slash = unsafe { bytes(path) }.is_some_and(|p| p.contains(&b'/'));
    if !has_slash || runtime::mode() == mode::PASS {
        return unsafe { real::dlopen(path, flags) };
    }
    unsafe { super::plain(Sym::dlopen, path, Call::at_cwd(true, Op::Read), |p| real::dlopen(p, flags)) }
}

pub unsafe fn dlmopen(lmid: libc::Lmid_t, path: CStrP, flags: c_int) -> *mut libc::c_void {
    let has_slash = unsafe { bytes(path) }.is_some_and(|p| p.contains(&b'/'));
    if !has_slash || runtime::mode() == mode::PASS {
        return unsafe { real::dlmopen(lmid, path, flags) };
    }
    unsafe { super::plain(Sym::dlmopen, path, Call::at_cwd(true, Op::Read), |p| real::dlmopen(lmid, p, flags)) }
}

const SUN_PATH: usize = 108;

/// The virtual path in an AF_UNIX address (none for other families and abstract names).
unsafe fn unix_path<'a>(addr: *const sockaddr, len: socklen_t) -> Option<&'a [u8]> {
    if addr.is_null() || (len as usize) <= std::mem::size_of::<libc::sa_family_t>() {
        return None;
    }
    // SAFETY: addr holds len bytes, at least the family.
    let un = unsafe { &*(addr as *const sockaddr_un) };
    if un.sun_family as c_int != libc::AF_UNIX {
        return None;
    }
    let max = (len as usize - 2).min(SUN_PATH);
    // SAFETY: sun_path has max readable bytes.
    let raw = unsafe { std::slice::from_raw_parts(un.sun_path.as_ptr().cast::<u8>(), max) };
    let end = memchr::memchr(0, raw).unwrap_or(max);
    (end > 0).then(|| &raw[..end])
}

/// Routes the path of an AF_UNIX address; `Some(len)` with `out` filled if it changed.
unsafe fn unix_route(addr: *const sockaddr, len: socklen_t, follow: bool, out: &mut sockaddr_un) -> Result<Option<socklen_t>, Errno> {
    let Some(p) = (unsafe { unix_path(addr, len) }) else {
        return Ok(None);
    };
    let Some(rt) = runtime::get() else {
        return Ok(None);
    };
    let mut host = crate::sys::pool::take()?;
    // Binding makes a name; connecting only looks one up.
    let op = if follow { Op::Look } else { Op::Create };
    let routed = resolver::route(&Kernel, rt, p, &Call::at_cwd(follow, op), &mut host)?;
    if routed.read_only {
        return Err(Errno::EROFS);
    }
    match routed.route {
        Route::Native => Ok(None),
        Route::Host => {
            let mut h = host.as_bytes();
            // A relative name stays relative where the whole host path would not fit: from the
            // kernel's working directory, when the name lies below it (as the kernel would
            // take the caller's name).
            let mut cwd = crate::sys::pool::take()?;
            if h.len() >= SUN_PATH && p.first() != Some(&b'/') && crate::sys::raw::getcwd(&mut cwd).is_ok() {
                if let Some(rest) = h.strip_prefix(cwd.as_bytes()).and_then(|r| r.strip_prefix(b"/")) {
                    h = rest;
                }
            }
            if h.len() >= SUN_PATH {
                return Err(Errno::ENAMETOOLONG);
            }
            out.sun_family = libc::AF_UNIX as libc::sa_family_t;
            for (d, &s) in out.sun_path.iter_mut().zip(h) {
                *d = s as c_char;
            }
            out.sun_path[h.len()] = 0;
            Ok(Some((2 + h.len() + 1) as socklen_t))
        }
    }
}

/// Writes `name` as an AF_UNIX address into the caller's buffer of `cap` bytes, truncated as the
/// kernel does, and the full length into `*len`.
unsafe fn answer_unix(name: &[u8], addr: *mut sockaddr, len: *mut socklen_t, cap: socklen_t) {
    if addr.is_null() || len.is_null() {
        return;
    }
    // SAFETY: the caller's buffer holds `cap` bytes.
    unsafe {
        let mut un: sockaddr_un = std::mem::zeroed();
        un.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let n = name.len().min(SUN_PATH - 1);
        for (d, &s) in un.sun_path.iter_mut().zip(&name[..n]) {
            *d = s as c_char;
        }
        let full = 2 + n + 1;
        std::ptr::copy_nonoverlapping((&un as *const sockaddr_un).cast::<u8>(), addr.cast::<u8>(), full.min(cap as usize));
        *len = full as socklen_t;
    }
}

/// The caller's buffer size, before the kernel overwrites `*len` with the address's size.
unsafe fn capacity(len: *const socklen_t) -> socklen_t {
    if len.is_null() {
        0
    } else {
        unsafe { *len }
    }
}

pub unsafe fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    // SAFETY: zeroed sockaddr_un is valid.
    let mut un: sockaddr_un = unsafe { std::mem::zeroed() };
    let r = match unsafe { unix_route(addr, len, false, &mut un) } {
        Err(e) => return fail(e),
        Ok(None) => unsafe { real::bind(fd, addr, len) },
        Ok(Some(l)) => unsafe { real::bind(fd, (&un as *const sockaddr_un).cast(), l) },
    };
    if r == 0 {
        if let Some(p) = unsafe { unix_path(addr, len) } {
            sockets::LOCAL.set(fd, p);
        }
    }
    r
}

pub unsafe fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    let mut un: sockaddr_un = unsafe { std::mem::zeroed() };
    let r = match unsafe { unix_route(addr, len, true, &mut un) } {
        Err(e) => return fail(e),
        Ok(None) => unsafe { real::connect(fd, addr, len) },
        Ok(Some(l)) => unsafe { real::connect(fd, (&un as *const sockaddr_un).cast(), l) },
    };
    if r == 0 || sys::errno() == libc::EINPROGRESS {
        let e = sys::errno();
        match unsafe { unix_path(addr, len) } {
            Some(p) => sockets::PEER.set(fd, p),
            None => sockets::PEER.clear(fd),
        }
        sys::set_errno(e);
    }
    r
}

/// Whether the address the kernel returned is an AF_UNIX one with a path.
unsafe fn named_unix<'a>(addr: *const sockaddr, len: *const socklen_t, cap: socklen_t) -> Option<&'a [u8]> {
    if len.is_null() {
        return None;
    }
    unsafe { unix_path(addr, (*len).min(cap)) }
}

/// The view's name for an AF_UNIX path the kernel reported (a host path), `hint` being a name
/// this process used for the same socket.
fn view_name(kernel: &[u8], hint: &[u8], out: &mut PBuf) -> bool {
    let Some(rt) = runtime::get() else {
        return false;
    };
    if kernel.first() != Some(&b'/') {
        return false;
    }
    // A socket this process bound is named as it was bound.
    let Ok(mut bound) = crate::sys::pool::take() else {
        return false;
    };
    let Ok(mut host) = crate::sys::pool::take() else {
        return false;
    };
    if sockets::LOCAL.find(
        |name| {
            matches!(resolver::route(&Kernel, rt, name, &Call::at_cwd(false, Op::Look), &mut host), Ok(r) if r.route == Route::Host)
                && host.as_bytes() == kernel
        },
        &mut bound,
    ) {
        return out.set(bound.as_bytes()).is_ok();
    }
    let Ok(mut abs_hint) = crate::sys::pool::take() else {
        return false;
    };
    let hint_ok = !hint.is_empty() && resolver::virtual_path(&Kernel, rt, hint, libc::AT_FDCWD, &mut abs_hint).is_ok();
    resolver::reverse::name(rt, kernel, if hint_ok { abs_hint.as_bytes() } else { b"" }, out).is_ok() && out.as_bytes() != kernel
}

/// A bound socket's name is what it was bound as (the kernel reports the host path it got).
pub unsafe fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let cap = unsafe { capacity(len) };
    let r = unsafe { real::getsockname(fd, addr, len) };
    if r == 0 && unsafe { named_unix(addr, len, cap) }.is_some() {
        let mut name = buf!();
        if sockets::LOCAL.get(fd, &mut name) {
            unsafe { answer_unix(name.as_bytes(), addr, len, cap) };
        }
    }
    r
}

/// A peer's name is the server's bound name, which the kernel reports as a host path: named in
/// the view (the path this socket connected to says which mount, where several show it).
pub unsafe fn getpeername(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let cap = unsafe { capacity(len) };
    let r = unsafe { real::getpeername(fd, addr, len) };
    if r == 0 {
        if let Some(kernel) = unsafe { named_unix(addr, len, cap) } {
            let mut hint = buf!();
            sockets::PEER.get(fd, &mut hint);
            let mut virt = buf!();
            if view_name(kernel, hint.as_bytes(), &mut virt) {
                unsafe { answer_unix(virt.as_bytes(), addr, len, cap) };
            }
        }
    }
    r
}

/// An accepted connection is named as the listening socket; the client's address (a host path,
/// if it bound one) is named in the view.
unsafe fn accepted(fd: c_int, c: c_int, addr: *mut sockaddr, len: *mut socklen_t, cap: socklen_t) -> c_int {
    if c >= 0 {
        let e = sys::errno();
        let mut name = buf!();
        if sockets::LOCAL.get(fd, &mut name) {
            sockets::LOCAL.set(c, name.as_bytes());
        } else {
            sockets::LOCAL.clear(c);
        }
        sockets::PEER.clear(c);
        if let Some(kernel) = unsafe { named_unix(addr, len, cap) } {
            let mut virt = buf!();
            if view_name(kernel, b"", &mut virt) {
                unsafe { answer_unix(virt.as_bytes(), addr, len, cap) };
            }
        }
        sys::set_errno(e);
    }
    c
}

pub unsafe fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let cap = unsafe { capacity(len) };
    let c = unsafe { real::accept(fd, addr, len) };
    unsafe { accepted(fd, c, addr, len, cap) }
}

pub unsafe fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int {
    let cap = unsafe { capacity(len) };
    let c = unsafe { real::accept4(fd, addr, len, flags) };
    unsafe { accepted(fd, c, addr, len, cap) }
}

pub unsafe fn mount(src: CStrP, target: CStrP, fstype: CStrP, flags: libc::c_ulong, data: *const libc::c_void) -> c_int {
    if runtime::mode() == mode::PASS {
        return unsafe { real::mount(src, target, fstype, flags, data) };
    }
    guard(Sym::mount, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real::mount(src, target, fstype, flags, data) };
        };
        let mut h = buf!();
        // A bind mount's source is a path too.
        let s = if flags & libc::MS_BIND != 0 {
            match unsafe { super::route(rt, src, &Call::at_cwd(true, Op::Look), &mut h) } {
                Ok(r) => r.ptr,
                Err(e) => return fail(e),
            }
        } else {
            src
        };
        unsafe { super::with_path(target, Call::at_cwd(true, Op::Look), |t| real::mount(s, t, fstype, flags, data)) }
    })
}

/// The file behind a POSIX shared-memory name, `/dev/shm/NAME`, in the view.
fn shm_path(name: &[u8], out: &mut PBuf) -> Result<bool, Errno> {
    let Some(rt) = runtime::get() else {
        return Ok(false);
    };
    let name = name.strip_prefix(b"/").unwrap_or(name);
    if name.is_empty() || name.contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    let mut virt = crate::sys::pool::copy_of(b"/dev/shm/")?;
    virt.push_bytes(name)?;
    let routed = resolver::route(&Kernel, rt, virt.as_bytes(), &Call::at_cwd(false, Op::Open(libc::O_RDWR | libc::O_CREAT)), out)?;
    if routed.read_only {
        return Err(Errno::EROFS);
    }
    Ok(routed.route == Route::Host)
}

pub unsafe fn shm_open(name: CStrP, flags: c_int, mode: mode_t) -> c_int {
    let Some(n) = (unsafe { bytes(name) }) else {
        return unsafe { real::shm_open(name, flags, mode) };
    };
    let mut host = buf!();
    match shm_path(n, &mut host) {
        Ok(true) => unsafe { real::open(host.as_cptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC, mode) },
        Err(e) => fail(e),
        Ok(false) => unsafe { real::shm_open(name, flags, mode) },
    }
}

pub unsafe fn shm_unlink(name: CStrP) -> c_int {
    let Some(n) = (unsafe { bytes(name) }) else {
        return unsafe { real::shm_unlink(name) };
    };
    let mut host = buf!();
    match shm_path(n, &mut host) {
        Ok(true) => unsafe { real::unlink(host.as_cptr()) },
        Err(e) => fail(e),
        Ok(false) => unsafe { real::shm_unlink(name) },
    }
}

/// `_exit`: the process ends without `exit`'s handlers, so the library's destructor does not
/// run: what the trace buffered is written here first.
pub unsafe fn _exit(status: c_int) {
    crate::trace::flush();
    unsafe { real::_exit(status) }
}

#[allow(non_snake_case)]
pub unsafe fn _Exit(status: c_int) {
    crate::trace::flush();
    unsafe { real::_Exit(status) }
}

/// The descriptor `lckpwdf` holds its lock on (-1: none).
static PWD_LOCK: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// `lckpwdf`: glibc's opens `/etc/.pwd.lock` with an internal call, which no view sees (under a
/// root it would lock the host's file, and an unprivileged user may not create it there, so
/// `pwconv`, `useradd` and `passwd`'s maintainer script fail). Here the file is opened through
/// the view, and locked as glibc does: a write lock, waited for up to 15 seconds.
pub unsafe fn lckpwdf() -> c_int {
    use std::sync::atomic::Ordering;
    if runtime::get().is_none() {
        return unsafe { real::lckpwdf() };
    }
    if PWD_LOCK.load(Ordering::Acquire) >= 0 {
        // Already held by this process (glibc's answer too).
        return -1;
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated literal; `open` is this library's own, through the view.
    let fd = unsafe { super::open::open(c"/etc/.pwd.lock".as_ptr(), flags, 0o600) };
    if fd < 0 {
        return -1;
    }
    let lock = libc::flock { l_type: libc::F_WRLCK as i16, l_whence: libc::SEEK_SET as i16, l_start: 0, l_len: 0, l_pid: 0 };
    for _ in 0..1500 {
        // SAFETY: a valid descriptor and flock.
        if unsafe { real::fcntl(fd, libc::F_SETLK, &lock as *const libc::flock as c_long) } == 0 {
            PWD_LOCK.store(fd, Ordering::Release);
            return 0;
        }
        let e = sys::errno();
        if e != libc::EAGAIN && e != libc::EACCES && e != libc::EINTR {
            break;
        }
        let ten_ms = libc::timespec { tv_sec: 0, tv_nsec: 10_000_000 };
        // SAFETY: a valid timespec.
        unsafe { libc::nanosleep(&ten_ms, std::ptr::null_mut()) };
    }
    let e = sys::errno();
    crate::state::fds::forget(fd);
    // SAFETY: the descriptor opened above.
    unsafe { real::close(fd) };
    sys::set_errno(e);
    -1
}

/// `ulckpwdf`: the lock [`lckpwdf`] took, let go.
pub unsafe fn ulckpwdf() -> c_int {
    if runtime::get().is_none() {
        return unsafe { real::ulckpwdf() };
    }
    let fd = PWD_LOCK.swap(-1, std::sync::atomic::Ordering::AcqRel);
    if fd < 0 {
        return -1;
    }
    crate::state::fds::forget(fd);
    // SAFETY: the descriptor lckpwdf opened.
    unsafe { real::close(fd) }
}
