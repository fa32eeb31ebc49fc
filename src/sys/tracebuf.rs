//! Where trace lines wait before they reach their file: per-process buffers, lock-free.
//!
//! A line written with one `write(2)` per call would cost a system call per traced call (more
//! than the call itself for a `stat`); so lines gather in buffers of this process and leave
//! whole, many at a time, in one `write` on an `O_APPEND` descriptor: the kernel appends each
//! write whole to a regular file, so lines of concurrent processes never interleave.
//!
//! - Each trace has [`SLOTS`] buffers. A thread claims a free one with one compare-and-swap
//!   (starting from one its thread id picks, so a thread usually finds its own again), appends
//!   its line, and gives it back; a full buffer is written out by
//!   the thread that holds it. Its own buffer busy (another thread with the same start, or a
//!   signal handler landing in the middle of an append on this thread): the next free one (so
//!   a thread's lines are in order in the file only mostly: `t` orders them). All busy: the line
//!   is written on its own.
//! - Nothing waits on anything: no lock, no allocation, so a hook in a signal handler, in a
//!   `vfork` child or inside an allocator may trace.
//! - The file is opened for each write and closed after it: the program never sees a
//!   descriptor of ours (a `close_range`, a `dup2` onto it, `ls /proc/self/fd` would).
//! - Before exec, `_exit` and at `exit` (the library's destructor) every buffer is written
//!   ([`flush_all`]); a `fork` child forgets what its parent had buffered ([`after_fork`]).
//! - `SIGKILL` in the middle of a `write`: the kernel copies a write into the file a page at a
//!   time and stops between two pages when the process is being killed, so a write can end
//!   part-way. JSON lines are therefore laid out in whole pages ([`PAGE`]): a line that would
//!   cross a page boundary starts the next page, the line before it padded with spaces (JSON
//!   allows them before the newline), and every write is whole pages at a page-aligned end of
//!   the file. A write cut short ends at a page boundary, where a line ends: the killed
//!   process loses what it had not written, and no line is ever torn. (A single line longer
//!   than a page, an exec with a huge argv, is the exception; fsatrace's lines cannot be
//!   padded, so an fsatrace trace is written unpaged.)
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, Ordering};

/// How many traces a stack may carry (one per view, and a view may have two: JSON and
/// fsatrace).
pub const MAX_TRACES: usize = 8;
/// Buffers per trace.
pub const SLOTS: usize = 8;
/// A buffer's size; a line longer than this (an exec with a huge argv) is cut by its writer.
/// Each write opens and closes the file: 128 KiB makes that a thousandth of a traced walk's
/// cost (a buffer's pages are only touched, so only use memory, once lines fill them).
pub const CAP: usize = 128 * 1024;
/// Written out once a buffer holds this much.
const HIGH: usize = CAP - 8 * 1024;
/// The unit a paged trace is written in: the kernel's page.
pub const PAGE: usize = 4096;

struct Slot {
    /// 0 free, 1 held.
    state: AtomicU32,
    data: UnsafeCell<Data>,
}

struct Data {
    len: usize,
    bytes: [u8; CAP],
}

// SAFETY: `data` is touched only by the holder of `state`.
unsafe impl Sync for Slot {}

static SLOTS_OF: [[Slot; SLOTS]; MAX_TRACES] =
    [const { [const { Slot { state: AtomicU32::new(0), data: UnsafeCell::new(Data { len: 0, bytes: [0; CAP] }) } }; SLOTS] }; MAX_TRACES];

/// A buffer of trace `t`, held until dropped.
pub struct Held {
    slot: &'static Slot,
}

impl Held {
    fn data(&mut self) -> &mut Data {
        // SAFETY: this Held holds the slot.
        unsafe { &mut *self.slot.data.get() }
    }

    /// The free part of the buffer: a line is formatted straight into it, then [`Held::commit`]ted.
    pub fn spare(&mut self) -> &mut [u8] {
        let d = self.data();
        &mut d.bytes[d.len..]
    }

