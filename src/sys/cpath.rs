//! A C path argument as the hot test reads it: a pointer to a NUL-terminated string, looked at
//! without first measuring it (the scan finds the end as it goes).
#![allow(unsafe_code)]

use libc::c_char;

#[derive(Clone, Copy)]
pub struct CPath(*const u8);

impl CPath {
    /// # Safety
    /// `p` is NULL or a NUL-terminated string that stays valid and unchanged during the call.
    #[inline(always)]
    pub unsafe fn new(p: *const c_char) -> CPath {
        CPath(p.cast())
    }

    #[inline(always)]
    pub fn is_null(self) -> bool {
        self.0.is_null()
    }

    /// The first byte (0 for an empty string). Not for NULL.
    #[inline(always)]
    pub fn first(self) -> u8 {
        // SAFETY: a non-NULL C string has at least its NUL.
        unsafe { *self.0 }
    }

    /// Whether some component is `..`.
    #[inline(always)]
    pub fn has_dotdot(self) -> bool {
        // SAFETY: a non-NULL C string (the caller's contract).
        unsafe { super::scan::has_dotdot(self.0) }
    }

    /// The byte at `i` (every byte before it is not the NUL).
    #[inline(always)]
    pub fn at(self, i: usize) -> u8 {
        // SAFETY: the bytes before `i` are not the NUL, so `i` is within the string.
        unsafe { *self.0.add(i) }
    }

    /// For an absolute path whose first component is a plain name (`/usr/...`): that name.
    /// `None` for `/`, `//x`, `/./x` and the like (they take the slow way).
    pub fn first_component(self) -> Option<&'static [u8]> {
        let c = self.at(1);
        if c == 0 || c == b'/' || c == b'.' {
            return None;
        }
        let mut n = 2;
        while !matches!(self.at(n), 0 | b'/') {
            n += 1;
        }
        // SAFETY: bytes 1..n are before the NUL.
        Some(unsafe { std::slice::from_raw_parts(self.0.add(1), n - 1) })
    }

    /// All of it.
    pub fn bytes(self) -> &'static [u8] {
        // SAFETY: a non-NULL C string (the caller's contract); the lifetime is the call's.
        unsafe { std::ffi::CStr::from_ptr(self.0.cast()).to_bytes() }
    }
}
