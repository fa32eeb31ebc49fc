//! The path buffer handed to the kernel: a NUL-terminated C string on the stack.
//!
//! It lives at the FFI edge because it is one: its bytes go to libc as `const char *`. It is
//! left uninitialized past its contents, since zeroing 4 KiB on every translated call would
//! cost more than the rest of the resolver together.

use libc::{c_char, c_int};
use std::mem::MaybeUninit;

/// Room for a virtual path of `PATH_MAX` bytes plus a mount source in front of it.
pub const CAP: usize = libc::PATH_MAX as usize + 256;

/// A path on the stack. Invariant: `bytes[..=len]` is initialized and `bytes[len]` is NUL.
pub struct PBuf {
    len: usize,
    bytes: MaybeUninit<[u8; CAP]>,
}

impl Default for PBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PBuf {
    #[inline(always)]
    pub fn new() -> PBuf {
        let mut p = MaybeUninit::<PBuf>::uninit();
        let raw = p.as_mut_ptr();
        // SAFETY: writing the two fields that need a value; `bytes` may stay uninitialized, as
        // its type says. (Built this way because a struct literal makes the compiler copy 4 KiB
        // of "uninitialized" template bytes on every call.)
        unsafe {
            std::ptr::addr_of_mut!((*raw).len).write(0);
            std::ptr::addr_of_mut!((*raw).bytes).cast::<u8>().write(0);
            p.assume_init()
        }
    }

    pub fn from_bytes(b: &[u8]) -> Result<PBuf, c_int> {
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

    /// Sets the length after a C call wrote `len` bytes (and possibly a NUL) into the buffer.
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
    pub fn push_bytes(&mut self, b: &[u8]) -> Result<(), c_int> {
        let end = self.len + b.len();
        if end >= CAP {
            return Err(libc::ENAMETOOLONG);
        }
        // SAFETY: end < CAP, so the copy stays inside the buffer; `b` cannot overlap it mutably.
        unsafe { std::ptr::copy(b.as_ptr(), self.as_mut_ptr().add(self.len), b.len()) };
        self.set_len(end);
        Ok(())
    }

    pub fn push_byte(&mut self, b: u8) -> Result<(), c_int> {
        self.push_bytes(&[b])
    }

    pub fn set(&mut self, b: &[u8]) -> Result<(), c_int> {
        self.clear();
        self.push_bytes(b)
    }

    /// Appends `/name` to a canonical absolute path (no doubled slash after `/`).
    pub fn push_component(&mut self, name: &[u8]) -> Result<(), c_int> {
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
