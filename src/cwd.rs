//! The process's virtual working directory: what `getcwd` answers and what relative paths
//! start from when the kernel's cwd alone would not do (a cwd under a mount, or above one).
//!
//! Kept without a lock, so that a signal handler or a `vfork` child can read it: a few slots of
//! [`SeqPath`]s; a writer fills a slot nobody points to and then publishes it.

use crate::sys::PBuf;
use crate::stack;
use crate::sys;
use libc::c_int;
use crate::seqpath::SeqPath;
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
/// A virtual cwd is known (false outside a view, or when the cwd could not be read).
static KNOWN: AtomicBool = AtomicBool::new(false);
/// The cwd is under no mount and above none: relative paths without `..` are hot.
static PLAIN: AtomicBool = AtomicBool::new(true);

/// Whether relative paths without `..` may go to the kernel as they are.
#[inline(always)]
pub fn is_plain() -> bool {
    PLAIN.load(Ordering::Relaxed)
}

/// Publishes a new working directory: `virt` in the innermost view's terms, `host` the kernel's.
pub fn set(virt: &[u8], host: &[u8]) {
    let Some(rt) = stack::runtime() else { return };
    // A vfork child's chdir is its own; the memory is its parent's.
    if !sys::owns_memory() {
        return;
    }
    // A fresh slot: a reader (even one this writer interrupted) still sees the published one.
    let i = (NEXT.fetch_add(1, Ordering::Relaxed) + 1) % SLOTS;
    TABLE[i].virt.store(virt);
    TABLE[i].host.store(host);
    CURRENT.store(i, Ordering::Release);
    KNOWN.store(true, Ordering::Release);
    PLAIN.store(rt.is_plain(virt), Ordering::Relaxed);
    crate::hooks::env::publish_cwd(virt);
}

/// Copies the current virtual cwd (and, if asked, the host path it was set with).
pub fn get(virt: &mut PBuf, mut host: Option<&mut PBuf>) -> Result<(), c_int> {
    if !KNOWN.load(Ordering::Acquire) {
        return Err(libc::ENOENT);
    }
    for _ in 0..8 {
        let i = CURRENT.load(Ordering::Acquire);
        let slot = &TABLE[i];
        if slot.virt.load(virt).is_ok() && host.as_deref_mut().map_or(true, |h| slot.host.load(h).is_ok()) && CURRENT.load(Ordering::Acquire) == i {
            return Ok(());
        }
    }
    Err(libc::EAGAIN)
}

/// `cwd + "/" + rel`, in the innermost view's terms.
pub fn absolute(rel: &[u8], out: &mut PBuf) -> Result<(), c_int> {
    match get(out, None) {
        Ok(()) => {}
        // Unknown cwd (removed, or never readable): the kernel's answer is all there is.
        Err(_) => sys::host_getcwd(out)?,
    }
    if out.as_bytes() != b"/" {
        out.push_byte(b'/')?;
    }
    out.push_bytes(rel)
}

/// Reads the starting cwd: `KMVIEW_CWD` if it names the directory the kernel says we are in
/// (so a stale value is never believed), else the kernel's path.
pub fn init() {
    let Some(rt) = stack::runtime() else { return };
    let mut host = PBuf::new();
    if sys::host_getcwd(&mut host).is_err() {
        PLAIN.store(true, Ordering::Relaxed);
        return;
    }
    let claimed = sys::getenv(b"KMVIEW_CWD\0").filter(|c| c.first() == Some(&b'/') && kmview_api::format::check_mount_path(c).is_ok());
    if let Some(claimed) = claimed {
        let mut behind = PBuf::new();
        if stack::translate_canonical(rt, claimed, crate::views::Access::Look, &mut behind).is_ok() && same_dir(&behind, &host) {
            set(claimed, host.as_bytes());
            return;
        }
    }
    // Moved or renamed since the parent named it: the kernel's path, named in the view with the
    // parent's name as the hint.
    let mut virt = PBuf::new();
    if stack::reverse(host.as_bytes(), claimed.unwrap_or(b""), &mut virt).is_err() {
        let _ = virt.set(host.as_bytes());
    }
    let (v, h) = (virt.as_bytes().to_vec(), host.as_bytes().to_vec());
    set(&v, &h);
}

fn same_dir(a: &PBuf, b: &PBuf) -> bool {
    a.as_bytes() == b.as_bytes()
        || matches!((sys::host_stat(a, true), sys::host_stat(b, true)), (Ok(x), Ok(y)) if x.0 == y.0 && x.1 == y.1)
}
