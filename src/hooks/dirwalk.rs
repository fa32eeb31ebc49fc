//! Reading whole directories and trees through glibc functions that read them with internal
//! calls: `scandir` (read here through the view's `readdir`), `glob` (given the view's directory
//! functions through `GLOB_ALTDIRFUNC`), and `fts`, `ftw`, `nftw`, whose roots are routed so that
//! glibc walks the right tree.
#![allow(unsafe_code)]

use super::dir::{closedir, fdopendir, opendir, readdir};
use super::table::real;
use super::types::*;
use super::{bytes, fail, guard, Sym};
use crate::resolver::Call;
use crate::runtime::{self, mode, Runtime};
use crate::sys::{self, raw, PBuf};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// `scandir` through the view: this library's `opendir` and `readdir` (so a mountpoint is
/// listed and a hidden name is not), then the caller's filter and sort, into a `malloc`'d
/// array as glibc hands it out.
unsafe fn scan(d: *mut DIR, list: *mut *mut *mut Dirent, filter: ScanFilter, compar: ScanCompar) -> c_int {
    if d.is_null() {
        return -1;
    }
    let mut v: *mut *mut Dirent = std::ptr::null_mut();
    let (mut n, mut cap) = (0usize, 0usize);
    // SAFETY: d is an open stream; every pointer handed out is malloc'd here and owned by the
    // caller afterwards, as with glibc's scandir.
    unsafe {
        let err = loop {
            sys::set_errno(0);
            let e = readdir(d);
            if e.is_null() {
                break sys::errno();
            }
            if let Some(f) = filter {
                if f(e) == 0 {
                    continue;
                }
            }
            if n == cap {
                cap = (cap * 2).max(16);
                let grown = libc::realloc(v.cast(), cap * std::mem::size_of::<*mut Dirent>()).cast::<*mut Dirent>();
                if grown.is_null() {
                    break libc::ENOMEM;
                }
                v = grown;
            }
            let copy = libc::malloc(std::mem::size_of::<Dirent>()).cast::<Dirent>();
            if copy.is_null() {
                break libc::ENOMEM;
            }
            let len = ((*e).d_reclen as usize).clamp(std::mem::offset_of!(Dirent, d_name) + 1, std::mem::size_of::<Dirent>());
            std::ptr::copy_nonoverlapping(e.cast::<u8>(), copy.cast::<u8>(), len);
            *v.add(n) = copy;
            n += 1;
        };
        closedir(d);
        if err != 0 {
            for i in 0..n {
                libc::free((*v.add(i)).cast());
            }
            libc::free(v.cast());
            sys::set_errno(err);
            return -1;
        }
        if let Some(c) = compar {
            let cmp: extern "C" fn(*const libc::c_void, *const libc::c_void) -> c_int = std::mem::transmute(c);
            libc::qsort(v.cast(), n, std::mem::size_of::<*mut Dirent>(), Some(cmp));
        }
        *list = v;
    }
    n as c_int
}

pub unsafe fn scandir(dir: CStrP, list: *mut *mut *mut Dirent, filter: ScanFilter, compar: ScanCompar) -> c_int {
    if runtime::mode() == mode::PASS {
        return unsafe { real::scandir(dir, list, filter, compar) };
    }
    unsafe { scan(opendir(dir), list, filter, compar) }
}

pub unsafe fn scandir64(dir: CStrP, list: *mut *mut *mut Dirent64, filter: ScanFilter64, compar: ScanCompar64) -> c_int {
    // On 64-bit glibc the 64 forms are the same layout (see `readdir`).
    unsafe { scandir(dir, list.cast(), std::mem::transmute(filter), std::mem::transmute(compar)) }
}

pub unsafe fn scandirat(dirfd: c_int, dir: CStrP, list: *mut *mut *mut Dirent, filter: ScanFilter, compar: ScanCompar) -> c_int {
    if runtime::mode() == mode::PASS {
        return unsafe { real::scandirat(dirfd, dir, list, filter, compar) };
    }
    let fd = unsafe { super::open::openat(dirfd, dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) };
    if fd < 0 {
        return -1;
    }
    let d = unsafe { fdopendir(fd) };
    if d.is_null() {
        let e = sys::errno();
        unsafe { super::fd::close(fd) };
        sys::set_errno(e);
        return -1;
    }
    unsafe { scan(d, list, filter, compar) }
}

