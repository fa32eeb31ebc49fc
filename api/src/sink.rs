//! Where the encoders write: a growing `Vec` in the launcher and the API, a fixed buffer in the
//! library (which must not allocate while a program's allocator may hold its lock).

/// A byte sink. `put` appends all of `bytes` or, if they do not fit, returns false.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]) -> bool;
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes);
        true
    }
}

/// A sink over a fixed buffer: what was written is `buf[..len]`.
pub struct Fixed<'a> {
    pub buf: &'a mut [u8],
    pub len: usize,
}

impl<'a> Fixed<'a> {
    pub fn new(buf: &'a mut [u8]) -> Fixed<'a> {
        Fixed { buf, len: 0 }
    }

    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Sink for Fixed<'_> {
    fn put(&mut self, bytes: &[u8]) -> bool {
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            return false;
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        true
    }
}
