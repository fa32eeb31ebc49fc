//! The signal calls, in complete mode: `SIGSYS` stays complete mode's (the program's own
//! disposition for it is recorded and honoured, see `complete::signals`) and never blocked.
//! With complete mode off, libc's, untouched (one load).

use super::table::real;
use super::types::*;
use crate::complete::signals;
use crate::sys::sud;

pub unsafe fn sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    if !sud::armed() {
        return unsafe { real::sigaction(sig, act, old) };
    }
    if sig == libc::SIGSYS {
        unsafe { signals::sigaction_sigsys(act, old) };
        return 0;
    }
    if act.is_null() {
        return unsafe { real::sigaction(sig, act, old) };
    }
    // A handler's mask never holds SIGSYS: a raw call inside the handler must still be trapped.
    let mut copy = unsafe { *act };
    signals::strip(&mut copy.sa_mask);
    unsafe { real::sigaction(sig, &copy, old) }
}

pub unsafe fn signal(sig: c_int, handler: libc::sighandler_t) -> libc::sighandler_t {
    if sud::armed() && sig == libc::SIGSYS {
        return signals::signal_sigsys(handler, false);
    }
    unsafe { real::signal(sig, handler) }
}

pub unsafe fn bsd_signal(sig: c_int, handler: libc::sighandler_t) -> libc::sighandler_t {
    if sud::armed() && sig == libc::SIGSYS {
        return signals::signal_sigsys(handler, false);
    }
    unsafe { real::bsd_signal(sig, handler) }
}

pub unsafe fn sysv_signal(sig: c_int, handler: libc::sighandler_t) -> libc::sighandler_t {
    if sud::armed() && sig == libc::SIGSYS {
        return signals::signal_sigsys(handler, true);
    }
    unsafe { real::sysv_signal(sig, handler) }
}

pub unsafe fn sigprocmask(how: c_int, set: *const libc::sigset_t, old: *mut libc::sigset_t) -> c_int {
    let mut copy = std::mem::MaybeUninit::uninit();
    unsafe { real::sigprocmask(how, without_sigsys(how, set, &mut copy), old) }
}

pub unsafe fn pthread_sigmask(how: c_int, set: *const libc::sigset_t, old: *mut libc::sigset_t) -> c_int {
    let mut copy = std::mem::MaybeUninit::uninit();
    unsafe { real::pthread_sigmask(how, without_sigsys(how, set, &mut copy), old) }
}

pub unsafe fn sigsuspend(set: *const libc::sigset_t) -> c_int {
    let mut copy = std::mem::MaybeUninit::uninit();
    unsafe { real::sigsuspend(without_sigsys(libc::SIG_SETMASK, set, &mut copy)) }
}

/// `set`, or (complete mode, a set that would block SIGSYS) a copy without it in `copy`.
fn without_sigsys(how: c_int, set: *const libc::sigset_t, copy: &mut std::mem::MaybeUninit<libc::sigset_t>) -> *const libc::sigset_t {
    if !sud::armed() || set.is_null() || how == libc::SIG_UNBLOCK {
        return set;
    }
    // SAFETY: the caller's valid set.
    let c = copy.write(unsafe { *set });
    signals::strip(c);
    c
}