pub unsafe fn scandirat64(dirfd: c_int, dir: CStrP, list: *mut *mut *mut Dirent64, filter: ScanFilter64, compar: ScanCompar64) -> c_int {
    unsafe { scandirat(dirfd, dir, list.cast(), std::mem::transmute(filter), std::mem::transmute(compar)) }
}

/// Whether a glob pattern must be expanded through the view: inside one, always (a wildcard
/// can match a mountpoint's name, which glibc's own directory reading would not list).
fn glob_needs_view(_pattern: &[u8]) -> bool {
    runtime::mode() != mode::PASS
}

/// The glob_t fields of `GLOB_ALTDIRFUNC`, in glibc's order.
#[repr(C)]
struct GlobAlt {
    pathc: size_t,
    pathv: *mut *mut c_char,
    offs: size_t,
    flags: c_int,
    closedir: *const libc::c_void,
    readdir: *const libc::c_void,
    opendir: *const libc::c_void,
    lstat: *const libc::c_void,
    stat: *const libc::c_void,
}

/// Whether `glob` must expand `pattern` through the view, with `GLOB_ALTDIRFUNC` (not when the
/// caller brought directory functions of its own: those call this library's anyway).
unsafe fn glob_through_view(pattern: CStrP, flags: c_int, pglob: *const libc::c_void) -> bool {
    unsafe { bytes(pattern) }.is_some_and(glob_needs_view) && flags & libc::GLOB_ALTDIRFUNC == 0 && !pglob.is_null()
}

/// Points a `glob_t`'s (or `glob64_t`'s: the same layout) directory functions at this
/// library's, the `readdir`/`lstat`/`stat` of the width the caller's glob reads.
///
/// # Safety
/// `g` is the caller's `glob_t` or `glob64_t`.
unsafe fn use_view_dirfuncs(g: *mut libc::c_void, readdir: *const libc::c_void, lstat: *const libc::c_void, stat: *const libc::c_void) {
    use super::table::exports as x;
    // SAFETY: glob_t and glob64_t start with GlobAlt's fields on glibc.
    let g = unsafe { &mut *(g as *mut GlobAlt) };
    g.closedir = x::closedir as *const libc::c_void;
    g.opendir = x::opendir as *const libc::c_void;
    g.readdir = readdir;
    g.lstat = lstat;
    g.stat = stat;
}

/// `glob` through the view: glibc's own directory calls would not see it, so the pattern is
/// expanded with `GLOB_ALTDIRFUNC` and this library's `opendir`, `readdir`, `stat`.
pub unsafe fn glob(pattern: CStrP, flags: c_int, errfunc: GlobErr, pglob: *mut libc::glob_t) -> c_int {
    if !unsafe { glob_through_view(pattern, flags, pglob.cast()) } {
        return unsafe { real::glob(pattern, flags, errfunc, pglob) };
    }
    use super::table::exports as x;
    unsafe {
        use_view_dirfuncs(pglob.cast(), x::readdir as *const libc::c_void, x::lstat as *const libc::c_void, x::stat as *const libc::c_void);
        real::glob(pattern, flags | libc::GLOB_ALTDIRFUNC, errfunc, pglob)
    }
}

pub unsafe fn glob64(pattern: CStrP, flags: c_int, errfunc: GlobErr, pglob: *mut libc::glob64_t) -> c_int {
    if !unsafe { glob_through_view(pattern, flags, pglob.cast()) } {
        return unsafe { real::glob64(pattern, flags, errfunc, pglob) };
    }
    use super::table::exports as x;
    unsafe {
        use_view_dirfuncs(pglob.cast(), x::readdir64 as *const libc::c_void, x::lstat64 as *const libc::c_void, x::stat64 as *const libc::c_void);
        real::glob64(pattern, flags | libc::GLOB_ALTDIRFUNC, errfunc, pglob)
    }
}

/// The root of a tree walk (fts, ftw, nftw), whose callbacks see paths built from the root as it
/// was given: a relative root that the kernel, from its own cwd, resolves to the same
/// directory as the view does is passed as it is, so that those paths stay relative.
unsafe fn walk_root(rt: &Runtime, p: CStrP, follow: bool, host: &mut PBuf) -> Result<*const c_char, crate::errno::Errno> {
    // SAFETY: the caller's path.
    let q = unsafe { super::route(rt, p, &Call::at_cwd(follow, Op::Look), host) }?.ptr;
    if q == p {
        return Ok(p);
    }
    // SAFETY: as above.
    let Some(given) = (unsafe { bytes(p) }) else {
        return Ok(q);
    };
    if given.first() == Some(&b'/') {
        return Ok(q);
    }
    let as_given = crate::sys::pool::copy_of(given)?;
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    match (raw::fstatat(libc::AT_FDCWD, host, flags), raw::fstatat(libc::AT_FDCWD, &as_given, flags)) {
        (Ok(a), Ok(b)) if a.st_dev == b.st_dev && a.st_ino == b.st_ino => Ok(p),
        _ => Ok(q),
    }
}

