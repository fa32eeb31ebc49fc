//! The open family. glibc's `fopen` and `freopen` open their file without going through the
//! exported `open`, so each needs its own shell. A descriptor opened through the view is
//! recorded with its virtual name and what the view says about it (`state::fds`).

use super::types::*;

use super::{bytes, fail, guard, is_hot, Sym};
use crate::resolver::kernel::Kernel;
use crate::resolver::{self, Call};
use crate::runtime::{self, Runtime};
use crate::state::fds;
use crate::sys::{self, raw};
use crate::views::open_writes;

/// Whether the last component is followed: `O_NOFOLLOW` and `O_CREAT|O_EXCL` do not.
fn follows(flags: c_int) -> bool {
    flags & libc::O_NOFOLLOW == 0 && flags & (libc::O_CREAT | libc::O_EXCL) != (libc::O_CREAT | libc::O_EXCL)
}

/// The shape of every open: hot, or routed (and recorded) under the guard.
#[inline(always)]
unsafe fn opened(sym: Sym, dirfd: c_int, path: CStrP, flags: c_int, call: impl Fn(*const c_char, c_int) -> c_int) -> c_int {
    let op = Op::Open(flags);
    // SAFETY: the caller's path.
    if unsafe { super::is_hot_open(dirfd, path, op) } {
        let fd = call(path, flags);
        if fd < 0 {
            let how = Call { dirfd, follow: follows(flags), op, empty: false };
            // SAFETY: as above.
            return unsafe { super::after_hot(sym, path, how, fd, |p| call(p, flags)) };
        }
        return fd;
    }
    guard(sym, || {
        // SAFETY: as above.
        let fd = unsafe { opened_slow(dirfd, path, flags, &call) };
        if crate::trace::on().is_some() {
            let how = Call { dirfd, follow: follows(flags), op, empty: false };
            // SAFETY: as above.
            unsafe { super::observe::path_as(sym, crate::trace::Access::of_open(flags), path, &how, Some(flags), fd as i64) };
        }
        fd
    })
}

