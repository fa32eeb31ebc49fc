//! The other variables that carry a view across exec, each with one encoder and one parser,
//! beside `KMVIEW_STACK`'s in [`crate::format`]. None of them allocates: the library's exec
//! hooks write them into fixed buffers, and its start-up reads them before `main`.
//!
//! ```text
//! KMVIEW_FDS = "*" / [ item *( ";" item ) ]  ; item = [ "o" ] fd "=" arg (arg as in KMVIEW_STACK)
//! KMVIEW_EXE = arg [ ";via=" arg ]           ; the program's virtual path [, its loader's host path]
//! KMVIEW_CWD = PATH                          ; the virtual working directory, raw bytes
//! KMVIEW_IDS = ids ":" ids ":" [ id *( "," id ) ]  ; under a fake root: uids, gids, groups
//!              ; ids = real "," effective "," saved "," filesystem (decimal)
//! LD_PRELOAD = the library's absolute path, then whatever else the program preloads
//! ```
//!
//! `KMVIEW_FDS=*` asks the first process of a new view to name every descriptor it inherited
//! from outside (from what the kernel says each one is), so that none is unknown to the view;
//! such a descriptor keeps an `o` in front of its number from then on (it predates the view).

use crate::format::{check_mount_path, encode_arg, Arg, ParseError};
use crate::sink::Sink;

pub const FDS_VAR: &str = "KMVIEW_FDS";
pub const EXE_VAR: &str = "KMVIEW_EXE";
pub const IDS_VAR: &str = "KMVIEW_IDS";
/// The `KMVIEW_FDS` value that asks for every inherited descriptor to be named.
pub const FDS_SCAN: &[u8] = b"*";

/// One inherited descriptor: its number, its virtual name, and whether it predates the view.
#[derive(Clone, Copy, Debug)]
pub struct Fd<'a> {
    pub fd: i32,
    pub name: Arg<'a>,
    pub outside: bool,
}

/// Appends one `[o]fd=NAME` item (with the `;` before it unless `first`).
pub fn encode_fd(out: &mut impl Sink, first: bool, fd: i32, name: &[u8], outside: bool) -> bool {
    let mut digits = [0u8; 12];
    let d = decimal(fd.max(0) as u64, &mut digits);
    (first || out.put(b";")) && (!outside || out.put(b"o")) && out.put(d) && out.put(b"=") && encode_arg(out, name)
}

/// The items of a `KMVIEW_FDS` value (not [`FDS_SCAN`]), each checked.
pub fn fds(value: &[u8]) -> impl Iterator<Item = Result<Fd<'_>, ParseError>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= value.len() {
            return None;
        }
        let end = value[pos..].iter().position(|&b| b == b';').map_or(value.len(), |i| pos + i);
        let item = &value[pos..end];
        let at = pos;
        pos = end + 1;
        let Some(eq) = item.iter().position(|&b| b == b'=') else {
            return Some(Err(ParseError { what: "a descriptor item without `=`", at }));
        };
        let (outside, number) = match item[..eq].strip_prefix(b"o") {
            Some(n) => (true, n),
            None => (false, &item[..eq]),
        };
        let fd = parse_decimal(number).filter(|&n| n <= i32::MAX as u64);
        let Some(fd) = fd else {
            return Some(Err(ParseError { what: "a descriptor number that is not one", at }));
        };
        let arg = Arg::new(&item[eq + 1..], at + eq + 1);
        Some(arg.check().map(|_| Fd { fd: fd as i32, name: arg, outside }))
    })
}

/// Writes a `KMVIEW_EXE` value.
pub fn encode_exe(out: &mut impl Sink, virt: &[u8], via: Option<&[u8]>) -> bool {
    encode_arg(out, virt) && via.is_none_or(|v| out.put(b";via=") && encode_arg(out, v))
}

