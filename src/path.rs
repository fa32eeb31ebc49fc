//! The lexical helpers the resolver needs: components, `..` detection, whole-component
//! prefixes, trailing slashes. Pure functions on bytes.

use crate::sys::PBuf;
use libc::c_int;

/// True if `path` has a `..` component. A `..` needs a `/.` (or a leading `.`), rare on the hot
/// path: the path is read eight bytes at a time, and only a word with a `.` right after a `/`
/// is looked at byte by byte.
#[inline]
pub fn has_dotdot(path: &[u8]) -> bool {
    let n = path.len();
    if n >= 2 && path[0] == b'.' && path[1] == b'.' && (n == 2 || path[2] == b'/') {
        return true;
    }
    const DOTS: u64 = LOW * b'.' as u64;
    const SLASHES: u64 = LOW * b'/' as u64;
    let mut words = path.chunks_exact(8);
    let mut at: usize = 0;
    // 0x80 in byte 0 when the previous word ended with a `/`.
    let mut carry = 0u64;
    for w in &mut words {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or([0; 8]));
        let slashes = zero_bytes(word ^ SLASHES);
        if has_byte(word, b'.') {
            let slash_dot = ((slashes << 8) | carry) & zero_bytes(word ^ DOTS);
            if slash_dot != 0 && dotdot_in(path, at, at + 8) {
                return true;
            }
        }
        carry = slashes >> 56;
        at += 8;
    }
    let tail = words.remainder();
    !tail.is_empty() && tail.contains(&b'.') && dotdot_in(path, at.saturating_sub(1), n)
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

/// Whether any byte of `word` is `b` (the classic zero-byte test on `word ^ b…b`).
#[inline(always)]
fn has_byte(word: u64, b: u8) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (LOW * b as u64);
    x.wrapping_sub(LOW) & !x & HIGH != 0
}

/// A first path component, laid out for a quick test against the start of an absolute path.
pub struct FirstComponent {
    bytes: Vec<u8>,
    /// `/` and up to the first seven bytes of the component, as a little word; `mask` covers them.
    word: u64,
    mask: u64,
}

impl FirstComponent {
    pub fn new(c: &[u8]) -> FirstComponent {
        let mut w = [0u8; 8];
        let mut m = [0u8; 8];
        w[0] = b'/';
        m[0] = 0xff;
        for (i, &b) in c.iter().take(7).enumerate() {
            w[i + 1] = b;
            m[i + 1] = 0xff;
        }
        FirstComponent { bytes: c.to_vec(), word: u64::from_le_bytes(w), mask: u64::from_le_bytes(m) }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether `path` (absolute) starts with this component, as a whole component.
    #[inline(always)]
    pub fn starts(&self, path: &[u8]) -> bool {
        let end = 1 + self.bytes.len();
        if path.len() < end {
            return false;
        }
        if path.len() >= 8 && word_at(path, 0) & self.mask != self.word {
            return false;
        }
        &path[1..end] == self.bytes.as_slice() && (path.len() == end || path[end] == b'/')
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

/// Whether `path` (absolute) is already as [`normalize_into`] would write it: no empty or `.`
/// component before its end. Word-wise: a `.` is rare, and `//` shows as two adjacent `/`.
#[inline]
pub fn is_normal(path: &[u8]) -> bool {
    let body = path.strip_suffix(b"/.").or_else(|| path.strip_suffix(b"/")).unwrap_or(path);
    // `/` alone is normal; `/.`, `x//`, `x//.` are not (their normal forms are shorter).
    if body.is_empty() {
        return path == b"/";
    }
    if body.ends_with(b"/") {
        return false;
    }
    let n = body.len();
    if n < 8 {
        return slow_is_normal(body);
    }
    // Windows of eight overlapping by one, so that every pair of neighbours is in one window.
    let mut i = 0;
    loop {
        let start = i.min(n - 8);
        let w = word_at(body, start);
        if zero_bytes(w ^ (LOW * b'/' as u64)) & (zero_bytes(w ^ (LOW * b'/' as u64)) >> 8) != 0 {
            return false;
        }
        if has_byte(w, b'.') && !slow_is_normal(&body[start.saturating_sub(1)..(start + 9).min(n)]) {
            return false;
        }
        if start + 8 >= n {
            return true;
        }
        i = start + 7;
    }
}

const LOW: u64 = 0x0101_0101_0101_0101;

/// 0x80 in exactly the bytes of `x` that are zero.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    const SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & SEVEN).wrapping_add(SEVEN)) | x | SEVEN)
}

/// [`is_normal`] byte by byte, for short paths and around a dot.
fn slow_is_normal(body: &[u8]) -> bool {
    let mut prev = 0u8;
    for (i, &b) in body.iter().enumerate() {
        if prev == b'/' && (b == b'/' || (b == b'.' && matches!(body.get(i + 1), None | Some(b'/')))) {
            return false;
        }
        prev = b;
    }
    true
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
    fn is_under_is_by_whole_components() {
        assert!(is_under(b"/unreal", b"/unreal") && is_under(b"/unreal/x", b"/unreal") && is_under(b"/x", b"/"));
        assert!(!is_under(b"/unrealx", b"/unreal") && !is_under(b"/unrea", b"/unreal"));
        assert!(is_under(b"/a-long-mount-point-name/x", b"/a-long-mount-point-name"));
        assert!(!is_under(b"/a-long-mount-point-namE/x", b"/a-long-mount-point-name"));
    }
}
