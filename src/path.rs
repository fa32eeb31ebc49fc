//! The lexical helpers the resolver needs: components, `..` detection, whole-component
//! prefixes, trailing slashes. Pure functions on bytes.

use crate::sys::PBuf;
use libc::c_int;

/// True if `path` has a `..` component. A `..` needs a `/.` or a leading `.`: a plain path (the
/// common case, [`is_plain_text`], a word at a time) has none; only others are read byte by byte.
#[inline]
pub fn has_dotdot(path: &[u8]) -> bool {
    !crate::sys::scan::is_plain_text(path) && dotdot_in(path, 0, path.len())
}

/// Whether `path` is free of everything that needs more than a textual look: no `//`, no `/.`
/// (so no `.` or `..` component, and no hidden name either: those take the careful way), and,
/// for a relative path, no leading `.`. The hot path's whole scan, a word at a time.
#[inline]
pub fn is_plain_text(path: &[u8]) -> bool {
    if path.first() == Some(&b'.') {
        return false;
    }
    const DOTS: u64 = LOW * b'.' as u64;
    const SLASHES: u64 = LOW * b'/' as u64;
    let mut words = path.chunks_exact(8);
    // 0x80 in byte 0 when the previous word ended with a `/`.
    let mut carry = 0u64;
    for w in &mut words {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or([0; 8]));
        let slashes = zero_bytes(word ^ SLASHES);
        let after_slash = (slashes << 8) | carry;
        if after_slash & (slashes | zero_bytes(word ^ DOTS)) != 0 {
            return false;
        }
        carry = slashes >> 56;
    }
    let mut prev = if carry != 0 { b'/' } else { 0 };
    for &b in words.remainder() {
        if prev == b'/' && (b == b'/' || b == b'.') {
            return false;
        }
        prev = b;
    }
    true
}

const LOW: u64 = 0x0101_0101_0101_0101;

/// 0x80 in exactly the bytes of `x` that are zero.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    const SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & SEVEN).wrapping_add(SEVEN)) | x | SEVEN)
}

/// The eight bytes at `i` as one word (the caller has checked there are eight).
#[inline(always)]
fn word_at(path: &[u8], i: usize) -> u64 {
    match path.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        Some(w) => u64::from_le_bytes(w),
        None => 0,
    }
}

#[inline(never)]
fn dotdot_in(path: &[u8], from: usize, to: usize) -> bool {
    (from..to.min(path.len())).any(|i| is_dotdot_at(path, i))
}

#[inline(always)]
fn is_dotdot_at(path: &[u8], i: usize) -> bool {
    path[i] == b'.'
        && path.get(i + 1) == Some(&b'.')
        && (i == 0 || path[i - 1] == b'/')
        && (i + 2 == path.len() || path[i + 2] == b'/')
}


/// `n` in decimal, into `buf`, without the heap (for `/proc/<pid>`, `/dev/fd/<n>`, `KMVIEW_FDS`).
pub fn decimal(n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let (mut i, mut v) = (buf.len(), n);
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// True if `path` (absolute, canonical) is `mount` or below it, by whole components.
#[inline]
pub fn is_under(path: &[u8], mount: &[u8]) -> bool {
    if mount == b"/" {
        return true;
    }
    let n = mount.len();
    if path.len() < n || (path.len() > n && path[n] != b'/') {
        return false;
    }
    // Mount paths are short: compare a word at a time rather than call memcmp.
    let (mut i, head) = (0, &path[..n]);
    while i + 8 <= n {
        if word_at(head, i) != word_at(mount, i) {
            return false;
        }
        i += 8;
    }
    head[i..] == mount[i..]
}

/// The components of `path`, skipping empty ones and `.`.
pub fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".")
}

/// What a path's last characters demand: a trailing `/` or `/.` requires a directory (and
/// makes the last component followed), kept verbatim when the path goes to the kernel.
pub fn trailing(path: &[u8]) -> &[u8] {
    if path.len() > 1 && path.ends_with(b"/.") {
        b"/."
    } else if path.len() > 1 && path.ends_with(b"/") {
        b"/"
    } else {
        b""
    }
}

