//! Descriptor bookkeeping: the table of virtual names (`state::fds`) follows every duplicate
//! and forgets every close. The calls themselves pass to libc unchanged.

use super::table::real;
use super::types::*;
use crate::state::{fds, sockets};
use crate::sys;

pub unsafe fn close(fd: c_int) -> c_int {
    // Forget first: once closed, another thread may get the same number for something else.
    if fds::forget(fd) {
        super::dir::fd_closed(fd);
    }
    sockets::forget(fd);
    unsafe { real::close(fd) }
}

pub unsafe fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    let r = unsafe { real::close_range(first, last, flags) };
    // CLOSE_RANGE_CLOEXEC only marks them; they stay open and keep their names until exec.
    if r == 0 && flags & libc::CLOSE_RANGE_CLOEXEC as c_int == 0 {
        fds::forget_range(first, last);
        super::dir::fds_closed(first, last);
        for fd in first..=last.min(sockets::N as c_uint - 1) {
            sockets::forget(fd as c_int);
        }
    }
    r
}

fn copied(from: c_int, to: c_int) -> c_int {
    if to >= 0 {
        // `to` was perhaps another descriptor (dup2 closed it): what was kept for that goes.
        super::dir::fd_closed(to);
        let e = sys::errno();
        fds::copy(from, to);
        sockets::copy(from, to);
        sys::set_errno(e);
    }
    to
}

pub unsafe fn dup(fd: c_int) -> c_int {
    copied(fd, unsafe { real::dup(fd) })
}

pub unsafe fn dup2(old: c_int, new: c_int) -> c_int {
    copied(old, unsafe { real::dup2(old, new) })
}

pub unsafe fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    copied(old, unsafe { real::dup3(old, new, flags) })
}

fn after_fcntl(fd: c_int, cmd: c_int, r: c_int) -> c_int {
    if cmd == libc::F_DUPFD || cmd == libc::F_DUPFD_CLOEXEC {
        copied(fd, r)
    } else {
        r
    }
}

pub unsafe fn fcntl(fd: c_int, cmd: c_int, arg: c_long) -> c_int {
    after_fcntl(fd, cmd, unsafe { real::fcntl(fd, cmd, arg) })
}

pub unsafe fn fcntl64(fd: c_int, cmd: c_int, arg: c_long) -> c_int {
    after_fcntl(fd, cmd, unsafe { real::fcntl64(fd, cmd, arg) })
}