/// `<fts.h>` and `<ftw.h>` values the libc crate does not carry.
const FTS_LOGICAL: c_int = 0x0002;
const FTW_PHYS: c_int = 1;

/// Room for the routed roots of one `fts_open`: an anonymous mapping (fts_open allocates
/// anyway; the roots are copied by it before this returns).
struct Roots {
    base: *mut u8,
    len: usize,
}

impl Drop for Roots {
    fn drop(&mut self) {
        // SAFETY: mapped by `Roots::map` with this length.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl Roots {
    fn map(n: usize) -> Option<Roots> {
        let len = (n * std::mem::size_of::<PBuf>() + (n + 1) * std::mem::size_of::<*mut c_char>()).div_ceil(4096) * 4096;
        // SAFETY: an anonymous private mapping, unmapped in Drop.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
        (p != libc::MAP_FAILED).then_some(Roots { base: p.cast(), len })
    }
}

/// The roots of an fts walk are routed; the walk itself is glibc's, and the names `fts_read`
/// reports are put back under the roots as the caller named them (see [`FtsState`]).
pub unsafe fn fts_open(paths: *const *mut c_char, options: c_int, compar: *const libc::c_void) -> *mut libc::c_void {
    // SAFETY: the caller's arguments, handed on as they came.
    unsafe { open_walk(Sym::fts_open, paths, options, |p| real::fts_open(p, options, compar)) }
}

/// `fts_open` for callers built with 64-bit file offsets (the same walk on x86-64).
pub unsafe fn fts64_open(paths: *const *mut c_char, options: c_int, compar: *const libc::c_void) -> *mut libc::c_void {
    // SAFETY: as for fts_open.
    unsafe { open_walk(Sym::fts64_open, paths, options, |p| real::fts64_open(p, options, compar)) }
}

/// Routes the roots `paths` of an fts walk and starts it with `open`.
unsafe fn open_walk(
    sym: Sym,
    paths: *const *mut c_char,
    options: c_int,
    open: impl Fn(*const *mut c_char) -> *mut libc::c_void,
) -> *mut libc::c_void {
    if runtime::mode() == mode::PASS || paths.is_null() {
        return open(paths);
    }
    guard(sym, || {
        let Some(rt) = runtime::get() else {
            return open(paths);
        };
        let mut n = 0;
        // SAFETY: paths is a NULL-terminated array of C strings.
        while unsafe { !(*paths.add(n)).is_null() } {
            n += 1;
        }
        let Some(roots) = Roots::map(n) else {
            return fail(crate::errno::Errno::ENOMEM);
        };
        // SAFETY: the mapping holds n path buffers, then n + 1 pointers, all owned here.
        unsafe {
            let bufs = roots.base.cast::<PBuf>();
            let ptrs = roots.base.add(n * std::mem::size_of::<PBuf>()).cast::<*mut c_char>();
            let mut moved = false;
            for i in 0..n {
                // All zeros is an empty buffer.
                std::ptr::write_bytes(bufs.add(i), 0, 1);
                match walk_root(rt, *paths.add(i), options & FTS_LOGICAL != 0, &mut *bufs.add(i)) {
                    Ok(q) => {
                        moved |= q != (*paths.add(i)).cast_const();
                        *ptrs.add(i) = q as *mut c_char;
                    }
                    Err(e) => return fail(e),
                }
            }
            *ptrs.add(n) = std::ptr::null_mut();
            let fts = open(ptrs);
            if moved && !fts.is_null() {
                FtsState::register(fts, n, |i| (bytes(*paths.add(i)).unwrap_or(b""), bytes(*ptrs.add(i)).unwrap_or(b"")));
            }
            fts
        }
    })
}

/// glibc's `FTSENT` (x86-64), whole: the name is its last field.
#[repr(C)]
struct FtsEnt {
    cycle: *mut FtsEnt,
    parent: *mut FtsEnt,
    link: *mut FtsEnt,
    number: libc::c_long,
    pointer: *mut libc::c_void,
    accpath: *mut c_char,
    path: *mut c_char,
    errno: c_int,
    symfd: c_int,
    pathlen: u16,
    namelen: u16,
    ino: u64,
    dev: u64,
    nlink: u64,
    level: i16,
    info: u16,
    flags: u16,
    instr: u16,
    statp: *mut libc::c_void,
    /// `namelen` bytes and a NUL; room for the whole path of a root as it was opened.
    name: [u8; 0],
}

// glibc 2.36's layout (checked against `offsetof` in <fts.h>).
const _: () = assert!(std::mem::offset_of!(FtsEnt, namelen) == 66 && std::mem::offset_of!(FtsEnt, level) == 96);
const _: () = assert!(std::mem::offset_of!(FtsEnt, statp) == 104 && std::mem::offset_of!(FtsEnt, name) == 112);

/// The name glibc gives a root entry once it is read: the last component of the root as
/// given, unless the root is `/` (or has no slash at all); a trailing slash leaves it empty.
fn root_name(root: &[u8]) -> &[u8] {
    match memchr::memrchr(b'/', root) {
        Some(k) if k != 0 || root.len() > 1 => &root[k + 1..],
        _ => root,
    }
}

/// A root's trailing slashes dropped, as glibc drops them from the paths it builds under it.
fn trimmed(root: &[u8]) -> &[u8] {
    &root[..root.iter().rposition(|&c| c != b'/').map_or(root.len().min(1), |k| k + 1)]
}

/// One fts walk whose roots were routed: the roots as the caller named them and as glibc walks
/// them, room for the path `fts_read` last returned, and what that entry held before (put back
/// before glibc's next call, whose own state it is). In a mapping of its own: a header, then
/// `1 + 2n` path buffers (the path, then each root as given and as walked).
#[repr(C)]
struct FtsState {
    len: usize,
    n: usize,
    entry: *mut FtsEnt,
    path: *mut c_char,
    accpath: *mut c_char,
    pathlen: u16,
    /// A root entry's own name, when it was replaced: its length and bytes.
    renamed: bool,
    namelen: u16,
    name: [u8; 256],
}

/// The walks of [`FtsState`]: the FTS handle and the state's mapping (0: free).
static FTS_WALKS: [(AtomicUsize, AtomicUsize); 16] = [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; 16];

impl FtsState {
    fn buf(&mut self, i: usize) -> &mut PBuf {
        // SAFETY: the mapping holds 1 + 2n buffers after the header (see `register`).
        unsafe { &mut *(self as *mut FtsState).cast::<u8>().add(Self::header()).cast::<PBuf>().add(i) }
    }