/// Whether `path` (absolute) is already as [`normalize_into`] would write it. Conservative: a
/// path with a hidden name (`/.x`) is normalized all the same, which changes nothing.
#[inline]
pub fn is_normal(path: &[u8]) -> bool {
    let body = path.strip_suffix(b"/.").or_else(|| path.strip_suffix(b"/")).unwrap_or(path);
    // `/` alone is normal; `/.`, `x//`, `x//.` are not (their normal forms are shorter).
    if body.is_empty() {
        return path == b"/";
    }
    !body.ends_with(b"/") && crate::sys::scan::is_plain_text(body)
}

/// Writes `path` (absolute) to `out` with empty and interior `.` components removed, keeping
/// `..` components and the trailing `/` or `/.` as they were.
pub fn normalize_into(path: &[u8], out: &mut PBuf) -> Result<(), c_int> {
    out.set(b"/")?;
    for comp in components(path) {
        out.push_component(comp)?;
    }
    let t = trailing(path);
    if !t.is_empty() && out.as_bytes() != b"/" {
        out.push_bytes(t)?;
    }
    Ok(())
}


#[cfg(test)]
mod tests {
    use super::*;

    /// Every path over `/`, `.` and one letter, up to `max` bytes (after `first`).
    fn every_path(first: &[u8], max: usize, mut f: impl FnMut(&[u8])) {
        let alphabet = [b'/', b'.', b'a'];
        for len in 0..=max {
            for code in 0..3usize.pow(len as u32) {
                let mut c = code;
                let mut p = first.to_vec();
                for _ in 0..len {
                    p.push(alphabet[c % 3]);
                    c /= 3;
                }
                f(&p);
            }
        }
    }

    #[test]
    fn dotdot_scan_agrees_with_splitting_on_every_short_path() {
        every_path(b"", 11, |p| assert_eq!(has_dotdot(p), p.split(|&b| b == b'/').any(|c| c == b".."), "{:?}", String::from_utf8_lossy(p)));
        for pre in 0..20 {
            let p = [vec![b'x'; pre], b"/../y".to_vec()].concat();
            assert!(has_dotdot(&p));
            let q = [vec![b'x'; pre], b"/.x./..y/".to_vec()].concat();
            assert!(!has_dotdot(&q));
        }
    }

    #[test]
    fn is_normal_never_says_yes_to_a_path_normalizing_would_change() {
        every_path(b"/", 11, |p| {
            if is_normal(p) {
                let mut out = crate::sys::PBuf::new();
                normalize_into(p, &mut out).unwrap();
                assert_eq!(out.as_bytes(), p, "is_normal said yes to {:?}", String::from_utf8_lossy(p));
            }
        });
        assert!(is_normal(b"/usr/lib/x86_64-linux-gnu/libc.so.6") && is_normal(b"/a/b/") && is_normal(b"/"));
    }

    #[test]
    fn plain_text_means_no_double_slash_no_slash_dot_no_leading_dot() {
        every_path(b"", 11, |p| {
            let want = !p.starts_with(b".") && !p.windows(2).any(|w| w == b"//" || w == b"/.");
            assert_eq!(is_plain_text(p), want, "{:?}", String::from_utf8_lossy(p));
        });
    }

    #[test]
    fn the_vector_scan_agrees_with_the_plain_one() {
        // Paths of 16 bytes and more take the vector way: every short path behind a prefix.
        every_path(b"/0123456789abcde", 9, |p| assert_eq!(crate::sys::scan::is_plain_text(p), is_plain_text(p), "{:?}", String::from_utf8_lossy(p)));
        every_path(b"", 9, |p| {
            let long = [p, b"/0123456789abcdef0123".as_slice()].concat();
            assert_eq!(crate::sys::scan::is_plain_text(&long), is_plain_text(&long), "{:?}", String::from_utf8_lossy(&long));
        });
    }

    #[test]
    fn is_under_is_by_whole_components() {
        assert!(is_under(b"/unreal", b"/unreal") && is_under(b"/unreal/x", b"/unreal") && is_under(b"/x", b"/"));
        assert!(!is_under(b"/unrealx", b"/unreal") && !is_under(b"/unrea", b"/unreal"));
        assert!(is_under(b"/a-long-mount-point-name/x", b"/a-long-mount-point-name"));
        assert!(!is_under(b"/a-long-mount-point-namE/x", b"/a-long-mount-point-name"));
    }
}
