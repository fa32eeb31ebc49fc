//! Times through a path or a descriptor: `utimensat(fd, NULL, …)` and `futimesat(fd, NULL, …)`
//! change the descriptor's own file. The rest of the family (mode, owner, xattrs) is generated
//! from the table.

use super::attrs::{empty_path, follows_at};
use super::table::real;
use super::types::*;
use super::{fd_write, is_hot, Sym};
use crate::resolver::Call;

#[inline(always)]
unsafe fn timed(sym: Sym, dirfd: c_int, path: CStrP, flags: c_int, call: impl Fn(*const c_char) -> c_int) -> c_int {
    if path.is_null() {
        // utimensat(fd, NULL, …) is glibc's EINVAL; futimesat(fd, NULL, …) the descriptor's file.
        if sym == Sym::utimensat {
            return call(path);
        }
        return fd_write(sym, dirfd, || call(path));
    }
    let how = Call { dirfd, follow: follows_at(flags), op: Op::Modify, empty: empty_path(flags) };
    // SAFETY: the caller's path.
    if unsafe { is_hot(dirfd, path, Op::Modify) } {
        let r = call(path);
        if r < 0 {
            // SAFETY: as above.
            return unsafe { super::after_hot(sym, path, how, r, &call) };
        }
        return r;
    }
    // SAFETY: as above.
    unsafe { super::plain(sym, path, how, &call) }
}

pub unsafe fn utimensat(dirfd: c_int, path: CStrP, times: *const libc::timespec, flags: c_int) -> c_int {
    // Both times UTIME_OMIT: the kernel changes nothing and answers 0 before any lookup.
    if unsafe { omits_both(times) } {
        return unsafe { real::utimensat(dirfd, path, times, flags) };
    }
    unsafe { timed(Sym::utimensat, dirfd, path, flags, |p| real::utimensat(dirfd, p, times, flags)) }
}

pub unsafe fn futimesat(dirfd: c_int, path: CStrP, times: *const libc::timeval) -> c_int {
    unsafe { timed(Sym::futimesat, dirfd, path, 0, |p| real::futimesat(dirfd, p, times)) }
}

/// Both times `UTIME_OMIT`: the kernel changes nothing and answers 0.
unsafe fn omits_both(times: *const libc::timespec) -> bool {
    // SAFETY: a non-NULL `times` holds two timespecs.
    !times.is_null() && unsafe { (*times).tv_nsec == libc::UTIME_OMIT && (*times.add(1)).tv_nsec == libc::UTIME_OMIT }
}

pub unsafe fn futimens(fd: c_int, times: *const libc::timespec) -> c_int {
    if super::fd_is_plain(fd) || unsafe { omits_both(times) } {
        return unsafe { real::futimens(fd, times) };
    }
    fd_write(Sym::futimens, fd, || unsafe { real::futimens(fd, times) })
}
