//! The path buffer: a NUL-terminated C string on the stack, handed to the kernel as it is.
//!
//! It lives at the FFI edge because it is one: its bytes go to libc as `const char *`. It is
//! left uninitialized past its contents, since zeroing 4 KiB on every translated call would
//! cost more than the rest of the resolver together. Everything else about it is safe.
#![allow(unsafe_code)]

use crate::errno::{Errno, Res};
use libc::c_char;
use std::mem::MaybeUninit;

/// Room for a virtual path of `PATH_MAX` bytes plus a mount source in front of it (a multiple
/// of 8: see [`PBuf::set_from_words`]).
pub const CAP: usize = libc::PATH_MAX as usize + 256;
const _: () = assert!(CAP % 8 == 0);

/// The bytes [`PBuf::slash_dot_masks`] reads at once: always initialized.
pub const WINDOW: usize = 64;

/// A path on the stack. Invariant: `bytes[..=len]` and the first [`WINDOW`] bytes are
/// initialized, and `bytes[len]` is NUL.
pub struct PBuf {
    len: usize,
    bytes: MaybeUninit<[u8; CAP]>,
}

impl PBuf {
    /// An empty buffer, for a static (the pool's slots): all its bytes initialized.
    pub const fn empty() -> PBuf {
        PBuf { len: 0, bytes: MaybeUninit::new([0; CAP]) }
    }

    /// A buffer on the stack: for tests only (the library takes its buffers from
    /// `sys::pool`, off the stack).
    #[cfg(test)]
    #[inline(always)]
    pub fn new() -> PBuf {
        let mut p = MaybeUninit::<PBuf>::uninit();
        let raw = p.as_mut_ptr();
        // SAFETY: writing the fields that need a value: the length and the first WINDOW bytes
        // (which hold the NUL); the rest may stay uninitialized, as its type says. (Built this
        // way because a struct literal makes the compiler copy 4 KiB of "uninitialized"
        // template bytes on every call.)
        unsafe {
            std::ptr::addr_of_mut!((*raw).len).write(0);
            std::ptr::addr_of_mut!((*raw).bytes).cast::<[u8; WINDOW]>().write([0; WINDOW]);
            p.assume_init()
        }
    }

    #[cfg(test)]
    pub fn from_bytes(b: &[u8]) -> Res<PBuf> {
        let mut p = PBuf::new();
        p.push_bytes(b)?;
        Ok(p)
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: bytes[..len] is initialized (the invariant).
        unsafe { std::slice::from_raw_parts(self.bytes.as_ptr().cast::<u8>(), self.len) }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that can be written before the terminating NUL.
    pub fn capacity(&self) -> usize {
        CAP - 1
    }

    #[inline]
    pub fn as_cptr(&self) -> *const c_char {
        self.bytes.as_ptr().cast()
    }

    /// For a C call that writes up to `capacity()` bytes; follow it with [`PBuf::set_len`].
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr().cast()
    }

    /// Lets `f` rewrite the contents in place and shorten them: it returns the new length
    /// (at most the old one).
    pub fn rewrite(&mut self, f: impl FnOnce(&mut [u8]) -> usize) {
        let len = self.len;
        // SAFETY: bytes[..len] is initialized (the invariant) and borrowed mutably once.
        let new_len = f(unsafe { std::slice::from_raw_parts_mut(self.as_mut_ptr(), len) });
        self.set_len(new_len.min(len));
    }

    /// Lets `f` write the contents from the start into the whole buffer (zeroed first: for slow
    /// paths only) and return their length.
    pub fn fill_with(&mut self, f: impl FnOnce(&mut [u8]) -> Res<usize>) -> Res<()> {
        // SAFETY: zeroing makes all CAP bytes initialized; the slice is the buffer, borrowed once.
        let buf = unsafe {
            std::ptr::write_bytes(self.as_mut_ptr(), 0, CAP);
            std::slice::from_raw_parts_mut(self.as_mut_ptr(), CAP - 1)
        };
        match f(buf) {
            Ok(n) => {
                self.set_len(n.min(CAP - 1));
                Ok(())
            }
            Err(e) => {
                self.set_len(0);
                Err(e)
            }
        }
    }

