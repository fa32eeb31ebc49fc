//! The lexical helpers the resolver needs: components, `..` detection, whole-component
//! prefixes, trailing slashes. Pure functions on bytes.

use crate::sys::PBuf;
use libc::c_int;

/// True if `path` has a `..` component. Looks for `.` eight bytes at a time (most paths on
/// the hot path have none, or one before an extension), then checks the dots found.
#[inline]
pub fn has_dotdot(path: &[u8]) -> bool {
    let n = path.len();
    let mut start = 0;
    while start + 8 <= n {
        if has_byte(load8(path, start), b'.') && dotdot_in(path, start, start + 8) {
            return true;
        }
        start += 8;
    }
    if start < n {
        // The last window overlaps the one before it rather than leave a byte-by-byte tail.
        let from = n.saturating_sub(8);
        let tail = if n >= 8 { load8(path, from) } else { u64::MAX };
        if (n < 8 || has_byte(tail, b'.')) && dotdot_in(path, from, n) {
            return true;
        }
    }
    false
}

#[inline(always)]
fn load8(p: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&p[at..at + 8]);
    u64::from_ne_bytes(w)
}

#[cold]
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
        FirstComponent { bytes: c.to_vec(), word: u64::from_ne_bytes(w), mask: u64::from_ne_bytes(m) }
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
        if path.len() >= 8 && load8(path, 0) & self.mask != self.word {
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
    path.starts_with(mount) && (path.len() == mount.len() || path[mount.len()] == b'/')
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

