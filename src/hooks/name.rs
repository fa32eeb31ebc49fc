//! Names the process sees: `getcwd`, `chdir`, `realpath`. glibc's `realpath` and
//! `get_current_dir_name` walk with internal calls that no hook sees, so they are answered here.

use super::table::real;
use super::types::*;
use super::{bytes, fail, guard, is_hot, Sym};
use crate::errno::{Errno, Res};
use crate::resolver::kernel::Kernel;
use crate::resolver::{self, names, walk, Call, Route};
use crate::runtime::{self, mode, Runtime};
use crate::state::cwd;
use crate::sys::{self, raw, PBuf};

/// Hands `value` to a C caller the way getcwd/realpath do: into `buf` of `size` bytes, or into
/// a fresh `malloc` block when `buf` is NULL (the caller frees it).
unsafe fn answer(value: &[u8], buf: *mut c_char, size: usize, range_err: Errno) -> *mut c_char {
    let need = value.len() + 1;
    let out = if buf.is_null() {
        let cap = if size > 0 { size } else { need };
        if cap < need {
            return fail(range_err);
        }
        // SAFETY: plain allocation, as glibc's own getcwd(NULL) makes; the caller owns it.
        let p = unsafe { libc::malloc(cap) }.cast::<c_char>();
        if p.is_null() {
            return fail(Errno::ENOMEM);
        }
        p
    } else {
        if size < need {
            return fail(range_err);
        }
        buf
    };
    // SAFETY: `out` holds at least `need` bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), out.cast::<u8>(), value.len());
        *out.add(value.len()) = 0;
    }
    out
}

fn current(rt: &Runtime, out: &mut PBuf) -> Res<()> {
    resolver::cwd::checked(&Kernel, rt, out)
}

pub unsafe fn getcwd(buf: *mut c_char, size: size_t) -> *mut c_char {
    if runtime::mode() == mode::PASS || (!buf.is_null() && size == 0) {
        return unsafe { real::getcwd(buf, size) };
    }
    guard(Sym::getcwd, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real::getcwd(buf, size) };
        };
        let mut virt = buf!();
        match current(rt, &mut virt) {
            // SAFETY: the caller's buffer.
            Ok(()) => unsafe { answer(virt.as_bytes(), buf, size, Errno::ERANGE) },
            Err(e) => fail(e),
        }
    })
}

pub unsafe fn get_current_dir_name() -> *mut c_char {
    if runtime::mode() == mode::PASS {
        return unsafe { real::get_current_dir_name() };
    }
    guard(Sym::get_current_dir_name, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real::get_current_dir_name() };
        };
        let mut virt = buf!();
        if let Err(e) = current(rt, &mut virt) {
            return fail(e);
        }
        // As glibc: $PWD if it names the cwd (in the view's terms), else getcwd.
        if let Some(pwd) = sys::getenv(b"PWD\0") {
            let mut host = buf!();
            let named = resolver::route(&Kernel, rt, pwd, &Call::at_cwd(true, Op::Look), &mut host);
            let probe = match named {
                Ok(r) if r.route == Route::Host => Some(host),
                Ok(_) => crate::sys::pool::copy_of(pwd).ok(),
                Err(_) => None,
            };
            let here = crate::sys::pool::copy_of(b".").ok().and_then(|d| raw::fstatat(libc::AT_FDCWD, &d, 0).ok());
            if let (Some(p), Some(h)) = (probe, here) {
                if raw::fstatat(libc::AT_FDCWD, &p, 0).is_ok_and(|s| s.st_dev == h.st_dev && s.st_ino == h.st_ino) {
                    // SAFETY: a fresh block.
                    return unsafe { answer(pwd, std::ptr::null_mut(), 0, Errno::ERANGE) };
                }
            }
        }
        // SAFETY: a fresh block.
        unsafe { answer(virt.as_bytes(), std::ptr::null_mut(), 0, Errno::ERANGE) }
    })
}

pub unsafe fn chdir(path: CStrP) -> c_int {
    // SAFETY: the caller's path.
    if runtime::mode() == mode::PASS || path.is_null() {
        return unsafe { real::chdir(path) };
    }
    // SAFETY: as above.
    let r = unsafe { chdir_routed(path) };
    if crate::trace::on().is_some() {
        // SAFETY: as above.
        unsafe { super::observe::path(Sym::chdir, path, &Call::at_cwd(true, Op::Look), &r) };
    }
    r
}

