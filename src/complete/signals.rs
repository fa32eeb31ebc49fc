//! `SIGSYS` belongs to complete mode: the kernel forces it for every trapped call, and a
//! blocked or ignored forced signal kills the process. So, whatever the program does:
//! - our handler stays installed; the program's own `SIGSYS` disposition is recorded here,
//!   reported back to it as if installed, and called for a `SIGSYS` that is not a trap
//!   (`kill -SYS`, a seccomp filter's) ([`chain`]);
//! - `SIGSYS` is taken out of every mask a program sets: the thread's, a handler's `sa_mask`
//!   (Go's handlers block everything), `sigsuspend`'s;
//! - a handler installed with a restorer outside libc (Go's runtime brings its own) gets
//!   libc's, which does the same `rt_sigreturn` from inside the exempt range.
//!
//! The masks are the kernel's 64-bit ones (`rt_sigaction`, `rt_sigprocmask`) and libc's
//! `sigset_t` (whose first 64 bits are the same signals).
#![allow(unsafe_code)]

use crate::sys::{self, sud, symbols};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The kernel's `struct sigaction` on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct KSigaction {
    pub handler: usize,
    pub flags: u64,
    pub restorer: usize,
    pub mask: u64,
}

const SIGSYS_BIT: u64 = 1 << (libc::SIGSYS - 1);
const SA_RESTORER: u64 = 0x0400_0000;
const SYS_USER_DISPATCH: i32 = 2;

/// The program's `SIGSYS` disposition (what it installed, or inherited: `SIG_DFL` = 0).
static PROGRAM_HANDLER: AtomicUsize = AtomicUsize::new(0);
static PROGRAM_FLAGS: AtomicU64 = AtomicU64::new(0);
static PROGRAM_MASK: AtomicU64 = AtomicU64::new(0);
/// libc's signal restorer (read back from the kernel after installing ours).
static LIBC_RESTORER: AtomicUsize = AtomicUsize::new(0);
/// Our handler, as installed.
static OURS: AtomicUsize = AtomicUsize::new(0);

/// Whether this `SIGSYS` is a trapped system call (else it is the program's to handle).
pub fn is_trap(info: &libc::siginfo_t) -> bool {
    info.si_code == SYS_USER_DISPATCH
}

/// Installs `handler` for `SIGSYS` through libc (so that libc's restorer ends it) and unblocks
/// it; what was there becomes the program's disposition.
pub fn install(handler: usize) -> bool {
    let symbols::Found::At(sigaction) = symbols::lookup_next(b"sigaction") else { return false };
    // SAFETY: libc's sigaction with its C signature; the structures are valid for the call.
    unsafe {
        let libc_sigaction: unsafe extern "C" fn(libc::c_int, *const libc::sigaction, *mut libc::sigaction) -> libc::c_int =
            core::mem::transmute(sigaction);
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        // NODEFER: a call trapped inside the handler (the loader resolving a symbol for it)
        // is handled, not fatal. ONSTACK: the program's alternate stacks are respected.
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER | libc::SA_RESTART;
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc_sigaction(libc::SIGSYS, &sa, &mut old) != 0 {
            return false;
        }
        if old.sa_sigaction != handler {
            PROGRAM_HANDLER.store(old.sa_sigaction, Ordering::Relaxed);
            PROGRAM_FLAGS.store(old.sa_flags as u32 as u64, Ordering::Relaxed);
        }
        let mut k = KSigaction::default();
        if sud::exempt(libc::SYS_rt_sigaction, libc::SIGSYS as usize, 0, &mut k as *mut KSigaction as usize, 8, 0, 0) != 0 {
            return false;
        }
        LIBC_RESTORER.store(k.restorer, Ordering::Relaxed);
    }
    OURS.store(handler, Ordering::Relaxed);
    unblock_here()
}

/// Unblocks `SIGSYS` in the calling thread (a new program inherits its parent's mask).
pub fn unblock_here() -> bool {
    let set: u64 = SIGSYS_BIT;
    sud::exempt(libc::SYS_rt_sigprocmask, libc::SIG_UNBLOCK as usize, &set as *const u64 as usize, 0, 8, 0, 0) == 0
}

