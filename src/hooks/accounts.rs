//! The user and group databases of the view. glibc's `getpwnam` and friends read `/etc/passwd`
//! and `/etc/group` through NSS with internal calls, which no view sees: under a root (or a
//! chroot in a view) a program would get the host's users, and `chown root:crontab` in a
//! maintainer script would find no `crontab` group. Where a view puts another file at those
//! names, these lookups read the view's, as the `files` NSS module would; elsewhere they are
//! glibc's own (with whatever else `nsswitch.conf` names).
//!
//! The non-reentrant forms return static storage, as glibc's do (and are as unsafe to call from
//! two threads at once); the `_r` forms fill the caller's buffer (`ERANGE` if it is too small).
#![allow(unsafe_code)]

use super::table::real;
use super::types::*;
use crate::resolver;
use crate::runtime::{self, Runtime};
use crate::sys;
use std::cell::UnsafeCell;
use std::ffi::CStr;

const PASSWD: &CStr = c"/etc/passwd";
const GROUP: &CStr = c"/etc/group";

/// Where a database is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The host's own file at its own name: glibc's lookups (with whatever else
    /// `nsswitch.conf` names) are the view's too.
    Libc,
    /// Another file: read here.
    View,
    /// The view hides or denies it: nothing is found (with this errno), never the host's.
    Refused(c_int),
}

fn source(rt: &Runtime, path: &CStr) -> Source {
    if !rt.has_entries() {
        return Source::Libc;
    }
    let mapped = crate::sys::pool::take().map_err(|e| e.0).and_then(|mut b| {
        let moved = resolver::to_host(rt, path.to_bytes(), Op::Look, &mut b).map_err(|e| e.0)?;
        Ok(moved && b.as_bytes() != path.to_bytes())
    });
    match mapped {
        Ok(false) => Source::Libc,
        Ok(true) => Source::View,
        Err(e) => Source::Refused(e),
    }
}

