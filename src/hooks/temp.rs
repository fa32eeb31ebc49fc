//! Temporary files. glibc fills a template's `XXXXXX` and opens it with internal calls, so the
//! template is routed here: the real function works on the host path (whose last component is
//! the template's own), and the chosen characters are copied back into the caller's template.

use super::table::real;
use super::types::*;
use super::{bytes, fail, guard, is_hot, Sym};
use crate::errno::Errno;
use crate::resolver::kernel::Kernel;
use crate::resolver::{self, Call, Route};
use crate::runtime::{self, mode};
use crate::sys;

/// Runs `call` on the host form of `template` and copies the last `tail` bytes it chose back.
/// `call` returns the result and whether it succeeded.
unsafe fn in_view<R>(template: *mut c_char, tail: usize, call: impl FnOnce(*mut c_char) -> (R, bool)) -> Result<(R, bool), Errno> {
    let how = Call::at_cwd(false, Op::Create);
    // SAFETY: the caller's template.
    if unsafe { is_hot(libc::AT_FDCWD, template, Op::Create) } {
        return Ok(call(template));
    }
    let Some(rt) = runtime::get() else {
        return Ok(call(template));
    };
    let mut host = crate::sys::pool::take()?;
    // SAFETY: as above.
    let routing = unsafe { super::route(rt, template, &how, &mut host) }?;
    if routing.ptr == template.cast_const() {
        return Ok(call(template));
    }
    let (r, ok) = call(host.as_mut_ptr().cast());
    if ok {
        // SAFETY: template is a C string of at least `tail` bytes (the real call checked).
        unsafe {
            let t = bytes(template).map_or(0, |b| b.len());
            let h = libc::strlen(host.as_cptr());
            let n = tail.min(t).min(h);
            std::ptr::copy_nonoverlapping(host.as_cptr().add(h - n), template.add(t - n), n);
        }
    }
    Ok((r, ok))
}

/// `mkstemp`-like: returns a descriptor, recorded in the table when it lies in a view.
unsafe fn make_fd(sym: Sym, template: *mut c_char, suffixlen: c_int, call: impl FnOnce(*mut c_char) -> c_int) -> c_int {
    let tail = 6 + suffixlen.max(0) as usize;
    guard(sym, || {
        match unsafe {
            in_view(template, tail, |t| {
                let fd = call(t);
                (fd, fd >= 0)
            })
        } {
            Ok((fd, true)) => {
                // SAFETY: the template now names the file just made.
                unsafe { super::open::note(fd, libc::AT_FDCWD, template) };
                fd
            }
            Ok((fd, false)) => fd,
            Err(e) => fail(e),
        }
    })
}

pub unsafe fn mkstemp(t: *mut c_char) -> c_int {
    unsafe { make_fd(Sym::mkstemp, t, 0, |h| real::mkstemp(h)) }
}

pub unsafe fn mkstemp64(t: *mut c_char) -> c_int {
    unsafe { make_fd(Sym::mkstemp64, t, 0, |h| real::mkstemp64(h)) }
}

pub unsafe fn mkostemp(t: *mut c_char, flags: c_int) -> c_int {
    unsafe { make_fd(Sym::mkostemp, t, 0, |h| real::mkostemp(h, flags)) }
}

pub unsafe fn mkostemp64(t: *mut c_char, flags: c_int) -> c_int {
    unsafe { make_fd(Sym::mkostemp64, t, 0, |h| real::mkostemp64(h, flags)) }
}

pub unsafe fn mkstemps(t: *mut c_char, suffixlen: c_int) -> c_int {
    unsafe { make_fd(Sym::mkstemps, t, suffixlen, |h| real::mkstemps(h, suffixlen)) }
}

pub unsafe fn mkstemps64(t: *mut c_char, suffixlen: c_int) -> c_int {
    unsafe { make_fd(Sym::mkstemps64, t, suffixlen, |h| real::mkstemps64(h, suffixlen)) }
}

pub unsafe fn mkostemps(t: *mut c_char, suffixlen: c_int, flags: c_int) -> c_int {
    unsafe { make_fd(Sym::mkostemps, t, suffixlen, |h| real::mkostemps(h, suffixlen, flags)) }
}

pub unsafe fn mkostemps64(t: *mut c_char, suffixlen: c_int, flags: c_int) -> c_int {
    unsafe { make_fd(Sym::mkostemps64, t, suffixlen, |h| real::mkostemps64(h, suffixlen, flags)) }
}

pub unsafe fn mkdtemp(t: *mut c_char) -> *mut c_char {
    guard(Sym::mkdtemp, || {
        match unsafe {
            in_view(t, 6, |h| {
                let r = real::mkdtemp(h);
                (r, !r.is_null())
            })
        } {
            Ok((_, true)) => t,
            Ok((_, false)) => std::ptr::null_mut(),
            Err(e) => fail(e),
        }
    })
}

