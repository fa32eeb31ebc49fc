//! The environment a child needs to stay in the view: `LD_PRELOAD` naming this library,
//! `KMVIEW_STACK`, `KMVIEW_CWD`, `KMVIEW_FDS`, `KMVIEW_EXE`, `KMVIEW_IDS` (written by `api/`'s encoders). Exec
//! hooks re-assert them in any envp (a cleared or rewritten one included); before glibc starts a
//! child by itself (`popen`), `environ` is repaired.
//!
//! No heap: the new envp is built on the caller's stack (a `vfork` child's too), with an
//! anonymous mapping only for environments of more than [`INLINE`] entries.

use super::types::*;
use crate::errno::{Errno, Res};
use crate::runtime::{self, Runtime};
use crate::state::{cwd, fds};
use crate::sys::pool::{Pool, Slot, Taken};
use crate::sys::{self, raw, CAP};
use kmview_api::env as vars;
use kmview_api::sink::{Fixed, Sink};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

const CWD_KEY: &[u8] = b"KMVIEW_CWD=";
const STACK_KEY: &[u8] = b"KMVIEW_STACK=";
const PRELOAD_KEY: &[u8] = b"LD_PRELOAD=";
const FDS_KEY: &[u8] = b"KMVIEW_FDS=";
const EXE_KEY: &[u8] = b"KMVIEW_EXE=";
const IDS_KEY: &[u8] = b"KMVIEW_IDS=";

/// A child's `KMVIEW_STACK` may be ours, or ours with views pushed inside (a nested `kmview`).
fn extends(value: &[u8], ours: &[u8]) -> bool {
    value == ours || (value.starts_with(ours) && value.get(ours.len()) == Some(&b';'))
}

/// Two buffers that take turns holding `KMVIEW_CWD=<virtual cwd>` for `environ`.
struct CwdEntries(UnsafeCell<[[u8; CAP + 16]; 2]>);
// SAFETY: written only by `repair_environ`, into the buffer `environ` does not point at.
unsafe impl Sync for CwdEntries {}
static CWD_ENTRIES: CwdEntries = CwdEntries(UnsafeCell::new([[0; CAP + 16]; 2]));
static CWD_TURN: AtomicUsize = AtomicUsize::new(0);

/// Puts this view's variables back into `environ` if the program removed or changed them,
/// before glibc starts a child from it (`popen`).
pub fn repair_environ() {
    let Some(rt) = runtime::get() else { return };
    if !sys::getenv(b"KMVIEW_STACK\0").is_some_and(|v| extends(v, rt.stack_value())) {
        sys::putenv_static(rt.stack_env);
    }
    if !sys::getenv(b"LD_PRELOAD\0").is_some_and(|v| vars::preload_names(v, rt.lib_path)) {
        sys::putenv_static(rt.preload_env);
    }
    let mut v = buf!();
    if crate::resolver::cwd::current(&crate::resolver::kernel::Kernel, rt, &mut v).is_ok() && v.len() + CWD_KEY.len() + 1 < CAP + 16 {
        let turn = 1 - CWD_TURN.load(Ordering::Relaxed);
        // SAFETY: buffer `turn` is not the one environ points at (if any); ours to fill. It is
        // 'static, and the next repair writes the other one.
        let entry: &'static std::ffi::CStr = unsafe {
            let dst = (CWD_ENTRIES.0.get() as *mut [u8; CAP + 16]).add(turn).cast::<u8>();
            std::ptr::copy_nonoverlapping(CWD_KEY.as_ptr(), dst, CWD_KEY.len());
            std::ptr::copy_nonoverlapping(v.as_bytes().as_ptr(), dst.add(CWD_KEY.len()), v.len());
            *dst.add(CWD_KEY.len() + v.len()) = 0;
            std::ffi::CStr::from_ptr(dst.cast())
        };
        CWD_TURN.store(turn, Ordering::Relaxed);
        sys::putenv_static(entry);
    }
    if rt.fake.is_some() {
        repair_ids();
    }
}

/// Room for `KMVIEW_IDS=` and the longest identity (8 ids and 64 groups of up to 10 digits).
const IDS_ROOM: usize = 16 + 72 * 11;

/// Two buffers that take turns holding `KMVIEW_IDS=<identity>` for `environ`.
struct IdsEntries(UnsafeCell<[[u8; IDS_ROOM]; 2]>);
// SAFETY: written only by `repair_ids`, into the buffer `environ` does not point at.
unsafe impl Sync for IdsEntries {}
static IDS_ENTRIES: IdsEntries = IdsEntries(UnsafeCell::new([[0; IDS_ROOM]; 2]));
static IDS_TURN: AtomicUsize = AtomicUsize::new(0);