/// Reads a `KMVIEW_EXE` value: the virtual path and, if any, the loader's host path.
pub fn exe(value: &[u8]) -> Result<(Arg<'_>, Option<Arg<'_>>), ParseError> {
    let (virt, via) = match value.iter().position(|&b| b == b';') {
        Some(i) => match value[i + 1..].strip_prefix(b"via=") {
            Some(v) => (&value[..i], Some(Arg::new(v, i + 5))),
            None => return Err(ParseError { what: "an unknown part after `;`", at: i }),
        },
        None => (value, None),
    };
    let virt = Arg::new(virt, 0);
    virt.check()?;
    if let Some(v) = via {
        v.check()?;
    }
    Ok((virt, via))
}

/// A `KMVIEW_CWD` value, if it is an absolute, canonical path (anything else is not believed).
pub fn cwd(value: &[u8]) -> Option<&[u8]> {
    check_mount_path(value).ok().map(|_| value)
}

/// Whether an `LD_PRELOAD` value names `lib` (words are separated by spaces or colons).
pub fn preload_names(value: &[u8], lib: &[u8]) -> bool {
    value.split(|&b| b == b' ' || b == b':').any(|w| w == lib)
}

/// Writes an `LD_PRELOAD` value naming `lib` once, first, then every other preload of
/// `existing` (another copy of kmview's library is dropped: a view has one).
pub fn encode_preload(out: &mut impl Sink, lib: &[u8], existing: Option<&[u8]>) -> bool {
    let mut ok = out.put(lib);
    for word in existing.unwrap_or(b"").split(|&b| b == b' ' || b == b':') {
        if !word.is_empty() && word != lib && !word.ends_with(b"/libkmview.so") {
            ok &= out.put(b" ") && out.put(word);
        }
    }
    ok
}

/// Writes `bytes` for a one-line message: printable ASCII as it is, everything else (newlines,
/// escape sequences, non-UTF-8) as `\n`, `\t`, `\\` or `\xHH`, so that the message stays one
/// line and cannot drive a terminal.
pub fn escape_for_message(out: &mut impl Sink, bytes: &[u8]) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut ok = true;
    for &b in bytes {
        ok &= match b {
            b'\n' => out.put(b"\\n"),
            b'\t' => out.put(b"\\t"),
            b'\\' => out.put(b"\\\\"),
            0x20..=0x7e => out.put(&[b]),
            _ => out.put(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
        };
    }
    ok
}

/// At most this many supplementary groups in a fake identity.
pub const MAX_GROUPS: usize = 64;

/// A process's identity under a fake root: real, effective, saved and file-system user and
/// group ids, and the supplementary groups.
#[derive(Clone, Copy, Debug)]
pub struct Ids {
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    pub groups: [u32; MAX_GROUPS],
    pub ngroups: usize,
}

impl PartialEq for Ids {
    fn eq(&self, o: &Ids) -> bool {
        self.uids == o.uids && self.gids == o.gids && self.groups() == o.groups()
    }
}

impl Ids {
    /// Everything `uid` and `gid`, with `gid` as the one supplementary group (as a login has).
    pub fn of(uid: u32, gid: u32) -> Ids {
        let mut groups = [0; MAX_GROUPS];
        groups[0] = gid;
        Ids { uids: [uid; 4], gids: [gid; 4], groups, ngroups: 1 }
    }

    pub fn groups(&self) -> &[u32] {
        &self.groups[..self.ngroups]
    }
}

/// Writes a `KMVIEW_IDS` value.
pub fn encode_ids(out: &mut impl Sink, ids: &Ids) -> bool {
    let mut buf = [0u8; 12];
    let mut ok = true;
    for (i, id) in ids.uids.iter().enumerate() {
        ok &= (i == 0 || out.put(b",")) && out.put(decimal(*id as u64, &mut buf));
    }
    ok &= out.put(b":");
    for (i, id) in ids.gids.iter().enumerate() {
        ok &= (i == 0 || out.put(b",")) && out.put(decimal(*id as u64, &mut buf));
    }
    ok &= out.put(b":");
    for (i, id) in ids.groups().iter().enumerate() {
        ok &= (i == 0 || out.put(b",")) && out.put(decimal(*id as u64, &mut buf));
    }
    ok
}

