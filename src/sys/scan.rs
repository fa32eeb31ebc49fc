//! The hot path's one pass over a C string path: does it have a `..` component? Sixty-four
//! bytes at a time with AVX2, sixteen with SSE2 (part of every x86-64 CPU) where AVX2 is
//! missing. A `..` is two dots in a row with a `/` (or the start) before and a `/` (or the end)
//! after: only pairs of dots, rare in real paths, are looked at closely, so names like `.git`
//! cost nothing more.
//!
//! No load crosses a page boundary: the first 64 bytes are read where the string starts only
//! when they lie in its page, the rest in aligned blocks. Like `strlen`, the scan reads past the
//! terminating NUL, within the same page. `path::has_dotdot` is the plain definition this must
//! agree with (unit tests check every short path at every alignment, and strings that end where
//! an unreadable page begins).
#![allow(unsafe_code)]

/// Whether the NUL-terminated string at `p` has a `..` component: one indirect call to the
/// best scan this CPU has (chosen once, at load).
///
/// # Safety
/// `p` points to a NUL-terminated string.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn has_dotdot(p: *const u8) -> bool {
    let f = SCAN.load(std::sync::atomic::Ordering::Relaxed);
    // SAFETY: SCAN holds one of the two scans below, whose signature this is; the CPU has
    // what the chosen one needs (see `detect`).
    unsafe { std::mem::transmute::<*mut (), unsafe fn(*const u8) -> bool>(f)(p) }
}

/// The scan in use: [`scan_sse2`] until `detect` finds AVX2.
static SCAN: std::sync::atomic::AtomicPtr<()> = std::sync::atomic::AtomicPtr::new(scan_sse2 as *mut ());

/// Picks the scan for this CPU (the constructor calls this).
pub fn detect() {
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi1") {
        SCAN.store(scan_avx2 as *mut (), std::sync::atomic::Ordering::Relaxed);
    }
}

/// Sixteen bytes at a time, aligned.
unsafe fn scan_sse2(p: *const u8) -> bool {
    let off = p as usize & 15;
    // SAFETY: the caller's contract: the first block holds the string's first byte.
    unsafe { rest_sse2(p, p.sub(off), 0, 0xffffu32 << off) }
}

/// The first 64 bytes read where the string starts (unless that would cross a page), 32 and
/// then 32 more, the rest 64 at a time, aligned. A path shorter than 32 bytes is one step.
#[target_feature(enable = "avx2,bmi1")]
unsafe fn scan_avx2(p: *const u8) -> bool {
    if p as usize & 4095 > 4096 - 64 {
        // SAFETY: the caller's contract.
        return unsafe { scan_sse2(p) };
    }
    // SAFETY: 64 bytes from `p`, within its page (checked above): the string's or, past its
    // NUL, the same page's.
    unsafe {
        let (z, d) = masks32(p);
        let pairs = d & (d << 1);
        if z != 0 {
            // Pairs before the NUL only.
            let upto = core::arch::x86_64::_blsmsk_u32(z) >> 1;
            return pairs & upto != 0 && has_dotdot_pair(p, p, (pairs & upto) as u64);
        }
        if pairs != 0 && has_dotdot_pair(p, p, pairs as u64) {
            return true;
        }
        let q = p.add(32);
        let (z2, d2) = masks32(q);
        let pairs = d2 & ((d2 << 1) | d >> 31);
        if z2 != 0 {
            let upto = core::arch::x86_64::_blsmsk_u32(z2) >> 1;
            return pairs & upto != 0 && has_dotdot_pair(p, q, (pairs & upto) as u64);
        }
        if pairs != 0 && has_dotdot_pair(p, q, pairs as u64) {
            return true;
        }
        // On from the next aligned block, the bytes already seen read again (harmlessly).
        let next = ((p as usize + 64) & !63) as *const u8;
        let d = d as u64 | (d2 as u64) << 32;
        let carry = (d >> (next.offset_from(p) as u32 - 1)) & 1;
        rest_avx2(p, next, carry)
    }
}

/// The NUL and dot masks of the 32 bytes at `at`.
///
/// # Safety
/// The 32 bytes are readable.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks32(at: *const u8) -> (u32, u32) {
    use core::arch::x86_64::{__m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setzero_si256};
    // SAFETY: the caller's contract.
    unsafe {
        let v = _mm256_loadu_si256(at as *const __m256i);
        let z = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256())) as u32;
        let d = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'.' as i8))) as u32;
        (z, d)
    }
}

