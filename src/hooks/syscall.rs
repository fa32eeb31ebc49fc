//! `syscall()`: the path-taking system call numbers go through the same hooks as their libc
//! wrappers (same arguments, same `-1`/errno convention); every other number passes untouched.

use super::types::*;
use super::Access;
use super::{attr, exec, fail, link, modify, name, open, route_at, stat, with_path, with_path_at};
use crate::real;
use crate::sys::PBuf;
use libc::c_long;

pub unsafe fn syscall(n: c_long, a: c_long, b: c_long, c: c_long, d: c_long, e: c_long, f: c_long) -> c_long {
    let p = |x: c_long| x as CStrP;
    let i = |x: c_long| x as c_int;
    let r: c_long = unsafe {
        match n {
            libc::SYS_open => open::open(p(a), i(b), c as mode_t) as c_long,
            libc::SYS_openat => open::openat(i(a), p(b), i(c), d as mode_t) as c_long,
            libc::SYS_creat => open::creat(p(a), b as mode_t) as c_long,
            libc::SYS_stat => stat::stat(p(a), b as *mut Stat) as c_long,
            libc::SYS_lstat => stat::lstat(p(a), b as *mut Stat) as c_long,
            libc::SYS_newfstatat => stat::fstatat(i(a), p(b), c as *mut Stat, i(d)) as c_long,
            libc::SYS_statx => stat::statx(i(a), p(b), i(c), d as c_uint, e as *mut Statx) as c_long,
            libc::SYS_access => stat::access(p(a), i(b)) as c_long,
            libc::SYS_faccessat => stat::faccessat(i(a), p(b), i(c), 0) as c_long,
            libc::SYS_readlink => link::readlink(p(a), b as *mut c_char, c as size_t) as c_long,
            libc::SYS_readlinkat => link::readlinkat(i(a), p(b), c as *mut c_char, d as size_t) as c_long,
            libc::SYS_mkdir => modify::mkdir(p(a), b as mode_t) as c_long,
            libc::SYS_mkdirat => modify::mkdirat(i(a), p(b), c as mode_t) as c_long,
            libc::SYS_rmdir => modify::rmdir(p(a)) as c_long,
            libc::SYS_unlink => modify::unlink(p(a)) as c_long,
            libc::SYS_unlinkat => modify::unlinkat(i(a), p(b), i(c)) as c_long,
            libc::SYS_rename => modify::rename(p(a), p(b)) as c_long,
            libc::SYS_renameat => modify::renameat(i(a), p(b), i(c), p(d)) as c_long,
            libc::SYS_renameat2 => modify::renameat2(i(a), p(b), i(c), p(d), e as c_uint) as c_long,
            libc::SYS_link => modify::link(p(a), p(b)) as c_long,
            libc::SYS_linkat => modify::linkat(i(a), p(b), i(c), p(d), i(e)) as c_long,
            libc::SYS_symlink => modify::symlink(p(a), p(b)) as c_long,
            libc::SYS_symlinkat => modify::symlinkat(p(a), i(b), p(c)) as c_long,
            libc::SYS_chmod => attr::chmod(p(a), b as mode_t) as c_long,
            libc::SYS_fchmodat => attr::fchmodat(i(a), p(b), c as mode_t, 0) as c_long,
            libc::SYS_chown => attr::chown(p(a), b as libc::uid_t, c as libc::gid_t) as c_long,
            libc::SYS_lchown => attr::lchown(p(a), b as libc::uid_t, c as libc::gid_t) as c_long,
            libc::SYS_fchownat => attr::fchownat(i(a), p(b), c as libc::uid_t, d as libc::gid_t, i(e)) as c_long,
            libc::SYS_utimensat => attr::utimensat(i(a), p(b), c as *const libc::timespec, i(d)) as c_long,
            libc::SYS_truncate => modify::truncate(p(a), b as libc::off_t) as c_long,
            libc::SYS_mknod => modify::mknod(p(a), b as mode_t, c as libc::dev_t) as c_long,
            libc::SYS_mknodat => modify::mknodat(i(a), p(b), c as mode_t, d as libc::dev_t) as c_long,
            libc::SYS_execve => exec::execve(p(a), b as Argv, c as Argv) as c_long,
            libc::SYS_execveat => exec::execveat(i(a), p(b), c as Argv, d as Argv, i(e)) as c_long,
            libc::SYS_chdir => name::chdir(p(a)) as c_long,
            // The kernel's getcwd returns the length with the NUL.
            libc::SYS_getcwd => {
                let r = name::getcwd(a as *mut c_char, b as size_t);
                if r.is_null() { -1 } else { libc::strlen(r) as c_long + 1 }
            }
            libc::SYS_faccessat2 => {
                let mode = i(c);
                let flags = i(d);
                with_path_at(i(a), p(b), flags & libc::AT_SYMLINK_NOFOLLOW == 0, Access::Look, |q| {
                    real::syscall(n, a, q as c_long, mode as c_long, flags as c_long, 0, 0)
                })
            }
            libc::SYS_openat2 => {
                let how = c as *const libc::open_how;
                let flags = if how.is_null() { 0 } else { (*how).flags as c_int };
                let follow = flags & libc::O_NOFOLLOW == 0;
                let mut host = PBuf::new();
                match route_at(i(a), p(b), follow, open::access_of(flags), &mut host) {
                    Ok(q) => {
                        let fd = real::syscall(n, a, q as c_long, c, d, 0, 0);
                        if fd >= 0 {
                            if let Some(path) = super::bytes(p(b)) {
                                crate::stack::note_open(fd as c_int, i(a), path, q != p(b));
                            }
                        }
                        fd
                    }
                    Err(err) => fail(err),
                }
            }
            libc::SYS_fchmodat2 => with_path_at(i(a), p(b), i(d) & libc::AT_SYMLINK_NOFOLLOW == 0, Access::Write, |q| {
                real::syscall(n, a, q as c_long, c, d, 0, 0)
            }),
            libc::SYS_fchdir => name::fchdir(i(a)) as c_long,
            libc::SYS_close => super::fd::close(i(a)) as c_long,
            libc::SYS_dup => super::fd::dup(i(a)) as c_long,
            libc::SYS_dup2 => super::fd::dup2(i(a), i(b)) as c_long,
            libc::SYS_dup3 => super::fd::dup3(i(a), i(b), i(c)) as c_long,
            libc::SYS_chroot => with_path(p(a), true, Access::Look, |q| real::syscall(n, q as c_long, 0, 0, 0, 0, 0)),
            _ => real::syscall(n, a, b, c, d, e, f),
        }
    };
    r
}
