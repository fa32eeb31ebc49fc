//! Reading a JSON trace (`kmview --trace FILE`, `ViewBuilder::trace`): one [`Event`] per line.
//!
//! The library writes each line whole; this reader takes the fields a tool needs and keeps
//! paths as bytes (a byte that is not UTF-8 is written `\udcXX` and read back as that byte).

use std::io::BufRead;
use std::path::Path;

/// One traced call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// CLOCK_MONOTONIC, in nanoseconds.
    pub t: u64,
    pub pid: i64,
    pub tid: i64,
    /// The function (`openat`).
    pub call: String,
    /// What it did to the path: look, read, write, exec, list, remove, rename, link.
    pub op: String,
    /// As the program gave it, its absolute name in the view, and as the view handed it
    /// outward (`None`: the view refused it). A line leaves `view` out when it is `path`, and
    /// `out` when it is `view`: both are filled in here.
    pub path: Vec<u8>,
    pub view: Vec<u8>,
    pub out: Option<Vec<u8>>,
    /// The new name of a rename or link.
    pub path2: Option<Vec<u8>>,
    pub view2: Option<Vec<u8>>,
    pub out2: Option<Vec<u8>>,
    /// Open flags in words (`O_WRONLY|O_CREAT`).
    pub flags: Option<String>,
    /// The descriptor a relative path started from, or a descriptor-based call's.
    pub fd: Option<i64>,
    pub program: Option<Vec<u8>>,
    /// An exec's working directory, in the view.
    pub cwd: Option<Vec<u8>>,
    pub argv: Option<Vec<Vec<u8>>>,
    pub result: i64,
    /// The errno's name when the call failed.
    pub errno: Option<String>,
}

impl Event {
    /// Whether the call failed.
    pub fn failed(&self) -> bool {
        self.errno.is_some()
    }
}

/// Every event of a trace file, in the file's order. A line that is not a trace line is an
/// `InvalidData` error naming its number.
pub fn read_file(path: &Path) -> std::io::Result<Vec<Event>> {
    let f = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut out = Vec::new();
    for (i, line) in f.split(b'\n').enumerate() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        out.push(parse_line(&line).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: line {} is not a trace line", path.display(), i + 1))
        })?);
    }
    Ok(out)
}