/// Calls `f` with each line of the view's `path` (without its newline) until it returns true;
/// `start` is a byte offset to begin at. The offset after the line `f` stopped at, or `None`
/// if the file could not be read or no line stopped it.
fn scan(path: &CStr, start: u64, mut f: impl FnMut(&[u8]) -> bool) -> Option<u64> {
    // SAFETY: a NUL-terminated literal; this library's own open, through the view.
    let fd = unsafe { super::open::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    let found = (|| {
        let mut buf = crate::sys::pool::take().ok()?;
        // Taken once: `all_mut` zeroes what lies past the buffer's contents.
        let data = buf.all_mut();
        let room = data.len();
        let mut have = 0usize;
        let mut offset = start;
        // SAFETY: a descriptor of ours.
        if unsafe { libc::lseek(fd, start as libc::off_t, libc::SEEK_SET) } < 0 {
            return None;
        }
        loop {
            let n = sys::raw::read(fd, &mut data[have..room]).ok()?;
            let eof = n == 0;
            have += n;
            let mut at = 0;
            while let Some(nl) = memchr::memchr(b'\n', &data[at..have]) {
                let line_end = at + nl;
                offset += (nl + 1) as u64;
                if f(&data[at..line_end]) {
                    return Some(offset);
                }
                at = line_end + 1;
            }
            if eof {
                // A last line without a newline.
                if at < have && f(&data[at..have]) {
                    return Some(offset + (have - at) as u64);
                }
                return None;
            }
            if at == 0 && have == room {
                // A line longer than the buffer: skipped whole, up to its newline.
                offset += have as u64;
                loop {
                    let n = sys::raw::read(fd, &mut data[..room]).ok()?;
                    if n == 0 {
                        return None;
                    }
                    if let Some(nl) = memchr::memchr(b'\n', &data[..n]) {
                        offset += (nl + 1) as u64;
                        data.copy_within(nl + 1..n, 0);
                        have = n - nl - 1;
                        break;
                    }
                    offset += n as u64;
                }
                continue;
            }
            data.copy_within(at..have, 0);
            have -= at;
        }
    })();
    crate::state::fds::forget(fd);
    // SAFETY: the descriptor opened above.
    unsafe { real::close(fd) };
    found
}

/// The `:`-separated fields of a database line (a comment or a short line: `None`).
pub fn fields<const N: usize>(line: &[u8]) -> Option<[&[u8]; N]> {
    if line.first() == Some(&b'#') || line.is_empty() {
        return None;
    }
    let mut out = [&b""[..]; N];
    let mut parts = line.splitn(N, |&b| b == b':');
    for slot in out.iter_mut() {
        *slot = parts.next()?;
    }
    Some(out)
}

fn number(s: &[u8]) -> Option<u32> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Copies C strings and pointer arrays into a caller's buffer.
struct Carve {
    buf: *mut c_char,
    len: usize,
    used: usize,
}

impl Carve {
    fn string(&mut self, s: &[u8]) -> Option<*mut c_char> {
        if self.used + s.len() + 1 > self.len {
            return None;
        }
        // SAFETY: within the caller's buffer of `len` bytes.
        unsafe {
            let p = self.buf.add(self.used);
            std::ptr::copy_nonoverlapping(s.as_ptr(), p.cast::<u8>(), s.len());
            *p.add(s.len()) = 0;
            self.used += s.len() + 1;
            Some(p)
        }
    }

    fn pointers(&mut self, n: usize) -> Option<*mut *mut c_char> {
        let align = std::mem::align_of::<*mut c_char>();
        let start = (self.buf as usize + self.used).next_multiple_of(align) - self.buf as usize;
        let size = n * std::mem::size_of::<*mut c_char>();
        if start + size > self.len {
            return None;
        }
        self.used = start + size;
        // SAFETY: aligned, within the caller's buffer.
        Some(unsafe { self.buf.add(start).cast() })
    }
}

/// Why an entry was not filled.
#[derive(Debug)]
enum Unfilled {
    /// The line is not an entry (an id that is no number): skipped, as glibc skips it.
    Malformed,
    /// The caller's buffer is too small: `ERANGE`.
    Range,
}

/// Fills `pw` from a passwd line's fields.
fn fill_passwd(f: &[&[u8]; 7], pw: &mut libc::passwd, carve: &mut Carve) -> Result<(), Unfilled> {
    let (uid, gid) = (number(f[2]).ok_or(Unfilled::Malformed)?, number(f[3]).ok_or(Unfilled::Malformed)?);
    let mut s = |b: &[u8]| carve.string(b).ok_or(Unfilled::Range);
    *pw = libc::passwd { pw_name: s(f[0])?, pw_passwd: s(f[1])?, pw_uid: uid, pw_gid: gid, pw_gecos: s(f[4])?, pw_dir: s(f[5])?, pw_shell: s(f[6])? };
    Ok(())
}

/// Fills `gr` from a group line's fields.
fn fill_group(f: &[&[u8]; 4], gr: &mut libc::group, carve: &mut Carve) -> Result<(), Unfilled> {
    let gid = number(f[2]).ok_or(Unfilled::Malformed)?;
    let members = || f[3].split(|&b| b == b',').filter(|m| !m.is_empty());
    let count = members().count();
    let mem = carve.pointers(count + 1).ok_or(Unfilled::Range)?;
    for (i, m) in members().enumerate() {
        let s = carve.string(m).ok_or(Unfilled::Range)?;
        // SAFETY: `mem` has room for every member and the NULL.
        unsafe { *mem.add(i) = s };
    }
    // SAFETY: as above.
    unsafe { *mem.add(count) = std::ptr::null_mut() };
    gr.gr_mem = mem;
    gr.gr_gid = gid;
    gr.gr_name = carve.string(f[0]).ok_or(Unfilled::Range)?;
    gr.gr_passwd = carve.string(f[1]).ok_or(Unfilled::Range)?;
    Ok(())
}

/// What a lookup looks for.
#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a [u8]),
    Id(u32),
}