/// A trapped `rt_sigaction`: `SIGSYS` is recorded, not installed; any other signal is
/// installed with `SIGSYS` out of its mask and libc's restorer.
///
/// # Safety
/// `act` and `old` are null or valid for the kernel's structure, as the caller passed them.
pub unsafe fn rt_sigaction(sig: i32, act: *const KSigaction, old: *mut KSigaction, size: usize) -> isize {
    if sig == libc::SIGSYS {
        // SAFETY: per the contract.
        unsafe {
            if !old.is_null() {
                *old = recorded();
            }
            if !act.is_null() {
                record((*act).handler, (*act).flags, (*act).mask);
            }
        }
        return 0;
    }
    if act.is_null() {
        return sud::exempt(libc::SYS_rt_sigaction, sig as usize, 0, old as usize, size, 0, 0);
    }
    // SAFETY: per the contract.
    let mut copy = unsafe { *act };
    copy.mask &= !SIGSYS_BIT;
    let restorer = LIBC_RESTORER.load(Ordering::Relaxed);
    if copy.flags & SA_RESTORER != 0 && restorer != 0 && !in_libc(copy.restorer) {
        copy.restorer = restorer;
    }
    sud::exempt(libc::SYS_rt_sigaction, sig as usize, &copy as *const KSigaction as usize, old as usize, size, 0, 0)
}

/// A trapped `rt_sigprocmask`: the thread's mask is the one the handler returns to (`saved`,
/// restored by `rt_sigreturn`), so that is what it reads and changes; `SIGSYS` never blocked.
///
/// # Safety
/// `set` and `old` are null or valid for `size` bytes, as the caller passed them.
pub unsafe fn rt_sigprocmask(saved: &mut libc::sigset_t, how: i32, set: *const u64, old: *mut u64, size: usize) -> isize {
    if size != 8 {
        return -(libc::EINVAL as isize);
    }
    let cur = mask64(saved);
    // SAFETY: per the contract.
    unsafe {
        if !set.is_null() {
            let s = *set;
            let new = match how {
                libc::SIG_BLOCK => cur | s,
                libc::SIG_UNBLOCK => cur & !s,
                libc::SIG_SETMASK => s,
                _ => return -(libc::EINVAL as isize),
            };
            let never = SIGSYS_BIT | 1 << (libc::SIGKILL - 1) | 1 << (libc::SIGSTOP - 1);
            set_mask64(saved, new & !never);
        }
        if !old.is_null() {
            *old = cur;
        }
    }
    0
}