/// One line of a JSON trace (a line may end in spaces: the library pads the last line of a
/// page).
pub fn parse_line(line: &[u8]) -> Option<Event> {
    let line = line.trim_ascii_end();
    let mut p = Parser { s: line, i: 0 };
    let mut ev = Event::default();
    let (mut refused, mut refused2) = (false, false);
    p.expect(b'{')?;
    if p.peek()? == b'}' {
        return Some(ev);
    }
    loop {
        let key = p.string()?;
        p.expect(b':')?;
        match key.as_slice() {
            b"t" => ev.t = p.number()? as u64,
            b"pid" => ev.pid = p.number()?,
            b"tid" => ev.tid = p.number()?,
            b"result" => ev.result = p.number()?,
            b"fd" => ev.fd = Some(p.number()?),
            b"call" => ev.call = String::from_utf8(p.string()?).ok()?,
            b"op" => ev.op = String::from_utf8(p.string()?).ok()?,
            b"flags" => ev.flags = Some(String::from_utf8(p.string()?).ok()?),
            b"errno" => ev.errno = Some(p.errno()?),
            b"path" => ev.path = p.string()?,
            b"view" => ev.view = p.string()?,
            b"out" => {
                ev.out = p.string_or_null()?;
                refused = ev.out.is_none();
            }
            b"path2" => ev.path2 = Some(p.string()?),
            b"view2" => ev.view2 = Some(p.string()?),
            b"out2" => {
                ev.out2 = p.string_or_null()?;
                refused2 = ev.out2.is_none();
            }
            b"program" => ev.program = Some(p.string()?),
            b"cwd" => ev.cwd = Some(p.string()?),
            b"argv" => ev.argv = Some(p.strings()?),
            _ => p.skip_value()?,
        }
        match p.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    // `tid` is left out for a process's main thread.
    if ev.tid == 0 {
        ev.tid = ev.pid;
    }
    // `view` is left out where it is `path` itself, `out` where it is `view` (`null`: refused);
    // likewise for the second name.
    if ev.view.is_empty() {
        ev.view = ev.path.clone();
    }
    if !refused && ev.out.is_none() {
        ev.out = Some(ev.view.clone());
    }
    if ev.path2.is_some() {
        if ev.view2.is_none() {
            ev.view2 = ev.path2.clone();
        }
        if !refused2 && ev.out2.is_none() {
            ev.out2 = ev.view2.clone();
        }
    }
    (p.i == line.len()).then_some(ev)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    fn number(&mut self) -> Option<i64> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).ok()?.parse().ok()
    }

    /// A name or a number (an errno the library had no name for).
    fn errno(&mut self) -> Option<String> {
        if self.peek()? == b'"' {
            String::from_utf8(self.string()?).ok()
        } else {
            self.number().map(|n| n.to_string())
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.next()? {
                b'"' => return Some(out),
                b'\\' => match self.next()? {
                    b'"' => out.push(b'"'),
                    b'\\' => out.push(b'\\'),
                    b'/' => out.push(b'/'),
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'u' => {
                        let u = self.hex4()?;
                        if (0xdc80..=0xdcff).contains(&u) {
                            // A byte that was not UTF-8 (surrogate escape).
                            out.push((u - 0xdc00) as u8);
                        } else {
                            let c = char::from_u32(u)?;
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                    }
                    _ => return None,
                },
                b => out.push(b),
            }
        }
    }

    /// A string, or `null` (`None` inside).
    fn string_or_null(&mut self) -> Option<Option<Vec<u8>>> {
        if self.s[self.i..].starts_with(b"null") {
            self.i += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    fn strings(&mut self) -> Option<Vec<Vec<u8>>> {
        self.expect(b'[')?;
        let mut out = Vec::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(out);
        }
        loop {
            out.push(self.string()?);
            match self.next()? {
                b',' => continue,
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'[' => self.strings().map(|_| ()),
            b't' | b'f' | b'n' => {
                while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
                    self.i += 1;
                }
                Some(())
            }
            _ => self.number().map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_line_the_library_writes() {
        let line = br#"{"t":5,"pid":10,"tid":11,"call":"openat","op":"read","fd":3,"path":"a\"b","view":"/x/a\"b","out":"/h/a\"b","flags":"O_RDONLY|O_CLOEXEC","result":4}"#;
        let ev = parse_line(line).unwrap();
        assert_eq!((ev.t, ev.pid, ev.tid, ev.fd, ev.result), (5, 10, 11, Some(3), 4));
        assert_eq!(ev.path, b"a\"b");
        let padded = [&line[..], b"      "].concat();
        assert_eq!(parse_line(&padded), Some(ev.clone()));
        assert_eq!(ev.out.as_deref(), Some(&b"/h/a\"b"[..]));
        assert_eq!(ev.flags.as_deref(), Some("O_RDONLY|O_CLOEXEC"));
        assert!(!ev.failed());
    }

    #[test]
    fn surrogate_escapes_give_the_bytes_back() {
        let ev = parse_line(br#"{"path":"x\udcffy\u00e9","result":-1,"errno":"ENOENT","argv":["a","b"],"cut":true}"#).unwrap();
        assert_eq!(ev.path, b"x\xffy\xc3\xa9");
        assert_eq!((ev.view.as_slice(), ev.out.as_deref()), (ev.path.as_slice(), Some(ev.path.as_slice())), "left out: the same names");
        let refused = parse_line(br#"{"path":"a","view":"/d/a","out":null,"result":-1,"errno":"ENOENT"}"#).unwrap();
        assert_eq!((refused.view.as_slice(), refused.out), (&b"/d/a"[..], None));
        assert_eq!(ev.errno.as_deref(), Some("ENOENT"));
        assert_eq!(ev.argv, Some(vec![b"a".to_vec(), b"b".to_vec()]));
    }

    #[test]
    fn refuses_what_is_not_a_line() {
        for bad in [&b""[..], b"{", b"{\"t\":}", b"{\"path\":\"x}", b"{\"t\":1}x", b"not json"] {
            assert!(parse_line(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
