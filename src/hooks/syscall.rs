//! `syscall()`: the path-taking system call numbers go through the same hooks as their libc
//! wrappers (the dispatch is generated from the table's `sys=` attributes); the few whose
//! wrapper differs from the system call are handled here; every other number passes untouched.

use super::table::{dispatch, real};
use super::types::*;
use super::{fail, guard, Sym};
use crate::resolver::Call;
use crate::runtime::{self, mode};
use libc::c_long;

pub unsafe fn syscall(n: c_long, a: c_long, b: c_long, c: c_long, d: c_long, e: c_long, f: c_long) -> c_long {
    if runtime::mode() == mode::PASS && !matches!(n, libc::SYS_execve | libc::SYS_execveat) {
        return unsafe { real::syscall(n, a, b, c, d, e, f) };
    }
    if let Some(r) = unsafe { dispatch(n, a, b, c, d, e, f) } {
        return r;
    }
    let p = |x: c_long| x as CStrP;
    let i = |x: c_long| x as c_int;
    match n {
        // The kernel's getcwd returns the length with the NUL.
        libc::SYS_getcwd => {
            let r = unsafe { super::name::getcwd(a as *mut c_char, b as size_t) };
            if r.is_null() {
                -1
            } else {
                unsafe { libc::strlen(r) as c_long + 1 }
            }
        }
        libc::SYS_faccessat2 => {
            let (mode, flags) = (i(c), i(d));
            let how = Call {
                dirfd: i(a),
                follow: flags & libc::AT_SYMLINK_NOFOLLOW == 0,
                op: super::attrs::access_op(mode),
                empty: flags & libc::AT_EMPTY_PATH != 0,
            };
            unsafe { super::plain(Sym::syscall, p(b), how, |q| real::syscall(n, a, q as c_long, c, d, 0, 0)) }
        }
        libc::SYS_fchmodat2 => {
            let flags = i(d);
            let how = Call { dirfd: i(a), follow: flags & libc::AT_SYMLINK_NOFOLLOW == 0, op: Op::Chmod, empty: flags & libc::AT_EMPTY_PATH != 0 };
            unsafe { super::plain(Sym::syscall, p(b), how, |q| real::syscall(n, a, q as c_long, c, d, 0, 0)) }
        }
        libc::SYS_openat2 => guard(Sym::syscall, || {
            let how_ptr = c as *const libc::open_how;
            let flags = if how_ptr.is_null() { 0 } else { (unsafe { (*how_ptr).flags }) as c_int };
            let how = Call { dirfd: i(a), follow: flags & libc::O_NOFOLLOW == 0, op: Op::Open(flags), empty: false };
            let Some(rt) = runtime::get() else {
                return unsafe { real::syscall(n, a, b, c, d, 0, 0) };
            };
            let mut host = buf!();
            match unsafe { super::route(rt, p(b), &how, &mut host) } {
                Ok(r) => {
                    let fd = unsafe { real::syscall(n, a, r.ptr as c_long, c, d, 0, 0) };
                    if fd >= 0 {
                        unsafe { super::open::note(fd as c_int, i(a), p(b)) };
                    }
                    fd
                }
                Err(err) => fail(err),
            }
        }),
        _ => unsafe { real::syscall(n, a, b, c, d, e, f) },
    }
}
