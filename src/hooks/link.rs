//! Reading links. A link's contents are never translated: `readlink` returns what is stored.
//! The links the view itself answers are `/proc/…/cwd`, `/proc/…/exe` and `/proc/…/fd/N` (and `/dev/fd/N`): their kernel text is a host path, named here in the view
//! (this process's from what it knows of itself, another's by the mounts).

use super::table::real;
use super::types::*;
use super::{bytes, fail, guard, is_hot, Sym};
use crate::errno::Res;
use crate::path::normalize;
use crate::resolver::kernel::Kernel;
use crate::resolver::{magic, names, Call};
use crate::runtime::{self, Runtime};
use crate::sys::{raw, PBuf};

/// If `path` is one of this process's own links that name something in the view, its text in
/// the view into `out`.
fn own_link(rt: &Runtime, path: &[u8], out: &mut PBuf) -> Res<bool> {
    if !rt.proc_is_host || path.first() != Some(&b'/') {
        return Ok(false);
    }
    let mut p = crate::sys::pool::copy_of(path)?;
    normalize(&mut p);
    magic::proc_dotdots(&mut p)?;
    if p.as_bytes() == b"/proc/self/exe" || p.as_bytes().strip_prefix(b"/proc/").is_some_and(|r| r.ends_with(b"/exe") && is_own(&r[..r.len() - 4])) {
        return Ok(names::exe(&Kernel, rt, out));
    }
    match magic::own_link(p.as_bytes(), raw::getpid()) {
        Some((true, fd)) => names::fd_link(&Kernel, rt, fd, out),
        Some((false, _)) => {
            // The kernel's working directory, named in the view.
            crate::resolver::cwd::checked(&Kernel, rt, out)?;
            Ok(true)
        }
        None => other_process_link(rt, &p, out),
    }
}

/// Another process's `/proc/PID/{exe,cwd,fd/N}`: the kernel's text is a host path, named
/// in the view (as a process of the same view names it; one started through a root's own
/// loader shows that loader, in the view's terms).
fn other_process_link(rt: &Runtime, p: &PBuf, out: &mut PBuf) -> Res<bool> {
    let Some(rest) = p.as_bytes().strip_prefix(b"/proc/") else { return Ok(false) };
    let Some(slash) = rest.iter().position(|&b| b == b'/') else { return Ok(false) };
    let (who, what) = rest.split_at(slash);
    let link = matches!(what, b"/exe" | b"/cwd") || what.strip_prefix(b"/fd/").is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit));
    if who.is_empty() || !who.iter().all(u8::is_ascii_digit) || !link {
        return Ok(false);
    }
    let mut text = crate::sys::pool::take()?;
    text.fill_with(|buf| raw::readlinkat(libc::AT_FDCWD, p, buf))?;
    // Pipes, sockets and the like ("pipe:[…]") are no paths.
    if text.as_bytes().first() != Some(&b'/') {
        return Ok(false);
    }
    crate::resolver::reverse::name(rt, text.as_bytes(), b"", out)?;
    // Nowhere in the view (a process outside it): the kernel's text, as a chroot shows a path
    // it cannot reach.
    Ok(!out.is_empty())
}

fn is_own(who: &[u8]) -> bool {
    let mut digits = [0u8; 10];
    who == b"self" || who == b"thread-self" || who == crate::path::decimal(raw::getpid() as u32, &mut digits)
}

/// Copies a link's text into the caller's buffer the way `readlink` does (truncated, no NUL).
unsafe fn answer(value: &[u8], buf: *mut c_char, size: size_t) -> ssize_t {
    let n = value.len().min(size);
    // SAFETY: the caller's buffer holds `size` bytes.
    unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), buf.cast(), n) };
    n as ssize_t
}

#[inline(always)]
unsafe fn read_link(sym: Sym, dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t, call: impl Fn(*const c_char) -> ssize_t) -> ssize_t {
    let how = Call { dirfd, follow: false, op: Op::Look, empty: false };
    // SAFETY: the caller's path.
    if unsafe { is_hot(dirfd, path, Op::Look) } {
        let r = call(path);
        if r < 0 {
            // SAFETY: as above.
            return unsafe { super::after_hot(sym, path, how, r, &call) };
        }
        return r;
    }
    guard(sym, || {
        // SAFETY: as above.
        let r = unsafe { read_link_routed(path, buf, size, how, &call) };
        // SAFETY: as above.
        unsafe { super::observe::path(sym, path, &how, &r) };
        r
    })
}

/// The routed part of [`read_link`]: a link of this process's own (`/proc/self/…`) answered
/// in the view, anything else through it.
unsafe fn read_link_routed(path: CStrP, buf: *mut c_char, size: size_t, how: Call, call: &dyn Fn(*const c_char) -> ssize_t) -> ssize_t {
    {
        if let (Some(rt), Some(p)) = (runtime::get(), unsafe { bytes(path) }) {
            let mut v = match crate::sys::pool::take() {
                Ok(v) => v,
                Err(e) => return fail(e),
            };
            let answered = match own_link(rt, p, &mut v) {
                Ok(true) if size == 0 => Some(fail(crate::errno::Errno::EINVAL)),
                // SAFETY: the caller's buffer.
                Ok(true) => Some(unsafe { answer(v.as_bytes(), buf, size) }),
                Ok(false) => None,
                Err(e) => Some(fail(e)),
            };
            if let Some(r) = answered {
                return r;
            }
        }
        // SAFETY: as above.
        unsafe { super::with_path(path, how, call) }
    }
}

pub unsafe fn readlink(path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t {
    unsafe { read_link(Sym::readlink, libc::AT_FDCWD, path, buf, size, |p| real::readlink(p, buf, size)) }
}

pub unsafe fn readlinkat(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t {
    unsafe { read_link(Sym::readlinkat, dirfd, path, buf, size, |p| real::readlinkat(dirfd, p, buf, size)) }
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
