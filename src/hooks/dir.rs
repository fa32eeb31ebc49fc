//! Directory reading. A directory that holds a mountpoint lists it, as after a real mount, even
//! when nothing lies at that name underneath; a hidden name is never listed. Such streams are
//! remembered at `opendir` (the changes come from `resolver::listing`) and the names are added
//! after the real entries run out, or skipped as they come.

use super::table::real;
use super::types::*;
use super::{bytes, guard, is_hot, Sym};
use crate::resolver::kernel::Kernel;
use crate::resolver::listing::{self, Change};
use crate::resolver::{self, Call};
use crate::runtime::{self, Runtime};
use crate::state::fds;
use crate::sys::{self, raw};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

const STREAMS: usize = 32;
const NAMES: usize = 8;

/// How the view changes one open directory stream: names to add (mountpoints), names to drop
/// (hidden ones).
struct Extra {
    count: usize,
    names: [[u8; 256]; NAMES],
    lens: [usize; NAMES],
    inos: [u64; NAMES],
    dropped: usize,
    drops: [[u8; 256]; NAMES],
    drop_lens: [usize; NAMES],
    /// Bit i: name i was seen among the real entries or already handed out.
    done: u32,
    entry: Dirent64,
    /// A merged overlay directory (the stream reads upper's): its overlay and a descriptor on
    /// the lower directory, whose entries follow upper's (-1: none to add).
    merge: Option<&'static crate::views::Overlay>,
    lower_fd: c_int,
    /// Lower entries read ahead (`getdents64`), and where the next one starts.
    lower_buf: [u8; 2048],
    lower_len: usize,
    lower_at: usize,
    /// Raw `getdents64`: `entry` was made but did not fit the caller's buffer; it comes first
    /// next time.
    pending: bool,
}

/// Which `DIR*` owns each slot of [`DATA`]; 0 when free.
static OWNERS: [AtomicUsize; STREAMS] = [const { AtomicUsize::new(0) }; STREAMS];
/// Streams with extras open now: while 0, readdir passes straight through.
static IN_USE: AtomicU32 = AtomicU32::new(0);

/// A stream is used by one thread at a time (POSIX leaves concurrent readdir on one stream
/// undefined), and slot i belongs to the stream in `OWNERS[i]` from its claim to its release.
struct Data(UnsafeCell<[Extra; STREAMS]>);
// SAFETY: see `Data`: a slot is touched only by the user of the stream that owns it.
unsafe impl Sync for Data {}
// SAFETY: all-zero bytes are a valid `Extra` (integers and arrays of them).
static DATA: Data = Data(UnsafeCell::new(unsafe { std::mem::zeroed() }));

fn data(i: usize) -> &'static mut Extra {
    // SAFETY: slot i is owned by the caller's stream (see `Data`); no other reference to it lives.
    unsafe { &mut *(DATA.0.get() as *mut Extra).add(i) }
}

/// A slot's owner: a `DIR*`, or a descriptor read with raw `getdents64` (complete mode), told
/// apart by the top bit (no stream lives at such an address).
fn fd_key(fd: c_int) -> usize {
    (1usize << 63) | fd as u32 as usize
}

fn slot(dir: *mut DIR) -> Option<&'static mut Extra> {
    slot_of(dir as usize)
}

fn slot_of(key: usize) -> Option<&'static mut Extra> {
    if IN_USE.load(Ordering::Acquire) == 0 || key == 0 {
        return None;
    }
    OWNERS.iter().position(|o| o.load(Ordering::Acquire) == key).map(data)
}