/// The NUL and dot masks of the 64 bytes at `at`, aligned to 64.
///
/// # Safety
/// The 64 bytes are readable.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks64(at: *const u8) -> (u64, u64) {
    use core::arch::x86_64::{__m256i, _mm256_cmpeq_epi8, _mm256_load_si256, _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setzero_si256};
    // SAFETY: the caller's contract.
    unsafe {
        let (a, b) = (_mm256_load_si256(at as *const __m256i), _mm256_load_si256(at.add(32) as *const __m256i));
        let zero = _mm256_setzero_si256();
        let dot = _mm256_set1_epi8(b'.' as i8);
        let mask = |v| _mm256_movemask_epi8(v) as u32 as u64;
        let z = mask(_mm256_cmpeq_epi8(a, zero)) | mask(_mm256_cmpeq_epi8(b, zero)) << 32;
        let d = mask(_mm256_cmpeq_epi8(a, dot)) | mask(_mm256_cmpeq_epi8(b, dot)) << 32;
        (z, d)
    }
}

/// Whether one of the pairs of dots ending at the bits of `pairs` (in the block at `chunk`) is
/// a `..` component: a `/` (or the start) before the pair, a `/` (or the end) after.
///
/// # Safety
/// Every pair lies before the string's NUL.
#[inline(always)]
unsafe fn has_dotdot_pair(p: *const u8, chunk: *const u8, mut pairs: u64) -> bool {
    // SAFETY: the pair's bytes are before the NUL, so the byte after it is readable, and the
    // byte before it too unless the pair starts the string.
    unsafe {
        while pairs != 0 {
            let j = chunk.add(pairs.trailing_zeros() as usize);
            let first_dot = j.sub(1);
            if (first_dot == p || *first_dot.sub(1) == b'/') && matches!(*j.add(1), b'/' | 0) {
                return true;
            }
            pairs &= pairs - 1;
        }
    }
    false
}

/// The blocks from the aligned `chunk` on (`valid`: the bits of the first block that are the
/// string's; `carry`: 1 if the byte before it is a dot).
unsafe fn rest_sse2(p: *const u8, mut chunk: *const u8, mut carry: u32, mut valid: u32) -> bool {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_load_si128, _mm_movemask_epi8, _mm_set1_epi8, _mm_setzero_si128};
    // SAFETY: aligned 16-byte loads up to the block that holds the NUL (one page each).
    unsafe {
        let zero = _mm_setzero_si128();
        let dot = _mm_set1_epi8(b'.' as i8);
        loop {
            let v = _mm_load_si128(chunk as *const __m128i);
            let z = _mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) as u32 & valid;
            let d = _mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)) as u32 & valid;
            let pairs = d & ((d << 1) | carry);
            if pairs != 0 {
                let before_nul = if z != 0 { (1u32 << z.trailing_zeros()) - 1 } else { 0xffff };
                if has_dotdot_pair(p, chunk, (pairs & before_nul) as u64) {
                    return true;
                }
            }
            if z != 0 {
                return false;
            }
            carry = d >> 15;
            valid = 0xffff;
            chunk = chunk.add(16);
        }
    }
}

/// [`rest_sse2`] sixty-four bytes at a time, from a `chunk` aligned to 64.
#[target_feature(enable = "avx2,bmi1")]
unsafe fn rest_avx2(p: *const u8, mut chunk: *const u8, mut carry: u64) -> bool {
    // SAFETY: aligned 64-byte blocks up to the one that holds the NUL (one page each).
    unsafe {
        loop {
            let (z, d) = masks64(chunk);
            let pairs = d & ((d << 1) | carry);
            if pairs != 0 {
                let before_nul = if z != 0 { core::arch::x86_64::_blsmsk_u64(z) >> 1 } else { u64::MAX };
                if has_dotdot_pair(p, chunk, pairs & before_nul) {
                    return true;
                }
            }
            if z != 0 {
                return false;
            }
            carry = d >> 63;
            chunk = chunk.add(64);
        }
    }
}