    /// Root `i` as glibc walks it, as given to it (a root entry's own path).
    fn walked_root(&self, i: usize) -> &[u8] {
        // SAFETY: as in `buf`; read only.
        unsafe { (*(self as *const FtsState).cast::<u8>().add(Self::header()).cast::<PBuf>().add(2 + 2 * i)).as_bytes() }
    }

    /// Root `i` as glibc walks it, as the paths under it start.
    fn walked(&self, i: usize) -> &[u8] {
        trimmed(self.walked_root(i))
    }

    fn header() -> usize {
        std::mem::size_of::<FtsState>().next_multiple_of(64)
    }

    /// Records the walk `fts` of `n` roots (`root(i)`: as given, as walked).
    fn register<'a>(fts: *mut libc::c_void, n: usize, root: impl Fn(usize) -> (&'a [u8], &'a [u8])) {
        let len = (Self::header() + (1 + 2 * n) * std::mem::size_of::<PBuf>()).next_multiple_of(4096);
        // SAFETY: an anonymous mapping, zeroed: an empty header and empty buffers.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
        if p == libc::MAP_FAILED {
            return;
        }
        // SAFETY: the mapping is this state's.
        let st = unsafe { &mut *p.cast::<FtsState>() };
        st.len = len;
        st.n = n;
        for i in 0..n {
            let (given, walked) = root(i);
            if st.buf(1 + 2 * i).set(given).is_err() || st.buf(2 + 2 * i).set(walked).is_err() {
                return st.unmap();
            }
        }
        for (key, state) in &FTS_WALKS {
            if key.compare_exchange(0, fts as usize, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                state.store(p as usize, Ordering::Release);
                return;
            }
        }
        st.unmap();
    }