    /// What is buffered.
    pub fn len(&mut self) -> usize {
        self.data().len
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Keeps `n` more bytes (a whole line, ending in a newline) of [`Held::spare`]; `paged`:
    /// moved to the next page if it would cross into it (see the module's documentation).
    pub fn commit(&mut self, n: usize, paged: bool) {
        let d = self.data();
        let n = n.min(CAP - d.len);
        let at = d.len % PAGE;
        if paged && at != 0 && at + n > PAGE {
            let pad = PAGE - at;
            if d.len + pad + n <= CAP {
                d.bytes.copy_within(d.len..d.len + n, d.len + pad);
                pad_page(&mut d.bytes, d.len, d.len + pad);
                d.len += pad;
            }
        }
        d.len += n;
    }

    /// Whether it should be written out now.
    pub fn is_high(&mut self) -> bool {
        self.len() >= HIGH
    }

    /// Writes what is buffered to `file` (`paged`: in whole pages) and empties the buffer.
    pub fn write_to(&mut self, file: &std::ffi::CStr, paged: bool) {
        let d = self.data();
        if d.len == 0 {
            return;
        }
        if paged && d.len % PAGE != 0 {
            let end = d.len.next_multiple_of(PAGE).min(CAP);
            pad_page(&mut d.bytes, d.len, end);
            d.len = end;
        }
        append(file, &[&d.bytes[..d.len]]);
        d.len = 0;
    }
}

/// Pads the lines in `bytes[..len]` (the last one ending at `len`) out to `end`: the last
/// line's newline becomes a space, the room spaces, and the byte before `end` the newline.
fn pad_page(bytes: &mut [u8], len: usize, end: usize) {
    if len == 0 || end <= len {
        return;
    }
    bytes[len - 1..end].fill(b' ');
    bytes[end - 1] = b'\n';
}

impl Drop for Held {
    fn drop(&mut self) {
        self.slot.state.store(0, Ordering::Release);
    }
}

/// A free buffer of trace `t`, or `None` if all are held.
pub fn hold(t: usize) -> Option<Held> {
    let slots = SLOTS_OF.get(t)?;
    let start = ids().1 as usize % SLOTS;
    (0..SLOTS)
        .map(|i| &slots[(start + i) % SLOTS])
        .find_map(|slot| slot.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).ok().map(|_| Held { slot }))
}

/// Writes every buffer of traces `0..n` to its file (`files(t)`). A buffer another thread holds
/// at this moment is waited for a little, then left (the process is about to exec or end: what
/// that thread had not yet written is lost, never half written).
pub fn flush_all(n: usize, files: impl Fn(usize) -> Option<(&'static std::ffi::CStr, bool)>) {
    for (t, slots) in SLOTS_OF.iter().enumerate().take(n.min(MAX_TRACES)) {
        let Some((file, paged)) = files(t) else { continue };
        for slot in slots {
            let mut tries = 0;
            while slot.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
                tries += 1;
                if tries > 10_000 {
                    break;
                }
                std::hint::spin_loop();
            }
            if tries <= 10_000 {
                Held { slot }.write_to(file, paged);
            }
        }
    }
}

/// This process's id, asked of the kernel once (glibc keeps none since 2.25; two system calls
/// per line would cost more than the rest of it).
static PID: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

