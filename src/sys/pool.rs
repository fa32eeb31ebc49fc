//! Path buffers off the stack. A call through a view needs a buffer for the path it hands the
//! kernel (4 KiB and more); on the stack, that alone is most of what a signal handler on a
//! `SIGSTKSZ` alternate stack has left once the kernel's signal frame is on it (3.3 KiB with
//! AVX-512). So the buffers come from a static pool, claimed and released lock-free (one
//! compare-and-swap each way); a claim that finds the pool empty, and any claim in a `vfork`
//! child (which may exec before it could give the buffer back to its parent's pool), uses the
//! stack instead.
#![allow(unsafe_code)]

use super::PBuf;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};

const WORDS: usize = 4;
const SLOTS: usize = WORDS * 64;

struct Slots(UnsafeCell<[PBuf; SLOTS]>);
// SAFETY: slot i is used only by the claimer of bit i, from its claim to its release.
unsafe impl Sync for Slots {}

static POOL: Slots = Slots(UnsafeCell::new([const { PBuf::empty() }; SLOTS]));
static TAKEN: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];

/// A claimed slot, given back when dropped (a panic unwinding through included).
struct Claim(usize);

impl Drop for Claim {
    fn drop(&mut self) {
        TAKEN[self.0 / 64].fetch_and(!(1u64 << (self.0 % 64)), Ordering::Release);
    }
}

fn claim() -> Option<Claim> {
    for (w, word) in TAKEN.iter().enumerate() {
        let mut bits = word.load(Ordering::Relaxed);
        while bits != u64::MAX {
            let i = (!bits).trailing_zeros() as usize;
            match word.compare_exchange_weak(bits, bits | (1 << i), Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(Claim(w * 64 + i)),
                Err(now) => bits = now,
            }
        }
    }
    None
}

/// Runs `f` with an empty path buffer, from the pool if it can.
#[inline]
pub fn with_buf<R>(f: impl FnOnce(&mut PBuf) -> R) -> R {
    if super::owns_memory() {
        if let Some(c) = claim() {
            // SAFETY: bit c.0 is ours until `c` drops; no other reference to the slot exists.
            let buf = unsafe { &mut (*POOL.0.get())[c.0] };
            buf.clear();
            return f(buf);
        }
    }
    on_stack(f)
}

#[inline(never)]
fn on_stack<R>(f: impl FnOnce(&mut PBuf) -> R) -> R {
    let mut b = PBuf::new();
    f(&mut b)
}

/// Two buffers at once.
#[inline]
pub fn with_bufs<R>(f: impl FnOnce(&mut PBuf, &mut PBuf) -> R) -> R {
    with_buf(|a| with_buf(|b| f(a, b)))
}

/// In the child of a `fork`: the buffers other threads held are theirs no more.
pub fn after_fork() {
    for w in &TAKEN {
        w.store(0, Ordering::Relaxed);
    }
}
