//! The C-in edge: the exported shells, generated from the one table `table.in` (see `build.rs`),
//! and, one file per libc family, the shells written by hand. A shell marshals its arguments,
//! asks the resolver where the path goes and calls libc's definition; it decides nothing about
//! views. Errors arrive here as a typed `Errno` and leave as `-1`/errno.
//!
//! Every plain path hook has the same shape: the hot test, inlined (then the caller's pointer
//! goes to libc), else [`plain`], out of line, under [`guard`].
#![allow(unsafe_code)]

/// A path buffer of the pool for a hook (see `sys::pool`), or the hook fails with `ENOMEM`.
macro_rules! buf {
    () => {
        match $crate::sys::pool::take() {
            Ok(b) => b,
            Err(e) => return $crate::hooks::fail(e),
        }
    };
}

pub mod accounts;
pub mod attr;
pub mod attrs;
pub mod dir;
pub mod dirwalk;
pub mod env;
pub mod exec;
pub mod fakeroot;
pub mod fault;
pub mod fd;
pub mod identity;
pub mod link;
pub mod misc;
pub mod modify;
pub mod name;
pub mod observe;
pub mod open;
pub mod program;
pub mod signal;
pub mod spawn;
pub mod syscall;
pub mod table;
pub mod temp;
pub mod thread;
pub mod trap;
pub mod types;

use crate::errno::Errno;
use crate::resolver::kernel::Kernel;
use crate::resolver::refusal::{self, Verdict};
use crate::resolver::{self, Call, Route, Routed};
use crate::runtime::{self, Runtime};
use crate::sys::cpath::CPath;
use crate::sys::pool::take;
use crate::sys::real::Failed;
use crate::sys::{self, PBuf};
use crate::views::Op;
use libc::{c_char, c_int};
use std::ffi::CStr;
pub use table::Sym;

/// Runs the slow part of one hook: a panic inside the library never unwinds into C and never
/// falls back to the real call (which could repeat a side effect); the call fails with `EIO`
/// and one line on stderr says which.
#[inline(always)]
pub fn guard<R: Failed>(sym: Sym, f: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fault::maybe_panic(sym);
        f()
    })) {
        Ok(r) => r,
        Err(_) => {
            let name = table::SYMBOLS[sym as usize];
            sys::write_stderr(&[b"kmview: internal error in ", &name.as_bytes()[..name.len() - 1], b"(); the call fails with EIO\n"]);
            sys::set_errno(libc::EIO);
            R::failed()
        }
    }
}

/// Runs `f` with a path buffer of the pool; the call fails (`ENOMEM`) if none can be had.
#[inline]
pub fn with_buf<R: Failed>(f: impl FnOnce(&mut PBuf) -> R) -> R {
    match take() {
        Ok(mut b) => f(&mut b),
        Err(e) => fail(e),
    }
}

/// [`with_buf`] with two buffers.
#[inline]
pub fn with_bufs<R: Failed>(f: impl FnOnce(&mut PBuf, &mut PBuf) -> R) -> R {
    match (take(), take()) {
        (Ok(mut a), Ok(mut b)) => f(&mut a, &mut b),
        (Err(e), _) | (_, Err(e)) => fail(e),
    }
}

/// The bytes of a C string argument; `None` for NULL (the real call reports `EFAULT` itself).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
#[inline(always)]
pub unsafe fn bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: per the contract.
        Some(unsafe { CStr::from_ptr(p) }.to_bytes())
    }
}

/// The hot test on a C path argument (see `resolver::hot`).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string valid for the call.
#[inline(always)]
pub unsafe fn is_hot(dirfd: c_int, path: *const c_char, op: Op) -> bool {
    // SAFETY: per the contract.
    resolver::hot::is_hot(dirfd, unsafe { CPath::new(path) }, op)
}

