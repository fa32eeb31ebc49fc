//! The process's virtual working directory: what `getcwd` answers and what relative paths start
//! from when the kernel's cwd alone would not do (a cwd under an entry, or above one).
//!
//! Kept without a lock, so that a signal handler or a `vfork` child can read it: a few slots of
//! [`SeqPath`]s; a writer fills a slot nobody points to and then publishes it. Only storage here:
//! deciding what the cwd is (at start-up, after a rename) is the resolver's (`resolver::cwd`).

use super::seqpath::SeqPath;
use crate::errno::{Errno, Res};
use crate::sys::PBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const SLOTS: usize = 4;

/// One published working directory: its virtual path and the kernel's path at that time.
struct Slot {
    virt: SeqPath,
    host: SeqPath,
}

static TABLE: [Slot; SLOTS] = [const { Slot { virt: SeqPath::new(), host: SeqPath::new() } }; SLOTS];
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// A virtual cwd is known (false until first needed, or when the cwd could not be read).
static KNOWN: AtomicBool = AtomicBool::new(false);
/// The cwd is under no entry and above none: relative paths without `..` are hot.
static PLAIN: AtomicBool = AtomicBool::new(false);

/// Whether relative paths without `..` may go to the kernel as they are.
#[inline(always)]
pub fn is_plain() -> bool {
    PLAIN.load(Ordering::Relaxed)
}

pub fn is_known() -> bool {
    KNOWN.load(Ordering::Acquire)
}

/// Publishes a new working directory: `virt` in the innermost view's terms, `host` the
/// kernel's; `plain` as [`is_plain`]. A `vfork` child's chdir is its own, its memory its
/// parent's: it publishes nothing.
pub fn set(virt: &[u8], host: &[u8], plain: bool) {
    if !crate::sys::owns_memory() {
        return;
    }
    // A fresh slot: a reader (even one this writer interrupted) still sees the published one.
    let i = (NEXT.fetch_add(1, Ordering::Relaxed) + 1) % SLOTS;
    TABLE[i].virt.store(virt);
    TABLE[i].host.store(host);
    CURRENT.store(i, Ordering::Release);
    KNOWN.store(true, Ordering::Release);
    PLAIN.store(plain, Ordering::Relaxed);
}

/// Forgets the cwd (the kernel's moved without us: it is worked out again on next use).
pub fn forget() {
    if crate::sys::owns_memory() {
        PLAIN.store(false, Ordering::Relaxed);
        KNOWN.store(false, Ordering::Release);
    }
}

/// Copies the current virtual cwd (and, if asked, the host path it was set with).
pub fn get(virt: &mut PBuf, mut host: Option<&mut PBuf>) -> Res<()> {
    if !KNOWN.load(Ordering::Acquire) {
        return Err(Errno::ENOENT);
    }
    for _ in 0..8 {
        let i = CURRENT.load(Ordering::Acquire);
        let slot = &TABLE[i];
        if slot.virt.load(virt).is_ok() && host.as_deref_mut().is_none_or(|h| slot.host.load(h).is_ok()) && CURRENT.load(Ordering::Acquire) == i {
            return Ok(());
        }
    }
    Err(Errno::EAGAIN)
}

/// Copies the current virtual cwd if it was set with the kernel's `host` (`Ok(false)` if it was
/// set with another, or none is known).
pub fn get_if_host(virt: &mut PBuf, host: &[u8]) -> Res<bool> {
    if !KNOWN.load(Ordering::Acquire) {
        return Ok(false);
    }
    for _ in 0..8 {
        let i = CURRENT.load(Ordering::Acquire);
        let slot = &TABLE[i];
        if let (Ok(same), Ok(_)) = (slot.host.equals(host), slot.virt.load(virt)) {
            if CURRENT.load(Ordering::Acquire) == i {
                return Ok(same);
            }
        }
    }
    Err(Errno::EAGAIN)
}

pub(super) fn repair() {
    for s in &TABLE {
        s.virt.repair();
        s.host.repair();
    }
}