pub unsafe fn mktemp(t: *mut c_char) -> *mut c_char {
    // mktemp reports failure by emptying the template, success by filling it.
    guard(Sym::mktemp, || {
        match unsafe {
            in_view(t, 6, |h| {
                let r = real::mktemp(h);
                (r, !r.is_null() && *h != 0)
            })
        } {
            Ok((_, true)) => t,
            Ok((_, false)) => {
                if !t.is_null() {
                    // SAFETY: the caller's template; an empty string, as glibc leaves it.
                    unsafe { *t = 0 };
                }
                t
            }
            Err(e) => fail(e),
        }
    })
}

/// `tmpfile`: an unnamed file in the view's `/tmp` (`O_TMPFILE`, else a named one unlinked at
/// once), so that a `/tmp` the view replaces is the one used.
unsafe fn tmpfile_in_view(sym: Sym, real_tmpfile: unsafe fn() -> *mut FILE) -> *mut FILE {
    if runtime::mode() == mode::PASS {
        return unsafe { real_tmpfile() };
    }
    guard(sym, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real_tmpfile() };
        };
        let mut host = buf!();
        match resolver::route(&Kernel, rt, b"/tmp", &Call::at_cwd(true, Op::Open(libc::O_TMPFILE | libc::O_RDWR)), &mut host) {
            Ok(r) if r.route == Route::Native && !r.read_only => return unsafe { real_tmpfile() },
            Ok(r) if r.read_only => return fail(Errno::EROFS),
            Ok(_) => {}
            Err(e) => return fail(e),
        }
        // SAFETY: host is a C string; the descriptor goes to fdopen or is closed.
        unsafe {
            let mut fd = real::open(host.as_cptr(), libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC, 0o600);
            if fd < 0 {
                let mut t = buf!();
                if t.set(host.as_bytes()).and_then(|_| t.push_bytes(b"/tmpfXXXXXX")).is_err() {
                    return fail(Errno::ENAMETOOLONG);
                }
                fd = real::mkostemp(t.as_mut_ptr().cast(), libc::O_CLOEXEC);
                if fd < 0 {
                    return std::ptr::null_mut();
                }
                real::unlink(t.as_cptr());
            }
            let f = libc::fdopen(fd, b"w+\0".as_ptr().cast());
            if f.is_null() {
                let e = sys::errno();
                real::close(fd);
                sys::set_errno(e);
            }
            f
        }
    })
}

pub unsafe fn tmpfile() -> *mut FILE {
    unsafe { tmpfile_in_view(Sym::tmpfile, || real::tmpfile()) }
}

pub unsafe fn tmpfile64() -> *mut FILE {
    unsafe { tmpfile_in_view(Sym::tmpfile64, || real::tmpfile64()) }
}

/// `tempnam` checks that `dir` exists with glibc's own `stat`: a `dir` in a view is handed to it
/// as its host path, and the name it makes is given back under `dir` as the caller wrote it.
pub unsafe fn tempnam(dir: CStrP, pfx: CStrP) -> *mut c_char {
    // SAFETY: the caller's path.
    if unsafe { is_hot(libc::AT_FDCWD, dir, Op::Look) } {
        return unsafe { real::tempnam(dir, pfx) };
    }
    guard(Sym::tempnam, || {
        let Some(rt) = runtime::get() else {
            return unsafe { real::tempnam(dir, pfx) };
        };
        let mut host = buf!();
        // SAFETY: as above.
        let routed = match unsafe { super::route(rt, dir, &Call::at_cwd(true, Op::Look), &mut host) } {
            Ok(r) => r.ptr,
            Err(_) => dir,
        };
        let name = unsafe { real::tempnam(routed, pfx) };
        if name.is_null() || routed == dir {
            return name;
        }
        // SAFETY: name is glibc's malloc'd string; dir is the caller's.
        unsafe {
            let made = std::ffi::CStr::from_ptr(name).to_bytes();
            let Some(rest) = made.strip_prefix(host.as_bytes()) else {
                return name;
            };
            let virt_dir = bytes(dir).unwrap_or(b"");
            let virt_dir = if virt_dir.len() > 1 { virt_dir.strip_suffix(b"/").unwrap_or(virt_dir) } else { virt_dir };
            let out = libc::malloc(virt_dir.len() + rest.len() + 1).cast::<u8>();
            if out.is_null() {
                return name;
            }
            std::ptr::copy_nonoverlapping(virt_dir.as_ptr(), out, virt_dir.len());
            std::ptr::copy_nonoverlapping(rest.as_ptr(), out.add(virt_dir.len()), rest.len());
            *out.add(virt_dir.len() + rest.len()) = 0;
            libc::free(name.cast());
            out.cast()
        }
    })
}
