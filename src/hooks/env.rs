//! The environment a child needs to stay in the view: `LD_PRELOAD` naming this library,
//! `KMVIEW_STACK` and `KMVIEW_CWD`. Exec hooks re-assert them in any envp (a cleared or
//! rewritten one included); `environ`'s own `KMVIEW_CWD` is kept current at every `chdir`, so
//! that the children glibc starts by itself (`system`, `popen`) get it right too.
//!
//! No heap: the new envp is built on the caller's stack (a `vfork` child's too), with an
//! anonymous mapping only for environments of more than [`INLINE`] entries.

use super::types::*;
use crate::sys::{PBuf, CAP};
use crate::{cwd, stack, sys};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

extern "C" {
    static mut environ: *mut *mut c_char;
}

const CWD_KEY: &[u8] = b"KMVIEW_CWD=";
const STACK_KEY: &[u8] = b"KMVIEW_STACK=";
const PRELOAD_KEY: &[u8] = b"LD_PRELOAD=";
const FDS_KEY: &[u8] = b"KMVIEW_FDS=";
const EXE_KEY: &[u8] = b"KMVIEW_EXE=";
/// Room for the inherited descriptors' names; those that do not fit are passed on unnamed.
const FDS_ROOM: usize = 8192;
const ENTRY: usize = CAP + 16;

/// Two buffers that take turns holding `KMVIEW_CWD=<virtual cwd>`; `environ` points at one.
struct CwdEntries(UnsafeCell<[[u8; ENTRY]; 2]>);
// SAFETY: written only by `publish_cwd`, into the buffer `environ` does not point at.
unsafe impl Sync for CwdEntries {}
static CWD_ENTRIES: CwdEntries = CwdEntries(UnsafeCell::new([[0; ENTRY]; 2]));
static CWD_TURN: AtomicUsize = AtomicUsize::new(0);

fn entry_ptr(i: usize) -> *mut c_char {
    // SAFETY: in bounds of the static array.
    unsafe { (CWD_ENTRIES.0.get() as *mut [u8; ENTRY]).add(i).cast() }
}

/// Points `environ`'s `KMVIEW_CWD` at `virt` (called by [`cwd::set`]).
pub fn publish_cwd(virt: &[u8]) {
    if virt.len() + CWD_KEY.len() + 1 > ENTRY {
        return;
    }
    let old = CWD_TURN.load(Ordering::Relaxed);
    let new = 1 - old;
    // SAFETY: buffer `new` is not the one environ points at; it is ours to fill.
    unsafe {
        let dst = entry_ptr(new).cast::<u8>();
        std::ptr::copy_nonoverlapping(CWD_KEY.as_ptr(), dst, CWD_KEY.len());
        std::ptr::copy_nonoverlapping(virt.as_ptr(), dst.add(CWD_KEY.len()), virt.len());
        *dst.add(CWD_KEY.len() + virt.len()) = 0;
    }
    CWD_TURN.store(new, Ordering::Relaxed);
    // SAFETY: environ is NULL or a NULL-terminated array of C strings; swapping one pointer
    // for another valid string is what putenv does.
    unsafe {
        let mut e = environ;
        if !e.is_null() {
            while !(*e).is_null() {
                if *e == entry_ptr(old) || starts_with(*e, CWD_KEY) {
                    *e = entry_ptr(new);
                    return;
                }
                e = e.add(1);
            }
        }
        // Not in environ (the program cleared it): put back only at load; later, the exec hooks
        // and `repair_environ` add it, and a chdir must not allocate.
        if !crate::stack::is_loaded() {
            libc::putenv(entry_ptr(new));
        }
    }
}

/// Puts this view's variables back into `environ` if the program removed or changed them,
/// before glibc starts a child from it (`system`, `popen`).
pub fn repair_environ() {
    let Some(rt) = stack::runtime() else { return };
    let stack_ok = sys::getenv(b"KMVIEW_STACK\0").is_some_and(|v| extends(v, rt.stack_value()));
    let preload_ok = sys::getenv(b"LD_PRELOAD\0").is_some_and(|v| names_lib(v, &rt.lib_path));
    // SAFETY: the strings are owned by the runtime, which lives as long as the process.
    unsafe {
        if !stack_ok {
            libc::putenv(rt.stack_env.as_ptr() as *mut c_char);
        }
        if !preload_ok {
            libc::putenv(rt.preload_env.as_ptr() as *mut c_char);
        }
    }
    let mut v = PBuf::new();
    if sys::getenv(b"KMVIEW_CWD\0").is_none() && cwd::get(&mut v, None).is_ok() {
        publish_cwd(v.as_bytes());
    }
}

