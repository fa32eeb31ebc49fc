//! New threads and processes of an armed process start unarmed (the kernel does not pass
//! syscall user dispatch on), so every way of making one arms its child before the child runs
//! a single instruction of the program:
//!
//! - a trapped `fork`, `vfork` or `clone` without a new stack: the child returns through our
//!   handler, which arms it. A `vfork` sharing memory would have its child run our handler on
//!   the stack the suspended parent is using, so the child gets a copy instead (`CLONE_VFORK`
//!   kept: the parent still waits for its exec);
//! - a trapped `clone` onto a new stack (a thread, as Go's runtime and hand-made threads do):
//!   the child starts in [`child_entry`], which arms it, then restores the registers the
//!   program had at its `syscall` (saved at the top of the new stack) and goes on as the kernel
//!   would have left it;
//! - libc's `pthread_create` and `clone()` (whose system calls are libc's, not trapped): the
//!   child's start routine is wrapped ([`park`], [`thread_start`], [`clone_start`]);
//! - libc's `vfork`: the library's shell (`hooks::spawn::vfork`) makes it through libc's own and
//!   arms the child itself, so that it stays a `vfork` (see `sys::sud::VFORK_AFTER_POP`).
#![allow(unsafe_code)]

use crate::sys::sud;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a trapped process-making call came to.
pub enum Made {
    /// In the caller: the kernel's result (the child's id, or `-errno`).
    Parent(isize),
    /// In a child with its own copy of memory, which returned through the handler: it must
    /// still be armed, and its copy of the view's state cleaned (`hooks::spawn`).
    Child,
}

/// The registers a thread made onto a new stack starts with, in the order [`child_entry`] pops
/// them: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx (the ucontext's order up to rsp), then
/// rflags and rip.
#[repr(C)]
struct Resume {
    regs: [u64; 15],
    rflags: u64,
    rip: u64,
}

/// A trapped `clone(flags, stack, parent_tid, child_tid, tls)`, `fork` or `vfork`, with the
/// interrupted registers (`libc::REG_*` order).
pub fn trapped(nr: i64, mut flags: u64, stack: usize, ptid: usize, ctid: usize, tls: usize, regs: &[i64; 23]) -> Made {
    const VM: u64 = libc::CLONE_VM as u64;
    const VFORK: u64 = libc::CLONE_VFORK as u64;
    match nr {
        libc::SYS_fork => return fork_like(libc::SIGCHLD as u64, 0, 0, 0),
        libc::SYS_vfork => return fork_like(VFORK | libc::SIGCHLD as u64, 0, 0, 0),
        _ => {}
    }
    if stack != 0 {
        return Made::Parent(onto_stack(flags, stack, ptid, ctid, tls, regs));
    }
    if flags & VM != 0 {
        if flags & VFORK == 0 {
            // A child sharing memory and the very same stack: nothing sane can run it.
            return Made::Parent(-(libc::EINVAL as isize));
        }
        flags &= !VM;
    }
    fork_like(flags, ptid, ctid, tls)
}

fn fork_like(flags: u64, ptid: usize, ctid: usize, tls: usize) -> Made {
    match sud::exempt(libc::SYS_clone, flags as usize, 0, ptid, ctid, tls, 0) {
        0 => Made::Child,
        r => Made::Parent(r),
    }
}

/// A child onto `stack`: the program's registers with rax = 0 (and rcx, r11 as `syscall`
/// leaves them) at the top of the new stack, the entry below them. The call goes through libc's
/// `syscall()`, whose `ret` in the child (now on the new stack) lands on the entry.
fn onto_stack(flags: u64, stack: usize, ptid: usize, ctid: usize, tls: usize, regs: &[i64; 23]) -> isize {
    let mut r = Resume { regs: [0; 15], rflags: regs[libc::REG_EFL as usize] as u64, rip: regs[libc::REG_RIP as usize] as u64 };
    for (i, slot) in r.regs.iter_mut().enumerate() {
        *slot = regs[i] as u64;
    }
    r.regs[libc::REG_RAX as usize] = 0;
    r.regs[libc::REG_RCX as usize] = r.rip;
    r.regs[libc::REG_R11 as usize] = r.rflags;
    let size = std::mem::size_of::<Resume>();
    let Some(frame) = stack.checked_sub(size + 8) else { return -(libc::EINVAL as isize) };
    // SAFETY: the program handed the kernel `stack` as the top of the child's stack: the bytes
    // just below it are the child's, unused until it runs. They are written before the child
    // exists (and, without CLONE_VM, copied into it).
    unsafe {
        (frame as *mut usize).write_unaligned(child_entry as *const () as usize);
        ((frame + 8) as *mut Resume).write_unaligned(r);
    }
    sud::exempt(libc::SYS_clone, flags as usize, frame, ptid, ctid, tls, 0)
}