#[inline(never)]
unsafe fn opened_slow(dirfd: c_int, path: CStrP, flags: c_int, call: &dyn Fn(*const c_char, c_int) -> c_int) -> c_int {
    let how = Call { dirfd, follow: follows(flags), op: Op::Open(flags), empty: false };
    let Some(rt) = runtime::get() else {
        return call(path, flags);
    };
    // SAFETY: the caller's path.
    if let Some(fd) = unsafe { maps_of_the_view(rt, dirfd, path, flags) } {
        return fd;
    }
    // SAFETY: the caller's path.
    if let Some(fd) = unsafe { lower_child(rt, dirfd, path, flags, call) } {
        return fd;
    }
    let (mut host, mut virt) = match (crate::sys::pool::take(), crate::sys::pool::take()) {
        (Ok(h), Ok(v)) => (h, v),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    // SAFETY: the caller's path.
    let routing = unsafe { super::route_keeping(rt, path, &how, &mut host, Some(&mut virt)) };
    let _short = match &routing {
        Ok(r) if r.routed.route == resolver::Route::Host => match super::shorten(rt.proc_is_host, &mut host) {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
        _ => super::Short(None),
    };
    let fd = match routing {
        // A read-only mount let an O_CREAT through because the file exists: nothing may be
        // made if it vanished meanwhile.
        Ok(r) if r.allowed => call(r.ptr, flags & !libc::O_CREAT),
        Ok(r) => {
            let fd = call(r.ptr, flags);
            if fd < 0 && (r.routed.retry || r.routed.route == resolver::Route::Native) {
                // The walk may name it otherwise.
                virt.clear();
                // SAFETY: as above.
                unsafe { super::retry(rt, path, &how, &mut host, fd, |p| call(p, flags)) }
            } else {
                fd
            }
        }
        Err(e) => fail(e),
    };
    if fd >= 0 && flags & libc::O_CREAT != 0 {
        super::overlay_made(rt, host.as_bytes());
    }
    if fd >= 0 {
        if virt.is_empty() {
            // SAFETY: as above.
            unsafe { note(fd, dirfd, path) };
        } else {
            // SAFETY: as above.
            unsafe { note_named(rt, fd, dirfd, path, virt.as_bytes()) };
        }
    }
    fd
}

/// One name opened for reading, not followed, from a directory of an untouched overlay's lower
/// tree with nothing of the view below it (what a tree walker does for each directory): the
/// kernel's open from that descriptor is the view's, and the new descriptor is what its parent
/// is (its name the parent's and the one given), so it is recorded without a resolution.
///
/// # Safety
/// `path` is NULL or NUL-terminated.
unsafe fn lower_child(rt: &Runtime, dirfd: c_int, path: CStrP, flags: c_int, call: &dyn Fn(*const c_char, c_int) -> c_int) -> Option<c_int> {
    let parent = fds::flags(dirfd);
    if !rt.has_overlay || dirfd == libc::AT_FDCWD || parent & fds::LOWER == 0 || crate::views::open_writes(flags) || flags & libc::O_NOFOLLOW == 0 {
        return None;
    }
    // SAFETY: per the contract.
    let name = unsafe { bytes(path) }?;
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || !resolver::overlays_untouched(rt) {
        return None;
    }
    let mut virt = crate::sys::pool::take().ok()?;
    if !fds::name_of(dirfd, &mut virt) || virt.push_component(name).is_err() {
        return None;
    }
    let fd = call(path, flags);
    if fd >= 0 {
        let kept = fds::ROUTE | fds::READ_ONLY | fds::LOWER | fds::NAMED;
        let dir = if flags & libc::O_DIRECTORY != 0 { fds::DIR } else { 0 };
        fds::record(fd, virt.as_bytes(), (parent & kept) | dir);
    }
    Some(fd)
}

/// Records `fd`, just opened as `path` (from `dirfd`), if the view has something to say of it.
pub unsafe fn note(fd: c_int, dirfd: c_int, path: CStrP) {
    let Some(rt) = runtime::get() else { return };
    // SAFETY: the caller's path.
    let Some(p) = (unsafe { bytes(path) }) else {
        return;
    };
    let e = sys::errno();
    if let Ok(mut virt) = crate::sys::pool::take() {
        if resolver::names::opened(&Kernel, rt, fd, dirfd, p, &mut virt).is_ok() {
            // SAFETY: as above.
            unsafe { note_named(rt, fd, dirfd, path, virt.as_bytes()) };
        }
    }
    sys::set_errno(e);
}

/// [`note`] with the virtual name already known.
///
/// # Safety
/// As [`note`].
unsafe fn note_named(rt: &Runtime, fd: c_int, dirfd: c_int, path: CStrP, virt: &[u8]) {
    let mut f = resolver::fd_flags_for(rt, virt);
    // Opened from a descriptor that predates the view: on the mount it was opened on.
    // SAFETY: the caller's path (not NULL: it was opened).
    let relative = unsafe { *path } as u8 != b'/';
    if dirfd != libc::AT_FDCWD && relative && fds::flags(dirfd) & fds::OUTSIDE != 0 {
        f = (f & !fds::READ_ONLY) | fds::OUTSIDE;
    }
    if f != 0 {
        resolver::names::record(&Kernel, rt, fd, virt, f);
    }
}

/// What an `fopen` mode does to the file, as `open` flags.
unsafe fn flags_of_mode(mode: CStrP) -> c_int {
    match unsafe { bytes(mode) } {
        Some(m) if m.first() == Some(&b'r') && !m.contains(&b'+') => libc::O_RDONLY,
        Some(m) if m.first() == Some(&b'r') => libc::O_RDWR,
        Some(m) if m.first() == Some(&b'a') => libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND,
        _ => libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
    }
}

/// [`opened`] for the stdio forms: the descriptor recorded is the stream's.
unsafe fn fopened(sym: Sym, path: CStrP, mode: CStrP, call: impl Fn(*const c_char) -> *mut FILE) -> *mut FILE {
    // SAFETY: the caller's mode string.
    let flags = unsafe { flags_of_mode(mode) };
    let op = Op::Open(flags);
    // SAFETY: the caller's path.
    if unsafe { is_hot(libc::AT_FDCWD, path, op) } {
        let f = call(path);
        if f.is_null() {
            // SAFETY: as above.
            return unsafe { super::after_hot(sym, path, Call::at_cwd(true, op), f, &call) };
        }
        return f;
    }
    guard(sym, || {
        // SAFETY: as above.
        let f = unsafe { super::with_path(path, Call::at_cwd(follows(flags), op), &call) };
        if !f.is_null() {
            // SAFETY: f is the stream just opened.
            unsafe { note(libc::fileno(f), libc::AT_FDCWD, path) };
        }
        if crate::trace::on().is_some() {
            let result = if f.is_null() { -1 } else { 0 };
            // SAFETY: as above.
            unsafe {
                super::observe::path_as(sym, crate::trace::Access::of_open(flags), path, &Call::at_cwd(follows(flags), op), Some(flags), result)
            };
        }
        f
    })
}

pub unsafe fn open(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(Sym::open, libc::AT_FDCWD, path, flags, |p, fl| super::table::real::open(p, fl, mode)) }
}

pub unsafe fn open64(path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(Sym::open64, libc::AT_FDCWD, path, flags, |p, fl| super::table::real::open64(p, fl, mode)) }
}

