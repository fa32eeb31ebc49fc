//! The shell of complete mode: the `SIGSYS` handler. A trapped system call arrives here with the
//! program's registers (the kernel put the call number back in rax and stopped before running
//! it); it goes through the same dispatch as libc's `syscall()` (`hooks::syscall`), so every
//! mount kind and facet applies unchanged, and its result goes back in rax as the kernel's
//! (`-errno`). The few calls that concern complete mode itself are decided in `complete`.
//! The program's errno is left as it was.

use super::types::*;
use crate::complete::clone::{self, Made};
use crate::complete::signals;
use crate::sys::{self, sud};
use libc::c_long;

/// The `SIGSYS` handler (installed by `complete::start`).
pub extern "C" fn on_sigsys(_sig: c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler.
    let (info_ref, uc) = unsafe { (&*info, &mut *ctx.cast::<libc::ucontext_t>()) };
    if !signals::is_trap(info_ref) {
        // SAFETY: the kernel's arguments, passed on.
        unsafe { signals::chain(info, ctx) };
        return;
    }
    let saved = sys::errno();
    let g = &mut uc.uc_mcontext.gregs;
    let r = trapped(g, &mut uc.uc_sigmask, &mut uc.uc_stack);
    g[libc::REG_RAX as usize] = r as i64;
    sys::set_errno(saved);
}

/// Runs the call the registers describe; the kernel's kind of result.
fn trapped(g: &[i64; 23], mask: &mut libc::sigset_t, altstack: &mut libc::stack_t) -> isize {
    let reg = |r: c_int| g[r as usize] as usize;
    let nr = g[libc::REG_RAX as usize];
    let (a, b, c, d, e, f) = (reg(libc::REG_RDI), reg(libc::REG_RSI), reg(libc::REG_RDX), reg(libc::REG_R10), reg(libc::REG_R8), reg(libc::REG_R9));
    let pass = || sud::exempt(nr, a, b, c, d, e, f);
    match nr {
        libc::SYS_clone | libc::SYS_fork | libc::SYS_vfork => match clone::trapped(nr, a as u64, b, c, d, e, g) {
            Made::Parent(r) => r,
            // Armed there (after_fork_child), its copy of the view's state cleaned.
            Made::Child => {
                super::spawn::after_fork_child();
                0
            }
        },
        // Its child would start unarmed with no way in; callers fall back to `clone`.
        libc::SYS_clone3 => -(libc::ENOSYS as isize),
        // Its submissions would reach the kernel with no system call to trap.
        libc::SYS_io_uring_setup => -(libc::ENOSYS as isize),
        // The program may not turn the view off.
        libc::SYS_prctl if a == 59 => -(libc::EPERM as isize),
        libc::SYS_rt_sigaction => {
            // SAFETY: the program's pointers, as it passed them to the kernel.
            unsafe { signals::rt_sigaction(a as i32, b as *const _, c as *mut _, d) }
        }
        // The mask a handler returns to is the one saved at the trap: the call changes that.
        libc::SYS_rt_sigprocmask => {
            // SAFETY: the program's pointers, as it passed them to the kernel.
            unsafe { signals::rt_sigprocmask(mask, a as c_int, b as *const u64, c as *mut u64, d) }
        }
        libc::SYS_sigaltstack => {
            // SAFETY: as above.
            unsafe { signals::sigaltstack(altstack, g[libc::REG_RSP as usize] as usize, a as *const _, b as *mut _) }
        }
        libc::SYS_rt_sigsuspend => {
            // SAFETY: as above.
            match unsafe { signals::without_sigsys(a as *const u64) } {
                Some(m) => sud::exempt(nr, &m as *const u64 as usize, b, 0, 0, 0, 0),
                None => pass(),
            }
        }
        libc::SYS_getdents64 => super::dir::getdents64_fd(a as c_int, b as *mut u8, c),
        libc::SYS_lseek => {
            super::dir::seek_fd(a as c_int, b as i64, c as c_int);
            pass()
        }
        libc::SYS_exit_group => {
            crate::trace::flush();
            pass()
        }
        _ => {
            // SAFETY: the program's arguments for this call, as it passed them to the kernel.
            let r = unsafe { super::syscall::syscall(nr as c_long, a as c_long, b as c_long, c as c_long, d as c_long, e as c_long, f as c_long) };
            if r == -1 {
                -(sys::errno() as isize)
            } else {
                r as isize
            }
        }
    }
}
