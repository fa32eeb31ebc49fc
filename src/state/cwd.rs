//! The process's virtual working directory: what `getcwd` answers and what relative paths start
//! from when the kernel's cwd alone would not do (a cwd under an entry, or above one).
//!
//! Kept without a lock, so that a signal handler or a `vfork` child can read it: a few slots of
//! [`SeqPath`]s; a writer fills a slot nobody points to and then publishes it. Only storage here:
//! deciding what the cwd is (at start-up, after a rename) is the resolver's (`resolver::cwd`).

use super::seqpath::SeqPath;
use crate::errno::{Errno, Res};
use crate::sys::PBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

const SLOTS: usize = 16;

/// One working directory, published or about to be: its virtual path and the kernel's path.
struct Slot {
    virt: SeqPath,
    host: SeqPath,
    /// A `chdir` under way holds it (see [`prepare`]): nobody else writes it meanwhile.
    busy: AtomicBool,
}

static TABLE: [Slot; SLOTS] = [const { Slot { virt: SeqPath::new(), host: SeqPath::new(), busy: AtomicBool::new(false) } }; SLOTS];
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// A virtual cwd is known (false until first needed, or when the cwd could not be read).
static KNOWN: AtomicBool = AtomicBool::new(false);
/// Relative paths without `..` are the kernel's business (see `resolver::cwd::is_plain`): hot.
static PLAIN: AtomicBool = AtomicBool::new(false);
/// The cwd is under no entry and above none: the kernel's names under it are the view's too.
static NAMES_PLAIN: AtomicBool = AtomicBool::new(false);
/// `chdir`s between their system call's start and their publication: while one is, the
/// published cwd may lag the kernel's, and relative paths check it against the kernel.
static MOVING: AtomicUsize = AtomicUsize::new(0);

/// Whether some `chdir` of this process is under way (see [`MOVING`]).
pub fn is_moving() -> bool {
    MOVING.load(Ordering::Acquire) != 0
}

