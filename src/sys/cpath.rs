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

    /// See [`super::scan::dotdot_stays`] (`None`: count byte by byte).
    #[inline]
    pub fn dotdot_stays(self, relative: bool) -> Option<bool> {
        // SAFETY: a non-NULL C string (the caller's contract).
        unsafe { super::scan::dotdot_stays(self.0, relative) }
    }

    /// The byte at `i` (every byte before it is not the NUL).
    #[inline(always)]
    pub fn at(self, i: usize) -> u8 {
        // SAFETY: the bytes before `i` are not the NUL, so `i` is within the string.
        unsafe { *self.0.add(i) }
    }

    /// Whether the first component of this absolute path is `comp` (not empty, no NUL or `/`
    /// in it), compared in place: no byte past the string's NUL is read.
    #[inline]
    pub fn first_component_is(self, comp: &[u8]) -> bool {
        for (i, &c) in comp.iter().enumerate() {
            // Every earlier byte matched a byte of `comp`, none of which is NUL: byte 1 + i is
            // within the string.
            if self.at(1 + i) != c {
                return false;
            }
        }
        matches!(self.at(1 + comp.len()), 0 | b'/')
    }

    /// All of it.
    pub fn bytes(self) -> &'static [u8] {
        // SAFETY: a non-NULL C string (the caller's contract); the lifetime is the call's.
        unsafe { std::ffi::CStr::from_ptr(self.0.cast()).to_bytes() }
    }
}
