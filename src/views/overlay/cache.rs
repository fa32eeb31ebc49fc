//! What an overlay found out about a directory of its lower tree, kept until the overlay's
//! upper next changes: "upper has nothing at this path, and nothing hides it" (so nothing below
//! it is in upper either). Then a path below it is the lower tree's with no probe of upper at
//! all. Per process, a fixed table of words (no allocation, no lock): each word is a hash of
//! the overlay, the path and the change count it was found at, so a change (a new count) makes
//! every word stale at once, and a word is written and read whole.

use std::sync::atomic::{AtomicU64, Ordering};

const WORDS: usize = 1024;

static WORDS_OF: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];

/// The hash of a path, built a byte at a time (FNV-1a): a prefix's hash is met on the way.
#[derive(Clone, Copy)]
pub struct PathHash(u64);

impl PathHash {
    pub fn new(slot: usize) -> PathHash {
        PathHash(0xcbf2_9ce4_8422_2325 ^ (slot as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    #[inline]
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The word for this path at change count `count` (never 0: 0 is an empty word).
    fn word(self, count: u64) -> u64 {
        // A finalizer (murmur3's) so that nearby counts and paths spread over the table.
        let mut x = self.0 ^ count.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        x | 1
    }
}

/// Remembers: upper has nothing at the path hashed, at change count `count`.
pub fn note_lower(h: PathHash, count: u64) {
    let w = h.word(count);
    WORDS_OF[(w >> 1) as usize % WORDS].store(w, Ordering::Relaxed);
}

/// Whether that was remembered at change count `count`.
pub fn is_lower(h: PathHash, count: u64) -> bool {
    let w = h.word(count);
    WORDS_OF[(w >> 1) as usize % WORDS].load(Ordering::Relaxed) == w
}
