//! The FFI edge below the resolver: the path buffer handed to the kernel, the hot path's vector
//! scan, the real symbols and how they are found, the arena the stack is loaded into, and small
//! safe wrappers over the calls the library makes for itself ([`fs`]).
//!
//! The library never calls a hooked libc function by name: inside this object, `open` would
//! bind to its own export. It goes through [`real`] (the table's `real::NAME`) or a raw syscall.
#![allow(unsafe_code)]

pub mod arena;
pub mod argv;
pub mod cpath;
pub mod fsops;
pub mod ovgen;

pub mod pbuf;
pub mod pool;
pub mod published;
pub mod raw;
pub mod real;
pub mod scan;
pub mod shared;
pub mod short;
pub mod sud;
pub mod symbols;
pub mod tracebuf;

use libc::c_int;
pub use pbuf::{PBuf, CAP};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The calling thread's errno.
#[inline]
pub fn errno() -> c_int {
    // SAFETY: __errno_location always returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

#[inline]
pub fn set_errno(e: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = e }
}

/// `dlsym(RTLD_NEXT, name)`; `name` ends with NUL. Not on the call path (see `real::resolve`).
pub fn dlsym_next(name: &[u8]) -> Option<usize> {
    debug_assert!(name.ends_with(b"\0"));
    // SAFETY: name is NUL-terminated; dlsym only reads it.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast()) };
    (!p.is_null()).then_some(p as usize)
}

/// Writes all of `parts` to stderr, unbuffered, allocation-free.
pub fn write_stderr(parts: &[&[u8]]) {
    for part in parts {
        let mut rest = *part;
        while !rest.is_empty() {
            let n = raw::write(2, rest);
            if n <= 0 {
                return;
            }
            rest = &rest[n as usize..];
        }
    }
}

/// Ends the process at once with `code` (the fail-closed exit).
pub fn exit_now(code: c_int) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// CLOCK_MONOTONIC now, through libc's (the vDSO's: no system call).
pub fn monotonic(ts: &mut libc::timespec) {
    // SAFETY: ts is valid for writing.
    unsafe { crate::hooks::table::real::clock_gettime(libc::CLOCK_MONOTONIC, ts) };
}

/// The process id (a system call: glibc keeps no cache).
pub fn getpid() -> i32 {
    raw::getpid()
}

/// `getenv` for the library's start-up: glibc's reads `environ` without a lock or the heap.
pub fn getenv(name_nul: &[u8]) -> Option<&'static [u8]> {
    debug_assert!(name_nul.ends_with(b"\0"));
    // SAFETY: name is NUL-terminated; getenv returns NULL or a NUL-terminated string in the
    // environment, which the library copies or reads before the program can change it.
    unsafe {
        let p = libc::getenv(name_nul.as_ptr().cast());
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_bytes())
    }
}

/// While a `vfork` child runs (set by the `vfork` shell in the child, cleared in the parent
/// when it resumes): the stack pointer it started with, else 0. A `vfork` child runs in its
/// parent's memory and on its parent's stack, below that point, and must not change the
/// parent's view state (its working directory, its descriptor names).
pub static VFORK_SP: AtomicUsize = AtomicUsize::new(0);

/// How far below its starting point a `vfork` child's calls may reach.
const VFORK_CHILD_STACK: usize = 256 * 1024;

/// Whether this process may change the view state kept in memory: false in a `vfork` child.
/// While a child runs, the parent's other threads see the mark too: they tell themselves apart
/// by their stack, which lies elsewhere (a thread's stack within 256 KiB below the point where
/// another called `vfork` would be one nearly out of room).
#[inline(always)]
pub fn owns_memory() -> bool {
    let top = VFORK_SP.load(Ordering::Relaxed);
    top == 0 || !top.wrapping_sub(stack_pointer()).lt(&VFORK_CHILD_STACK)
}

/// The current stack pointer.
#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

extern "C" {
    static mut environ: *mut *mut libc::c_char;
    /// glibc's: the last component of `argv[0]`, set before constructors run.
    static program_invocation_short_name: *const libc::c_char;
}

/// The last component of this process's `argv[0]` (glibc's `program_invocation_short_name`).
pub fn argv0_name() -> &'static [u8] {
    // SAFETY: glibc sets it once at start-up to a NUL-terminated string in argv[0], which lives
    // as long as the process; reading the pointer value is a plain load.
    unsafe {
        let p = program_invocation_short_name;
        if p.is_null() {
            b""
        } else {
            std::ffi::CStr::from_ptr(p).to_bytes()
        }
    }
}

/// The process's environment array, as the `exec*` calls without an envp use it.
pub fn environ_ptr() -> *const *const libc::c_char {
    // SAFETY: reading the pointer value of libc's `environ`.
    unsafe { environ as *const *const libc::c_char }
}

/// Puts `entry` (`NAME=value`, living as long as the process) into the environment.
pub fn putenv_static(entry: &'static std::ffi::CStr) {
    // SAFETY: putenv keeps the pointer; the string is 'static and never written.
    unsafe { libc::putenv(entry.as_ptr() as *mut libc::c_char) };
}

/// Sets the calling thread's name (what `/proc/self/comm` says; the kernel keeps 15 bytes).
pub fn set_process_name(name: &[u8]) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr() as libc::c_ulong, 0, 0, 0) };
}