/// Puts the process's fake identity into `environ` (a child glibc starts by itself, `popen`'s
/// shell, starts with it).
fn repair_ids() {
    let turn = 1 - IDS_TURN.load(Ordering::Relaxed);
    // SAFETY: buffer `turn` is not the one environ points at (if any); ours to fill. It is
    // 'static, and the next repair writes the other one.
    let buf: &'static mut [u8; IDS_ROOM] = unsafe { &mut *(IDS_ENTRIES.0.get() as *mut [u8; IDS_ROOM]).add(turn) };
    let mut sink = Fixed::new(&mut buf[..]);
    if !(sink.put(IDS_KEY) && vars::encode_ids(&mut sink, &crate::state::identity::get()) && sink.put(b"\0")) {
        return;
    }
    let len = sink.len;
    let Ok(entry) = std::ffi::CStr::from_bytes_with_nul(&buf[..len]) else { return };
    IDS_TURN.store(turn, Ordering::Relaxed);
    sys::putenv_static(entry);
}

/// Entries kept inline before the envp array moves to an anonymous mapping.
pub const INLINE: usize = 256;
/// Room for the entries this library adds (the inherited descriptors' names that do not fit
/// are passed on unnamed).
const ROOM: usize = 12 * 1024;

/// A child's envp under construction (a slot of [`ENVS`]).
pub struct Envp {
    inline: [*const c_char; INLINE],
    mapped: *mut *const c_char,
    mapped_len: usize,
    room: [u8; ROOM],
    used: usize,
    exe: Option<(usize, usize)>,
    /// The child cannot load this library (a 32-bit program): no `LD_PRELOAD` at all.
    pub no_preload: bool,
}

impl Slot for Envp {
    fn reset(&mut self) {
        if !self.mapped.is_null() {
            // SAFETY: the mapping was made by `build` with this length (by an earlier taker,
            // perhaps a `vfork` child that exec'd).
            unsafe { libc::munmap(self.mapped.cast(), self.mapped_len) };
        }
        self.mapped = std::ptr::null_mut();
        self.mapped_len = 0;
        self.used = 0;
        self.exe = None;
        self.no_preload = false;
    }
}

/// The environments of the execs in flight, off the stack (see `sys::pool`).
pub static ENVS: Pool<Envp, 64, 1> = Pool::new([const { Envp::EMPTY }; 64]);

impl Envp {
    const EMPTY: Envp = Envp {
        inline: [std::ptr::null(); INLINE],
        mapped: std::ptr::null_mut(),
        mapped_len: 0,
        room: [0; ROOM],
        used: 0,
        exe: None,
        no_preload: false,
    };

    /// An empty environment from the pool (`ENOMEM` when sixty-four execs are in flight).
    pub fn take() -> Res<Taken<Envp>> {
        ENVS.take().ok_or(Errno::ENOMEM)
    }

    /// Writes one `KEY=value` entry into the room with `f`, NUL-terminated; its start, or
    /// `None` if it does not fit (then nothing is kept).
    fn entry(&mut self, key: &[u8], f: impl FnOnce(&mut Fixed) -> bool) -> Option<usize> {
        let start = self.used;
        let mut sink = Fixed::new(&mut self.room[start..]);
        if !(sink.put(key) && f(&mut sink) && sink.put(b"\0")) {
            return None;
        }
        self.used += sink.len;
        Some(start)
    }

    fn ptr(&self, at: usize) -> *const c_char {
        self.room[at..].as_ptr().cast()
    }

    /// Names the program the child will be (its virtual path, for `/proc/self/exe`); `via`: the
    /// host path of the loader it is started through, if it is.
    pub fn set_exe(&mut self, virt: &[u8], via: Option<&[u8]>) {
        let start = self.entry(EXE_KEY, |s| vars::encode_exe(s, virt, via));
        self.exe = start.map(|s| (s, 0));
    }

