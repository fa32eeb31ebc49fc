//! A path in shared memory that any thread, signal handler or `vfork` child can read without a
//! lock: the bytes sit in atomic words guarded by a sequence number (odd while a writer is
//! mid-way), and a reader retries if the number moved under it.

use crate::errno::{Errno, Res};
use crate::sys::{PBuf, CAP};
use std::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};

const WORDS: usize = CAP.div_ceil(8);

/// Writes under way in this process (any `SeqPath`): a child forked in the middle of one repairs
/// what it inherited (see [`SeqPath::repair`]).
pub static WRITING: AtomicUsize = AtomicUsize::new(0);

pub struct SeqPath {
    seq: AtomicU64,
    /// 0: empty.
    len: AtomicUsize,
    words: [AtomicU64; WORDS],
}

impl SeqPath {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> SeqPath {
        SeqPath { seq: AtomicU64::new(0), len: AtomicUsize::new(0), words: [const { AtomicU64::new(0) }; WORDS] }
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len.load(Ordering::Relaxed) == 0
    }

    /// Writes `bytes` (an empty slice clears it). Writers of one SeqPath must not race each
    /// other; readers may come at any time.
    pub fn store(&self, bytes: &[u8]) {
        let bytes = &bytes[..bytes.len().min(CAP - 1)];
        WRITING.fetch_add(1, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Acquire);
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.words[i].store(u64::from_ne_bytes(w), Ordering::Relaxed);
        }
        self.len.store(bytes.len(), Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
        WRITING.fetch_sub(1, Ordering::Relaxed);
    }

    /// Copies the path into `out`; `Ok(false)` if empty, `Err(EAGAIN)` if writers kept moving it.
    pub fn load(&self, out: &mut PBuf) -> Res<bool> {
        for _ in 0..64 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let len = self.len.load(Ordering::Relaxed).min(CAP - 1);
            out.set_from_words(len, self.words.iter().map(|w| w.load(Ordering::Relaxed)))?;
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return Ok(len > 0);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// Whether the path is `bytes`, compared in place; `Err(EAGAIN)` if writers kept moving it.
    pub fn equals(&self, bytes: &[u8]) -> Res<bool> {
        for _ in 0..64 {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let same = self.len.load(Ordering::Relaxed) == bytes.len()
                && bytes.chunks(8).zip(&self.words).all(|(chunk, w)| {
                    let mine = w.load(Ordering::Relaxed).to_ne_bytes();
                    mine[..chunk.len()] == *chunk
                });
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return Ok(same);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// In a child forked while some thread was writing this path: the write will never finish
    /// here, so the half-written path is dropped.
    pub fn repair(&self) {
        if self.seq.load(Ordering::Relaxed) % 2 == 1 {
            self.len.store(0, Ordering::Relaxed);
            self.seq.fetch_add(1, Ordering::Release);
        }
    }
}