unsafe fn starts_with(s: *const c_char, prefix: &[u8]) -> bool {
    // SAFETY: s is NUL-terminated; strncmp stops at its end.
    unsafe { libc::strncmp(s, prefix.as_ptr().cast(), prefix.len()) == 0 }
}

/// A child's `KMVIEW_STACK` may be ours or ours with views pushed inside (a nested `kmview`).
fn extends(value: &[u8], ours: &[u8]) -> bool {
    value == ours || (value.starts_with(ours) && value.get(ours.len()) == Some(&b';'))
}

fn names_lib(value: &[u8], lib: &[u8]) -> bool {
    value.split(|&b| b == b' ' || b == b':').any(|w| w == lib)
}

/// Entries kept inline before the envp array moves to an anonymous mapping.
pub const INLINE: usize = 1024;

/// A child's envp under construction, on the caller's stack.
pub struct Envp {
    inline: [*const c_char; INLINE],
    mapped: *mut *const c_char,
    mapped_len: usize,
    preload: [u8; ENTRY],
    cwd: [u8; ENTRY],
    fds: [u8; FDS_ROOM],
    exe: [u8; ENTRY],
}

impl Drop for Envp {
    fn drop(&mut self) {
        if !self.mapped.is_null() {
            // SAFETY: the mapping was made by `build` with this length.
            unsafe { libc::munmap(self.mapped.cast(), self.mapped_len) };
        }
    }
}

impl Envp {
    pub fn new() -> Envp {
        Envp { inline: [std::ptr::null(); INLINE], mapped: std::ptr::null_mut(), mapped_len: 0, preload: [0; ENTRY], cwd: [0; ENTRY], fds: [0; FDS_ROOM], exe: [0; ENTRY] }
    }

    /// `envp` with this view's variables asserted; the result lives as long as `self`. NULL if it
    /// cannot be built (then the exec must fail: `ENOMEM`).
    ///
    /// # Safety
    /// `envp` is NULL or a NULL-terminated array of C strings.
    pub unsafe fn build(&mut self, envp: Argv) -> Argv {
        unsafe { self.build_in(envp, None) }
    }

    /// Names the program the child will be (its virtual path, for `/proc/self/exe`): call
    /// before [`Envp::build`] when the exec went through a view.
    /// `via`: the host path of the loader the program is started through, if it is.
    pub fn set_exe(&mut self, virt: &[u8], via: Option<&[u8]>) {
        let ok = match via {
            // `VIRTUAL\0`-free form: the loader's host path after a NUL-less separator.
            Some(loader) => fill(&mut self.exe, &[EXE_KEY, virt, b"//via:", loader]),
            None => fill(&mut self.exe, &[EXE_KEY, virt]),
        };
        if !ok {
            self.exe[0] = 0;
        }
    }