/// The end of a `chdir` begun with [`prepare`] or [`moving`] (published, or failed).
pub fn moved() {
    if crate::sys::owns_memory() {
        MOVING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// In the child of a `fork`: no `chdir` is under way here (one may have been in the parent), no
/// slot is held, and the published cwd is checked against the kernel's before it is next used
/// (the kernel copies the working directory after the memory: a parent's thread that moved in
/// between leaves the child a published cwd that is not its own).
pub fn after_fork() {
    MOVING.store(0, Ordering::Relaxed);
    for s in &TABLE {
        s.busy.store(false, Ordering::Relaxed);
    }
    if KNOWN.load(Ordering::Relaxed) && !PLAIN.load(Ordering::Relaxed) {
        VERIFY.store(true, Ordering::Relaxed);
    }
}

/// The published cwd must be checked against the kernel's once (see [`after_fork`]).
static VERIFY: AtomicBool = AtomicBool::new(false);

/// Whether the published cwd is to be checked now (once).
pub fn take_verify() -> bool {
    VERIFY.load(Ordering::Relaxed) && VERIFY.swap(false, Ordering::AcqRel)
}

/// Whether relative paths without `..` may go to the kernel as they are.
#[inline(always)]
pub fn is_plain() -> bool {
    PLAIN.load(Ordering::Relaxed)
}

/// Whether the kernel's name of a path relative to the cwd is its name in the view too.
pub fn names_plain() -> bool {
    NAMES_PLAIN.load(Ordering::Relaxed) && PLAIN.load(Ordering::Relaxed)
}

pub fn is_known() -> bool {
    KNOWN.load(Ordering::Acquire)
}

/// Publishes a new working directory: `virt` in the innermost view's terms, `host` the
/// kernel's; `plain` as [`is_plain`]. A `vfork` child's chdir is its own, its memory its
/// parent's: it publishes nothing.
pub fn set(virt: &[u8], host: &[u8], plain: (bool, bool)) {
    if !crate::sys::owns_memory() {
        return;
    }
    // A fresh slot: a reader (even one this writer interrupted) still sees the published one.
    let Some(i) = claim() else { return forget() };
    TABLE[i].virt.store(virt);
    TABLE[i].host.store(host);
    publish_prepared(i, plain);
}

/// A slot that is neither published nor held by a `chdir` under way, now held.
fn claim() -> Option<usize> {
    let current = CURRENT.load(Ordering::Acquire);
    for _ in 0..2 * SLOTS {
        let i = (NEXT.fetch_add(1, Ordering::Relaxed) + 1) % SLOTS;
        if i != current && TABLE[i].busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return Some(i);
        }
    }
    None
}

/// Fills a slot with a working directory about to be entered (`virt`, the kernel's `host`),
/// before the `chdir` that enters it, and holds it until the move ends: another thread, or a
/// child forked, that finds the kernel there before the move is published names it so
/// ([`find_by_host`]) rather than by the kernel's path. `None`: nothing held.
pub fn prepare(virt: &[u8], host: &[u8]) -> Option<usize> {
    if !crate::sys::owns_memory() {
        return None;
    }
    moving();
    let i = claim()?;
    TABLE[i].virt.store(virt);
    TABLE[i].host.store(host);
    Some(i)
}

/// Publishes the slot a [`prepare`] filled (the kernel is there now) and lets it go.
pub fn publish_prepared(i: usize, plain: (bool, bool)) {
    CURRENT.store(i, Ordering::Release);
    KNOWN.store(true, Ordering::Release);
    NAMES_PLAIN.store(plain.1, Ordering::Relaxed);
    PLAIN.store(plain.0, Ordering::Relaxed);
    TABLE[i].busy.store(false, Ordering::Release);
}

/// Lets a prepared slot go unpublished (the `chdir` failed, or another thread's won).
pub fn release(i: usize) {
    TABLE[i].busy.store(false, Ordering::Release);
}

/// A `chdir` is about to move the kernel's working directory somewhere not yet named: relative
/// paths take the slow way until the move is published.
pub fn moving() {
    if crate::sys::owns_memory() {
        MOVING.fetch_add(1, Ordering::AcqRel);
        PLAIN.store(false, Ordering::Relaxed);
    }
}

/// The newest slot whose kernel path is `host`: its virtual path into `virt`.
pub fn find_by_host(host: &[u8], virt: &mut PBuf) -> bool {
    // Other threads may be filling slots meanwhile: a slot is taken only if its two paths were
    // read between the same two sequence numbers of its own... (each path is read whole or not
    // at all), and the search goes round a few times before giving up.
    for _ in 0..4 {
        let newest = NEXT.load(Ordering::Acquire);
        for i in (0..SLOTS).map(|k| (newest + SLOTS - k) % SLOTS) {
            if TABLE[i].host.equals(host) == Ok(true) && TABLE[i].virt.load(virt) == Ok(true) && TABLE[i].host.equals(host) == Ok(true) {
                return true;
            }
        }
    }
    false
}

/// Mounts this process has had its working directory under, as `view << 16 | entry` plus one
/// (0: free): the names it entered directories by, which outlive the slots.
static ENTERED: [AtomicU32; 16] = [const { AtomicU32::new(0) }; 16];

/// Remembers that the working directory went under the mount `code` (see [`ENTERED`]).
pub fn note_entered(code: u32) {
    let code = code + 1;
    for e in &ENTERED {
        match e.compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(c) if c == code => return,
            Err(_) => {}
        }
    }
}

/// Calls `f` with each mount noted by [`note_entered`], until it returns true.
pub fn any_entered(mut f: impl FnMut(u32) -> bool) -> bool {
    ENTERED.iter().any(|e| {
        let c = e.load(Ordering::Acquire);
        c != 0 && f(c - 1)
    })
}

/// Forgets every name this process gave its working directories (a `chroot` made another view
/// the innermost: they were the old one's), and the cwd itself.
pub fn forget_names() {
    if !crate::sys::owns_memory() {
        return;
    }
    for s in &TABLE {
        if !s.busy.load(Ordering::Acquire) {
            s.host.store(b"");
            s.virt.store(b"");
        }
    }
    for e in &ENTERED {
        e.store(0, Ordering::Release);
    }
    forget();
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
        // An empty slot is one a fork caught half-written (see `repair`): unknown, not `/`.
        if slot.virt.load(virt) == Ok(true) && host.as_deref_mut().is_none_or(|h| slot.host.load(h).is_ok()) && CURRENT.load(Ordering::Acquire) == i {
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
        if let (Ok(same), Ok(true)) = (slot.host.equals(host), slot.virt.load(virt)) {
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
