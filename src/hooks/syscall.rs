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
    // No view changes a path, and no fake root changes an identity or an owner: libc's.
    if runtime::mode() == mode::PASS && !matches!(n, libc::SYS_execve | libc::SYS_execveat) && runtime::get().is_none_or(|rt| rt.fake.is_none()) {
        return unsafe { real::syscall(n, a, b, c, d, e, f) };
    }
    if crate::sys::sud::armed() {
        if let Some(r) = complete_only(n, a, b, c, d, e) {
            return r;
        }
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
        // A listing as the view lists it (as raw `getdents64` in complete mode).
        libc::SYS_getdents64 => match super::dir::getdents64_fd(i(a), b as *mut u8, c as usize) {
            r if r < 0 => fail(crate::errno::Errno(-r as c_int)),
            r => r as c_long,
        },
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

/// In complete mode, the calls libc's `syscall()` would let past the trap (it is inside the
/// exempt range): io_uring and `clone3` are refused as when trapped; a process made through it
/// is armed in the child. A child onto a new stack would return through libc into the
/// program's own code unarmed: refused.
fn complete_only(n: c_long, a: c_long, b: c_long, c: c_long, d: c_long, e: c_long) -> Option<c_long> {
    use crate::complete::clone::{self, Made};
    let r = match n {
        libc::SYS_io_uring_setup | libc::SYS_clone3 => -(libc::ENOSYS as isize),
        libc::SYS_clone if b != 0 => -(libc::ENOSYS as isize),
        libc::SYS_fork | libc::SYS_vfork | libc::SYS_clone => match clone::trapped(n, a as u64, 0, c as usize, d as usize, e as usize, &[0; 23]) {
            Made::Parent(r) => r,
            Made::Child => {
                super::spawn::after_fork_child();
                0
            }
        },
        _ => return None,
    };
    Some(if r < 0 { fail(crate::errno::Errno(-r as i32)) } else { r as c_long })
}