impl Key<'_> {
    fn matches(self, name: &[u8], id: &[u8]) -> bool {
        match self {
            Key::Name(n) => n == name,
            Key::Id(i) => number(id) == Some(i),
        }
    }
}

/// Finds the entry for `key` in the view's `file` (lines of `N` fields, the name first and the
/// id third) into `entry`/`buf`: 0 (with `*result` the entry, or NULL if there is none), else
/// the errno (`ERANGE`: the buffer is too small).
fn lookup_r<T, const N: usize>(
    file: &CStr,
    key: Key,
    fill: impl Fn(&[&[u8]; N], &mut T, &mut Carve) -> Result<(), Unfilled>,
    entry: *mut T,
    buf: *mut c_char,
    len: usize,
    result: *mut *mut T,
) -> c_int {
    let mut answer = 0;
    let mut found = false;
    scan(file, 0, |line| {
        let Some(f) = fields::<N>(line) else { return false };
        if !key.matches(f[0], f[2]) {
            return false;
        }
        let mut carve = Carve { buf, len, used: 0 };
        // SAFETY: the caller's struct.
        match fill(&f, unsafe { &mut *entry }, &mut carve) {
            Ok(()) => found = true,
            Err(Unfilled::Malformed) => return false,
            Err(Unfilled::Range) => answer = libc::ERANGE,
        }
        true
    });
    // SAFETY: the caller's result pointer.
    unsafe { *result = if found { entry } else { std::ptr::null_mut() } };
    answer
}

/// glibc's static results, ours: one entry of each kind and the strings behind it.
const STATIC_LEN: usize = 16384;

struct Static<T> {
    entry: UnsafeCell<T>,
    buf: UnsafeCell<[u8; STATIC_LEN]>,
    /// Where `getpwent`/`getgrent` go on from (a byte offset in the file).
    next: std::sync::atomic::AtomicU64,
}

// SAFETY: as glibc's own static results: callers of the non-reentrant forms do not share them
// between threads.
unsafe impl<T> Sync for Static<T> {}

// SAFETY: all-zero is a valid `passwd` and `group` (NULL pointers, zero ids).
static PW: Static<libc::passwd> = Static {
    entry: UnsafeCell::new(unsafe { std::mem::zeroed() }),
    buf: UnsafeCell::new([0; STATIC_LEN]),
    next: std::sync::atomic::AtomicU64::new(0),
};
// SAFETY: as above.
static GR: Static<libc::group> = Static {
    entry: UnsafeCell::new(unsafe { std::mem::zeroed() }),
    buf: UnsafeCell::new([0; STATIC_LEN]),
    next: std::sync::atomic::AtomicU64::new(0),
};

/// [`lookup_r`] into glibc-like static storage: the entry or NULL (errno set on `ERANGE`).
fn lookup_static<T, const N: usize>(
    s: &'static Static<T>,
    file: &CStr,
    key: Key,
    fill: impl Fn(&[&[u8]; N], &mut T, &mut Carve) -> Result<(), Unfilled>,
) -> *mut T {
    let mut result = std::ptr::null_mut();
    let e = lookup_r(file, key, fill, s.entry.get(), s.buf.get().cast(), STATIC_LEN, &mut result);
    if e != 0 {
        sys::set_errno(e);
    }
    result
}

/// Where `file` is read from, for this process.
fn source_of(file: &CStr) -> Source {
    runtime::get().map_or(Source::Libc, |rt| source(rt, file))
}

pub unsafe fn getpwnam(name: CStrP) -> *mut libc::passwd {
    match (source_of(PASSWD), unsafe { super::bytes(name) }) {
        (Source::View, Some(n)) => lookup_static::<_, 7>(&PW, PASSWD, Key::Name(n), fill_passwd),
        (Source::Refused(_), _) => std::ptr::null_mut(),
        _ => unsafe { real::getpwnam(name) },
    }
}

