//! The rest of the surface that names paths: `dlopen`, AF_UNIX socket addresses, inotify and
//! fanotify, file handles, mount calls, POSIX shared memory.

use super::types::*;
use super::Access;
use super::{bytes, fail, route_ptr, with_path, with_path_at};
use crate::stack::{self, Route};
use crate::sys::PBuf;
use crate::{real, sys};
use libc::{sockaddr, sockaddr_un, socklen_t};

/// `dlopen` of a path (a name without `/` is a library search, which the loader does alone).
pub unsafe fn dlopen(path: CStrP, flags: c_int) -> *mut libc::c_void {
    let has_slash = unsafe { bytes(path) }.is_some_and(|p| p.contains(&b'/'));
    if !has_slash {
        return unsafe { real::dlopen(path, flags) };
    }
    unsafe { with_path(path, true, Access::Look, |p| real::dlopen(p, flags)) }
}

pub unsafe fn dlmopen(lmid: libc::Lmid_t, path: CStrP, flags: c_int) -> *mut libc::c_void {
    let has_slash = unsafe { bytes(path) }.is_some_and(|p| p.contains(&b'/'));
    if !has_slash {
        return unsafe { real::dlmopen(lmid, path, flags) };
    }
    unsafe { with_path(path, true, Access::Look, |p| real::dlmopen(lmid, p, flags)) }
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
unsafe fn unix_route(addr: *const sockaddr, len: socklen_t, follow: bool, out: &mut sockaddr_un) -> Result<Option<socklen_t>, c_int> {
    let Some(p) = (unsafe { unix_path(addr, len) }) else { return Ok(None) };
    let mut host = PBuf::new();
    match stack::route(p, follow, Access::Look, &mut host)? {
        Route::Native => Ok(None),
        Route::Host | Route::Fast => {
            let h = host.as_bytes();
            if h.len() >= SUN_PATH {
                return Err(libc::ENAMETOOLONG);
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
    if len.is_null() { 0 } else { unsafe { *len } }
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
    if kernel.first() != Some(&b'/') || stack::runtime().is_none() {
        return false;
    }
    // A socket this process bound is named as it was bound.
    let mut bound = PBuf::new();
    let mut host = PBuf::new();
    if sockets::LOCAL.find(|name| {
        matches!(stack::route(name, false, crate::views::Access::Look, &mut host), Ok(stack::Route::Host | stack::Route::Fast)) && host.as_bytes() == kernel
    }, &mut bound) {
        return out.set(bound.as_bytes()).is_ok();
    }
    let mut abs_hint = PBuf::new();
    let hint_ok = if hint.first() == Some(&b'/') {
        abs_hint.set(hint).is_ok()
    } else {
        !hint.is_empty() && crate::cwd::absolute(hint, &mut abs_hint).is_ok()
    };
    stack::reverse(kernel, if hint_ok { abs_hint.as_bytes() } else { b"" }, out).is_ok() && out.as_bytes() != kernel
}

/// A bound socket's name is what it was bound as (the kernel reports the host path it got).
pub unsafe fn getsockname(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let cap = unsafe { capacity(len) };
    let r = unsafe { real::getsockname(fd, addr, len) };
    if r == 0 && unsafe { named_unix(addr, len, cap) }.is_some() {
        let mut name = PBuf::new();
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
            let mut hint = PBuf::new();
            sockets::PEER.get(fd, &mut hint);
            let mut virt = PBuf::new();
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
        let mut name = PBuf::new();
        if sockets::LOCAL.get(fd, &mut name) {
            sockets::LOCAL.set(c, name.as_bytes());
        } else {
            sockets::LOCAL.clear(c);
        }
        sockets::PEER.clear(c);
        if let Some(kernel) = unsafe { named_unix(addr, len, cap) } {
            let mut virt = PBuf::new();
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

/// The AF_UNIX names this process gave its sockets: as bound (what `getsockname` answers), and
/// as connected to (the hint for naming the peer). Kept per descriptor, forgotten at close.
pub mod sockets {
    use crate::seqpath::SeqPath;
    use crate::sys::PBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const N: usize = 1024;

    pub struct Names {
        used: AtomicUsize,
        names: [SeqPath; N],
    }

    pub static LOCAL: Names = Names::new();
    pub static PEER: Names = Names::new();

    impl Names {
        const fn new() -> Names {
            Names { used: AtomicUsize::new(0), names: [const { SeqPath::new() }; N] }
        }

        fn slot(&self, fd: libc::c_int) -> Option<&SeqPath> {
            (0..N as libc::c_int).contains(&fd).then(|| &self.names[fd as usize])
        }

        pub fn set(&self, fd: libc::c_int, name: &[u8]) {
            if let Some(s) = self.slot(fd) {
                if s.is_empty() {
                    self.used.fetch_add(1, Ordering::Relaxed);
                }
                s.store(name);
            }
        }

        pub fn clear(&self, fd: libc::c_int) {
            if self.used.load(Ordering::Relaxed) == 0 {
                return;
            }
            if let Some(s) = self.slot(fd).filter(|s| !s.is_empty()) {
                s.store(b"");
                self.used.fetch_sub(1, Ordering::Relaxed);
            }
        }

        /// The first name for which `matches` holds, into `out`.
        pub fn find(&self, mut matches: impl FnMut(&[u8]) -> bool, out: &mut PBuf) -> bool {
            if self.used.load(Ordering::Relaxed) == 0 {
                return false;
            }
            self.names.iter().any(|s| !s.is_empty() && s.load(out).unwrap_or(false) && matches(out.as_bytes()))
        }

        pub fn get(&self, fd: libc::c_int, out: &mut PBuf) -> bool {
            self.used.load(Ordering::Relaxed) != 0 && self.slot(fd).is_some_and(|s| s.load(out).unwrap_or(false))
        }
    }

    /// `fd` is closed.
    #[inline(always)]
    pub fn forget(fd: libc::c_int) {
        LOCAL.clear(fd);
        PEER.clear(fd);
    }

    /// `to` is now a duplicate of `from`.
    pub fn copy(from: libc::c_int, to: libc::c_int) {
        if from == to {
            return;
        }
        let mut name = PBuf::new();
        for table in [&LOCAL, &PEER] {
            if table.get(from, &mut name) {
                table.set(to, name.as_bytes());
            } else {
                table.clear(to);
            }
        }
    }
}

pub unsafe fn inotify_add_watch(fd: c_int, path: CStrP, mask: u32) -> c_int {
    let follow = mask & libc::IN_DONT_FOLLOW == 0;
    unsafe { with_path(path, follow, Access::Look, |p| real::inotify_add_watch(fd, p, mask)) }
}

pub unsafe fn fanotify_mark(fd: c_int, flags: c_uint, mask: u64, dirfd: c_int, path: CStrP) -> c_int {
    let follow = flags & libc::FAN_MARK_DONT_FOLLOW == 0;
    unsafe { with_path_at(dirfd, path, follow, Access::Look, |p| real::fanotify_mark(fd, flags, mask, dirfd, p)) }
}

pub unsafe fn name_to_handle_at(dirfd: c_int, path: CStrP, handle: *mut libc::c_void, mount_id: *mut c_int, flags: c_int) -> c_int {
    let follow = flags & libc::AT_SYMLINK_FOLLOW != 0;
    unsafe { with_path_at(dirfd, path, follow, Access::Look, |p| real::name_to_handle_at(dirfd, p, handle, mount_id, flags)) }
}

pub unsafe fn mount(src: CStrP, target: CStrP, fstype: CStrP, flags: libc::c_ulong, data: *const libc::c_void) -> c_int {
    let mut h = PBuf::new();
    // A bind mount's source is a path too.
    let s = if flags & libc::MS_BIND != 0 {
        match unsafe { route_ptr(src, true, Access::Look, &mut h) } {
            Ok(q) => q,
            Err(e) => return fail(e),
        }
    } else {
        src
    };
    unsafe { with_path(target, true, Access::Look, |t| real::mount(s, t, fstype, flags, data)) }
}

pub unsafe fn umount(target: CStrP) -> c_int {
    unsafe { with_path(target, true, Access::Look, |t| real::umount(t)) }
}

pub unsafe fn umount2(target: CStrP, flags: c_int) -> c_int {
    let follow = flags & libc::UMOUNT_NOFOLLOW == 0;
    unsafe { with_path(target, follow, Access::Look, |t| real::umount2(t, flags)) }
}

/// The file behind a POSIX shared-memory name, `/dev/shm/NAME`, in the view.
fn shm_path(name: &[u8], out: &mut PBuf) -> Result<bool, c_int> {
    let name = name.strip_prefix(b"/").unwrap_or(name);
    if name.is_empty() || name.contains(&b'/') {
        return Err(libc::EINVAL);
    }
    let mut virt = PBuf::from_bytes(b"/dev/shm/")?;
    virt.push_bytes(name)?;
    Ok(matches!(stack::route(virt.as_bytes(), false, Access::Write, out)?, Route::Host | Route::Fast))
}

pub unsafe fn shm_open(name: CStrP, flags: c_int, mode: mode_t) -> c_int {
    let Some(n) = (unsafe { bytes(name) }) else { return unsafe { real::shm_open(name, flags, mode) } };
    let mut host = PBuf::new();
    match shm_path(n, &mut host) {
        Ok(true) => unsafe { real::open(host.as_cptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC, mode) },
        _ => unsafe { real::shm_open(name, flags, mode) },
    }
}

pub unsafe fn shm_unlink(name: CStrP) -> c_int {
    let Some(n) = (unsafe { bytes(name) }) else { return unsafe { real::shm_unlink(name) } };
    let mut host = PBuf::new();
    match shm_path(n, &mut host) {
        Ok(true) => unsafe { real::unlink(host.as_cptr()) },
        _ => unsafe { real::shm_unlink(name) },
    }
}
