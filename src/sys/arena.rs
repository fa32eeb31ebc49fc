//! Where the stack is loaded: one anonymous mapping sized for it, filled once and then only
//! read. Not the heap: loading happens before `main` or on a hook's first use, possibly while a
//! program's allocator holds its own lock.
#![allow(unsafe_code)]

use std::mem::{align_of, size_of};

pub struct Arena {
    base: *mut u8,
    len: usize,
    used: usize,
}

impl Arena {
    /// A fresh mapping of at least `len` bytes; `None` if the kernel refuses one.
    pub fn map(len: usize) -> Option<Arena> {
        let len = len.max(1).div_ceil(4096) * 4096;
        // SAFETY: an anonymous private mapping; never unmapped (it lives as long as the process).
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
        (p != libc::MAP_FAILED).then_some(Arena { base: p.cast(), len, used: 0 })
    }

    fn take(&mut self, size: usize, align: usize) -> Option<*mut u8> {
        let start = self.used.div_ceil(align) * align;
        let end = start.checked_add(size)?;
        if end > self.len {
            return None;
        }
        self.used = end;
        // SAFETY: start..end lies inside the mapping.
        Some(unsafe { self.base.add(start) })
    }

    /// A copy of `bytes` that lives as long as the process.
    pub fn bytes(&mut self, bytes: &[u8]) -> Option<&'static [u8]> {
        let p = self.take(bytes.len(), 1)?;
        // SAFETY: p has room for bytes.len() bytes, owned by no one else, never freed.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            Some(std::slice::from_raw_parts(p, bytes.len()))
        }
    }

    /// `n` bytes written by `fill`, living as long as the process.
    pub fn bytes_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8])) -> Option<&'static [u8]> {
        let p = self.take(n, 1)?;
        // SAFETY: as in `bytes`; the mapping is zero-filled, so the slice is initialized.
        unsafe {
            let s = std::slice::from_raw_parts_mut(p, n);
            fill(s);
            Some(s)
        }
    }

    /// `n` copies of `value`, living as long as the process.
    pub fn slice<T: Copy>(&mut self, n: usize, value: T) -> Option<&'static mut [T]> {
        let p = self.take(n * size_of::<T>(), align_of::<T>())?.cast::<T>();
        // SAFETY: p is aligned for T and has room for n of them, owned by no one else.
        unsafe {
            for i in 0..n {
                p.add(i).write(value);
            }
            Some(std::slice::from_raw_parts_mut(p, n))
        }
    }

    /// One `value`, living as long as the process.
    pub fn one<T>(&mut self, value: T) -> Option<&'static mut T> {
        let p = self.take(size_of::<T>(), align_of::<T>())?.cast::<T>();
        // SAFETY: as in `slice`.
        unsafe {
            p.write(value);
            Some(&mut *p)
        }
    }
}
