//! The descriptor table: what a descriptor opened through a view is called in the view, so
//! that `openat(fd, rel)`, `fchdir`, `fdopendir` and `/proc/self/fd/N` answer in the view's
//! terms. Only descriptors that need it are recorded: those opened under a mount, or on a
//! directory above a mountpoint. Lock-free ([`SeqPath`] slots indexed by descriptor), kept
//! across `dup*`, `fcntl(F_DUPFD*)`, `close*`, `fork` (it is memory) and exec (`KMVIEW_FDS`).

use crate::seqpath::SeqPath;
use crate::sys::PBuf;
use libc::c_int;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Descriptors at or above this are not recorded (they behave as opened outside any view).
pub const MAX_FDS: usize = 4096;

static NAMES: [SeqPath; MAX_FDS] = [const { SeqPath::new() }; MAX_FDS];
/// Paths relative to the recorded directory go through the view (see
/// [`crate::stack::Runtime::routes_relative`]).
static ROUTES_RELATIVE: [AtomicBool; MAX_FDS] = [const { AtomicBool::new(false) }; MAX_FDS];
/// How many slots are in use: while 0, `close` and the `*at` calls skip the table.
static RECORDED: AtomicUsize = AtomicUsize::new(0);

fn slot(fd: c_int) -> Option<usize> {
    (fd >= 0 && (fd as usize) < MAX_FDS).then_some(fd as usize)
}

/// Remembers that `fd` is `virt` (absolute, normalized) in the innermost view.
pub fn record(fd: c_int, virt: &[u8], routes_relative: bool) {
    let Some(i) = slot(fd) else { return };
    // A vfork child's descriptors are its own; the table is its parent's memory.
    if !crate::sys::owns_memory() {
        return;
    }
    if NAMES[i].is_empty() {
        RECORDED.fetch_add(1, Ordering::Relaxed);
    }
    ROUTES_RELATIVE[i].store(routes_relative, Ordering::Relaxed);
    NAMES[i].store(virt);
}

/// Forgets `fd` (it is being closed, or replaced by `dup2`).
#[inline(always)]
pub fn forget(fd: c_int) {
    if RECORDED.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Some(i) = slot(fd) else { return };
    if !NAMES[i].is_empty() && crate::sys::owns_memory() {
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
        forget(fd as c_int);
    }
}

/// `to` is now a duplicate of `from`.
pub fn copy(from: c_int, to: c_int) {
    if RECORDED.load(Ordering::Relaxed) == 0 || from == to {
        return;
    }
    forget(to);
    let mut name = PBuf::new();
    if let (Some(i), true) = (slot(from), is_recorded(from)) {
        if NAMES[i].load(&mut name).unwrap_or(false) {
            record(to, name.as_bytes(), ROUTES_RELATIVE[i].load(Ordering::Relaxed));
        }
    }
}

#[inline(always)]
pub fn is_recorded(fd: c_int) -> bool {
    RECORDED.load(Ordering::Relaxed) != 0 && slot(fd).is_some_and(|i| !NAMES[i].is_empty())
}

/// Whether paths relative to the recorded directory must go through the view.
pub fn routes_relative(fd: c_int) -> bool {
    slot(fd).is_some_and(|i| ROUTES_RELATIVE[i].load(Ordering::Relaxed))
}

/// The recorded virtual path of `fd`, if any.
pub fn name(fd: c_int, out: &mut PBuf) -> bool {
    is_recorded(fd) && slot(fd).is_some_and(|i| NAMES[i].load(out).unwrap_or(false))
}

/// Calls `f(fd, name)` for every recorded descriptor (exec passes them on).
pub fn each(mut f: impl FnMut(c_int, &[u8])) {
    if RECORDED.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut name = PBuf::new();
    for (i, n) in NAMES.iter().enumerate() {
        if !n.is_empty() && n.load(&mut name).unwrap_or(false) {
            f(i as c_int, name.as_bytes());
        }
    }
}