    fn unmap(&mut self) {
        let len = self.len;
        // SAFETY: the mapping `register` made, of this length.
        unsafe { libc::munmap((self as *mut FtsState).cast(), len) };
    }

    /// The state of the walk `fts`, if its roots were routed.
    fn of(fts: *mut libc::c_void) -> Option<&'static mut FtsState> {
        let (_, state) = FTS_WALKS.iter().find(|(key, _)| key.load(Ordering::Acquire) == fts as usize && fts as usize != 0)?;
        let p = state.load(Ordering::Acquire);
        // SAFETY: a live state of this walk (only its own thread uses an FTS).
        (p != 0).then(|| unsafe { &mut *(p as *mut FtsState) })
    }

    /// Puts back what the last entry returned held (glibc's own state).
    fn restore(&mut self) {
        if !self.entry.is_null() {
            // SAFETY: the entry glibc returned last, still its own until its next call.
            unsafe {
                let e = &mut *self.entry;
                if e.accpath == e.path {
                    e.accpath = self.accpath;
                }
                e.path = self.path;
                e.pathlen = self.pathlen;
                if self.renamed {
                    let len = self.namelen as usize;
                    std::ptr::copy_nonoverlapping(self.name.as_ptr(), e.name.as_mut_ptr(), len);
                    *e.name.as_mut_ptr().add(len) = 0;
                    e.namelen = self.namelen;
                }
            }
            self.renamed = false;
            self.entry = std::ptr::null_mut();
        }
    }

    /// Names `e` under the root as the caller named it.
    fn rename(&mut self, e: *mut FtsEnt) {
        if e.is_null() {
            return;
        }
        // SAFETY: the entry glibc just returned.
        let entry = unsafe { &mut *e };
        if entry.path.is_null() {
            return;
        }
        // SAFETY: glibc's name for it, `pathlen` bytes.
        let path = unsafe { std::slice::from_raw_parts(entry.path.cast::<u8>(), entry.pathlen as usize) };
        // The root the entry is under: of two nested roots, the deeper one walked it; of two
        // that differ in trailing slashes only, a root entry is the one it names exactly.
        let is_root = |i: usize| entry.level == 0 && path == self.walked_root(i);
        let Some(i) = (0..self.n)
            .filter(|&i| {
                let walked = self.walked(i);
                path.starts_with(walked) && (path.len() == walked.len() || path[walked.len()] == b'/')
            })
            .max_by_key(|&i| (self.walked(i).len(), is_root(i)))
        else {
            return;
        };
        let walked_len = self.walked(i).len();
        let root_entry = is_root(i);
        let given = self.buf(1 + 2 * i) as *mut PBuf;
        let out = self.buf(0);
        // SAFETY: two distinct buffers of the mapping.
        if out.set(trimmed(unsafe { (*given).as_bytes() })).is_err() || out.push_bytes(&path[walked_len..]).is_err() || out.len() > u16::MAX as usize
        {
            return;
        }
        let (new_path, new_len) = (out.as_cptr() as *mut c_char, out.len() as u16);
        self.entry = e;
        self.path = entry.path;
        self.accpath = entry.accpath;
        self.pathlen = entry.pathlen;
        if entry.accpath == entry.path {
            entry.accpath = new_path;
        }
        entry.path = new_path;
        entry.pathlen = new_len;
        if root_entry {
            self.rename_root(entry, i);
        }
    }

    /// Gives the root entry `entry` of root `i` its name as glibc derives it from the root the
    /// caller gave (the walked root's last component differs when the root is a mountpoint).
    /// The new name is written over the old one, which had room for the whole walked path.
    fn rename_root(&mut self, entry: &mut FtsEnt, i: usize) {
        let old_len = entry.namelen as usize;
        let room = self.walked_root(i).len();
        let given = self.buf(1 + 2 * i) as *mut PBuf;
        // SAFETY: a buffer of the mapping, not written while this borrow lives.
        let name = root_name(unsafe { (*given).as_bytes() });
        // SAFETY: glibc's name of the entry, `namelen` bytes and a NUL.
        let old = unsafe { std::slice::from_raw_parts(entry.name.as_ptr(), old_len) };
        if name == old || name.len() > room || old_len >= self.name.len() {
            return;
        }
        self.name[..old_len].copy_from_slice(old);
        self.namelen = entry.namelen;
        self.renamed = true;
        // SAFETY: the entry's name had room for `room` bytes and a NUL (see above).
        unsafe {
            std::ptr::copy_nonoverlapping(name.as_ptr(), entry.name.as_mut_ptr(), name.len());
            *entry.name.as_mut_ptr().add(name.len()) = 0;
        }
        entry.namelen = name.len() as u16;
    }
}