pub unsafe fn getpwuid(uid: libc::uid_t) -> *mut libc::passwd {
    match source_of(PASSWD) {
        Source::View => lookup_static::<_, 7>(&PW, PASSWD, Key::Id(uid), fill_passwd),
        Source::Refused(_) => std::ptr::null_mut(),
        Source::Libc => unsafe { real::getpwuid(uid) },
    }
}

pub unsafe fn getpwnam_r(name: CStrP, pw: *mut libc::passwd, buf: *mut c_char, len: size_t, result: *mut *mut libc::passwd) -> c_int {
    match (source_of(PASSWD), unsafe { super::bytes(name) }) {
        (Source::View, Some(n)) => lookup_r::<_, 7>(PASSWD, Key::Name(n), fill_passwd, pw, buf, len, result),
        (Source::Refused(_), _) => not_found(result),
        _ => unsafe { real::getpwnam_r(name, pw, buf, len, result) },
    }
}

pub unsafe fn getpwuid_r(uid: libc::uid_t, pw: *mut libc::passwd, buf: *mut c_char, len: size_t, result: *mut *mut libc::passwd) -> c_int {
    match source_of(PASSWD) {
        Source::View => lookup_r::<_, 7>(PASSWD, Key::Id(uid), fill_passwd, pw, buf, len, result),
        Source::Refused(_) => not_found(result),
        Source::Libc => unsafe { real::getpwuid_r(uid, pw, buf, len, result) },
    }
}

pub unsafe fn getgrnam(name: CStrP) -> *mut libc::group {
    match (source_of(GROUP), unsafe { super::bytes(name) }) {
        (Source::View, Some(n)) => lookup_static::<_, 4>(&GR, GROUP, Key::Name(n), fill_group),
        (Source::Refused(_), _) => std::ptr::null_mut(),
        _ => unsafe { real::getgrnam(name) },
    }
}

pub unsafe fn getgrgid(gid: libc::gid_t) -> *mut libc::group {
    match source_of(GROUP) {
        Source::View => lookup_static::<_, 4>(&GR, GROUP, Key::Id(gid), fill_group),
        Source::Refused(_) => std::ptr::null_mut(),
        Source::Libc => unsafe { real::getgrgid(gid) },
    }
}

pub unsafe fn getgrnam_r(name: CStrP, gr: *mut libc::group, buf: *mut c_char, len: size_t, result: *mut *mut libc::group) -> c_int {
    match (source_of(GROUP), unsafe { super::bytes(name) }) {
        (Source::View, Some(n)) => lookup_r::<_, 4>(GROUP, Key::Name(n), fill_group, gr, buf, len, result),
        (Source::Refused(_), _) => not_found(result),
        _ => unsafe { real::getgrnam_r(name, gr, buf, len, result) },
    }
}

pub unsafe fn getgrgid_r(gid: libc::gid_t, gr: *mut libc::group, buf: *mut c_char, len: size_t, result: *mut *mut libc::group) -> c_int {
    match source_of(GROUP) {
        Source::View => lookup_r::<_, 4>(GROUP, Key::Id(gid), fill_group, gr, buf, len, result),
        Source::Refused(_) => not_found(result),
        Source::Libc => unsafe { real::getgrgid_r(gid, gr, buf, len, result) },
    }
}

/// An `_r` lookup of a database the view refuses: no entry.
fn not_found<T>(result: *mut *mut T) -> c_int {
    // SAFETY: the caller's result pointer.
    unsafe { *result = std::ptr::null_mut() };
    0
}

/// The next entry of an enumeration (`getpwent`, `getgrent`): the line at `next`, filled by
/// `fill`; NULL at the end.
fn next_entry<T, const N: usize>(
    s: &'static Static<T>,
    file: &CStr,
    fill: impl Fn(&[&[u8]; N], &mut T, &mut Carve) -> Result<(), Unfilled>,
) -> *mut T {
    use std::sync::atomic::Ordering;
    let mut filled = false;
    let start = s.next.load(Ordering::Relaxed);
    let after = scan(file, start, |line| {
        let Some(f) = fields::<N>(line) else { return false };
        let mut carve = Carve { buf: s.buf.get().cast(), len: STATIC_LEN, used: 0 };
        // SAFETY: the static entry (see `Static`).
        filled = fill(&f, unsafe { &mut *s.entry.get() }, &mut carve).is_ok();
        filled
    });
    match after {
        Some(off) if filled => {
            s.next.store(off, Ordering::Relaxed);
            s.entry.get()
        }
        _ => std::ptr::null_mut(),
    }
}

