//! A C argument vector (`argv`), read safely once its pointer is vouched for.
#![allow(unsafe_code)]

use libc::c_char;
use std::ffi::CStr;

/// A NULL-terminated array of NUL-terminated strings, valid while the call that received it runs.
#[derive(Clone, Copy)]
pub struct ArgList(*const *const c_char);

impl ArgList {
    /// # Safety
    /// `p` is NULL or a NULL-terminated array of valid C strings, for as long as this is used.
    pub unsafe fn new(p: *const *const c_char) -> ArgList {
        ArgList(p)
    }

    /// The arguments' bytes, in order (none for a NULL vector).
    pub fn iter(self) -> impl Iterator<Item = &'static [u8]> {
        let mut i = 0;
        std::iter::from_fn(move || {
            if self.0.is_null() {
                return None;
            }
            // SAFETY: per `new`'s contract, every element up to the NULL is a valid C string.
            let p = unsafe { *self.0.add(i) };
            if p.is_null() {
                return None;
            }
            i += 1;
            // SAFETY: as above.
            Some(unsafe { CStr::from_ptr(p) }.to_bytes())
        })
    }
}