pub unsafe fn fts_read(fts: *mut libc::c_void) -> *mut libc::c_void {
    read_walk(fts, || unsafe { real::fts_read(fts) })
}

pub unsafe fn fts64_read(fts: *mut libc::c_void) -> *mut libc::c_void {
    read_walk(fts, || unsafe { real::fts64_read(fts) })
}

/// The next entry of the walk `fts` (from `read`), named under the root as the caller named it.
fn read_walk(fts: *mut libc::c_void, read: impl Fn() -> *mut libc::c_void) -> *mut libc::c_void {
    let e = match FtsState::of(fts) {
        None => read(),
        Some(st) => {
            st.restore();
            let e = read();
            st.rename(e.cast());
            e
        }
    };
    faked_entry(e.cast());
    e
}

/// Under a fake root, an entry's stat (glibc's, made by its internal calls) as the view shows it.
fn faked_entry(e: *mut FtsEnt) {
    if e.is_null() || !super::fakeroot::active() {
        return;
    }
    // SAFETY: glibc's entry for the caller; its stat buffer (x86-64: stat and stat64 alike).
    unsafe { super::fakeroot::stat_out(0, (*e).statp.cast::<libc::stat>()) };
}

/// Under a fake root, a callback's stat as the view shows it: a copy in `copy`, adjusted.
///
/// # Safety
/// `sb` is NULL or glibc's stat for the callback.
unsafe fn faked_stat(sb: *const libc::c_void, copy: &mut std::mem::MaybeUninit<libc::stat>) -> *const libc::c_void {
    if sb.is_null() || !super::fakeroot::active() {
        return sb;
    }
    // SAFETY: per the contract; x86-64's stat and stat64 are alike.
    unsafe {
        copy.write(*sb.cast::<libc::stat>());
        super::fakeroot::stat_out(0, copy.as_mut_ptr());
    }
    copy.as_ptr().cast()
}

pub unsafe fn fts_children(fts: *mut libc::c_void, options: c_int) -> *mut libc::c_void {
    restore_walk(fts);
    unsafe { real::fts_children(fts, options) }
}

pub unsafe fn fts64_children(fts: *mut libc::c_void, options: c_int) -> *mut libc::c_void {
    restore_walk(fts);
    unsafe { real::fts64_children(fts, options) }
}

/// Gives glibc its own names back before it looks at the walk's entries again.
fn restore_walk(fts: *mut libc::c_void) {
    if let Some(st) = FtsState::of(fts) {
        st.restore();
    }
}

pub unsafe fn fts_close(fts: *mut libc::c_void) -> c_int {
    close_walk(fts, || unsafe { real::fts_close(fts) })
}

pub unsafe fn fts64_close(fts: *mut libc::c_void) -> c_int {
    close_walk(fts, || unsafe { real::fts64_close(fts) })
}

/// Ends the walk `fts` (with `close`) and forgets its state.
fn close_walk(fts: *mut libc::c_void, close: impl Fn() -> c_int) -> c_int {
    let Some(st) = FtsState::of(fts) else {
        return close();
    };
    st.restore();
    let r = close();
    let e = sys::errno();
    for (key, state) in &FTS_WALKS {
        if key.load(Ordering::Acquire) == fts as usize {
            state.store(0, Ordering::Relaxed);
            key.store(0, Ordering::Release);
        }
    }
    st.unmap();
    sys::set_errno(e);
    r
}

/// The walks (`ftw`, `nftw`) under way whose root was routed: which thread, the caller's callback,
/// and the root as the caller named it and as glibc walks it. The callback gets paths that start
/// with the caller's root again, by a trampoline that finds its walk here (the callbacks take
/// no pointer of ours).
struct Walk {
    tid: AtomicI32,
    callback: AtomicUsize,
    given: AtomicUsize,
    given_len: AtomicUsize,
    host_len: AtomicUsize,
}

static WALKS: [Walk; 16] = [const {
    Walk {
        tid: AtomicI32::new(0),
        callback: AtomicUsize::new(0),
        given: AtomicUsize::new(0),
        given_len: AtomicUsize::new(0),
        host_len: AtomicUsize::new(0),
    }
}; 16];

