//! The JSON line of a call with one name and no argv (nearly every line), written the quick
//! way: the room is checked once for the longest such line, so each piece is one copy, and
//! the names are copied before they are checked for bytes JSON must escape. A line with such
//! a byte, or that may not fit, is left to [`super::json::line`]'s careful writer.

use super::{words, Event, Names};
use crate::views::trace::Met;

/// Room for everything but the names: keys, numbers, the call, the flags in words.
const FIXED: usize = 512;

/// A position in a buffer known to have room for what is put there.
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    #[inline(always)]
    fn put(&mut self, b: &[u8]) -> &mut Self {
        self.buf[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
        self
    }

    /// `"s"`; false when `s` holds a byte that needs an escape.
    #[inline(always)]
    fn string(&mut self, s: &[u8]) -> bool {
        self.put(b"\"").put(s).put(b"\"");
        !super::line::needs_escape(s)
    }

    /// A number: the digits written right to left, two at a time, the low eight with 32-bit
    /// arithmetic (a monotonic time in nanoseconds has fourteen).
    #[inline(always)]
    fn uint(&mut self, n: u64) -> &mut Self {
        if n < 10 {
            return self.put(&[b'0' + n as u8]);
        }
        let digits = n.ilog10() as usize + 1;
        let end = self.at + digits;
        let out = &mut self.buf[self.at..end];
        let mut i = digits;
        let (mut high, mut low) = (n / 100_000_000, (n % 100_000_000) as u32);
        if high == 0 {
            pairs32(out, &mut i, low);
        } else {
            for _ in 0..4 {
                let r = (low % 100) as usize * 2;
                low /= 100;
                i -= 2;
                out[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
            }
            while high >= 100 {
                let r = (high % 100) as usize * 2;
                high /= 100;
                i -= 2;
                out[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
            }
            pairs32(out, &mut i, high as u32);
        }
        self.at = end;
        self
    }
}

const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// The digits of `n` (below 10^8) ending at `out[*i]`, without leading zeros.
#[inline(always)]
fn pairs32(out: &mut [u8], i: &mut usize, mut n: u32) {
    while n >= 100 {
        let r = (n % 100) as usize * 2;
        n /= 100;
        *i -= 2;
        out[*i..*i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    }
    if n >= 10 {
        *i -= 2;
        let r = n as usize * 2;
        out[*i..*i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    } else if *i > 0 {
        *i -= 1;
        out[*i] = b'0' + n as u8;
    }
}

/// The line, or None to leave it to the careful writer.
pub fn line(out: &mut [u8], ev: &Event, one: &Names) -> Option<usize> {
    // A negative descriptor other than AT_FDCWD is rare enough for the careful writer.
    let relative = ev.dirfd != libc::AT_FDCWD && (ev.path.is_empty() || ev.path[0] != b'/');
    if out.len() < FIXED + one.given.len() + one.input.len() + one.output.len() || relative && ev.dirfd < 0 {
        return None;
    }
    let mut c = Cursor { buf: out, at: 0 };
    let (t, pid, tid) = super::stamp();
    c.put(b"{\"t\":").uint(t.0.saturating_mul(1_000_000_000).saturating_add(t.1 as u64)).put(b",\"pid\":").uint(pid as u64);
    if tid != pid {
        c.put(b",\"tid\":").uint(tid as u64);
    }
    c.put(b",\"call\":\"").put(ev.call.as_bytes()).put(b"\",\"op\":\"").put(ev.access.word()).put(b"\"");
    if relative {
        c.put(b",\"fd\":").uint(ev.dirfd as u64);
    }
    let mut plain = c.put(b",\"path\":").string(one.given);
    if one.input != one.given {
        plain &= c.put(b",\"view\":").string(one.input);
    }
    match one.met {
        Met::Crossed if std::ptr::eq(one.output, one.input) || one.output == one.input => {}
        Met::Crossed => plain &= c.put(b",\"out\":").string(one.output),
        _ => {
            c.put(b",\"out\":null");
        }
    }
    if !plain {
        return None;
    }
    if let Some(flags) = ev.flags {
        let mut w = [&b""[..]; 24];
        let n = words::open_flags(flags, &mut w);
        c.put(b",\"flags\":\"");
        for (i, word) in w[..n].iter().enumerate() {
            if i > 0 {
                c.put(b"|");
            }
            c.put(word);
        }
        c.put(b"\"");
    }
    c.put(b",\"result\":");
    if ev.result < 0 {
        c.put(b"-").uint(ev.result.unsigned_abs());
    } else {
        c.uint(ev.result as u64);
    }
    if ev.errno != 0 {
        match words::errno_name(ev.errno) {
            Some(name) => c.put(b",\"errno\":\"").put(name.as_bytes()).put(b"\""),
            None => c.put(b",\"errno\":").uint(ev.errno as u32 as u64),
        };
    }
    c.put(b"}\n");
    Some(c.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Access, Event};
    use crate::views::Op;

    /// The line without its time (which differs between two calls).
    fn untimed(b: &[u8]) -> String {
        let s = String::from_utf8(b.to_vec()).unwrap();
        let comma = s.find(',').unwrap();
        s[comma..].to_string()
    }

    #[test]
    fn the_quick_line_is_the_careful_line() {
        let names = |given: &'static [u8], input: &'static [u8], output: &'static [u8], met| Names { given, input, output, met };
        let cases: Vec<(Event, Names)> = vec![
            (
                Event::path("stat", Access::Look, Op::Look, libc::AT_FDCWD, b"/etc/passwd").returned(0, 0),
                names(b"/etc/passwd", b"/etc/passwd", b"/etc/passwd", Met::Crossed),
            ),
            (
                Event::path("fstatat", Access::Look, Op::Look, 4, b"a.c").returned(-1, libc::ENOENT),
                names(b"a.c", b"/src/a.c", b"/host/src/a.c", Met::Crossed),
            ),
            (
                Event::path("fstatat", Access::Look, Op::Look, -1, b"a.c").returned(-1, libc::EBADF),
                names(b"a.c", b"/src/a.c", b"/src/a.c", Met::Crossed),
            ),
            (Event::path("open", Access::Read, Op::Read, libc::AT_FDCWD, b"x").returned(1234567, 0), names(b"x", b"/x", b"", Met::Refused)),
            (
                Event::path("open", Access::Read, Op::Read, libc::AT_FDCWD, b"q\"uote").returned(3, 0),
                names(b"q\"uote", b"/q\"uote", b"/q\"uote", Met::Crossed),
            ),
            (
                Event::path("openat", Access::Write, Op::Open(libc::O_WRONLY | libc::O_CREAT), 99, b"\xffbad").returned(-1, 4095),
                names(b"\xffbad", b"/d/\xffbad", b"/d/\xffbad", Met::Crossed),
            ),
        ];
        let mut quick = 0;
        for (mut ev, one) in cases {
            for flags in [None, Some(libc::O_RDONLY | libc::O_CLOEXEC | libc::O_DIRECTORY)] {
                ev.flags = flags;
                let (mut a, mut b) = ([0u8; 2048], [0u8; 2048]);
                let n = super::super::json::careful(&mut a, &ev, &one, None, None);
                let want = untimed(&a[..n]);
                match line(&mut b, &ev, &one) {
                    Some(m) => {
                        assert_eq!(untimed(&b[..m]), want);
                        quick += 1;
                    }
                    // Left to the careful writer: only for a name to escape or a negative descriptor.
                    None => {
                        let escaped = [one.given, one.input, one.output].iter().any(|s| crate::trace::line::needs_escape(s));
                        assert!(escaped || ev.dirfd < 0 && ev.dirfd != libc::AT_FDCWD, "{want}");
                    }
                }
            }
        }
        assert_eq!(quick, 6, "the quick writer took the plain lines");
        // Numbers of every length.
        for n in [0u64, 9, 10, 99, 100, 12_345, 99_999_999, 100_000_000, 17_721_666_690_915, u64::MAX] {
            let mut b = [0u8; 32];
            let mut c = Cursor { buf: &mut b, at: 0 };
            c.uint(n);
            let at = c.at;
            assert_eq!(&b[..at], n.to_string().as_bytes());
        }
    }
}