/// For a path with `..` shorter than 64 bytes and with no empty or `.` component: whether the
/// `..` components never climb below `min` components (1: an absolute path never leaves its
/// first component; 0: a relative one never climbs above where it starts). `None` when the
/// path is too long, too near the end of its page, or has an empty or `.` component: the
/// caller counts byte by byte then.
///
/// One pass of four SSE2 loads: the slashes and dots as bit masks; a `..` is a slash (or the
/// start) and two dots before a slash or the end, and the depth after it is the number of
/// components before it, less two for each earlier `..`, less one.
///
/// # Safety
/// `p` points to a NUL-terminated string.
pub unsafe fn dotdot_stays(p: *const u8, relative: bool) -> Option<bool> {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8, _mm_setzero_si128};
    if p as usize & 4095 > 4096 - 64 {
        return None;
    }
    let (mut s, mut d, mut z) = (0u64, 0u64, 0u64);
    // SAFETY: 64 bytes from `p`, within its page (checked above); blocks up to the NUL's.
    unsafe {
        for block in 0..4 {
            let v = _mm_loadu_si128(p.add(block * 16).cast::<__m128i>());
            let mask = |x| (_mm_movemask_epi8(x) as u16 as u64) << (block * 16);
            s |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8)));
            d |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8)));
            z |= mask(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
            if z != 0 {
                break;
            }
        }
    }
    if z == 0 {
        return None;
    }
    let end = z & z.wrapping_neg();
    let valid = end - 1;
    let (s, d) = (s & valid, d & valid);
    // A relative path starts as if after a slash.
    let s1 = if relative { (s << 1) | 1 } else { s << 1 };
    let t = s | end;
    // Bit i: a component starts at i (after a slash, or at the start).
    let starts = s1 & !s & valid;
    let empty_or_dot = (s1 & s) | (starts & d & (t >> 1));
    if empty_or_dot != 0 {
        return None;
    }
    let min = i32::from(!relative);
    let mut dotdots = starts & d & (d >> 1) & (t >> 2);
    let mut k = 0;
    while dotdots != 0 {
        let at = dotdots & dotdots.wrapping_neg();
        k += 1;
        // The components before it (few: a loop over the bits costs less than a popcount
        // without the instruction, which plain x86-64 lacks).
        let (mut before, mut bits) = (0i32, starts & (at - 1));
        while bits != 0 {
            before += 1;
            bits &= bits - 1;
        }
        if before - 2 * k + 1 < min {
            return Some(false);
        }
        dotdots &= dotdots - 1;
    }
    Some(true)
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
        #[repr(align(64))]
        struct Buf([u8; 256]);
        every_path(8, |p| {
            for off in 0..64 {
                for prefix in [0usize, 13, 17, 31, 47, 63, 64, 65, 95, 127] {
                    let mut b = Buf([b'.'; 256]);
                    let mut full = vec![b'x'; prefix];
                    full.extend_from_slice(p);
                    if prefix > 0 {
                        full[prefix - 1] = b'/';
                    }
                    b.0[off..off + full.len()].copy_from_slice(&full);
                    b.0[off + full.len()] = 0;
                    let want = crate::path::has_dotdot(&full);
                    // SAFETY: NUL-terminated inside the buffer; AVX2 only where the CPU has it.
                    unsafe {
                        let q = b.0.as_ptr().add(off);
                        assert_eq!(super::scan_sse2(q), want, "sse2 {:?} at {off}", String::from_utf8_lossy(&full));
                        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi1") {
                            assert_eq!(super::scan_avx2(q), want, "avx2 {:?} at {off}", String::from_utf8_lossy(&full));
                        }
                    }
                }
            }
        });
    }

    /// Strings that end on the last byte of a page followed by an unreadable one: no load may
    /// touch it.
    #[test]
    fn never_reads_the_next_page() {
        // SAFETY: a private anonymous mapping of two pages, the second made unreadable; every
        // string written is NUL-terminated inside the first.
        unsafe {
            let base =
                libc::mmap(std::ptr::null_mut(), 8192, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) as *mut u8;
            assert_ne!(base as *mut libc::c_void, libc::MAP_FAILED);
            assert_eq!(libc::mprotect(base.add(4096) as *mut libc::c_void, 4096, libc::PROT_NONE), 0);
            for s in [&b"/a/../b"[..], b"/usr/lib/x", b"..", b"a/..", b"/x/.git/y", b""] {
                for slack in 0..70usize {
                    let start = 4096 - 1 - s.len() - slack;
                    std::ptr::write_bytes(base, b'.', 4096);
                    std::ptr::copy_nonoverlapping(s.as_ptr(), base.add(start), s.len());
                    *base.add(start + s.len()) = 0;
                    let want = crate::path::has_dotdot(s);
                    assert_eq!(super::scan_sse2(base.add(start)), want);
                    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("bmi1") {
                        assert_eq!(super::scan_avx2(base.add(start)), want, "{:?} {slack}", String::from_utf8_lossy(s));
                    }
                }
            }
            libc::munmap(base as *mut libc::c_void, 8192);
        }
    }

    /// The vector count agrees with a plain count of the depth on every short path (absolute
    /// and relative) it answers for.
    #[test]
    fn the_depth_count_agrees_with_a_walk() {
        fn walk(p: &[u8], relative: bool) -> bool {
            let mut depth = 0i32;
            let min = i32::from(!relative);
            for c in p.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
                if c == b".." {
                    depth -= 1;
                    if depth < min {
                        return false;
                    }
                } else {
                    depth += 1;
                }
            }
            true
        }
        #[repr(align(4096))]
        struct Page([u8; 4096]);
        let mut page = Box::new(Page([0; 4096]));
        let mut answered = 0;
        every_path(9, |p| {
            for relative in [false, true] {
                let mut full = if relative { vec![] } else { vec![b'/'] };
                full.extend_from_slice(p);
                if relative && full.first() == Some(&b'/') {
                    continue;
                }
                page.0[..full.len()].copy_from_slice(&full);
                page.0[full.len()] = 0;
                // SAFETY: NUL-terminated at the start of a page.
                if let Some(got) = unsafe { super::dotdot_stays(page.0.as_ptr(), relative) } {
                    answered += 1;
                    assert_eq!(got, walk(&full, relative), "{:?}", String::from_utf8_lossy(&full));
                }
            }
        });
        assert!(answered > 1000, "the vector count answered only {answered} times");
    }
}
