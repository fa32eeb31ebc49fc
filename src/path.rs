//! The lexical helpers the resolver needs: components, `..` detection, whole-component
//! prefixes, trailing slashes. Pure functions on bytes.

use crate::sys::PBuf;
use libc::c_int;

/// True if `path` has a `..` component. Looks for `.` eight bytes at a time, the last eight
/// overlapping the word before rather than leaving a tail (most paths on the hot path have no
/// dot, or one before an extension), then checks the dots found.
#[inline]
pub fn has_dotdot(path: &[u8]) -> bool {
    let n = path.len();
    if n < 8 {
        return n >= 2 && dotdot_in(path, 0, n);
    }
    let mut i = 0;
    while i + 8 < n {
        if has_byte(word_at(path, i), b'.') && dotdot_in(path, i, i + 8) {
            return true;
        }
        i += 8;
    }
    has_byte(word_at(path, n - 8), b'.') && dotdot_in(path, n - 8, n)
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
    (from..to).any(|i| is_dotdot_at(path, i))
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
    if path.len() > 1 && path.ends_with(b"//") {
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