/// Where a child made onto a new stack starts (its stack pointer at the [`Resume`] frame): arms
/// itself with one `prctl` (it is not armed yet, so its own `syscall` runs), then restores the
/// program's registers and returns to the instruction after the program's `syscall`. A child
/// the kernel will not arm ends the process (fail closed).
#[unsafe(naked)]
extern "C" fn child_entry() {
    core::arch::naked_asm!(
        crate::arm_thread_asm!(),
        "pop r8",
        "pop r9",
        "pop r10",
        "pop r11",
        "pop r12",
        "pop r13",
        "pop r14",
        "pop r15",
        "pop rdi",
        "pop rsi",
        "pop rbp",
        "pop rbx",
        "pop rdx",
        "pop rax",
        "pop rcx",
        "popfq",
        "ret",
        prctl = const libc::SYS_prctl,
        exit_group = const libc::SYS_exit_group,
        lo = sym sud::LO,
        len = sym sud::LEN,
    )
}

/// Start routines waiting for their thread: slot i holds (routine, argument) from [`park`]
/// until the child takes them.
const SLOTS: usize = 128;
static ROUTINES: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static ARGS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// Keeps `routine(arg)` for a child about to be made; the slot's index is the child's argument.
/// With every slot taken (128 threads being made at once), waits for one.
pub fn park(routine: usize, arg: usize) -> usize {
    loop {
        for (i, slot) in ROUTINES.iter().enumerate() {
            // Claimed with a mark first, so that no other maker writes the argument too.
            if slot.load(Ordering::Relaxed) == 0 && slot.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                ARGS[i].store(arg, Ordering::Relaxed);
                slot.store(routine, Ordering::Release);
                return i;
            }
        }
        sud::exempt(libc::SYS_sched_yield, 0, 0, 0, 0, 0, 0);
    }
}

/// Gives slot `i` back (the child was never made).
pub fn unpark(i: usize) {
    ROUTINES[i].store(0, Ordering::Release);
}

/// The child's half: the routine (acquired, so the argument stored before it is seen), the
/// argument, then the slot given back for the next maker.
fn take(i: usize) -> (usize, usize) {
    let routine = ROUTINES[i].load(Ordering::Acquire);
    let arg = ARGS[i].load(Ordering::Relaxed);
    ROUTINES[i].store(0, Ordering::Release);
    (routine, arg)
}

/// A `pthread_create` child: armed, then the program's routine.
pub extern "C" fn thread_start(slot: *mut libc::c_void) -> *mut libc::c_void {
    super::arm_or_die();
    let (routine, arg) = take(slot as usize);
    // SAFETY: the routine and argument the program gave pthread_create.
    unsafe {
        let f: extern "C" fn(*mut libc::c_void) -> *mut libc::c_void = core::mem::transmute(routine);
        f(arg as *mut libc::c_void)
    }
}

/// A libc `clone()` child: armed, then the program's function.
pub extern "C" fn clone_start(slot: *mut libc::c_void) -> libc::c_int {
    super::arm_or_die();
    let (routine, arg) = take(slot as usize);
    // SAFETY: the function and argument the program gave clone.
    unsafe {
        let f: extern "C" fn(*mut libc::c_void) -> libc::c_int = core::mem::transmute(routine);
        f(arg as *mut libc::c_void)
    }
}