/// [`chdir`] through the view.
unsafe fn chdir_routed(path: CStrP) -> c_int {
    guard(Sym::chdir, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real::chdir(path) };
        };
        // SAFETY: not NULL.
        let p = unsafe { bytes(path) }.unwrap_or(b"");
        // SAFETY: as above.
        let hot = unsafe { is_hot(libc::AT_FDCWD, path, Op::Look) };
        let mut probe = buf!();
        // From beyond a chroot's root (see `resolver::beyond`): the directory the outer views
        // lead to, and the cwd worked out again from the kernel's.
        if !hot && p.first() != Some(&b'/') && resolver::cwd::beyond_root(&Kernel, rt) {
            return match resolver::beyond::route(&Kernel, rt, p, &Call::at_cwd(true, Op::Look), &mut probe) {
                Ok(Some(_)) => {
                    let r = unsafe { real::chdir(probe.as_cptr()) };
                    let e = sys::errno();
                    cwd::forget();
                    sys::set_errno(e);
                    r
                }
                Ok(None) => fail(Errno::ENOENT),
                Err(e) => fail(e),
            };
        }
        if hot || matches!(resolver::route(&Kernel, rt, p, &Call::at_cwd(true, Op::Look), &mut probe), Ok(r) if r.route == Route::Native) {
            // The name it goes by: the path itself, or from the virtual cwd it starts from (a
            // relative path without `..` under a plain bind stays under it).
            let mut hint = buf!();
            if p.first() == Some(&b'/') {
                let _ = hint.set(p);
            } else if cwd::get(&mut hint, None).is_ok() && (hint.push_byte(b'/').is_err() || hint.push_bytes(p).is_err()) {
                hint.clear();
            }
            cwd::moving();
            let r = unsafe { real::chdir(path) };
            if r == 0 {
                moved(rt, None, hint.as_bytes());
                cwd::moved();
                return r;
            }
            cwd::moved();
            // A symlink on the way may lead into a mount the kernel does not know.
            if !(sys::errno() == libc::ENOENT && rt.has_mounts) {
                return r;
            }
        }
        let mut virt = buf!();
        let mut host = buf!();
        if let Err(e) = walk::canonicalize(&Kernel, rt, p, libc::AT_FDCWD, &mut virt, &mut host) {
            return fail(e);
        }
        // The host path keeps the caller's trailing `/` (the kernel's ENOTDIR for a file); the
        // directory's names are without it.
        let (v, h) = (trimmed(virt.as_bytes()), trimmed(host.as_bytes()));
        let slot = cwd::prepare(v, h);
        // A host path too long for the kernel is entered through a descriptor on its directory.
        let mut target = buf!();
        if let Err(e) = target.set(host.as_bytes()) {
            return fail(e);
        }
        let _short = match super::shorten(rt.proc_is_host, &mut target) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let r = unsafe { real::chdir(target.as_cptr()) };
        let e = sys::errno();
        if r == 0 {
            resolver::cwd::entered(&Kernel, rt, slot, v, h);
        } else if let Some(i) = slot {
            cwd::release(i);
        }
        cwd::moved();
        sys::set_errno(e);
        r
    })
}

/// After a successful chdir: the kernel's new directory, named `virt` in the view (or named
/// from the kernel's path).
/// A directory's path without the trailing `/` or `/.` a caller may have written (`/` stays).
fn trimmed(p: &[u8]) -> &[u8] {
    let mut p = p;
    loop {
        if p.len() > 1 && p.ends_with(b"/") {
            p = &p[..p.len() - 1];
        } else if p.len() > 2 && p.ends_with(b"/.") {
            p = &p[..p.len() - 2];
        } else {
            return p;
        }
    }
}