    /// [`Envp::build`] for a child that starts in `child_cwd` (a virtual path) rather than in
    /// this process's cwd (`posix_spawn` with a chdir action).
    ///
    /// # Safety
    /// As [`Envp::build`].
    pub unsafe fn build_in(&mut self, envp: Argv, child_cwd: Option<&[u8]>) -> Argv {
        let Some(rt) = stack::runtime() else { return envp };
        let mut n = 0;
        if !envp.is_null() {
            // SAFETY: NULL-terminated array.
            while unsafe { !(*envp.add(n)).is_null() } {
                n += 1;
            }
        }
        let need = n + 6;
        let out: *mut *const c_char = if need <= INLINE {
            self.inline.as_mut_ptr()
        } else {
            let len = need * std::mem::size_of::<*const c_char>();
            // SAFETY: an anonymous private mapping, unmapped in Drop.
            let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
            if p == libc::MAP_FAILED {
                // Never hand the child an environment without the view: the exec fails instead.
                return std::ptr::null();
            }
            self.mapped = p.cast();
            self.mapped_len = len;
            self.mapped
        };
        let mut k = 0;
        let mut stack_ok = false;
        let mut preload_ok = false;
        let mut theirs: &[u8] = b"";
        for i in 0..n {
            // SAFETY: i < n, each entry a C string.
            let e = unsafe { *envp.add(i) };
            let bytes = unsafe { std::ffi::CStr::from_ptr(e) }.to_bytes();
            if let Some(v) = bytes.strip_prefix(STACK_KEY) {
                if !extends(v, rt.stack_value()) || stack_ok {
                    continue;
                }
                stack_ok = true;
            } else if let Some(v) = bytes.strip_prefix(PRELOAD_KEY) {
                if !names_lib(v, &rt.lib_path) {
                    theirs = v;
                    continue;
                }
                preload_ok = true;
            } else if bytes.starts_with(CWD_KEY) || bytes.starts_with(FDS_KEY) || bytes.starts_with(EXE_KEY) {
                continue;
            }
            // SAFETY: k <= i < need.
            unsafe { *out.add(k) = e };
            k += 1;
        }
        let mut push = |p: *const c_char| {
            // SAFETY: at most three pushes beyond the n copied, within need.
            unsafe { *out.add(k) = p };
            k += 1;
        };
        if !stack_ok {
            push(rt.stack_env.as_ptr());
        }
        if !preload_ok {
            let parts: [&[u8]; 4] = [PRELOAD_KEY, &rt.lib_path, if theirs.is_empty() { b"" } else { b" " }, theirs];
            if fill(&mut self.preload, &parts) {
                push(self.preload.as_ptr().cast());
            } else {
                push(rt.preload_env.as_ptr());
            }
        }
        let mut v = PBuf::new();
        let known = match child_cwd {
            Some(c) => v.set(c).is_ok(),
            None => cwd::get(&mut v, None).is_ok(),
        };
        if known && fill(&mut self.cwd, &[CWD_KEY, v.as_bytes()]) {
            push(self.cwd.as_ptr().cast());
        }
        if fill_fds(&mut self.fds) {
            push(self.fds.as_ptr().cast());
        }
        if self.exe[0] != 0 {
            push(self.exe.as_ptr().cast());
        }
        push(std::ptr::null());
        out as Argv
    }
}

/// Concatenates `parts` into `buf` with a final NUL; false if it does not fit.
fn fill(buf: &mut [u8], parts: &[&[u8]]) -> bool {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total + 1 > buf.len() {
        return false;
    }
    let mut at = 0;
    for p in parts {
        buf[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    buf[at] = 0;
    true
}

/// `KMVIEW_FDS=N=PATH;…` for the recorded descriptors that survive exec (no `FD_CLOEXEC`),
/// paths %-escaped like `KMVIEW_STACK`'s. False if there are none.
fn fill_fds(buf: &mut [u8; FDS_ROOM]) -> bool {
    let mut at = FDS_KEY.len();
    buf[..at].copy_from_slice(FDS_KEY);
    let start = at;
    crate::fds::each(|fd, name| {
        // SAFETY: F_GETFD takes no argument; fcntl goes to libc's own.
        let flags = unsafe { crate::real::fcntl(fd, libc::F_GETFD, 0) };
        if flags < 0 || flags & libc::FD_CLOEXEC != 0 {
            return;
        }
        // Written in place; an entry that does not fit is taken back whole.
        let mut len = at;
        let mut fits = true;
        let mut put = |b: u8| {
            if len + 1 < buf.len() {
                buf[len] = b;
                len += 1;
            } else {
                fits = false;
            }
        };
        if at > start {
            put(b';');
        }
        let mut digits = [0u8; 10];
        crate::path::decimal(fd as u32, &mut digits).iter().for_each(|&d| put(d));
        put(b'=');
        for &b in name {
            if kmview_api::format::is_safe(b) {
                put(b);
            } else {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                put(b'%');
                put(HEX[(b >> 4) as usize]);
                put(HEX[(b & 15) as usize]);
            }
        }
        if fits {
            at = len;
        }
    });
    buf[at] = 0;
    at > start
}

/// The process's own environment, as the `exec*` calls without an envp use it.
pub fn process_environ() -> Argv {
    // SAFETY: reading the pointer value of libc's `environ`.
    unsafe { environ as Argv }
}