pub unsafe fn __open_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(Sym::__open_2, libc::AT_FDCWD, path, flags, |p, fl| super::table::real::__open_2(p, fl)) }
}

pub unsafe fn __open64_2(path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(Sym::__open64_2, libc::AT_FDCWD, path, flags, |p, fl| super::table::real::__open64_2(p, fl)) }
}

pub unsafe fn openat(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(Sym::openat, dirfd, path, flags, |p, fl| super::table::real::openat(dirfd, p, fl, mode)) }
}

pub unsafe fn openat64(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    unsafe { opened(Sym::openat64, dirfd, path, flags, |p, fl| super::table::real::openat64(dirfd, p, fl, mode)) }
}

pub unsafe fn __openat_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(Sym::__openat_2, dirfd, path, flags, |p, fl| super::table::real::__openat_2(dirfd, p, fl)) }
}

pub unsafe fn __openat64_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int {
    unsafe { opened(Sym::__openat64_2, dirfd, path, flags, |p, fl| super::table::real::__openat64_2(dirfd, p, fl)) }
}

const CREAT: c_int = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC;

pub unsafe fn creat(path: CStrP, mode: mode_t) -> c_int {
    unsafe {
        opened(Sym::creat, libc::AT_FDCWD, path, CREAT, |p, fl| {
            if fl == CREAT {
                super::table::real::creat(p, mode)
            } else {
                super::table::real::open(p, fl, mode)
            }
        })
    }
}

pub unsafe fn creat64(path: CStrP, mode: mode_t) -> c_int {
    unsafe {
        opened(Sym::creat64, libc::AT_FDCWD, path, CREAT, |p, fl| {
            if fl == CREAT {
                super::table::real::creat64(p, mode)
            } else {
                super::table::real::open64(p, fl, mode)
            }
        })
    }
}

pub unsafe fn fopen(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { fopened(Sym::fopen, path, mode, |p| super::table::real::fopen(p, mode)) }
}

pub unsafe fn fopen64(path: CStrP, mode: CStrP) -> *mut FILE {
    unsafe { fopened(Sym::fopen64, path, mode, |p| super::table::real::fopen64(p, mode)) }
}

/// The descriptor under a stream that libc is about to close without calling `close`.
unsafe fn forget_stream(stream: *mut FILE) {
    if !stream.is_null() {
        // SAFETY: the caller's stream.
        fds::forget(unsafe { libc::fileno(stream) });
    }
}