fn moved(rt: &Runtime, virt: Option<&[u8]>, hint: &[u8]) {
    let e = sys::errno();
    let mut now = buf!();
    if raw::getcwd(&mut now).is_ok() {
        match virt {
            Some(v) => resolver::cwd::publish(rt, v, now.as_bytes()),
            None => {
                let mut v = buf!();
                if resolver::reverse::name(rt, now.as_bytes(), hint, &mut v).is_ok() {
                    resolver::cwd::publish(rt, v.as_bytes(), now.as_bytes());
                } else {
                    cwd::forget();
                }
            }
        }
    } else {
        cwd::forget();
    }
    sys::set_errno(e);
}

pub unsafe fn fchdir(fd: c_int) -> c_int {
    let r = unsafe { real::fchdir(fd) };
    if crate::trace::on().is_some() {
        super::observe::descriptor(Sym::fchdir, crate::trace::Access::Look, fd, r as i64);
    }
    if r == 0 && runtime::mode() != mode::PASS {
        guard(Sym::fchdir, || {
            let Some(rt) = runtime::get() else { return 0 };
            let e = sys::errno();
            let mut virt = buf!();
            let mut now = buf!();
            match (names::fd_link(&Kernel, rt, fd, &mut virt), raw::getcwd(&mut now)) {
                (Ok(true), Ok(())) => resolver::cwd::publish(rt, virt.as_bytes(), now.as_bytes()),
                _ => cwd::forget(),
            }
            sys::set_errno(e);
            0
        });
    }
    r
}

pub unsafe fn realpath(path: CStrP, resolved: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's arguments.
    let r = unsafe { realpath_routed(path, resolved) };
    if crate::trace::on().is_some() {
        // SAFETY: as above.
        unsafe { super::observe::path(Sym::realpath, path, &Call::at_cwd(true, Op::Look), &r) };
    }
    r
}

/// [`realpath`] in the view.
unsafe fn realpath_routed(path: CStrP, resolved: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's path.
    // SAFETY: not NULL (checked first).
    if path.is_null() || (unsafe { is_hot(libc::AT_FDCWD, path, Op::Look) } && (unsafe { *path } as u8 == b'/' || cwd::names_plain())) {
        return unsafe { real::realpath(path, resolved) };
    }
    guard(Sym::realpath, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real::realpath(path, resolved) };
        };
        // SAFETY: not NULL.
        let p = unsafe { bytes(path) }.unwrap_or(b"");
        let mut virt = buf!();
        let mut host = buf!();
        if let Err(e) = walk::canonicalize(&Kernel, rt, p, libc::AT_FDCWD, &mut virt, &mut host) {
            return fail(e);
        }
        // realpath names only what exists.
        if let Err(e) = raw::fstatat(libc::AT_FDCWD, &host, 0) {
            return fail(e);
        }
        if virt.len() >= libc::PATH_MAX as usize {
            return fail(Errno::ENAMETOOLONG);
        }
        let size = if resolved.is_null() { 0 } else { libc::PATH_MAX as usize };
        // SAFETY: the caller's buffer, PATH_MAX bytes by realpath's contract.
        unsafe { answer(virt.as_bytes(), resolved, size, Errno::ENAMETOOLONG) }
    })
}

pub unsafe fn canonicalize_file_name(path: CStrP) -> *mut c_char {
    unsafe { realpath(path, std::ptr::null_mut()) }
}

pub unsafe fn __realpath_chk(path: CStrP, resolved: *mut c_char, resolvedlen: size_t) -> *mut c_char {
    if !resolved.is_null() && resolvedlen < libc::PATH_MAX as usize {
        super::chk_fail();
    }
    unsafe { realpath(path, resolved) }
}

pub unsafe fn __getcwd_chk(buf: *mut c_char, size: size_t, buflen: size_t) -> *mut c_char {
    if size > buflen {
        super::chk_fail();
    }
    unsafe { getcwd(buf, size) }
}

/// The fortified `getwd` (a buffer of known size): a name that does not fit is an overflow.
pub unsafe fn __getwd_chk(buf: *mut c_char, buflen: size_t) -> *mut c_char {
    let r = unsafe { getcwd(buf, buflen) };
    if r.is_null() && sys::errno() == libc::ERANGE {
        super::chk_fail();
    }
    r
}

/// `getwd` assumes a buffer of `PATH_MAX` bytes.
pub unsafe fn getwd(buf: *mut c_char) -> *mut c_char {
    if buf.is_null() {
        return fail(Errno::EINVAL);
    }
    unsafe { getcwd(buf, libc::PATH_MAX as usize) }
}