/// The hot test for the calls that make a descriptor (see `resolver::hot::is_hot_open`).
///
/// # Safety
/// As [`is_hot`].
#[inline(always)]
pub unsafe fn is_hot_open(dirfd: c_int, path: *const c_char, op: Op) -> bool {
    // SAFETY: per the contract.
    resolver::hot::is_hot_open(dirfd, unsafe { CPath::new(path) }, op)
}

/// Whether a descriptor-based change on `fd` is the kernel's business alone.
#[inline(always)]
pub fn fd_is_plain(fd: c_int) -> bool {
    resolver::hot::fd_is_plain(fd)
}

/// Fails the call the way C expects: errno set, the failure value returned.
#[inline]
pub fn fail<R: Failed>(e: Errno) -> R {
    sys::set_errno(e.0);
    R::failed()
}

/// A call that returns 0 or -1 the way C expects: 0, or errno set and -1.
#[inline]
pub fn done(r: crate::errno::Res<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => fail(e),
    }
}

/// What glibc's fortified functions do on a buffer overflow: abort the program.
pub fn chk_fail() -> ! {
    sys::write_stderr(&[b"*** buffer overflow detected ***: terminated\n"]);
    // SAFETY: abort has no preconditions.
    unsafe { libc::abort() }
}

/// The slow way of a plain path hook (generated from the table): the path routed through the
/// views, the call made with the host path, a refusal answered as the kernel would.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string valid for the call.
#[inline(never)]
pub unsafe fn plain<R: Failed>(sym: Sym, path: *const c_char, how: Call, call: impl Fn(*const c_char) -> R) -> R {
    // SAFETY: per the contract.
    guard(sym, || {
        // SAFETY: per the contract.
        let r = unsafe { with_path(path, how, call) };
        // SAFETY: as above.
        unsafe { observe::path(sym, path, &how, &r) };
        r
    })
}

pub use crate::sys::short::{shorten, Short};

/// A path routed for a call: the pointer to hand libc (the caller's, or the host buffer's).
pub struct Routing {
    pub ptr: *const c_char,
    pub routed: Routed,
    /// A read-only mount refused the write but the kernel would let it through (a device opened
    /// for writing, `O_CREAT` of a file that exists): the call goes ahead creating nothing.
    pub allowed: bool,
    /// The call changes something a view routed (an overlay's upper tree, perhaps): when the
    /// routing is dropped, after the call, the overlays' change counts move on.
    changes: bool,
}

impl Drop for Routing {
    fn drop(&mut self) {
        if self.changes {
            if let Some(rt) = runtime::get() {
                overlay_changed(rt);
            }
        }
    }
}

/// Routes `path` for `how` into `host`; a refusal by a read-only mount becomes the kernel's
/// errno for it.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string valid for the call.
pub unsafe fn route(rt: &Runtime, path: *const c_char, how: &Call, host: &mut PBuf) -> Result<Routing, Errno> {
    // SAFETY: per the contract.
    unsafe { route_keeping(rt, path, how, host, None) }
}

/// [`route`], keeping the path's virtual name in `virt` when the resolver had it (see
/// `resolver::route_keeping`).
///
/// # Safety
/// As [`route`].
pub unsafe fn route_keeping(rt: &Runtime, path: *const c_char, how: &Call, host: &mut PBuf, virt: Option<&mut PBuf>) -> Result<Routing, Errno> {
    // SAFETY: per the contract.
    let Some(p) = (unsafe { bytes(path) }) else {
        return Ok(Routing { ptr: path, routed: Routed::NATIVE, allowed: false, changes: false });
    };
    let routed = resolver::route_keeping(&Kernel, rt, p, how, host, virt)?;
    let ptr = match routed.route {
        Route::Native => path,
        Route::Host => host.as_cptr(),
    };
    let mut allowed = false;
    if routed.read_only {
        let (dirfd, probe) = match routed.route {
            Route::Native => (how.dirfd, p),
            Route::Host => (libc::AT_FDCWD, host.as_bytes()),
        };
        // An empty path (AT_EMPTY_PATH) is the descriptor itself.
        let verdict = refusal::judge(&Kernel, dirfd, probe, how.op, how.follow);
        match verdict {
            Verdict::Allow => allowed = true,
            Verdict::Fail(e) => return Err(e),
        }
    }
    // Every routed change, whichever hook made it, moves the overlays' counts on once it is made.
    let changes = rt.has_overlay && how.op.writes() && how.op != Op::AccessW && routed.route == Route::Host;
    Ok(Routing { ptr, routed, allowed, changes })
}