    /// `envp` with this view's variables asserted; the result lives as long as `self`. NULL if it
    /// cannot be built (then the exec must fail: `ENOMEM`). `child_cwd`: the virtual directory
    /// the child starts in, if not this process's (`posix_spawn` with a chdir action).
    ///
    /// # Safety
    /// `envp` is NULL or a NULL-terminated array of C strings.
    pub unsafe fn build(&mut self, envp: Argv, child_cwd: Option<&[u8]>) -> Argv {
        let Some(rt) = runtime::get() else {
            return envp;
        };
        let mut n = 0;
        if !envp.is_null() {
            // SAFETY: NULL-terminated array.
            while unsafe { !(*envp.add(n)).is_null() } {
                n += 1;
            }
        }
        let need = n + 7;
        let out: *mut *const c_char = if need <= INLINE {
            self.inline.as_mut_ptr()
        } else {
            let len = need * std::mem::size_of::<*const c_char>();
            // SAFETY: an anonymous private mapping, unmapped in Drop.
            let p =
                unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
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
        let mut new_fake_root = false;
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
                // A nested kmview pushing a fake root of its own: its identity starts afresh.
                new_fake_root = memchr::memmem::find(&v[rt.stack_value().len()..], b"fakeroot=").is_some();
            } else if let Some(v) = bytes.strip_prefix(PRELOAD_KEY) {
                if self.no_preload {
                    // The program's own preloads stay; this library goes.
                    preload_ok = true;
                    let lib = rt.lib_path;
                    let others = |e: &&[u8]| !e.is_empty() && *e != lib;
                    if v.split(|&b| b == b':' || b == b' ').any(|e| others(&e)) {
                        if let Some(at) = self.entry(PRELOAD_KEY, |sink| {
                            v.split(|&b| b == b':' || b == b' ').filter(others).enumerate().all(|(i, e)| (i == 0 || sink.put(b":")) && sink.put(e))
                        }) {
                            // SAFETY: k <= i < need.
                            unsafe { *out.add(k) = self.ptr(at) };
                            k += 1;
                        }
                    }
                    continue;
                }
                if !vars::preload_names(v, rt.lib_path) {
                    theirs = v;
                    continue;
                }
                preload_ok = true;
            } else if bytes.starts_with(CWD_KEY) || bytes.starts_with(FDS_KEY) || bytes.starts_with(EXE_KEY) || bytes.starts_with(IDS_KEY) {
                continue;
            }
            // SAFETY: k <= i < need.
            unsafe { *out.add(k) = e };
            k += 1;
        }
        let mut extra: [*const c_char; 6] = [std::ptr::null(); 6];
        let mut x = 0;
        if !stack_ok {
            extra[x] = rt.stack_env.as_ptr();
            x += 1;
        }
        if !preload_ok && !self.no_preload {
            extra[x] = match self.entry(PRELOAD_KEY, |s| vars::encode_preload(s, rt.lib_path, Some(theirs))) {
                Some(at) => self.ptr(at),
                None => rt.preload_env.as_ptr(),
            };
            x += 1;
        }
        // Under a fake root, the identity the process has now is the child's (never silently
        // the view's starting one: no room fails the exec).
        if rt.fake.is_some() && !new_fake_root {
            match self.entry(IDS_KEY, |s| vars::encode_ids(s, &crate::state::identity::get())) {
                Some(at) => {
                    extra[x] = self.ptr(at);
                    x += 1;
                }
                None => return std::ptr::null(),
            }
        }
        if let Some(at) = self.cwd_entry(rt, child_cwd) {
            extra[x] = self.ptr(at);
            x += 1;
        }
        if let Some(at) = self.fds_entry() {
            extra[x] = self.ptr(at);
            x += 1;
        }
        if let Some((at, _)) = self.exe {
            extra[x] = self.ptr(at);
            x += 1;
        }
        for p in &extra[..x] {
            // SAFETY: at most six beyond the n copied, within need.
            unsafe { *out.add(k) = *p };
            k += 1;
        }
        // SAFETY: k < need.
        unsafe { *out.add(k) = std::ptr::null() };
        out as Argv
    }

    fn cwd_entry(&mut self, rt: &Runtime, child_cwd: Option<&[u8]>) -> Option<usize> {
        let mut v = crate::sys::pool::take().ok()?;
        let known = match child_cwd {
            Some(c) => v.set(c).is_ok(),
            None => crate::resolver::cwd::current(&crate::resolver::kernel::Kernel, rt, &mut v).is_ok() || cwd::get(&mut v, None).is_ok(),
        };
        if !known {
            return None;
        }
        self.entry(CWD_KEY, |s| s.put(v.as_bytes()))
    }

    /// `KMVIEW_FDS=N=PATH;…` for the recorded descriptors that survive exec (no `FD_CLOEXEC`).
    fn fds_entry(&mut self) -> Option<usize> {
        let start = self.used;
        let mut sink = Fixed::new(&mut self.room[start..]);
        if !sink.put(FDS_KEY) {
            return None;
        }
        let mut any = false;
        fds::each(|fd, name, flags| {
            if raw::fcntl(fd, libc::F_GETFD).map_or(true, |f| f & libc::FD_CLOEXEC != 0) {
                return;
            }
            // An item that does not fit is taken back whole.
            let before = sink.len;
            if vars::encode_fd(&mut sink, !any, fd, name, flags & fds::OUTSIDE != 0) {
                any = true;
            } else {
                sink.len = before;
            }
        });
        if !any || !sink.put(b"\0") {
            return None;
        }
        self.used += sink.len;
        Some(start)
    }
}