/// A trapped `sigaltstack`: like the mask, the alternate stack a handler returns to is the one
/// saved at the trap (`rt_sigreturn` sets it again), so that is what it reads and changes, with
/// the kernel's checks against the program's stack pointer `sp`. (Saved are the stored flags;
/// what the program reads is `SS_DISABLE`, `SS_ONSTACK` or 0, as the kernel reports them.)
///
/// # Safety
/// `ss` and `old` are null or valid, as the caller passed them.
pub unsafe fn sigaltstack(saved: &mut libc::stack_t, sp: usize, ss: *const libc::stack_t, old: *mut libc::stack_t) -> isize {
    const SS_AUTODISARM: i32 = 1 << 31;
    let current = *saved;
    let on_it = current.ss_size != 0 && sp.wrapping_sub(current.ss_sp as usize).wrapping_sub(1) < current.ss_size;
    let reported = libc::stack_t {
        ss_sp: current.ss_sp,
        ss_size: current.ss_size,
        ss_flags: (current.ss_flags & SS_AUTODISARM)
            | if current.ss_size == 0 {
                libc::SS_DISABLE
            } else if on_it {
                libc::SS_ONSTACK
            } else {
                0
            },
    };
    // SAFETY: per the contract.
    unsafe {
        if !ss.is_null() {
            if on_it {
                return -(libc::EPERM as isize);
            }
            let s = *ss;
            match s.ss_flags & !SS_AUTODISARM {
                libc::SS_DISABLE => {
                    *saved = libc::stack_t { ss_sp: std::ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
                }
                0 | libc::SS_ONSTACK => {
                    if s.ss_size < libc::MINSIGSTKSZ {
                        return -(libc::ENOMEM as isize);
                    }
                    *saved = s;
                }
                _ => return -(libc::EINVAL as isize),
            }
        }
        if !old.is_null() {
            *old = reported;
        }
    }
    0
}

/// A trapped `rt_sigsuspend`'s mask: `SIGSYS` never blocked.
///
/// # Safety
/// `set` is null or a valid mask, as the caller passed it.
pub unsafe fn without_sigsys(set: *const u64) -> Option<u64> {
    if set.is_null() {
        return None;
    }
    // SAFETY: per the contract.
    let m = unsafe { *set };
    (m & SIGSYS_BIT != 0).then_some(m & !SIGSYS_BIT)
}

/// libc's `sigaction` for `SIGSYS` in complete mode: recorded and reported, never installed.
///
/// # Safety
/// `act` and `old` are null or valid, as the caller passed them.
pub unsafe fn sigaction_sigsys(act: *const libc::sigaction, old: *mut libc::sigaction) {
    // SAFETY: per the contract.
    unsafe {
        if !old.is_null() {
            let r = recorded();
            let mut o: libc::sigaction = std::mem::zeroed();
            o.sa_sigaction = r.handler;
            o.sa_flags = r.flags as libc::c_int;
            set_mask64(&mut o.sa_mask, r.mask);
            *old = o;
        }
        if !act.is_null() {
            record((*act).sa_sigaction, (*act).sa_flags as u32 as u64, mask64(&(*act).sa_mask));
        }
    }
}

/// Takes `SIGSYS` out of a libc signal set (a copy the caller passes on).
pub fn strip(set: &mut libc::sigset_t) {
    // SAFETY: sigdelset on a valid set.
    unsafe { libc::sigdelset(set, libc::SIGSYS) };
}

/// The old handler `signal()` reports, and records the new one (`SA_RESTART` as glibc's
/// `signal` does; `sysv` for `sysv_signal`: one-shot, no restart).
pub fn signal_sigsys(handler: usize, sysv: bool) -> usize {
    let old = PROGRAM_HANDLER.load(Ordering::Relaxed);
    let flags = if sysv { (libc::SA_RESETHAND | libc::SA_NODEFER) as u32 as u64 } else { libc::SA_RESTART as u32 as u64 };
    record(handler, flags, 0);
    old
}

fn record(handler: usize, flags: u64, mask: u64) {
    PROGRAM_MASK.store(mask, Ordering::Relaxed);
    PROGRAM_FLAGS.store(flags, Ordering::Relaxed);
    PROGRAM_HANDLER.store(handler, Ordering::Release);
}

fn recorded() -> KSigaction {
    KSigaction {
        handler: PROGRAM_HANDLER.load(Ordering::Acquire),
        flags: PROGRAM_FLAGS.load(Ordering::Relaxed),
        restorer: LIBC_RESTORER.load(Ordering::Relaxed),
        mask: PROGRAM_MASK.load(Ordering::Relaxed),
    }
}

fn in_libc(addr: usize) -> bool {
    addr.wrapping_sub(sud::LO.load(Ordering::Relaxed)) < sud::LEN.load(Ordering::Relaxed)
}

fn mask64(set: &libc::sigset_t) -> u64 {
    // SAFETY: sigset_t is at least 8 bytes; its first 64 bits are signals 1..64.
    unsafe { *(set as *const libc::sigset_t as *const u64) }
}

fn set_mask64(set: &mut libc::sigset_t, m: u64) {
    // SAFETY: as in `mask64`.
    unsafe { *(set as *mut libc::sigset_t as *mut u64) = m }
}

/// A `SIGSYS` that is not a trap, given to the program's disposition: its handler called as
/// the kernel would; the default (ending the process with `SIGSYS`) done for real; an ignored
/// one dropped.
///
/// # Safety
/// The arguments are the ones the kernel passed our handler.
pub unsafe fn chain(info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let r = recorded();
    match r.handler {
        h if h == libc::SIG_IGN => {}
        h if h == libc::SIG_DFL => {
            let dfl = KSigaction::default();
            sud::exempt(libc::SYS_rt_sigaction, libc::SIGSYS as usize, &dfl as *const KSigaction as usize, 0, 8, 0, 0);
            unblock_here();
            sud::exempt(libc::SYS_tgkill, sys::raw::getpid() as usize, sys::raw::gettid() as usize, libc::SIGSYS as usize, 0, 0, 0);
            // Still alive (the signal was caught in between): ours again.
            install_again();
        }
        h => {
            if r.flags & libc::SA_RESETHAND as u32 as u64 != 0 {
                record(libc::SIG_DFL, 0, 0);
            }
            // SAFETY: the program installed `h` for SIGSYS with these flags.
            unsafe {
                if r.flags & libc::SA_SIGINFO as u32 as u64 != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = core::mem::transmute(h);
                    f(libc::SIGSYS, info, ctx);
                } else {
                    let f: extern "C" fn(libc::c_int) = core::mem::transmute(h);
                    f(libc::SIGSYS);
                }
            }
        }
    }
}

fn install_again() {
    let ours = OURS.load(Ordering::Relaxed);
    let k = KSigaction {
        handler: ours,
        flags: (libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER | libc::SA_RESTART) as u32 as u64 | SA_RESTORER,
        restorer: LIBC_RESTORER.load(Ordering::Relaxed),
        mask: 0,
    };
    sud::exempt(libc::SYS_rt_sigaction, libc::SIGSYS as usize, &k as *const KSigaction as usize, 0, 8, 0, 0);
}