std::thread_local! {
    /// This thread's id, likewise (no destructor, a constant start: no allocation, ever).
    static TID: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// The process and thread ids a line carries. A `vfork` child runs on its parent's memory and
/// thread: it asks the kernel each time, and caches nothing.
pub fn ids() -> (i32, i32) {
    if !super::owns_memory() {
        return (super::raw::getpid(), super::raw::gettid());
    }
    let mut pid = PID.load(Ordering::Relaxed);
    if pid == 0 {
        pid = super::raw::getpid();
        PID.store(pid, Ordering::Relaxed);
    }
    let tid = TID.with(|t| {
        if t.get() == 0 {
            t.set(super::raw::gettid());
        }
        t.get()
    });
    (pid, tid)
}

/// In the child of a `fork`: the buffers hold the parent's lines, which the parent writes; the
/// ids are the child's own.
pub fn after_fork() {
    PID.store(0, Ordering::Relaxed);
    TID.with(|t| t.set(0));
    for slots in &SLOTS_OF {
        for slot in slots {
            // SAFETY: one thread runs in a fork child; nobody else holds a slot.
            unsafe { (*slot.data.get()).len = 0 };
            slot.state.store(0, Ordering::Relaxed);
        }
    }
}

/// Registers [`after_fork`] for every `fork` glibc makes, its internal ones included (`daemon`,
/// `system` in old glibc): a child that kept its parent's buffered lines would write them twice.
pub fn forget_in_fork_children() {
    extern "C" fn child() {
        after_fork();
    }
    // SAFETY: registering a handler that touches only this module's atomics and buffers.
    unsafe { libc::pthread_atfork(None, None, Some(child)) };
}

/// One line (ending in a newline) on its own; `paged`: padded to whole pages.
pub fn append_line(file: &std::ffi::CStr, line: &[u8], paged: bool) {
    if line.is_empty() {
        return;
    }
    if !paged {
        return append(file, &[line]);
    }
    static SPACES: [u8; PAGE] = [b' '; PAGE];
    let body = &line[..line.len() - 1];
    let mut pad = line.len().next_multiple_of(PAGE) - line.len();
    let mut parts: [&[u8]; 4] = [body, &[], &[], b"\n"];
    parts[1] = &SPACES[..pad.min(PAGE)];
    pad -= parts[1].len();
    parts[2] = &SPACES[..pad];
    append(file, &parts);
}

/// One `writev` of `parts` (whole lines) at the end of `file`, opened for it and closed after.
pub fn append(file: &std::ffi::CStr, parts: &[&[u8]]) {
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC | libc::O_NOCTTY;
    // SAFETY: file is NUL-terminated.
    let fd = unsafe { super::raw::syscall4(libc::SYS_openat, libc::AT_FDCWD as usize, file.as_ptr() as usize, flags as usize, 0o644) };
    if fd < 0 {
        return;
    }
    let fd = fd as libc::c_int;
    let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; 4];
    let n = parts.len().min(iov.len());
    for (v, p) in iov.iter_mut().zip(parts) {
        *v = libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() };
    }
    // SAFETY: every iovec points into a live slice of its length.
    let r = unsafe { super::raw::syscall4(libc::SYS_writev, fd as usize, iov.as_ptr() as usize, n, 0) };
    // A short write (the process is being killed) ends at a page boundary of a paged trace;
    // nothing is retried, so a line is never written twice.
    let _ = r;
    super::raw::close(fd);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_would_cross_a_page_starts_the_next_one() {
        let mut held = hold(MAX_TRACES - 1).unwrap();
        // What an earlier taker left: newlines everywhere, which padding must not mistake for
        // the end of the last line.
        held.data().bytes.fill(b'\n');
        let line = |n: usize| {
            let mut l = vec![b'x'; n - 1];
            l.push(b'\n');
            l
        };
        for n in [3000, 1500, 10] {
            let l = line(n);
            held.spare()[..n].copy_from_slice(&l);
            held.commit(n, true);
        }
        let d = held.data();
        // 3000 bytes padded to a page, then 1500, then 10 after them in the second page.
        assert_eq!(d.len, PAGE + 1510);
        assert_eq!(d.bytes[2999], b' ');
        assert_eq!(d.bytes[PAGE - 1], b'\n');
        assert!(d.bytes[3000..PAGE - 1].iter().all(|&b| b == b' '));
        assert_eq!(d.bytes[PAGE], b'x');
        assert_eq!(d.bytes[PAGE + 1499], b'\n');
        d.len = 0;
    }
}
