//! What the hooks tell the trace (`crate::trace`) once a call returned: one test of a byte when
//! no view traces, the event described and handed over when one does.
#![allow(unsafe_code)]

use super::{bytes, Sym};
use crate::resolver::Call;
use crate::sys::real::Failed;
use crate::trace::{self, Access, Event};
use libc::{c_char, c_int};

/// The function's name, from the hook table.
pub fn name(sym: Sym) -> &'static str {
    let n = super::table::SYMBOLS[sym as usize];
    &n[..n.len() - 1]
}

/// After a call on one path (`how` as the resolver was asked).
///
/// # Safety
/// `path` is NULL or the caller's C string.
#[inline(always)]
pub unsafe fn path<R: Failed>(sym: Sym, path: *const c_char, how: &Call, r: &R) {
    if trace::on().is_some() {
        // SAFETY: per the contract.
        unsafe { path_as(sym, Access::of_op(how.op), path, how, None, r.as_result()) }
    }
}

/// [`path`] with the access and the open flags given.
///
/// # Safety
/// As [`path`].
#[cold]
#[inline(never)]
pub unsafe fn path_as(sym: Sym, access: Access, path: *const c_char, how: &Call, flags: Option<c_int>, result: i64) {
    let Some(rt) = trace::on() else { return };
    let errno = crate::sys::errno();
    // SAFETY: per the contract. NULL is the kernel's EFAULT: there is no name to write.
    let Some(p) = (unsafe { bytes(path) }) else { return };
    // An empty path without AT_EMPTY_PATH names nothing (the kernel's ENOENT); with it, the
    // descriptor.
    let mut ev = Event::path(name(sym), access, how.op, how.dirfd, p).returned(result, errno);
    ev.lands_in_cwd = sym == Sym::chdir;
    ev.flags = flags;
    trace::emit(rt, &ev);
}

/// After a call on two paths (rename, link: `old` then `new`).
///
/// # Safety
/// `old` and `new` are NULL or the caller's C strings.
#[cold]
#[inline(never)]
pub unsafe fn two_paths(sym: Sym, access: Access, how: &Call, old: *const c_char, newdir: c_int, new: *const c_char, result: i64) {
    let Some(rt) = trace::on() else { return };
    let errno = crate::sys::errno();
    // SAFETY: per the contract.
    let (Some(a), Some(b)) = (unsafe { bytes(old) }, unsafe { bytes(new) }) else { return };
    let mut ev = Event::path(name(sym), access, how.op, how.dirfd, a).returned(result, errno);
    ev.second = Some((newdir, b));
    trace::emit(rt, &ev);
}

/// After a call on a descriptor (`fdopendir`, `fchdir`, `fexecve`).
#[cold]
#[inline(never)]
pub fn descriptor(sym: Sym, access: Access, fd: c_int, result: i64) {
    let Some(rt) = trace::on() else { return };
    let errno = crate::sys::errno();
    let ev = Event::path(name(sym), access, crate::views::Op::Look, fd, b"").returned(result, errno);
    trace::emit(rt, &ev);
}

/// An exec, before it happens (`result` 0: the program was found and may be run; the process
/// is about to be replaced, so every buffered line is written now) or after it failed.
///
/// # Safety
/// `path` is NULL or a C string; `argv` is NULL or the caller's argument vector.
#[cold]
#[inline(never)]
pub unsafe fn exec(sym: Sym, dirfd: c_int, path: *const c_char, argv: *const *const c_char, result: i64, errno: c_int) {
    let Some(rt) = trace::on() else { return };
    // SAFETY: per the contract.
    let Some(p) = (unsafe { bytes(path) }) else { return };
    let mut ev = Event::path(name(sym), Access::Exec, crate::views::Op::Read, dirfd, p);
    ev.program = Some(p);
    // SAFETY: per the contract.
    ev.argv = Some(unsafe { crate::sys::argv::ArgList::new(argv) });
    ev = ev.returned(result, errno);
    trace::emit(rt, &ev);
    if result == 0 && sym != Sym::posix_spawn {
        trace::flush();
    }
}
