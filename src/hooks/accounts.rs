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

/// Whether the view shows another file than the host's at `path` (then glibc's NSS, which
/// reads the host's, would answer for the wrong system).
fn in_view(rt: &Runtime, path: &CStr) -> bool {
    rt.has_mounts && crate::sys::pool::with_buf(|b| resolver::to_host(rt, path.to_bytes(), Op::Look, b)).unwrap_or(false)
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
                // A line longer than the buffer: skipped.
                have = 0;
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

/// Fills `pw` from a passwd line's fields.
fn fill_passwd(f: &[&[u8]; 7], pw: &mut libc::passwd, carve: &mut Carve) -> Option<()> {
    pw.pw_uid = number(f[2])?;
    pw.pw_gid = number(f[3])?;
    pw.pw_name = carve.string(f[0])?;
    pw.pw_passwd = carve.string(f[1])?;
    pw.pw_gecos = carve.string(f[4])?;
    pw.pw_dir = carve.string(f[5])?;
    pw.pw_shell = carve.string(f[6])?;
    Some(())
}

/// Fills `gr` from a group line's fields.
fn fill_group(f: &[&[u8]; 4], gr: &mut libc::group, carve: &mut Carve) -> Option<()> {
    gr.gr_gid = number(f[2])?;
    let members = f[3].split(|&b| b == b',').filter(|m| !m.is_empty());
    let mem = carve.pointers(members.clone().count() + 1)?;
    for (i, m) in members.enumerate() {
        let s = carve.string(m)?;
        // SAFETY: `mem` has room for every member and the NULL.
        unsafe { *mem.add(i) = s };
    }
    // SAFETY: as above.
    unsafe { *mem.add(f[3].split(|&b| b == b',').filter(|m| !m.is_empty()).count()) = std::ptr::null_mut() };
    gr.gr_mem = mem;
    gr.gr_name = carve.string(f[0])?;
    gr.gr_passwd = carve.string(f[1])?;
    Some(())
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

/// Finds the passwd entry for `key` in the view's file into `pw`/`buf`: 0 (with `*result` the
/// entry, or NULL if there is none), else the errno (`ERANGE`: the buffer is too small).
fn passwd_r(key: Key, pw: *mut libc::passwd, buf: *mut c_char, len: usize, result: *mut *mut libc::passwd) -> c_int {
    let mut answer = 0;
    let mut found = false;
    scan(PASSWD, 0, |line| {
        let Some(f) = fields::<7>(line) else { return false };
        if !key.matches(f[0], f[2]) {
            return false;
        }
        let mut carve = Carve { buf, len, used: 0 };
        // SAFETY: the caller's struct.
        match fill_passwd(&f, unsafe { &mut *pw }, &mut carve) {
            Some(()) => found = true,
            None => answer = libc::ERANGE,
        }
        true
    });
    // SAFETY: the caller's result pointer.
    unsafe { *result = if found { pw } else { std::ptr::null_mut() } };
    answer
}

/// [`passwd_r`] for the group file.
fn group_r(key: Key, gr: *mut libc::group, buf: *mut c_char, len: usize, result: *mut *mut libc::group) -> c_int {
    let mut answer = 0;
    let mut found = false;
    scan(GROUP, 0, |line| {
        let Some(f) = fields::<4>(line) else { return false };
        if !key.matches(f[0], f[2]) {
            return false;
        }
        let mut carve = Carve { buf, len, used: 0 };
        // SAFETY: the caller's struct.
        match fill_group(&f, unsafe { &mut *gr }, &mut carve) {
            Some(()) => found = true,
            None => answer = libc::ERANGE,
        }
        true
    });
    // SAFETY: the caller's result pointer.
    unsafe { *result = if found { gr } else { std::ptr::null_mut() } };
    answer
}

/// glibc's static results, ours: one entry of each kind and the strings behind it.
struct Static<T> {
    entry: UnsafeCell<T>,
    buf: UnsafeCell<[u8; 16384]>,
    /// Where `getpwent`/`getgrent` go on from (a byte offset in the file).
    next: std::sync::atomic::AtomicU64,
}

// SAFETY: as glibc's own static results: callers of the non-reentrant forms do not share them
// between threads.
unsafe impl<T> Sync for Static<T> {}

// SAFETY: all-zero is a valid `passwd` and `group` (NULL pointers, zero ids).
static PW: Static<libc::passwd> =
    Static { entry: UnsafeCell::new(unsafe { std::mem::zeroed() }), buf: UnsafeCell::new([0; 16384]), next: std::sync::atomic::AtomicU64::new(0) };
// SAFETY: as above.
static GR: Static<libc::group> =
    Static { entry: UnsafeCell::new(unsafe { std::mem::zeroed() }), buf: UnsafeCell::new([0; 16384]), next: std::sync::atomic::AtomicU64::new(0) };

fn static_passwd(key: Key) -> *mut libc::passwd {
    let mut result = std::ptr::null_mut();
    let e = passwd_r(key, PW.entry.get(), PW.buf.get().cast(), 16384, &mut result);
    if e != 0 {
        sys::set_errno(e);
    }
    result
}

fn static_group(key: Key) -> *mut libc::group {
    let mut result = std::ptr::null_mut();
    let e = group_r(key, GR.entry.get(), GR.buf.get().cast(), 16384, &mut result);
    if e != 0 {
        sys::set_errno(e);
    }
    result
}

/// The runtime if the view shows its own `file`.
fn viewed(file: &CStr) -> Option<&'static Runtime> {
    runtime::get().filter(|rt| in_view(rt, file))
}

pub unsafe fn getpwnam(name: CStrP) -> *mut libc::passwd {
    match (viewed(PASSWD), unsafe { super::bytes(name) }) {
        (Some(_), Some(n)) => static_passwd(Key::Name(n)),
        _ => unsafe { real::getpwnam(name) },
    }
}

pub unsafe fn getpwuid(uid: libc::uid_t) -> *mut libc::passwd {
    match viewed(PASSWD) {
        Some(_) => static_passwd(Key::Id(uid)),
        None => unsafe { real::getpwuid(uid) },
    }
}

pub unsafe fn getpwnam_r(name: CStrP, pw: *mut libc::passwd, buf: *mut c_char, len: size_t, result: *mut *mut libc::passwd) -> c_int {
    match (viewed(PASSWD), unsafe { super::bytes(name) }) {
        (Some(_), Some(n)) => passwd_r(Key::Name(n), pw, buf, len, result),
        _ => unsafe { real::getpwnam_r(name, pw, buf, len, result) },
    }
}

pub unsafe fn getpwuid_r(uid: libc::uid_t, pw: *mut libc::passwd, buf: *mut c_char, len: size_t, result: *mut *mut libc::passwd) -> c_int {
    match viewed(PASSWD) {
        Some(_) => passwd_r(Key::Id(uid), pw, buf, len, result),
        None => unsafe { real::getpwuid_r(uid, pw, buf, len, result) },
    }
}

pub unsafe fn getgrnam(name: CStrP) -> *mut libc::group {
    match (viewed(GROUP), unsafe { super::bytes(name) }) {
        (Some(_), Some(n)) => static_group(Key::Name(n)),
        _ => unsafe { real::getgrnam(name) },
    }
}

pub unsafe fn getgrgid(gid: libc::gid_t) -> *mut libc::group {
    match viewed(GROUP) {
        Some(_) => static_group(Key::Id(gid)),
        None => unsafe { real::getgrgid(gid) },
    }
}

pub unsafe fn getgrnam_r(name: CStrP, gr: *mut libc::group, buf: *mut c_char, len: size_t, result: *mut *mut libc::group) -> c_int {
    match (viewed(GROUP), unsafe { super::bytes(name) }) {
        (Some(_), Some(n)) => group_r(Key::Name(n), gr, buf, len, result),
        _ => unsafe { real::getgrnam_r(name, gr, buf, len, result) },
    }
}

pub unsafe fn getgrgid_r(gid: libc::gid_t, gr: *mut libc::group, buf: *mut c_char, len: size_t, result: *mut *mut libc::group) -> c_int {
    match viewed(GROUP) {
        Some(_) => group_r(Key::Id(gid), gr, buf, len, result),
        None => unsafe { real::getgrgid_r(gid, gr, buf, len, result) },
    }
}

/// The next entry of an enumeration (`getpwent`, `getgrent`): the line at `next`, filled by
/// `fill`; NULL at the end.
fn next_entry<T, const N: usize>(s: &'static Static<T>, file: &CStr, fill: impl Fn(&[&[u8]; N], &mut T, &mut Carve) -> Option<()>) -> *mut T {
    use std::sync::atomic::Ordering;
    let mut filled = false;
    let start = s.next.load(Ordering::Relaxed);
    let after = scan(file, start, |line| {
        let Some(f) = fields::<N>(line) else { return false };
        let mut carve = Carve { buf: s.buf.get().cast(), len: 16384, used: 0 };
        // SAFETY: the static entry (see `Static`).
        filled = fill(&f, unsafe { &mut *s.entry.get() }, &mut carve).is_some();
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
    match viewed(PASSWD) {
        Some(_) => next_entry::<_, 7>(&PW, PASSWD, fill_passwd),
        None => unsafe { real::getpwent() },
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
    match viewed(GROUP) {
        Some(_) => next_entry::<_, 4>(&GR, GROUP, fill_group),
        None => unsafe { real::getgrent() },
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
        assert_eq!(gr.gr_gid, 4);
        let name = unsafe { CStr::from_ptr(gr.gr_name) };
        assert_eq!(name.to_bytes(), b"adm");
        let m1 = unsafe { CStr::from_ptr(*gr.gr_mem.add(1)) };
        assert_eq!(m1.to_bytes(), b"me");
        assert!(unsafe { *gr.gr_mem.add(2) }.is_null());
        let mut small = [0u8; 8];
        let mut carve = Carve { buf: small.as_mut_ptr().cast(), len: small.len(), used: 0 };
        assert!(fill_group(&fields::<4>(b"adm:x:4:syslog,me").unwrap(), &mut gr, &mut carve).is_none(), "ERANGE");
    }
}
