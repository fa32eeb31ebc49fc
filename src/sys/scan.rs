//! The hot path's one pass over a C string path, sixteen bytes at a time with SSE2 (part of
//! every x86-64 CPU): does it have a `..` component? A `..` needs a `.` right after a `/` (or at
//! the start), so only such bytes are looked at closely; names like `.git` stay hot.
//!
//! The loads are aligned to 16 bytes, so none crosses a page boundary: like `strlen`, the scan
//! may read up to 15 bytes past the terminating NUL, within the same page. `path::has_dotdot`
//! is the plain definition this must agree with (a unit test checks every short path at every
//! alignment).
#![allow(unsafe_code)]

/// Whether the NUL-terminated string at `p` has a `..` component.
///
/// # Safety
/// `p` points to a NUL-terminated string.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn has_dotdot(p: *const u8) -> bool {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_load_si128, _mm_movemask_epi8, _mm_set1_epi8, _mm_setzero_si128};
    let off = p as usize & 15;
    // SAFETY: aligned 16-byte loads from the string's first byte's block up to the block that
    // holds its NUL: each stays within one page of memory the string occupies.
    unsafe {
        let mut chunk = p.sub(off);
        let zero = _mm_setzero_si128();
        let slash = _mm_set1_epi8(b'/' as i8);
        let dot = _mm_set1_epi8(b'.' as i8);
        // Bits below `off` in the first block are before the string; the string's first byte
        // counts as following a slash (a leading `..` is a component).
        let mut valid = 0xffffu32 << off;
        let mut carry = 1u32 << off;
        loop {
            let v = _mm_load_si128(chunk as *const __m128i);
            let z = _mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) as u32 & valid;
            let s = _mm_movemask_epi8(_mm_cmpeq_epi8(v, slash)) as u32 & valid;
            let d = _mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)) as u32;
            let mut cand = ((s << 1) | carry) & d & valid;
            if z != 0 {
                // Only what comes before the NUL.
                cand &= (1u32 << z.trailing_zeros()) - 1;
            }
            while cand != 0 {
                let q = chunk.add(cand.trailing_zeros() as usize);
                // q[0] is a `.` before the NUL, so q[1] is readable; q[2] only if q[1] is not NUL.
                if *q.add(1) == b'.' && matches!(*q.add(2), b'/' | 0) {
                    return true;
                }
                cand &= cand - 1;
            }
            if z != 0 {
                return false;
            }
            carry = (s >> 15) & 1;
            valid = 0xffff;
            chunk = chunk.add(16);
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn has_dotdot(p: *const u8) -> bool {
    // SAFETY: per the contract.
    crate::path::has_dotdot(unsafe { std::ffi::CStr::from_ptr(p.cast()) }.to_bytes())
}

#[cfg(test)]
mod tests {
    /// Every path over `/`, `.` and one letter, up to `max` bytes.
    fn every_path(max: usize, mut f: impl FnMut(&[u8])) {
        let alphabet = [b'/', b'.', b'a'];
        for len in 0..=max {
            for code in 0..3usize.pow(len as u32) {
                let mut c = code;
                let p: Vec<u8> = (0..len)
                    .map(|_| {
                        let b = alphabet[c % 3];
                        c /= 3;
                        b
                    })
                    .collect();
                f(&p);
            }
        }
    }

    #[test]
    fn the_vector_scan_agrees_with_the_plain_definition_at_every_alignment() {
        // A buffer aligned to 16, the path placed at each offset, NUL-terminated, garbage after.
        #[repr(align(16))]
        struct Buf([u8; 96]);
        every_path(9, |p| {
            for off in 0..16 {
                for prefix in [0usize, 13, 17, 31] {
                    let mut b = Buf([b'.'; 96]);
                    let mut full = vec![b'x'; prefix];
                    full.extend_from_slice(p);
                    if prefix > 0 {
                        full[prefix - 1] = b'/';
                    }
                    b.0[off..off + full.len()].copy_from_slice(&full);
                    b.0[off + full.len()] = 0;
                    let want = crate::path::has_dotdot(&full);
                    // SAFETY: NUL-terminated inside the buffer.
                    let got = unsafe { super::has_dotdot(b.0.as_ptr().add(off)) };
                    assert_eq!(got, want, "{:?} at {off}", String::from_utf8_lossy(&full));
                }
            }
        });
    }
}
