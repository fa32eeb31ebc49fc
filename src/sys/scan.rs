//! The hot path's scan of a path, sixteen bytes at a time with SSE2 (part of every x86-64 CPU):
//! a path is plain when it has no `//`, no `/.` and no leading `.`. Here because the vector
//! loads are `unsafe` intrinsics; `path::is_plain_text` is the plain-Rust definition it must
//! agree with (a unit test checks every short path).

#[cfg(target_arch = "x86_64")]
pub fn is_plain_text(path: &[u8]) -> bool {
    use core::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let n = path.len();
    if n < 16 {
        return crate::path::is_plain_text(path);
    }
    if path[0] == b'.' {
        return false;
    }
    // SAFETY: every load reads 16 bytes inside `path` (the last one overlaps the one before).
    unsafe {
        let slash = _mm_set1_epi8(b'/' as i8);
        let dot = _mm_set1_epi8(b'.' as i8);
        let mut at = 0;
        // Bit 0 set when the byte before the chunk is a `/`.
        let mut carry = 0u32;
        loop {
            let start = if at + 16 > n { n - 16 } else { at };
            let chunk = _mm_loadu_si128(path.as_ptr().add(start).cast());
            let slashes = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, slash)) as u32;
            let dots = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, dot)) as u32;
            let carry_in = if start == at { carry } else { (path[start - 1] == b'/') as u32 };
            if ((slashes << 1) | carry_in) & (slashes | dots) != 0 {
                return false;
            }
            if start + 16 >= n {
                return true;
            }
            carry = slashes >> 15;
            at = start + 16;
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub fn is_plain_text(path: &[u8]) -> bool {
    crate::path::is_plain_text(path)
}
