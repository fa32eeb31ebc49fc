//! Path bytes without the heap: a fixed buffer that always holds a NUL-terminated string, and
//! the lexical helpers the resolver needs (components, `..` detection).

use libc::{c_char, c_int};

/// Room for a virtual path of `PATH_MAX` bytes plus a mount source in front of it.
pub const CAP: usize = libc::PATH_MAX as usize + 256;

/// A path on the stack: `bytes[..len]` is the path, `bytes[len]` is NUL.
pub struct PBuf {
    len: usize,
    bytes: [u8; CAP],
}

impl Default for PBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PBuf {
    #[inline]
    pub fn new() -> PBuf {
        PBuf { len: 0, bytes: [0; CAP] }
    }

    pub fn from_bytes(b: &[u8]) -> Result<PBuf, c_int> {
        let mut p = PBuf::new();
        p.push_bytes(b)?;
        Ok(p)
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that can be written before the terminating NUL.
    pub fn capacity(&self) -> usize {
        CAP - 1
    }

    #[inline]
    pub fn as_cptr(&self) -> *const c_char {
        self.bytes.as_ptr().cast()
    }

    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.bytes.as_mut_ptr()
    }

    /// Sets the length after a C call wrote into the buffer.
    pub fn set_len(&mut self, len: usize) {
        assert!(len < CAP);
        self.len = len;
        self.bytes[len] = 0;
    }

    pub fn clear(&mut self) {
        self.set_len(0);
    }

    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.set_len(len);
        }
    }

    pub fn push_bytes(&mut self, b: &[u8]) -> Result<(), c_int> {
        let end = self.len + b.len();
        if end >= CAP {
            return Err(libc::ENAMETOOLONG);
        }
        self.bytes[self.len..end].copy_from_slice(b);
        self.set_len(end);
        Ok(())
    }

    pub fn push_byte(&mut self, b: u8) -> Result<(), c_int> {
        self.push_bytes(&[b])
    }

    pub fn set(&mut self, b: &[u8]) -> Result<(), c_int> {
        self.clear();
        self.push_bytes(b)
    }

    /// Appends `/name` to a canonical absolute path (no doubled slash after `/`).
    pub fn push_component(&mut self, name: &[u8]) -> Result<(), c_int> {
        if self.as_bytes() != b"/" {
            self.push_byte(b'/')?;
        }
        self.push_bytes(name)
    }

    /// Removes the last component of a canonical absolute path; `/` stays `/`.
    pub fn pop_component(&mut self) {
        let cut = match memchr::memrchr(b'/', self.as_bytes()) {
            Some(0) | None => 1,
            Some(i) => i,
        };
        self.set_len(cut.min(self.len));
    }
}

/// True if `path` has a `..` component.
#[inline]
pub fn has_dotdot(path: &[u8]) -> bool {
    if path.starts_with(b"..") && (path.len() == 2 || path[2] == b'/') {
        return true;
    }
    memchr::memmem::find_iter(path, b"/..").any(|i| path.len() == i + 3 || path[i + 3] == b'/')
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
