//! One trace line, formatted into a fixed buffer: JSON text without an allocation, a lock or a
//! formatting machinery (`core::fmt` would do, but costs more than the call being traced).

/// A line being written into `buf`. Once something does not fit, the line is marked cut and
/// what follows is dropped, so the line stays well-formed up to where it was cut.
pub struct Line<'a> {
    buf: &'a mut [u8],
    len: usize,
    cut: bool,
}

impl<'a> Line<'a> {
    pub fn new(buf: &'a mut [u8]) -> Line<'a> {
        Line { buf, len: 0, cut: false }
    }

    /// How much was written.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether something did not fit.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Room left.
    pub fn room(&self) -> usize {
        self.buf.len() - self.len
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends raw bytes (all or nothing).
    #[inline(always)]
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        if !self.cut && self.room() >= b.len() {
            self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            self.len += b.len();
        } else {
            self.cut = true;
        }
        self
    }

    pub fn uint(&mut self, mut n: u64) -> &mut Self {
        // Descriptors, results, errnos: one or two digits, most of the time.
        if n < 100 && !self.cut && self.room() >= 2 {
            if n < 10 {
                self.buf[self.len] = b'0' + n as u8;
                self.len += 1;
            } else {
                self.buf[self.len] = b'0' + (n / 10) as u8;
                self.buf[self.len + 1] = b'0' + (n % 10) as u8;
                self.len += 2;
            }
            return self;
        }
        // Two digits at a time from a table, right to left into a window that starts at the
        // first digit; the window is copied whole (a fixed size: moves the compiler writes
        // inline, no call) and the line goes on after the last digit.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
        // How many digits: a count of leading zeros and a compare, no loop.
        let digits = n.ilog10() as usize + 1;
        let mut d = [0u8; 20];
        let mut i = digits;
        while n >= 100 {
            let r = (n % 100) as usize * 2;
            n /= 100;
            i -= 2;
            d[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
        }
        if n >= 10 {
            let r = n as usize * 2;
            d[0..2].copy_from_slice(&PAIRS[r..r + 2]);
        } else {
            d[0] = b'0' + n as u8;
        }
        if !self.cut && self.room() >= d.len() {
            self.buf[self.len..self.len + 20].copy_from_slice(&d);
            self.len += digits;
            self
        } else {
            self.raw(&d[..digits])
        }
    }

    /// `secs * 1e9 + nanos` in decimal (a monotonic clock's seconds fit many times over).
    pub fn nanos(&mut self, secs: u64, nanos: u32) -> &mut Self {
        self.uint(secs.saturating_mul(1_000_000_000).saturating_add(nanos.min(999_999_999) as u64))
    }

    pub fn int(&mut self, n: i64) -> &mut Self {
        if n < 0 {
            self.raw(b"-").uint(n.unsigned_abs())
        } else {
            self.uint(n as u64)
        }
    }

    /// A JSON string of arbitrary bytes. Valid UTF-8 is kept as it is; a byte that is not part
    /// of valid UTF-8 is written `\udcXX` (the surrogate-escape convention: Python's
    /// `json.loads` then `os.fsencode` gives the bytes back), so every path round-trips.
    pub fn string(&mut self, s: &[u8]) -> &mut Self {
        // Most paths are printable ASCII with nothing to escape: checked and copied in one pass,
        // eight bytes at a time; anything else takes the careful way below.
        if self.plain_string(s) {
            return self;
        }
        self.raw(b"\"");
        let mut rest = s;
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    self.text(text.as_bytes());
                    break;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    self.text(&rest[..good]);
                    let bad = e.error_len().unwrap_or(rest.len() - good);
                    for &b in &rest[good..good + bad] {
                        self.raw(b"\\udc").hex2(b);
                    }
                    rest = &rest[good + bad..];
                }
            }
        }
        self.raw(b"\"")
    }

    /// `s` quoted, if it needs no escape and fits: true, the line grown; else nothing written
    /// (the bytes copied past the line's end are overwritten by what comes next).
    #[inline]
    fn plain_string(&mut self, s: &[u8]) -> bool {
        if self.cut || self.room() < s.len() + 2 {
            return false;
        }
        // Copied first (one move), checked after: the check reads words of `s` and keeps no
        // branch per word.
        let out = &mut self.buf[self.len..self.len + s.len() + 2];
        out[0] = b'"';
        out[1..=s.len()].copy_from_slice(s);
        out[s.len() + 1] = b'"';
        if needs_escape(s) {
            return false;
        }
        self.len += s.len() + 2;
        true
    }

    /// Valid UTF-8, with JSON's escapes.
    fn text(&mut self, s: &[u8]) {
        let mut start = 0;
        for (i, &b) in s.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\t' => b"\\t",
                b'\r' => b"\\r",
                0..=0x1f | 0x7f => b"",
                _ => continue,
            };
            self.raw(&s[start..i]);
            if esc.is_empty() {
                self.raw(b"\\u00").hex2(b);
            } else {
                self.raw(esc);
            }
            start = i + 1;
        }
        self.raw(&s[start..]);
    }

    fn hex2(&mut self, b: u8) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.raw(&[HEX[(b >> 4) as usize], HEX[(b & 15) as usize]])
    }

    /// The line as it was at `mark` (what came after is dropped), writable again.
    pub fn resumed(l: Line<'a>, mark: usize) -> Line<'a> {
        Line { buf: l.buf, len: mark.min(l.len), cut: false }
    }

    /// A string known to need no escape (a function's name, a word of the format's own).
    #[inline(always)]
    pub fn clean(&mut self, s: &[u8]) -> &mut Self {
        debug_assert!(!s.iter().any(|&b| byte_needs_escape(b)));
        self.raw(b"\"").raw(s).raw(b"\"")
    }

    /// `,"key":` where the line goes on from another buffer (always after a field).
    pub fn key_after(&mut self, k: &[u8]) -> &mut Self {
        self.raw(b",\"").raw(k).raw(b"\":")
    }

    /// `,"key":` (or `"key":` first in the object).
    #[inline(always)]
    pub fn key(&mut self, k: &[u8]) -> &mut Self {
        if self.len > 1 {
            self.raw(b",");
        }
        self.raw(b"\"").raw(k).raw(b"\":")
    }

    /// Words joined by `|` (flag names) as one JSON string.
    pub fn words(&mut self, words: &[&[u8]]) -> &mut Self {
        self.raw(b"\"");
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                self.raw(b"|");
            }
            self.raw(w);
        }
        self.raw(b"\"")
    }
}