pub unsafe fn getpwent() -> *mut libc::passwd {
    match source_of(PASSWD) {
        Source::View => next_entry::<_, 7>(&PW, PASSWD, fill_passwd),
        Source::Refused(_) => std::ptr::null_mut(),
        Source::Libc => unsafe { real::getpwent() },
    }
}

pub unsafe fn setpwent() {
    PW.next.store(0, std::sync::atomic::Ordering::Relaxed);
    unsafe { real::setpwent() }
}

pub unsafe fn endpwent() {
    PW.next.store(0, std::sync::atomic::Ordering::Relaxed);
    unsafe { real::endpwent() }
}

pub unsafe fn getgrent() -> *mut libc::group {
    match source_of(GROUP) {
        Source::View => next_entry::<_, 4>(&GR, GROUP, fill_group),
        Source::Refused(_) => std::ptr::null_mut(),
        Source::Libc => unsafe { real::getgrent() },
    }
}

pub unsafe fn setgrent() {
    GR.next.store(0, std::sync::atomic::Ordering::Relaxed);
    unsafe { real::setgrent() }
}

pub unsafe fn endgrent() {
    GR.next.store(0, std::sync::atomic::Ordering::Relaxed);
    unsafe { real::endgrent() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_lines_split_into_their_fields() {
        let f = fields::<7>(b"root:x:0:0:root:/root:/bin/bash").unwrap();
        assert_eq!(f, [&b"root"[..], b"x", b"0", b"0", b"root", b"/root", b"/bin/bash"]);
        let g = fields::<4>(b"crontab:x:105:").unwrap();
        assert_eq!(g[3], b"");
        assert!(fields::<7>(b"# comment").is_none());
        assert!(fields::<7>(b"short:x:1").is_none());
        // The last field keeps any `:` it has.
        assert_eq!(fields::<4>(b"g:x:1:a,b:c").unwrap()[3], b"a,b:c");
    }

    #[test]
    fn a_group_entry_is_carved_into_the_callers_buffer() {
        let mut buf = [0u8; 256];
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut carve = Carve { buf: buf.as_mut_ptr().cast(), len: buf.len(), used: 0 };
        fill_group(&fields::<4>(b"adm:x:4:syslog,me").unwrap(), &mut gr, &mut carve).unwrap();
        let mut carve = Carve { buf: buf.as_mut_ptr().cast(), len: buf.len(), used: 0 };
        assert!(
            matches!(fill_group(&fields::<4>(b"bad:x:notanumber:").unwrap(), &mut gr, &mut carve), Err(Unfilled::Malformed)),
            "skipped, not ERANGE"
        );
        let mut carve = Carve { buf: buf.as_mut_ptr().cast(), len: buf.len(), used: 0 };
        fill_group(&fields::<4>(b"adm:x:4:syslog,me").unwrap(), &mut gr, &mut carve).unwrap();
        assert_eq!(gr.gr_gid, 4);
        let name = unsafe { CStr::from_ptr(gr.gr_name) };
        assert_eq!(name.to_bytes(), b"adm");
        let m1 = unsafe { CStr::from_ptr(*gr.gr_mem.add(1)) };
        assert_eq!(m1.to_bytes(), b"me");
        assert!(unsafe { *gr.gr_mem.add(2) }.is_null());
        let mut small = [0u8; 8];
        let mut carve = Carve { buf: small.as_mut_ptr().cast(), len: small.len(), used: 0 };
        assert!(matches!(fill_group(&fields::<4>(b"adm:x:4:syslog,me").unwrap(), &mut gr, &mut carve), Err(Unfilled::Range)), "ERANGE");
    }
}