/// Routes `path`, runs `call` with the pointer to hand libc, or fails with the view's errno. A
/// call made through the fast way that fails with `ENOENT` is made once more through the exact
/// walk, if that leads elsewhere (a symlink below a mount led out of it).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string valid for the call.
pub unsafe fn with_path<R: Failed>(path: *const c_char, how: Call, call: impl Fn(*const c_char) -> R) -> R {
    let Some(rt) = runtime::get() else {
        return call(path);
    };
    // Only a trace (no entry in any view): nothing to route, the path goes as it is.
    if !rt.has_table_entries() {
        return call(path);
    }
    let mut host = match take() {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    // SAFETY: per the contract.
    let r = match unsafe { route(rt, path, &how, &mut host) } {
        Ok(routing) => {
            let _short = match routing.routed.route {
                Route::Host => match shorten(rt.proc_is_host, &mut host) {
                    Ok(s) => s,
                    Err(e) => return fail(e),
                },
                Route::Native => Short(None),
            };
            let r = call(routing.ptr);
            if !r.is_failed() && routing.routed.route == Route::Host && matches!(how.op, Op::Create | Op::CreateDir) {
                overlay_made(rt, host.as_bytes());
            }
            if !(r.is_failed() && (routing.routed.retry || routing.routed.route == Route::Native)) {
                return r;
            }
            r
        }
        Err(e) => return fail(e),
    };
    // SAFETY: per the contract.
    unsafe { retry(rt, path, &how, &mut host, r, call) }
}

/// After a call made the host path `host`: an overlay whose upper tree holds it takes away a
/// whiteout left beside it (and marks a directory made there opaque).
pub fn overlay_made(rt: &Runtime, host: &[u8]) {
    for view in rt.views {
        for e in view.entries {
            if let crate::views::Entry::Overlay(o) = e {
                let _ = o.made(host);
            }
        }
    }
}

/// After a call that may have changed an overlay's upper tree (see [`Routing`]'s drop): its
/// change count moves on again (it moved before the change too), so that what a process found
/// out meanwhile, while the change was under way, is not taken for the tree as it now is
/// (`views::overlay::cache`).
fn overlay_changed(rt: &Runtime) {
    for view in rt.views {
        for e in view.entries {
            if let crate::views::Entry::Overlay(o) = e {
                o.changed();
            }
        }
    }
}

/// Before a rename or link of two paths under an overlay (see `views::overlay::before_rename`):
/// what the kernel moves or links must be upper's.
pub fn overlay_pair(rt: &Runtime, (d1, p1): (c_int, &[u8]), (d2, p2): (c_int, &[u8]), rename: bool, flags: c_int) -> Result<(), Errno> {
    if !rt.has_overlay {
        return Ok(());
    }
    // A link to a descriptor's own file (`AT_EMPTY_PATH`, or a `/proc/self/fd/N` followed) would
    // give the lower file a name in upper, writable through it: refused when the file is the
    // lower tree's (read-only to the view).
    let through_fd = p1.is_empty() || p1.starts_with(b"/proc/") || p1.starts_with(b"/dev/fd/");
    if !rename && through_fd {
        let lower_fd = p1.is_empty() && crate::state::fds::flags(d1) & crate::state::fds::READ_ONLY != 0;
        let mut name = take()?;
        let mut host = take()?;
        let lower_named = !p1.is_empty()
            && resolver::walk::canonicalize(&Kernel, rt, p1, d1, &mut name, &mut host).is_ok()
            && resolver::is_unchangeable(rt, name.as_bytes());
        if lower_fd || lower_named {
            return Err(Errno::EXDEV);
        }
    }
    let (mut v1, mut v2) = (take()?, take()?);
    let name = |d, p, out: &mut PBuf| resolver::tree::canonical_name(&Kernel, rt, d, p, out);
    if p1.is_empty() || !name(d1, p1, &mut v1)? || !name(d2, p2, &mut v2)? {
        return Ok(());
    }
    // View by view from the innermost: the overlay the old name lies in, both names in its
    // view's terms.
    for view in rt.views.iter().rev() {
        match view.mount_of(v1.as_bytes()) {
            Some(crate::views::Entry::Overlay(o)) => {
                return if rename {
                    if crate::path::is_under(v2.as_bytes(), o.at) {
                        o.before_rename(v1.as_bytes(), v2.as_bytes(), flags)?;
                    }
                    Ok(())
                } else {
                    o.before_link(v1.as_bytes(), v2.as_bytes())
                };
            }
            Some(m) => {
                crate::views::Layer::map_out(m, &mut v1)?;
                if let Ok(d) = view.decide(v2.as_bytes(), Op::Look) {
                    if let Some(m2) = d.mount {
                        crate::views::Layer::map_out(m2, &mut v2)?;
                    }
                }
            }
            None => {
                if let Ok(d) = view.decide(v2.as_bytes(), Op::Look) {
                    if let Some(m2) = d.mount {
                        crate::views::Layer::map_out(m2, &mut v2)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// After a hot call failed: a symlink outside every mount may have led into one the kernel does
/// not know (`ENOENT` on the host): worth one exact walk.
///
/// # Safety
/// As [`with_path`].
#[cold]
#[inline(never)]
pub unsafe fn after_hot<R: Failed>(sym: Sym, path: *const c_char, how: Call, first: R, call: impl Fn(*const c_char) -> R) -> R {
    if sys::errno() != libc::ENOENT {
        return first;
    }
    let Some(rt) = runtime::get().filter(|rt| rt.has_mounts) else {
        return first;
    };
    // SAFETY: per the contract.
    guard(sym, || match take() {
        Ok(mut host) => unsafe { retry(rt, path, &how, &mut host, first, call) },
        Err(_) => first,
    })
}

/// The retry: the first result stands unless the exact walk leads elsewhere.
///
/// # Safety
/// As [`with_path`].
#[cold]
pub unsafe fn retry<R: Failed>(rt: &Runtime, path: *const c_char, how: &Call, host: &mut PBuf, first: R, call: impl Fn(*const c_char) -> R) -> R {
    let e = sys::errno();
    if e != libc::ENOENT || !rt.has_mounts {
        return first;
    }
    // SAFETY: per the contract of the caller.
    let Some(p) = (unsafe { bytes(path) }) else {
        return first;
    };
    match resolver::retry(&Kernel, rt, p, how, host) {
        Ok(true) => match shorten(rt.proc_is_host, host) {
            Ok(_short) => call(host.as_cptr()),
            Err(e2) => fail(e2),
        },
        // The walk could not name a host path (longer than the kernel takes) where the kernel
        // reached the path through a descriptor: the kernel's answer stands.
        Ok(false) | Err(Errno::ENAMETOOLONG) => {
            sys::set_errno(e);
            first
        }
        Err(e2) => fail(e2),
    }
}

/// A descriptor-based change on a descriptor under a read-only mount: `EROFS`, as the kernel
/// (an `O_PATH` descriptor is the kernel's `EBADF` first).
pub fn fd_write<R: Failed>(sym: Sym, fd: c_int, call: impl Fn() -> R) -> R {
    guard(sym, || {
        if fd_is_plain(fd) || crate::sys::raw::fcntl(fd, libc::F_GETFL).map_or(true, |fl| fl & libc::O_PATH != 0) {
            return call();
        }
        fail(Errno::EROFS)
    })
}