/// A high bit in each byte of the eight in `x` that is not printable ASCII or is `"` or `\\` (each test
/// below sets a byte's high bit where it holds).
#[inline(always)]
fn word_escapes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `y` equal to zero (exact when combined as below).
    let zero = |y: u64| y.wrapping_sub(ONES) & !y & HIGH;
    // Below 0x20 (for bytes under 0x80), 0x80 and above, 0x7f, `"`, `\`.
    let low = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    low | (x & HIGH) | zero(x ^ (ONES * 0x7f)) | zero(x ^ (ONES * b'"' as u64)) | zero(x ^ (ONES * b'\\' as u64))
}

#[inline(always)]
fn byte_needs_escape(b: u8) -> bool {
    !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\'
}

/// Whether some byte of `s` needs an escape: eight bytes at a time, the last word overlapping
/// the one before it (a byte looked at twice is harmless); shorter strings byte by byte.
#[inline(always)]
pub(super) fn needs_escape(s: &[u8]) -> bool {
    let word = |w: &[u8]| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    if s.len() < 8 {
        return s.iter().any(|&b| byte_needs_escape(b));
    }
    let mut any = word_escapes(word(&s[s.len() - 8..]));
    for w in s.chunks_exact(8) {
        any |= word_escapes(word(w));
    }
    any != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(f: impl FnOnce(&mut Line)) -> String {
        let mut buf = [0u8; 256];
        let mut l = Line::new(&mut buf);
        f(&mut l);
        String::from_utf8(l.bytes().to_vec()).unwrap()
    }

    #[test]
    fn strings_escape_what_json_needs_and_keep_any_byte() {
        assert_eq!(
            json(|l| {
                l.string(b"a\"b\\c\nd\x01");
            }),
            r#""a\"b\\c\nd\u0001""#
        );
        assert_eq!(
            json(|l| {
                l.string("é/ü".as_bytes());
            }),
            "\"é/ü\""
        );
        assert_eq!(
            json(|l| {
                l.string(b"x\xffy\xc3");
            }),
            r#""x\udcffy\udcc3""#
        );
    }

    #[test]
    fn the_escape_test_agrees_with_the_definition() {
        for b in 0..=255u8 {
            for at in [0usize, 5, 15, 16, 17, 40] {
                let mut s = vec![b'a'; 41];
                s[at] = b;
                let want = !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\';
                assert_eq!(needs_escape(&s), want, "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn numbers_and_keys() {
        assert_eq!(
            json(|l| {
                l.raw(b"{").key(b"a").int(-12).key(b"b").uint(0).raw(b"}");
            }),
            r#"{"a":-12,"b":0}"#
        );
        for n in [0u64, 7, 10, 99, 100, 101, 12345, 9_999_999_999, u64::MAX] {
            assert_eq!(
                json(|l| {
                    l.uint(n);
                }),
                n.to_string()
            );
        }
        assert_eq!(
            json(|l| {
                l.words(&[b"O_WRONLY", b"O_CREAT"]);
            }),
            r#""O_WRONLY|O_CREAT""#
        );
        assert_eq!(
            json(|l| {
                l.nanos(17721, 666_690_915);
            }),
            "17721666690915"
        );
        assert_eq!(
            json(|l| {
                l.nanos(0, 5);
            }),
            "5"
        );
        assert_eq!(
            json(|l| {
                l.nanos(3, 0);
            }),
            "3000000000"
        );
    }

    #[test]
    fn what_does_not_fit_is_cut_not_torn() {
        let mut buf = [0u8; 8];
        let mut l = Line::new(&mut buf);
        l.raw(b"{\"a\":");
        l.string(b"long string");
        assert!(l.is_cut());
        assert_eq!(l.bytes(), b"{\"a\":\"");
    }
}
