//! The descriptor table: what a descriptor opened through a view is called in the view, and
//! what the view says about it, so that `openat(fd, rel)`, `fchdir`, `fdopendir`,
//! `/proc/self/fd/N` and the descriptor-based changes (`fchmod`…) answer in the view's terms.
//! Only descriptors that need it are recorded: those under an entry or above one. Lock-free
//! ([`SeqPath`] slots indexed by descriptor, one flag byte each), kept across `dup*`,
//! `fcntl(F_DUPFD*)`, `close*`, `fork` (it is memory) and exec (`KMVIEW_FDS`).

use super::seqpath::SeqPath;
use crate::sys::PBuf;
use libc::c_int;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// Descriptors at or above this are not recorded (they behave as opened outside any view).
pub const MAX_FDS: usize = 4096;

/// The descriptor has a virtual name.
pub const NAMED: u8 = 1;
/// Every path relative to it must go through the view (an entry lies below it, or it lies
/// under one that refuses or resolves below itself).
pub const ROUTE: u8 = 2;
/// It lies under a read-only mount: changes through it, or relative to it, are refused.
pub const READ_ONLY: u8 = 4;
/// It was opened before the view existed (inherited by the view's first process): as with a
/// descriptor opened before a kernel mount, it keeps the mount it was opened on, so a view's
/// read-only mount does not apply to it or to paths relative to it.
pub const OUTSIDE: u8 = 8;
/// It is a directory (a path relative to anything else is `ENOTDIR`, as the kernel says).
pub const DIR: u8 = 16;
/// It lies in an overlay's lower tree and nothing else of the view routes below it: while the
/// overlay's upper is untouched, a look or a read relative to it is the kernel's.
pub const LOWER: u8 = 32;

static NAMES: [SeqPath; MAX_FDS] = [const { SeqPath::new() }; MAX_FDS];
static FLAGS: [AtomicU8; MAX_FDS] = [const { AtomicU8::new(0) }; MAX_FDS];
/// How many slots are in use: while 0, `close` and `dup` skip the table.
static RECORDED: AtomicUsize = AtomicUsize::new(0);

#[inline(always)]
fn slot(fd: c_int) -> Option<usize> {
    (fd >= 0 && (fd as usize) < MAX_FDS).then_some(fd as usize)
}

/// What the table says of `fd` (0: nothing: a descriptor the view does not change).
#[inline(always)]
pub fn flags(fd: c_int) -> u8 {
    match slot(fd) {
        Some(i) => FLAGS[i].load(Ordering::Relaxed),
        None => 0,
    }
}

/// Remembers that `fd` is `virt` (absolute, canonical) in the innermost view.
pub fn record(fd: c_int, virt: &[u8], flags: u8) {
    let Some(i) = slot(fd) else { return };
    // A vfork child's descriptors are its own; the table is its parent's memory.
    if !crate::sys::owns_memory() {
        return;
    }
    if FLAGS[i].load(Ordering::Relaxed) == 0 {
        RECORDED.fetch_add(1, Ordering::Relaxed);
    }
    NAMES[i].store(virt);
    FLAGS[i].store(flags | NAMED, Ordering::Release);
}

/// Adds `more` to the flags of the recorded `fd` (what was learnt of it later).
pub fn add_flags(fd: c_int, more: u8) {
    let Some(i) = slot(fd) else { return };
    if crate::sys::owns_memory() && FLAGS[i].load(Ordering::Relaxed) & NAMED != 0 {
        FLAGS[i].fetch_or(more, Ordering::Relaxed);
    }
}

/// Forgets `fd` (it is being closed, or replaced by `dup2`).
#[inline(always)]
/// Returns whether any descriptor is recorded at all (what else was kept about a descriptor,
/// a raw `getdents64`'s listing, exists only then).
pub fn forget(fd: c_int) -> bool {
    if RECORDED.load(Ordering::Relaxed) == 0 {
        return false;
    }
    forget_slow(fd);
    true
}

#[inline(never)]
fn forget_slow(fd: c_int) {
    let Some(i) = slot(fd) else { return };
    if FLAGS[i].load(Ordering::Relaxed) != 0 && crate::sys::owns_memory() {
        FLAGS[i].store(0, Ordering::Release);
        NAMES[i].store(b"");
        RECORDED.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Forgets every descriptor in `lo..=hi`.
pub fn forget_range(lo: u32, hi: u32) {
    if RECORDED.load(Ordering::Relaxed) == 0 {
        return;
    }
    let hi = (hi as usize).min(MAX_FDS - 1);
    for fd in lo as usize..=hi {
        forget_slow(fd as c_int);
    }
}

/// `to` is now a duplicate of `from`.
pub fn copy(from: c_int, to: c_int) {
    if RECORDED.load(Ordering::Relaxed) == 0 || from == to {
        return;
    }
    forget_slow(to);
    let f = flags(from);
    if f == 0 {
        return;
    }
    let Ok(mut name) = crate::sys::pool::take() else {
        return;
    };
    if name_of(from, &mut name) {
        record(to, name.as_bytes(), f);
    }
}

/// The recorded virtual path of `fd`, if any.
pub fn name_of(fd: c_int, out: &mut PBuf) -> bool {
    flags(fd) & NAMED != 0 && slot(fd).is_some_and(|i| NAMES[i].load(out).unwrap_or(false))
}

/// Calls `f(fd, name, flags)` for every recorded descriptor (exec passes them on).
pub fn each(mut f: impl FnMut(c_int, &[u8], u8)) {
    if RECORDED.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Ok(mut name) = crate::sys::pool::take() else {
        return;
    };
    for i in 0..MAX_FDS {
        let flags = FLAGS[i].load(Ordering::Relaxed);
        if flags & NAMED != 0 && NAMES[i].load(&mut name).unwrap_or(false) {
            f(i as c_int, name.as_bytes(), flags);
        }
    }
}

pub(super) fn repair() {
    if RECORDED.load(Ordering::Relaxed) != 0 {
        for n in &NAMES {
            n.repair();
        }
    }
}
