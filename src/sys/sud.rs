//! Syscall user dispatch, the kernel's half of complete mode (`prctl(PR_SET_SYSCALL_USER_DISPATCH)`,
//! Linux 5.11): once a thread is armed, every system call it makes from outside one exempt
//! range of addresses is turned into `SIGSYS` before it runs (see `complete::trap`).
//!
//! The exempt range is libc's code: the calls libc makes for the program (which the hooks
//! already saw) and for the library (the real symbols) run at full speed, and so does the
//! `rt_sigreturn` of libc's signal restorer, which ends every handler. What is trapped is what
//! no hook can see: a `syscall` instruction in the program, in Go's runtime, in the loader.
//! There is no selector byte: a thread's state would live in its TLS, which a thread made with
//! a raw `clone` shares with its parent, and the one range is enough.
//!
//! The library's own raw calls (`sys::raw`) would be trapped too, being outside libc: once
//! armed they go through libc's `syscall()` instead ([`exempt`]).
#![allow(unsafe_code)]

use libc::c_long;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const PR_SET_SYSCALL_USER_DISPATCH: c_long = 59;
const PR_SYS_DISPATCH_ON: c_long = 1;

/// Complete mode is on in this process: raw calls go through [`exempt`].
static ARMED: AtomicBool = AtomicBool::new(false);
/// libc's `syscall()`, the exempt way into the kernel.
static EXEMPT: AtomicUsize = AtomicUsize::new(0);
/// The exempt range: libc's executable segment. Read by the clone trampoline's assembly too.
pub static LO: AtomicUsize = AtomicUsize::new(0);
pub static LEN: AtomicUsize = AtomicUsize::new(0);

/// Inside libc's `vfork`, the instruction after its `pop rdi` (which keeps the return address
/// across the system call): jumped to with a continuation in rdi, it makes the `vfork` from
/// inside the exempt range and returns there, so that the library's `vfork` shell keeps a real
/// `vfork` (memory shared until exec) in complete mode. 0: not found, or not armed.
pub static VFORK_AFTER_POP: AtomicUsize = AtomicUsize::new(0);

/// Finds [`VFORK_AFTER_POP`] in libc's `vfork` at `addr`, whose code must be glibc's
/// (`[endbr64] pop rdi; mov eax, SYS_vfork; syscall; push rdi`), else leaves it 0.
pub fn find_vfork(addr: usize) {
    const BODY: [u8; 9] = [0x5f, 0xb8, libc::SYS_vfork as u8, 0, 0, 0, 0x0f, 0x05, 0x57];
    const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];
    // SAFETY: `addr` is a function in libc's mapped, readable code; 13 bytes of it are read.
    let code = unsafe { std::slice::from_raw_parts(addr as *const u8, 13) };
    let at = if code[..4] == ENDBR64 { 4 } else { 0 };
    if code[at..at + 9] == BODY {
        VFORK_AFTER_POP.store(addr + at + 1, Ordering::Relaxed);
    }
}

/// The assembly that arms the calling thread from code of the library's own, in a thread or
/// child that is not armed yet (so its `syscall` runs): one `prctl`, and if the kernel refuses,
/// the process ends with 125 (fail closed); it goes on at the label `9:`. The site supplies the
/// operands `prctl` (`SYS_prctl`), `exit_group`, `lo` and `len` ([`LO`], [`LEN`]), and may
/// clobber rax, rdi, rsi, rdx, r10, r8, rcx and r11.
#[macro_export]
macro_rules! arm_thread_asm {
    () => {
        concat!(
            "mov eax, {prctl}\n",
            "mov edi, 59\n",
            "mov esi, 1\n",
            "mov rdx, qword ptr [rip + {lo}]\n",
            "mov r10, qword ptr [rip + {len}]\n",
            "xor r8d, r8d\n",
            "syscall\n",
            "test rax, rax\n",
            "jz 9f\n",
            "mov eax, {exit_group}\n",
            "mov edi, 125\n",
            "syscall\n",
            "ud2\n",
            "9:\n",
        )
    };
}

/// Whether this process traps raw system calls.
#[inline(always)]
pub fn armed() -> bool {
    ARMED.load(Ordering::Relaxed)
}

/// Sets the exempt range and libc's `syscall()` (found once, before the first thread is armed).
pub fn prepare(syscall_fn: usize, lo: usize, len: usize) {
    EXEMPT.store(syscall_fn, Ordering::Relaxed);
    LO.store(lo, Ordering::Relaxed);
    LEN.store(len, Ordering::Relaxed);
    ARMED.store(true, Ordering::Release);
}

/// Arms the calling thread. `Err(errno)` if the kernel refuses (before 5.11, or a seccomp
/// filter forbids `prctl`).
pub fn arm_thread() -> Result<(), i32> {
    let r = exempt(
        libc::SYS_prctl,
        PR_SET_SYSCALL_USER_DISPATCH as usize,
        PR_SYS_DISPATCH_ON as usize,
        LO.load(Ordering::Relaxed),
        LEN.load(Ordering::Relaxed),
        0,
        0,
    );
    if r < 0 {
        Err(-r as i32)
    } else {
        Ok(())
    }
}

/// A system call made through libc's `syscall()`, inside the exempt range: the kernel's
/// result (`-errno` on failure), the caller's errno left as it was. (Cold: outside complete
/// mode it is never called, and the raw calls that test for it stay as small as they were.)
#[cold]
#[inline(never)]
pub fn exempt(nr: c_long, a: usize, b: usize, c: usize, d: usize, e: usize, f: usize) -> isize {
    let addr = EXEMPT.load(Ordering::Relaxed);
    if addr == 0 {
        return -(libc::ENOSYS as isize);
    }
    // SAFETY: `addr` is libc's `syscall` (set by `prepare`), called with its C signature; the
    // arguments are the caller's, as for any raw call.
    unsafe {
        let f_ptr: unsafe extern "C" fn(c_long, c_long, c_long, c_long, c_long, c_long, c_long) -> c_long = core::mem::transmute(addr);
        let saved = super::errno();
        let r = f_ptr(nr, a as c_long, b as c_long, c as c_long, d as c_long, e as c_long, f as c_long);
        if r == -1 {
            let err = super::errno();
            super::set_errno(saved);
            -(err as isize)
        } else {
            r as isize
        }
    }
}

/// libc's `syscall()` address (for the clone trampoline, which returns through it in the child).
pub fn exempt_fn() -> usize {
    EXEMPT.load(Ordering::Relaxed)
}