    /// The whole buffer as bytes to write freely (what lies past the contents is zeroed first);
    /// the contents' length is then the caller's to set.
    pub fn all_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        // SAFETY: zeroing the tail makes all CAP bytes initialized; the slice is the buffer,
        // borrowed mutably once.
        unsafe {
            std::ptr::write_bytes(self.as_mut_ptr().add(len), 0, CAP - len);
            std::slice::from_raw_parts_mut(self.as_mut_ptr(), CAP)
        }
    }

    /// Sets the length after the buffer's first `len` bytes were written.
    #[inline(always)]
    pub fn set_len(&mut self, len: usize) {
        assert!(len < CAP);
        self.len = len;
        // SAFETY: len < CAP, inside the buffer.
        unsafe { self.as_mut_ptr().add(len).write(0) };
    }

    pub fn clear(&mut self) {
        self.set_len(0);
    }

    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.set_len(len);
        }
    }

    #[inline(always)]
    pub fn push_bytes(&mut self, b: &[u8]) -> Res<()> {
        let end = self.len + b.len();
        if end >= CAP {
            return Err(Errno::ENAMETOOLONG);
        }
        // SAFETY: end < CAP, so the copy stays inside the buffer; `b` may overlap it (a slice of
        // this very buffer is never passed while it is borrowed mutably, but copy allows it).
        unsafe { std::ptr::copy(b.as_ptr(), self.as_mut_ptr().add(self.len), b.len()) };
        self.set_len(end);
        Ok(())
    }

    pub fn push_byte(&mut self, b: u8) -> Res<()> {
        self.push_bytes(&[b])
    }

    pub fn set(&mut self, b: &[u8]) -> Res<()> {
        self.clear();
        self.push_bytes(b)
    }

    /// For contents shorter than [`WINDOW`] bytes: one bit per byte (bit `i` for byte `i`, none
    /// at or past the length) for the slashes and for the dots, read in one pass of SSE2 loads
    /// (part of every x86-64 CPU), sixteen bytes each. `None` for longer contents.
    #[inline]
    pub fn slash_dot_masks(&self) -> Option<(u64, u64)> {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        if self.len >= WINDOW {
            return None;
        }
        let (mut slashes, mut dots) = (0u64, 0u64);
        // SAFETY: the first WINDOW bytes are initialized (the invariant) and inside the buffer.
        unsafe {
            let base = self.bytes.as_ptr().cast::<u8>();
            for block in 0..=self.len / 16 {
                let v = _mm_loadu_si128(base.add(block * 16).cast::<__m128i>());
                slashes |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8))) as u16 as u64) << (block * 16);
                dots |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8))) as u16 as u64) << (block * 16);
            }
        }
        let valid = (1u64 << self.len) - 1;
        Some((slashes & valid, dots & valid))
    }

    /// Sets the contents from `len` bytes given as 8-byte words (the last one's tail beyond
    /// `len` ignored): one store per word, for paths read out of atomic words.
    #[inline]
    pub fn set_from_words(&mut self, len: usize, words: impl Iterator<Item = u64>) -> Res<()> {
        if len >= CAP {
            return Err(Errno::ENAMETOOLONG);
        }
        let base = self.as_mut_ptr();
        for (i, w) in words.take(len.div_ceil(8)).enumerate() {
            // CAP is a multiple of 8 and i * 8 < len < CAP: the word lies inside the buffer.
            debug_assert!(i * 8 + 8 <= CAP);
            // SAFETY: inside the buffer (above); unaligned store of plain bytes.
            unsafe { base.add(i * 8).cast::<u64>().write_unaligned(w) };
        }
        self.set_len(len);
        Ok(())
    }

    /// Replaces `self[..prefix_len]` by `with` (a mount's path by its source), in place.
    pub fn replace_prefix(&mut self, prefix_len: usize, with: &[u8]) -> Res<()> {
        let len = self.len;
        let prefix_len = prefix_len.min(len);
        let new_len = len - prefix_len + with.len();
        if new_len >= CAP {
            return Err(Errno::ENAMETOOLONG);
        }
        // SAFETY: both ranges lie inside the buffer; `copy` handles the overlap.
        unsafe {
            let p = self.as_mut_ptr();
            std::ptr::copy(p.add(prefix_len), p.add(with.len()), len - prefix_len);
            std::ptr::copy_nonoverlapping(with.as_ptr(), p, with.len());
        }
        self.set_len(new_len);
        Ok(())
    }

    /// `base` followed by `rest` (empty, `/`, or starting with `/`): `base/rest`, `/rest` when
    /// `base` is `/`, `base` alone for an empty `rest` or `/`.
    pub fn set_under(&mut self, base: &[u8], rest: &[u8]) -> Res<()> {
        self.set(base)?;
        if !rest.is_empty() && rest != b"/" {
            if self.as_bytes() == b"/" {
                self.clear();
            }
            self.push_bytes(rest)?;
        }
        Ok(())
    }

    /// Appends `/name` to a canonical absolute path (no doubled slash after `/`).
    pub fn push_component(&mut self, name: &[u8]) -> Res<()> {
        if self.as_bytes() != b"/" {
            self.push_byte(b'/')?;
        }
        self.push_bytes(name)
    }

    /// Removes the last component of a canonical absolute path; `/` stays `/`.
    pub fn pop_component(&mut self) {
        let cut = match memchr::memrchr(b'/', self.as_bytes()) {
            Some(0) | None => 1,
            Some(i) => i,
        };
        self.set_len(cut.min(self.len));
    }
}