/// A slot of [`WALKS`], given back when dropped.
struct WalkSlot(usize);

impl WalkSlot {
    /// Claims a slot for this thread's walk of `given` (which glibc walks as `host`).
    fn claim(callback: usize, given: &'static [u8], host_len: usize) -> Option<WalkSlot> {
        let tid = raw::gettid();
        for (i, w) in WALKS.iter().enumerate() {
            if w.tid.compare_exchange(0, -1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                w.callback.store(callback, Ordering::Relaxed);
                w.given.store(given.as_ptr() as usize, Ordering::Relaxed);
                w.given_len.store(given.len(), Ordering::Relaxed);
                w.host_len.store(host_len, Ordering::Relaxed);
                w.tid.store(tid, Ordering::Release);
                return Some(WalkSlot(i));
            }
        }
        None
    }
}

impl Drop for WalkSlot {
    fn drop(&mut self) {
        WALKS[self.0].tid.store(0, Ordering::Release);
    }
}

/// The innermost walk of this thread (a callback may start another).
fn this_walk() -> Option<&'static Walk> {
    let tid = raw::gettid();
    WALKS.iter().rev().find(|w| w.tid.load(Ordering::Acquire) == tid)
}

/// `fpath` as the caller named the root (`out`), and how much longer that is than glibc's.
fn renamed(w: &Walk, fpath: *const c_char, out: &mut PBuf) -> Option<isize> {
    // SAFETY: glibc's path for the callback; the given root is the caller's string, alive for
    // the walk (the slot is released before the walk returns).
    unsafe {
        let p = bytes(fpath)?;
        let host_len = w.host_len.load(Ordering::Relaxed);
        let given = std::slice::from_raw_parts(w.given.load(Ordering::Relaxed) as *const u8, w.given_len.load(Ordering::Relaxed));
        if p.len() < host_len || (p.len() > host_len && p[host_len] != b'/') {
            return None;
        }
        out.set(given).ok()?;
        out.push_bytes(&p[host_len..]).ok()?;
        Some(given.len() as isize - host_len as isize)
    }
}

unsafe extern "C" fn ftw_trampoline(fpath: *const c_char, sb: *const libc::c_void, flag: c_int) -> c_int {
    let Some(w) = this_walk() else { return -1 };
    // SAFETY: the caller's callback, of ftw's type (the stat pointer passed as it came).
    let f: unsafe extern "C" fn(*const c_char, *const libc::c_void, c_int) -> c_int =
        unsafe { std::mem::transmute(w.callback.load(Ordering::Relaxed)) };
    let mut copy = std::mem::MaybeUninit::uninit();
    // SAFETY: glibc's stat for this call.
    let sb = unsafe { faked_stat(sb, &mut copy) };
    let Ok(mut out) = crate::sys::pool::take() else { return unsafe { f(fpath, sb, flag) } };
    match renamed(w, fpath, &mut out) {
        // SAFETY: as above.
        Some(_) => unsafe { f(out.as_cptr(), sb, flag) },
        None => unsafe { f(fpath, sb, flag) },
    }
}

unsafe extern "C" fn nftw_trampoline(fpath: *const c_char, sb: *const libc::c_void, flag: c_int, ftw: *mut libc::c_void) -> c_int {
    let Some(w) = this_walk() else { return -1 };
    // SAFETY: the caller's callback, of nftw's type.
    let f: unsafe extern "C" fn(*const c_char, *const libc::c_void, c_int, *mut libc::c_void) -> c_int =
        unsafe { std::mem::transmute(w.callback.load(Ordering::Relaxed)) };
    let mut copy = std::mem::MaybeUninit::uninit();
    // SAFETY: glibc's stat for this call.
    let sb = unsafe { faked_stat(sb, &mut copy) };
    let Ok(mut out) = crate::sys::pool::take() else { return unsafe { f(fpath, sb, flag, ftw) } };
    match renamed(w, fpath, &mut out) {
        Some(shift) if !ftw.is_null() => {
            // `struct FTW { int base; int level; }`: base is the offset of the last component.
            // SAFETY: glibc's FTW for this call; a copy with the offset moved is passed on.
            let mut copy: [c_int; 2] = unsafe { *(ftw as *const [c_int; 2]) };
            copy[0] = if copy[1] == 0 {
                // The root itself: its own last component, as the caller wrote it.
                let name = out.as_bytes();
                let end = name.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
                name[..end].iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1) as c_int
            } else {
                (copy[0] as isize + shift) as c_int
            };
            unsafe { f(out.as_cptr(), sb, flag, copy.as_mut_ptr().cast()) }
        }
        Some(_) => unsafe { f(out.as_cptr(), sb, flag, ftw) },
        None => unsafe { f(fpath, sb, flag, ftw) },
    }
}