/// Reads a `KMVIEW_IDS` value; `None` if it is not one.
pub fn ids(value: &[u8]) -> Option<Ids> {
    let mut parts = value.split(|&b| b == b':');
    let (u, g, groups) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let four = |s: &[u8]| -> Option<[u32; 4]> {
        let mut out = [0u32; 4];
        let mut n = 0;
        for item in s.split(|&b| b == b',') {
            *out.get_mut(n)? = u32::try_from(parse_decimal(item)?).ok()?;
            n += 1;
        }
        (n == 4).then_some(out)
    };
    let mut ids = Ids { uids: four(u)?, gids: four(g)?, groups: [0; MAX_GROUPS], ngroups: 0 };
    if !groups.is_empty() {
        for item in groups.split(|&b| b == b',') {
            *ids.groups.get_mut(ids.ngroups)? = u32::try_from(parse_decimal(item)?).ok()?;
            ids.ngroups += 1;
        }
    }
    Some(ids)
}

/// `n` in decimal into `buf`; the digits written.
pub fn decimal(mut n: u64, buf: &mut [u8; 12]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            return &buf[i..];
        }
    }
}

/// A decimal number without sign or leading garbage (at most 10 digits).
pub fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |a, &d| a * 10 + (d - b'0') as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_round_trip_and_garbage_is_refused() {
        let mut a = Ids::of(0, 0);
        a.uids = [1000, 0, 42, 4294967295];
        a.groups[1] = 7;
        a.ngroups = 2;
        let none = Ids { ngroups: 0, ..a };
        for ids in [a, none, Ids::of(5, 6)] {
            let mut v = Vec::new();
            assert!(encode_ids(&mut v, &ids));
            assert_eq!(super::ids(&v), Some(ids), "{}", String::from_utf8_lossy(&v));
        }
        for bad in [&b""[..], b"0,0,0:0,0,0,0:", b"0,0,0,0:0,0,0,0", b"0,0,0,0:0,0,0,x:", b"0,0,0,4294967296:0,0,0,0:", b"0,0,0,0:0,0,0,0:1,,2"] {
            assert_eq!(super::ids(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn descriptors_round_trip_with_any_name() {
        let names: [&[u8]; 3] = [b"/a b/c", b"/x;y=z%", b"/\xff\n"];
        let mut v = Vec::new();
        for (i, n) in names.iter().enumerate() {
            assert!(encode_fd(&mut v, i == 0, i as i32 + 3, n, i == 1));
        }
        let back: Vec<(i32, Vec<u8>, bool)> = fds(&v).map(|r| r.map(|f| (f.fd, f.name.to_vec(), f.outside)).unwrap()).collect();
        assert_eq!(back, vec![(3, names[0].to_vec(), false), (4, names[1].to_vec(), true), (5, names[2].to_vec(), false)]);
        assert!(fds(b"3=/a;x=/b").any(|r| r.is_err()));
        assert!(fds(b"3=/a b").any(|r| r.is_err()));
        assert!(fds(b"99999999999=/a").any(|r| r.is_err()));
    }

    #[test]
    fn exe_round_trips_with_and_without_a_loader() {
        for via in [None, Some(&b"/r/lib64/ld;x"[..])] {
            let mut v = Vec::new();
            assert!(encode_exe(&mut v, b"/bin/odd;name", via));
            let (virt, loader) = exe(&v).unwrap();
            assert_eq!(virt.to_vec(), b"/bin/odd;name");
            assert_eq!(loader.map(|a| a.to_vec()), via.map(|x| x.to_vec()));
        }
        assert!(exe(b"/a;what=/b").is_err());
    }

    #[test]
    fn preload_puts_the_library_first_once() {
        let mut v = Vec::new();
        encode_preload(&mut v, b"/k/libkmview.so", Some(b"/x/libjemalloc.so.2:/k/libkmview.so /old/libkmview.so"));
        assert_eq!(v, b"/k/libkmview.so /x/libjemalloc.so.2");
        assert!(preload_names(&v, b"/k/libkmview.so") && !preload_names(&v, b"/k/lib"));
    }

    #[test]
    fn messages_escape_control_bytes() {
        let mut v = Vec::new();
        escape_for_message(&mut v, b"a\n\x1b[31m\xff\\");
        assert_eq!(v, b"a\\n\\x1b[31m\\xff\\\\");
    }
}
