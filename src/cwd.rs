//! The process's virtual working directory: what `getcwd` answers and what relative paths
//! start from when the kernel's cwd alone would not do (a cwd under a mount, or above one).
//!
//! Kept without a lock, so that a signal handler or a `vfork` child can read it: a few slots,
//! each guarded by a sequence number; a writer fills a slot nobody points to and then publishes
//! it, a reader copies the published slot and checks its sequence did not move.

use crate::sys::PBuf;
use crate::stack;
use crate::sys;
use libc::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

const WORDS: usize = crate::sys::CAP / 8;
const SLOTS: usize = 4;

struct Slot {
    seq: AtomicU64,
    virt_len: AtomicUsize,
    host_len: AtomicUsize,
    virt: [AtomicU64; WORDS],
    host: [AtomicU64; WORDS],
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            seq: AtomicU64::new(0),
            virt_len: AtomicUsize::new(0),
            host_len: AtomicUsize::new(0),
            virt: [const { AtomicU64::new(0) }; WORDS],
            host: [const { AtomicU64::new(0) }; WORDS],
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// A virtual cwd is known (false outside a view, or when the cwd could not be read).
static KNOWN: AtomicBool = AtomicBool::new(false);
/// The cwd is under no mount and above none: relative paths without `..` are hot.
static PLAIN: AtomicBool = AtomicBool::new(true);

fn store_words(dst: &[AtomicU64], src: &[u8]) {
    for (i, chunk) in src.chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        dst[i].store(u64::from_ne_bytes(w), Ordering::Relaxed);
    }
}

fn load_words(src: &[AtomicU64], len: usize, out: &mut PBuf) -> Result<(), c_int> {
    out.clear();
    let mut left = len;
    for w in src.iter().take(len.div_ceil(8)) {
        let bytes = w.load(Ordering::Relaxed).to_ne_bytes();
        let n = left.min(8);
        out.push_bytes(&bytes[..n])?;
        left -= n;
    }
    Ok(())
}

/// Whether relative paths without `..` may go to the kernel as they are.
#[inline(always)]
pub fn is_plain() -> bool {
    PLAIN.load(Ordering::Relaxed)
}

/// Publishes a new working directory: `virt` in the innermost view's terms, `host` the kernel's.
pub fn set(virt: &[u8], host: &[u8]) {
    let Some(rt) = stack::runtime() else { return };
    let i = (NEXT.fetch_add(1, Ordering::Relaxed) + 1) % SLOTS;
    let slot = &TABLE[i];
    slot.seq.fetch_add(1, Ordering::Acquire);
    store_words(&slot.virt, virt);
    store_words(&slot.host, host);
    slot.virt_len.store(virt.len(), Ordering::Relaxed);
    slot.host_len.store(host.len(), Ordering::Relaxed);
    slot.seq.fetch_add(1, Ordering::Release);
    CURRENT.store(i, Ordering::Release);
    KNOWN.store(true, Ordering::Release);
    PLAIN.store(rt.is_plain(virt), Ordering::Relaxed);
    crate::hooks::env::publish_cwd(virt);
}

/// Copies the current virtual cwd (and, if asked, the host path it was set with).
pub fn get(virt: &mut PBuf, host: Option<&mut PBuf>) -> Result<(), c_int> {
    if !KNOWN.load(Ordering::Acquire) {
        return Err(libc::ENOENT);
    }
    let mut host = host;
    for _ in 0..64 {
        let slot = &TABLE[CURRENT.load(Ordering::Acquire)];
        let s1 = slot.seq.load(Ordering::Acquire);
        if s1 % 2 == 1 {
            continue;
        }
        load_words(&slot.virt, slot.virt_len.load(Ordering::Relaxed), virt)?;
        if let Some(h) = host.as_deref_mut() {
            load_words(&slot.host, slot.host_len.load(Ordering::Relaxed), h)?;
        }
        std::sync::atomic::fence(Ordering::Acquire);
        if slot.seq.load(Ordering::Relaxed) == s1 {
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
    if let Some(claimed) = sys::getenv(b"KMVIEW_CWD\0") {
        let mut behind = PBuf::new();
        if claimed.first() == Some(&b'/')
            && kmview_api::format::check_mount_path(claimed).is_ok()
            && stack::translate_canonical(rt, claimed, &mut behind).is_ok()
            && same_dir(&behind, &host)
        {
            set(claimed, host.as_bytes());
            return;
        }
    }
    let host_bytes = host.as_bytes().to_vec();
    set(&host_bytes, &host_bytes);
}

fn same_dir(a: &PBuf, b: &PBuf) -> bool {
    a.as_bytes() == b.as_bytes()
        || matches!((sys::host_stat(a, true), sys::host_stat(b, true)), (Ok(x), Ok(y)) if x.0 == y.0 && x.1 == y.1)
}