/// A tree walk whose root the view routes: glibc walks the host path, and the callback gets
/// paths under the root as the caller named it, through `trampoline`.
#[inline(always)]
unsafe fn tree_walk(sym: Sym, dir: CStrP, follow: bool, callback: usize, trampoline: usize, call: impl Fn(*const c_char, usize) -> c_int) -> c_int {
    // Under a fake root the callback goes through the trampoline, which adjusts its stat.
    let fake = super::fakeroot::on();
    if (runtime::mode() == mode::PASS && !fake) || callback == 0 {
        return call(dir, callback);
    }
    guard(sym, || {
        let Some(rt) = runtime::get() else {
            return call(dir, callback);
        };
        let mut host = buf!();
        // SAFETY: the caller's path.
        let p = match unsafe { walk_root(rt, dir, follow, &mut host) } {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        // SAFETY: the caller's string, alive for the call.
        let given: &'static [u8] = match unsafe { bytes(dir) } {
            Some(g) if p != dir || fake => unsafe { std::slice::from_raw_parts(g.as_ptr(), g.len()) },
            _ => return call(p, callback),
        };
        // glibc drops a root's trailing slashes from the paths it reports.
        let trim = |b: &'static [u8]| -> &'static [u8] { &b[..b.iter().rposition(|&c| c != b'/').map_or(b.len().min(1), |i| i + 1)] };
        let host_len =
            if p == dir { trim(given).len() } else { host.as_bytes().iter().rposition(|&c| c != b'/').map_or(host.len().min(1), |i| i + 1) };
        match WalkSlot::claim(callback, trim(given), host_len) {
            Some(_slot) => call(p, trampoline),
            // Sixteen walks at once: this one's callback sees the host's names.
            None => call(p, callback),
        }
    })
}

// ftw and nftw: the root is routed (see `walk_root`), the walk is glibc's, the callback sees the
// root as it was given.
pub unsafe fn ftw(dir: CStrP, f: FtwFn, nopenfd: c_int) -> c_int {
    let cb = f.map_or(0, |f| f as usize);
    // SAFETY: a callback of ftw's type, the caller's or the trampoline (same signature).
    unsafe {
        tree_walk(Sym::ftw, dir, true, cb, ftw_trampoline as *const () as usize, |p, c| real::ftw(p, std::mem::transmute::<usize, FtwFn>(c), nopenfd))
    }
}

pub unsafe fn ftw64(dir: CStrP, f: Ftw64Fn, nopenfd: c_int) -> c_int {
    let cb = f.map_or(0, |f| f as usize);
    // SAFETY: as in `ftw`.
    unsafe {
        tree_walk(Sym::ftw64, dir, true, cb, ftw_trampoline as *const () as usize, |p, c| {
            real::ftw64(p, std::mem::transmute::<usize, Ftw64Fn>(c), nopenfd)
        })
    }
}

pub unsafe fn nftw(dir: CStrP, f: NftwFn, nopenfd: c_int, flags: c_int) -> c_int {
    let cb = f.map_or(0, |f| f as usize);
    // SAFETY: as in `ftw`, with nftw's type.
    unsafe {
        tree_walk(Sym::nftw, dir, flags & FTW_PHYS == 0, cb, nftw_trampoline as *const () as usize, |p, c| {
            real::nftw(p, std::mem::transmute::<usize, NftwFn>(c), nopenfd, flags)
        })
    }
}

pub unsafe fn nftw64(dir: CStrP, f: Nftw64Fn, nopenfd: c_int, flags: c_int) -> c_int {
    let cb = f.map_or(0, |f| f as usize);
    // SAFETY: as in `nftw`.
    unsafe {
        tree_walk(Sym::nftw64, dir, flags & FTW_PHYS == 0, cb, nftw_trampoline as *const () as usize, |p, c| {
            real::nftw64(p, std::mem::transmute::<usize, Nftw64Fn>(c), nopenfd, flags)
        })
    }
}