fn claim(key: usize) -> Option<&'static mut Extra> {
    let i = OWNERS.iter().position(|o| o.compare_exchange(0, key, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
    IN_USE.fetch_add(1, Ordering::AcqRel);
    let x = data(i);
    x.count = 0;
    x.dropped = 0;
    x.done = 0;
    x.merge = None;
    x.lower_fd = -1;
    x.lower_len = 0;
    x.lower_at = 0;
    x.pending = false;
    Some(x)
}

fn release(key: usize) {
    if let Some(o) = OWNERS.iter().position(|o| o.load(Ordering::Acquire) == key) {
        let x = data(o);
        if x.lower_fd >= 0 {
            raw::close(x.lower_fd);
            x.lower_fd = -1;
        }
        x.merge = None;
    }
    if let Some(o) = OWNERS.iter().find(|o| o.load(Ordering::Acquire) == key) {
        o.store(0, Ordering::Release);
        IN_USE.fetch_sub(1, Ordering::AcqRel);
    }
}

pub unsafe fn opendir(path: CStrP) -> *mut DIR {
    // SAFETY: the caller's path.
    if unsafe { is_hot(libc::AT_FDCWD, path, Op::Look) } {
        let d = unsafe { real::opendir(path) };
        if d.is_null() {
            let how = Call::at_cwd(true, Op::Look);
            // SAFETY: as above.
            return unsafe { super::after_hot(Sym::opendir, path, how, d, |p| real::opendir(p)) };
        }
        return d;
    }
    guard(Sym::opendir, || {
        // SAFETY: as above.
        let d = unsafe { super::with_path(path, Call::at_cwd(true, Op::Look), |p| real::opendir(p)) };
        if crate::trace::on().is_some() {
            let result = if d.is_null() { -1 } else { 0 };
            // SAFETY: as above.
            unsafe { super::observe::path_as(Sym::opendir, crate::trace::Access::List, path, &Call::at_cwd(true, Op::Look), None, result) };
        }
        let (Some(rt), Some(p)) = (runtime::get(), unsafe { bytes(path) }) else {
            return d;
        };
        if d.is_null() {
            return d;
        }
        let e = sys::errno();
        // SAFETY: d is the stream just opened.
        let fd = unsafe { libc::dirfd(d) };
        let mut virt = buf!();
        if resolver::names::opened(&Kernel, rt, fd, libc::AT_FDCWD, p, &mut virt).is_ok() {
            let f = resolver::fd_flags_for(rt, virt.as_bytes());
            if f != 0 {
                fds::record(fd, virt.as_bytes(), f | fds::DIR);
            }
            add_mountpoints(rt, d as usize, virt.as_bytes());
        }
        sys::set_errno(e);
        d
    })
}

pub unsafe fn fdopendir(fd: c_int) -> *mut DIR {
    let d = unsafe { real::fdopendir(fd) };
    if crate::trace::on().is_some() {
        super::observe::descriptor(Sym::fdopendir, crate::trace::Access::List, fd, if d.is_null() { -1 } else { 0 });
    }
    // A directory of an overlay's lower tree with no entry of the view below it (`fds::LOWER`)
    // lists as the kernel lists it: nothing to add, drop or merge.
    let f = fds::flags(fd);
    if !d.is_null() && f & fds::ROUTE != 0 && f & fds::LOWER == 0 {
        guard(Sym::fdopendir, || {
            let e = sys::errno();
            let mut name = buf!();
            if let (Some(rt), true) = (runtime::get(), fds::name_of(fd, &mut name)) {
                add_mountpoints(rt, d as usize, name.as_bytes());
            }
            sys::set_errno(e);
            0
        });
    }
    d
}

/// Remembers, for the stream `d` on directory `dir` (canonical), the names the view adds and
/// drops, and the lower directory a merged overlay directory adds.
fn add_mountpoints(rt: &Runtime, d: usize, dir: &[u8]) {
    merge_overlay(rt, d, dir);
    let mut extra: Option<&mut Extra> = slot_of(d);
    let _ = listing::changes(rt, dir, |change| {
        let x = match extra.as_deref_mut() {
            Some(x) => x,
            None => match claim(d) {
                Some(x) => extra.insert(x),
                None => return false,
            },
        };
        match change {
            Change::Add(name, host) => {
                let dup = (0..x.count).any(|i| &x.names[i][..x.lens[i]] == name);
                if dup || x.count == NAMES || name.len() > 255 {
                    return true;
                }
                let i = x.count;
                x.names[i][..name.len()].copy_from_slice(name);
                x.lens[i] = name.len();
                x.inos[i] = raw::fstatat(libc::AT_FDCWD, host, 0).map_or(1, |s| s.st_ino);
                x.count += 1;
            }
            Change::Drop(name) => {
                if x.dropped < NAMES && name.len() <= 255 {
                    let i = x.dropped;
                    x.drops[i][..name.len()].copy_from_slice(name);
                    x.drop_lens[i] = name.len();
                    x.dropped += 1;
                }
            }
        }
        true
    });
}

/// A directory an overlay shows from upper: upper's markers are skipped as they come, and the
/// lower directory's entries that upper neither has nor whites out follow upper's.
fn merge_overlay(rt: &Runtime, d: usize, dir: &[u8]) {
    let Some(crate::views::Entry::Overlay(o)) = rt.views.last().and_then(|v| v.mount_of(dir)) else { return };
    if o.side(dir) != Ok(crate::views::overlay::Side::Upper) {
        return;
    }
    let Some(x) = claim(d) else { return };
    x.merge = Some(o);
    x.lower_fd = o.lower_dir(dir).unwrap_or(-1);
}

/// The next lower entry of a merged directory to list, copied into the stream's entry.
fn next_lower(x: &mut Extra, upper_fd: c_int) -> *mut Dirent64 {
    if x.lower_fd < 0 {
        return std::ptr::null_mut();
    }
    loop {
        if x.lower_at >= x.lower_len {
            match raw::getdents64(x.lower_fd, &mut x.lower_buf) {
                Ok(n) if n > 0 => {
                    x.lower_len = n;
                    x.lower_at = 0;
                }
                _ => return std::ptr::null_mut(),
            }
        }
        let at = x.lower_at;
        let b = &x.lower_buf[at..x.lower_len];
        if b.len() < 20 {
            x.lower_at = x.lower_len;
            continue;
        }
        let reclen = u16::from_ne_bytes([b[16], b[17]]) as usize;
        x.lower_at += reclen.max(20);
        let name_area = &b[19..reclen.min(b.len())];
        let len = memchr::memchr(0, name_area).unwrap_or(name_area.len());
        let name = &name_area[..len];
        if name == b"." || name == b".." || name.len() > 255 || crate::views::overlay::upper_covers(upper_fd, name) {
            continue;
        }
        x.entry.d_ino = u64::from_ne_bytes(b[..8].try_into().unwrap_or([0; 8]));
        x.entry.d_off = 0;
        x.entry.d_reclen = std::mem::size_of::<Dirent64>() as u16;
        x.entry.d_type = b[18];
        for (dst, &src) in x.entry.d_name.iter_mut().zip(name) {
            *dst = src as c_char;
        }
        x.entry.d_name[len] = 0;
        return &mut x.entry;
    }
}

/// Whether the real entry `e` is one the view hides (or an overlay's marker).
fn is_dropped(x: &Extra, e: *const Dirent64) -> bool {
    if x.dropped == 0 && x.merge.is_none() || e.is_null() {
        return false;
    }
    // SAFETY: e is a valid entry from readdir.
    let name = unsafe { std::ffi::CStr::from_ptr((*e).d_name.as_ptr()) }.to_bytes();
    if x.merge.is_some() && name.starts_with(crate::views::overlay::WHITEOUT) {
        return true;
    }
    (0..x.dropped).any(|i| &x.drops[i][..x.drop_lens[i]] == name)
}

/// The next entry for a stream with extras: a real one (noting extra names it shows), else the
/// next extra name not yet seen.
fn next(x: &mut Extra, real_entry: *mut Dirent64) -> *mut Dirent64 {
    if !real_entry.is_null() {
        // SAFETY: readdir returned a valid entry.
        let name = unsafe { std::ffi::CStr::from_ptr((*real_entry).d_name.as_ptr()) }.to_bytes();
        for i in 0..x.count {
            if &x.names[i][..x.lens[i]] == name {
                x.done |= 1 << i;
            }
        }
        return real_entry;
    }
    for i in 0..x.count {
        if x.done & (1 << i) == 0 {
            x.done |= 1 << i;
            let len = x.lens[i];
            x.entry.d_ino = x.inos[i];
            x.entry.d_off = 0;
            x.entry.d_reclen = std::mem::size_of::<Dirent64>() as u16;
            x.entry.d_type = libc::DT_DIR;
            for (dst, &src) in x.entry.d_name.iter_mut().zip(&x.names[i][..len]) {
                *dst = src as c_char;
            }
            x.entry.d_name[len] = 0;
            return &mut x.entry;
        }
    }
    std::ptr::null_mut()
}

pub unsafe fn readdir64(dir: *mut DIR) -> *mut Dirent64 {
    let Some(x) = slot(dir) else {
        let r = unsafe { real::readdir64(dir) };
        unsafe { super::fakeroot::entry_out(dir, r) };
        return r;
    };
    let e = sys::errno();
    sys::set_errno(0);
    let mut r = unsafe { real::readdir64(dir) };
    while is_dropped(x, r) {
        r = unsafe { real::readdir64(dir) };
    }
    if r.is_null() && sys::errno() != 0 {
        return r;
    }
    sys::set_errno(e);
    if r.is_null() {
        // SAFETY: the caller's open stream.
        r = next_lower(x, unsafe { libc::dirfd(dir) });
    }
    let r = next(x, r);
    unsafe { super::fakeroot::entry_out(dir, r) };
    r
}

pub unsafe fn readdir(dir: *mut DIR) -> *mut Dirent {
    // On 64-bit glibc `struct dirent` and `struct dirent64` are the same layout.
    const _: () = assert!(std::mem::size_of::<Dirent>() == std::mem::size_of::<Dirent64>());
    let Some(x) = slot(dir) else {
        let r = unsafe { real::readdir(dir) };
        unsafe { super::fakeroot::entry_out(dir, r.cast()) };
        return r;
    };
    let e = sys::errno();
    sys::set_errno(0);
    let mut r = unsafe { real::readdir(dir) };
    while is_dropped(x, r.cast()) {
        r = unsafe { real::readdir(dir) };
    }
    if r.is_null() && sys::errno() != 0 {
        return r;
    }
    sys::set_errno(e);
    if r.is_null() {
        // SAFETY: the caller's open stream.
        r = next_lower(x, unsafe { libc::dirfd(dir) }).cast();
    }
    let r = next(x, r.cast());
    unsafe { super::fakeroot::entry_out(dir, r) };
    r.cast()
}

pub unsafe fn rewinddir(dir: *mut DIR) {
    if let Some(x) = slot(dir) {
        x.done = 0;
        restart_lower(x);
    }
    unsafe { real::rewinddir(dir) }
}

/// A merged directory read again from its start lists the lower entries again.
fn restart_lower(x: &mut Extra) {
    if x.lower_fd >= 0 {
        let _ = raw::rewind(x.lower_fd);
    }
    x.lower_len = 0;
    x.lower_at = 0;
}

pub unsafe fn closedir(dir: *mut DIR) -> c_int {
    super::fakeroot::dir_closed(dir);
    if slot(dir).is_some() {
        release(dir as usize);
    }
    if !dir.is_null() {
        // libc closes the stream's descriptor itself, without `close`.
        // SAFETY: the caller's open stream.
        fds::forget(unsafe { libc::dirfd(dir) });
    }
    unsafe { real::closedir(dir) }
}

pub unsafe fn readdir_r(dir: *mut DIR, entry: *mut Dirent, result: *mut *mut Dirent) -> c_int {
    if slot(dir).is_none() {
        return unsafe { real::readdir_r(dir, entry, result) };
    }
    let e = sys::errno();
    sys::set_errno(0);
    let next = unsafe { readdir(dir) };
    let err = sys::errno();
    sys::set_errno(e);
    // SAFETY: the caller's entry and result; next, if any, is a valid entry.
    unsafe {
        if next.is_null() {
            *result = std::ptr::null_mut();
            return err;
        }
        // Only the entry's own bytes: glibc's may be shorter than a whole `struct dirent`.
        let len = ((*next).d_reclen as usize).clamp(std::mem::offset_of!(Dirent, d_name) + 1, std::mem::size_of::<Dirent>());
        std::ptr::copy_nonoverlapping(next.cast::<u8>(), entry.cast::<u8>(), len);
        *result = entry;
    }
    0
}

pub unsafe fn readdir64_r(dir: *mut DIR, entry: *mut Dirent64, result: *mut *mut Dirent64) -> c_int {
    unsafe { readdir_r(dir, entry.cast(), result.cast()) }
}

/// Positions are the real stream's; the mountpoint entries come after its end, so after a seek
/// they are all handed out again when the real entries run out.
pub unsafe fn seekdir(dir: *mut DIR, pos: libc::c_long) {
    if let Some(x) = slot(dir) {
        x.done = 0;
        restart_lower(x);
    }
    unsafe { real::seekdir(dir, pos) }
}

/// Raw `getdents64` on `fd` (complete mode): the entries a stream on it would list, in the
/// kernel's record format — the real ones minus what the view hides, then an overlay's lower
/// entries and the mountpoints the view adds, each handed out once. A directory the view does
/// not touch is read as it is.
pub fn getdents64_fd(fd: c_int, out: *mut u8, cap: usize) -> isize {
    let pass = || raw::getdents64_raw(fd, out, cap);
    let key = fd_key(fd);
    let x = match slot_of(key) {
        Some(x) => x,
        None => {
            let f = fds::flags(fd);
            if f & fds::ROUTE == 0 || f & fds::LOWER != 0 || raw::lseek(fd, 0, libc::SEEK_CUR) != Ok(0) {
                return pass();
            }
            let e = sys::errno();
            let mut name = match sys::pool::take() {
                Ok(b) => b,
                Err(e) => return -(e.0 as isize),
            };
            if let (Some(rt), true) = (runtime::get(), fds::name_of(fd, &mut name)) {
                add_mountpoints(rt, key, name.as_bytes());
            }
            sys::set_errno(e);
            match slot_of(key) {
                Some(x) => x,
                None => return pass(),
            }
        }
    };
    // SAFETY: the program's buffer, `cap` bytes, as it passed it to the kernel.
    let out = unsafe { std::slice::from_raw_parts_mut(out, cap) };
    let mut n = 0;
    if x.pending {
        if !put(out, &mut n, &x.entry) {
            return -(libc::EINVAL as isize);
        }
        x.pending = false;
    }
    // The real entries, a batch no larger than the room left (so each one kept fits).
    let mut batch = [0u64; 256];
    loop {
        let room = (cap - n).min(std::mem::size_of_val(&batch));
        let got = raw::getdents64_raw(fd, batch.as_mut_ptr().cast(), room);
        if got < 0 {
            return if n > 0 { n as isize } else { got };
        }
        if got == 0 {
            break;
        }
        // SAFETY: the kernel wrote `got` bytes of records into the batch.
        let bytes = unsafe { std::slice::from_raw_parts(batch.as_ptr().cast::<u8>(), got as usize) };
        let mut at = 0;
        while at + 19 < bytes.len() {
            let reclen = u16::from_ne_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
            let e = bytes[at..].as_ptr() as *mut Dirent64;
            if reclen == 0 {
                break;
            }
            if !is_dropped(x, e) {
                next(x, e);
                out[n..n + reclen].copy_from_slice(&bytes[at..at + reclen]);
                n += reclen;
            }
            at += reclen;
        }
        if n > 0 && cap - n < 280 {
            // Perhaps more real entries: the lower and added ones wait for the end. (With
            // nothing kept yet, the next batch is read.)
            return n as isize;
        }
    }
    loop {
        let mut e = next_lower(x, fd);
        if e.is_null() {
            e = next(x, std::ptr::null_mut());
        }
        if e.is_null() {
            break;
        }
        if !put(out, &mut n, &x.entry) {
            x.pending = true;
            if n == 0 {
                return -(libc::EINVAL as isize);
            }
            break;
        }
    }
    n as isize
}

/// Appends `e` to `out` as a kernel record (its length rounded to 8); false if it does not fit.
fn put(out: &mut [u8], n: &mut usize, e: &Dirent64) -> bool {
    // SAFETY: the entry's name is NUL-terminated within d_name.
    let name = unsafe { std::ffi::CStr::from_ptr(e.d_name.as_ptr()) }.to_bytes();
    let reclen = (19 + name.len() + 1).next_multiple_of(8);
    let Some(rec) = out.get_mut(*n..*n + reclen) else { return false };
    rec.fill(0);
    rec[..8].copy_from_slice(&e.d_ino.to_ne_bytes());
    rec[8..16].copy_from_slice(&((*n + reclen) as i64).to_ne_bytes());
    rec[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
    rec[18] = e.d_type;
    rec[19..19 + name.len()].copy_from_slice(name);
    *n += reclen;
    true
}

/// A raw `lseek` on a descriptor read with raw `getdents64`: back to the start, the added and
/// lower entries are handed out again.
pub fn seek_fd(fd: c_int, off: i64, whence: c_int) {
    if off != 0 || whence != libc::SEEK_SET {
        return;
    }
    if let Some(x) = slot_of(fd_key(fd)) {
        x.done = 0;
        x.pending = false;
        restart_lower(x);
    }
}

/// `fd` is being closed: what raw `getdents64` kept for it goes. (One load while no stream
/// has extras: every `close` passes here.)
#[inline(always)]
pub fn fd_closed(fd: c_int) {
    if IN_USE.load(Ordering::Relaxed) != 0 {
        fd_closed_slow(fd);
    }
}

/// Descriptors `first..=last` were closed (`close_range`).
pub fn fds_closed(first: c_uint, last: c_uint) {
    if IN_USE.load(Ordering::Relaxed) == 0 {
        return;
    }
    for o in &OWNERS {
        let key = o.load(Ordering::Acquire);
        if key >> 63 == 1 && (first as usize..=last as usize).contains(&(key & 0xffff_ffff)) {
            release(key);
        }
    }
}

#[cold]
#[inline(never)]
fn fd_closed_slow(fd: c_int) {
    if slot_of(fd_key(fd)).is_some() {
        release(fd_key(fd));
    }
}