/// `chroot(2)` in a view: never the kernel's (which needs `CAP_SYS_CHROOT`, and would leave the
/// view's names behind), but a new innermost view whose root is the directory
/// (`runtime::chroot`), for this process and every child. The working directory stays where it
/// is, as the kernel leaves it; its name is worked out again in the new view.
pub unsafe fn chroot(path: CStrP) -> c_int {
    let Some(rt) = runtime::get() else {
        return unsafe { real::chroot(path) };
    };
    // SAFETY: the caller's path.
    let Some(p) = (unsafe { bytes(path) }) else {
        return fail(Errno::EFAULT);
    };
    let r = match chroot_in_view(rt, p) {
        Ok(()) => 0,
        Err(e) => fail(e),
    };
    // SAFETY: as above.
    unsafe { super::observe::path(Sym::chroot, path, &Call::at_cwd(true, Op::Look), &r) };
    r
}

fn chroot_in_view(rt: &Runtime, p: &[u8]) -> Res<()> {
    let (mut virt, mut host) = (crate::sys::pool::take()?, crate::sys::pool::take()?);
    let outer_name = match walk::canonicalize(&Kernel, rt, p, libc::AT_FDCWD, &mut virt, &mut host) {
        Ok(_) => false,
        // A relative path from a working directory beyond the root (a chroot into a
        // subdirectory that did not enter it): the kernel walks from the real directory, and
        // the new root is named in the views outside the chroot's.
        Err(Errno::ENOENT) if p.first() != Some(&b'/') && resolver::cwd::beyond_root(&Kernel, rt) => {
            let call = Call::at_cwd(true, Op::Look);
            let Some(_) = resolver::beyond::route(&Kernel, rt, p, &call, &mut host)? else { return Err(Errno::ENOENT) };
            // Canonical, as the kernel's walk found it, and named in the views outside.
            let fd = raw::openat(libc::AT_FDCWD, &host, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)?;
            let mut link = crate::sys::pool::copy_of(b"/proc/self/fd/")?;
            let mut digits = [0u8; 10];
            link.push_bytes(crate::path::decimal(fd as u32, &mut digits))?;
            let real = crate::resolver::below::readlink_into(&Kernel, libc::AT_FDCWD, &link, &mut host);
            raw::close(fd);
            real?;
            let base = rt.views.len() - rt.chroot_views();
            resolver::reverse::name_in(&rt.views[..base], host.as_bytes(), b"", &mut virt)?;
            true
        }
        Err(e) => return Err(e),
    };
    // The kernel's checks: a directory, searchable.
    let st = raw::fstatat(libc::AT_FDCWD, &host, 0)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    raw::faccessat(libc::AT_FDCWD, &host, libc::X_OK)?;
    let new = runtime::chroot::chroot(rt, virt.as_bytes(), outer_name)?;
    // The cwd's names were the old innermost view's: named anew in the new one (none if it lies
    // outside the new root: getcwd then says ENOENT, as glibc does for the kernel's
    // "(unreachable)").
    cwd::forget_names();
    resolver::cwd::settle(&Kernel, new);
    rename_descriptors(new);
    Ok(())
}

/// The descriptors this process named were named in the old innermost view: each named again
/// in the new one from the kernel's path, or forgotten if the new root does not show it (a
/// relative path from it then goes from beyond the root, as the kernel's does).
fn rename_descriptors(rt: &Runtime) {
    if !sys::owns_memory() {
        return;
    }
    let Ok(mut virt) = crate::sys::pool::take() else { return };
    for fd in 0..crate::state::fds::MAX_FDS as c_int {
        let old = crate::state::fds::flags(fd);
        if old == 0 {
            continue;
        }
        match names::kernel(&Kernel, rt, fd, b"", &mut virt) {
            Ok(()) => {
                let kept = old & (crate::state::fds::DIR | crate::state::fds::OUTSIDE);
                crate::state::fds::record(fd, virt.as_bytes(), resolver::fd_flags_for(rt, virt.as_bytes()) | kept | crate::state::fds::NAMED);
            }
            Err(_) => {
                crate::state::fds::forget(fd);
            }
        }
    }
}