pub unsafe fn fclose(stream: *mut FILE) -> c_int {
    unsafe { forget_stream(stream) };
    unsafe { super::table::real::fclose(stream) }
}

pub unsafe fn freopen(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    // A NULL path reopens the stream's own file with a new mode: no path to route.
    if !path.is_null() {
        unsafe { forget_stream(stream) };
    }
    unsafe { fopened(Sym::freopen, path, mode, |p| super::table::real::freopen(p, mode, stream)) }
}

pub unsafe fn freopen64(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE {
    if !path.is_null() {
        unsafe { forget_stream(stream) };
    }
    unsafe { fopened(Sym::freopen64, path, mode, |p| super::table::real::freopen64(p, mode, stream)) }
}

/// Whether an open with these flags may change the file system (for callers elsewhere).
pub fn writes(flags: c_int) -> bool {
    open_writes(flags)
}

/// A process's `/proc/<pid>/maps` or `smaps` opened for reading in a view with mounts: the
/// kernel's text names mapped files by their host paths, so the process gets a copy in memory
/// with them named in the view (as a mount namespace or a chroot shows them). `None`: not such
/// a file (or the copy could not be made: the kernel's own is opened).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
unsafe fn maps_of_the_view(rt: &Runtime, dirfd: c_int, path: CStrP, flags: c_int) -> Option<c_int> {
    if !rt.has_mounts || !rt.proc_is_host || flags & libc::O_ACCMODE != libc::O_RDONLY || path.is_null() {
        return None;
    }
    // Every other open pays only this: the path's first bytes against `/proc/`, read no further
    // than the first that differs (its NUL does), before the path's length is taken.
    // SAFETY: per the contract.
    if !(0..6).all(|i| unsafe { *path.add(i) } as u8 == b"/proc/"[i]) {
        return None;
    }
    // SAFETY: per the contract.
    let p = unsafe { bytes(path) }?;
    let rest = p.strip_prefix(b"/proc/")?;
    let (who, file) = rest.split_at(memchr::memchr(b'/', rest)?);
    if !matches!(file, b"/maps" | b"/smaps") || (dirfd != libc::AT_FDCWD && p.first() != Some(&b'/')) {
        return None;
    }
    let _ = who;
    let mut real_path = crate::sys::pool::copy_of(p).ok()?;
    let src = raw::openat(libc::AT_FDCWD, &real_path, libc::O_RDONLY | libc::O_CLOEXEC).ok()?;
    let copy = raw::memfd_create(c"kmview-maps", flags & libc::O_CLOEXEC != 0);
    let Ok(copy) = copy else {
        raw::close(src);
        return None;
    };
    let ok = copy_maps(rt, src, copy, &mut real_path).is_ok() && raw::rewind(copy).is_ok();
    raw::close(src);
    if !ok {
        raw::close(copy);
        return None;
    }
    Some(copy)
}

/// Copies the maps text from `src` to `dst` line by line, each named in the view (`line`: room
/// for a line in progress).
fn copy_maps(rt: &Runtime, src: c_int, dst: c_int, line: &mut crate::sys::PBuf) -> crate::errno::Res<()> {
    let mut block = crate::sys::pool::take()?;
    let mut out = crate::sys::pool::take()?;
    line.clear();
    loop {
        let buf = block.all_mut();
        let n = raw::read(src, &mut buf[..crate::sys::CAP - 1])?;
        if n == 0 {
            break;
        }
        for chunk in buf[..n].split_inclusive(|&b| b == b'\n') {
            line.push_bytes(chunk)?;
            if chunk.ends_with(b"\n") {
                let text = &line.as_bytes()[..line.len() - 1];
                resolver::reverse::maps_line(rt, text, &mut out)?;
                out.push_byte(b'\n')?;
                raw::write_all(dst, out.as_bytes())?;
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        resolver::reverse::maps_line(rt, line.as_bytes(), &mut out)?;
        raw::write_all(dst, out.as_bytes())?;
    }
    Ok(())
}
