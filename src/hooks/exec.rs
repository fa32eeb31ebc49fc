//! The exec family: `execve`, `execv`, `execvp`, `execvpe`, the variadic `execl*`, `fexecve`
//! and `execveat`. glibc's reach the kernel through internal calls, so each needs its own shell.
//! An exec translates the program's path and follows its `#!` chain in the view
//! ([`super::program`]), and re-asserts the view's variables in the child's environment
//! ([`super::env`]).
#![allow(unsafe_code)]

use super::env::Envp;
use super::program::{candidate, check_outside, name_exe, prepare, through_loader, Args};
use super::table::real;
use super::types::*;
use super::{bytes, fail};
use crate::errno::{Errno, Res};
use crate::exec as pure;
use crate::resolver::Call;
use crate::runtime;
use crate::sys::{self, raw, PBuf};

/// `execve` in the view, traced: the record goes out before the process is replaced, and
/// another one says so if the exec failed after all.
unsafe fn exec_in_view(path: CStrP, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the caller's arguments.
    let r = unsafe { exec_routed(path, argv, envp) };
    if crate::trace::on().is_some() {
        let e = sys::errno();
        // SAFETY: as above.
        unsafe { super::observe::exec(super::Sym::execve, libc::AT_FDCWD, path, argv, -1, e) };
    }
    r
}

/// Tells the trace about an exec about to happen (its program found and executable).
fn before_exec(path: CStrP, argv: Argv, target: &PBuf) {
    if crate::trace::on().is_some() && raw::faccessat(libc::AT_FDCWD, target, libc::X_OK).is_ok() {
        let e = sys::errno();
        // SAFETY: the caller's arguments.
        unsafe { super::observe::exec(super::Sym::execve, libc::AT_FDCWD, path, argv, 0, 0) };
        sys::set_errno(e);
    }
}

unsafe fn exec_routed(path: CStrP, argv: Argv, envp: Argv) -> c_int {
    let Some(rt) = runtime::get() else {
        return unsafe { real::execve(path, argv, envp) };
    };
    let mut args = match Args::take() {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    if let Err(e) = unsafe { args.load(argv) } {
        return fail(e);
    }
    let p = match unsafe { prepare(rt, path, &mut args) } {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut env = match Envp::take() {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    name_exe(rt, &mut env, &p);
    // SAFETY: the caller's envp.
    let envp = unsafe { env.build(envp, None) };
    if envp.is_null() {
        return fail(Errno::ENOMEM);
    }
    if let Err(e) = check_outside(rt, &p, unsafe { bytes(path) }.unwrap_or(b"")) {
        return fail(e);
    }
    before_exec(path, argv, &p.target);
    if p.native {
        unsafe { real::execve(path, argv, envp) }
    } else if let Some(loader) = through_loader(&p, &mut args) {
        unsafe { real::execve(loader, args.argv(), envp) }
    } else {
        unsafe { real::execve(p.target.as_cptr(), args.argv(), envp) }
    }
}

pub unsafe fn execve(path: CStrP, argv: Argv, envp: Argv) -> c_int {
    unsafe { exec_in_view(path, argv, envp) }
}

pub unsafe fn execv(path: CStrP, argv: Argv) -> c_int {
    unsafe { exec_in_view(path, argv, sys::environ_ptr()) }
}

pub unsafe fn execvp(file: CStrP, argv: Argv) -> c_int {
    unsafe { execvpe(file, argv, sys::environ_ptr()) }
}

/// `execvpe` as glibc does it, with each candidate going through the view: `$PATH` (default
/// `/bin:/usr/bin`) searched in order, `EACCES` remembered, a file the kernel cannot run
/// (`ENOEXEC`) handed to `/bin/sh`.
pub unsafe fn execvpe(file: CStrP, argv: Argv, envp: Argv) -> c_int {
    let Some(name) = (unsafe { bytes(file) }) else {
        return fail(Errno::EFAULT);
    };
    if name.is_empty() {
        return fail(Errno::ENOENT);
    }
    if name.contains(&b'/') {
        unsafe { exec_in_view(file, argv, envp) };
        return unsafe { sh_fallback(file, argv, envp) };
    }
    let path_var: &[u8] = sys::getenv(b"PATH\0").unwrap_or(b"/bin:/usr/bin");
    let mut got_eacces = false;
    let mut cand = buf!();
    for (dir, name) in pure::path_candidates(path_var, name) {
        if !candidate(&mut cand, dir, name) {
            continue;
        }
        unsafe { exec_in_view(cand.as_cptr(), argv, envp) };
        unsafe { sh_fallback(cand.as_cptr(), argv, envp) };
        match sys::errno() {
            libc::EACCES => got_eacces = true,
            libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => {}
            _ => return -1,
        }
    }
    if got_eacces {
        sys::set_errno(libc::EACCES);
    }
    -1
}

/// After an exec failed with `ENOEXEC`: run the file as a shell script, as execvp does.
unsafe fn sh_fallback(file: CStrP, argv: Argv, envp: Argv) -> c_int {
    if sys::errno() != libc::ENOEXEC {
        return -1;
    }
    let Ok(mut args) = Args::take() else {
        return -1;
    };
    if unsafe { args.load(argv) }.is_err() {
        return -1;
    }
    args.splice_front(&[b"/bin/sh\0".as_ptr().cast(), file]);
    unsafe { exec_in_view(b"/bin/sh\0".as_ptr().cast(), args.argv(), envp) };
    sys::set_errno(libc::ENOEXEC);
    -1
}

const KIND_EXECL: c_int = 0;
const KIND_EXECLE: c_int = 1;
const KIND_EXECLP: c_int = 2;

/// Collects a NULL-terminated variadic list: the first five items arrived in registers
/// (`regs`), the rest on the caller's stack (`stack`). For `execle` the envp follows the NULL.
unsafe extern "C" fn execl_common(path: CStrP, regs: *const CStrP, stack: *const CStrP, kind: c_int) -> c_int {
    super::guard(super::Sym::execve, || {
        let item = |i: usize| -> CStrP {
            // SAFETY: the caller passed at least i + 1 variadic items (the list is NULL-terminated
            // and we stop at the NULL, or one past it for execle's envp).
            unsafe {
                if i < 5 {
                    *regs.add(i)
                } else {
                    *stack.add(i - 5)
                }
            }
        };
        let mut n = 0;
        while !item(n).is_null() {
            n += 1;
        }
        let envp = if kind == KIND_EXECLE { item(n + 1) as Argv } else { sys::environ_ptr() };
        let mut args = match Args::take() {
            Ok(a) => a,
            Err(e) => return fail(e),
        };
        if let Err(e) = args.load_items(n, item) {
            return fail(e);
        }
        if kind == KIND_EXECLP {
            unsafe { execvpe(path, args.argv(), envp) }
        } else {
            unsafe { exec_in_view(path, args.argv(), envp) }
        }
    })
}

macro_rules! execl_shell {
    ($name:ident, $kind:expr) => {
        /// C-variadic exec: gathers its argument list and execs through the view.
        #[unsafe(naked)]
        #[no_mangle]
        pub unsafe extern "C" fn $name() {
            core::arch::naked_asm!(
                "lea rax, [rsp + 8]",
                "sub rsp, 56",
                "mov [rsp], rsi",
                "mov [rsp + 8], rdx",
                "mov [rsp + 16], rcx",
                "mov [rsp + 24], r8",
                "mov [rsp + 32], r9",
                "mov rsi, rsp",
                "mov rdx, rax",
                "mov ecx, {kind}",
                "call {common}",
                "add rsp, 56",
                "ret",
                kind = const $kind,
                common = sym execl_common,
            )
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod variadic {
    use super::*;
    execl_shell!(execl, KIND_EXECL);
    execl_shell!(execle, KIND_EXECLE);
    execl_shell!(execlp, KIND_EXECLP);
}

/// The name the kernel gives a program run from a descriptor: `/dev/fd/N`, or `/dev/fd/N/NAME`
/// from a directory descriptor. Exec'ing that name goes through the view like any path (the
/// resolver takes the descriptor's name back into the view), so a `#!` interpreter in the view
/// is found, and the script gets the same name the kernel would give it.
fn fd_program(fd: c_int, rel: &[u8], out: &mut PBuf) -> Res<()> {
    let mut digits = [0u8; 10];
    out.set(b"/dev/fd/")?;
    out.push_bytes(crate::path::decimal(fd as u32, &mut digits))?;
    if !rel.is_empty() {
        out.push_byte(b'/')?;
        out.push_bytes(rel)?;
    }
    Ok(())
}

/// `fexecve`: the program is a descriptor (opened through the view already).
pub unsafe fn fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int {
    if fd < 0 {
        return fail(Errno::EBADF);
    }
    let mut name = buf!();
    if let Err(e) = fd_program(fd, b"", &mut name) {
        return fail(e);
    }
    unsafe { exec_in_view(name.as_cptr(), argv, envp) }
}

/// `execveat`: an absolute path, or one from the working directory, is an `execve` in the view;
/// a path from a directory descriptor is that descriptor's `/dev/fd/N/PATH`;
/// `AT_SYMLINK_NOFOLLOW` leaves the last component to the kernel.
pub unsafe fn execveat(dirfd: c_int, path: CStrP, argv: Argv, envp: Argv, flags: c_int) -> c_int {
    let Some(p) = (unsafe { bytes(path) }) else {
        return fail(Errno::EFAULT);
    };
    if flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        let mut env = match Envp::take() {
            Ok(e) => e,
            Err(e) => return fail(e),
        };
        let envp = unsafe { env.build(envp, None) };
        if envp.is_null() {
            return fail(Errno::ENOMEM);
        }
        let Some(rt) = runtime::get() else {
            return unsafe { real::execveat(dirfd, path, argv, envp, flags) };
        };
        let mut host = buf!();
        return match unsafe {
            super::route(rt, path, &Call { dirfd, follow: false, op: Op::Read, empty: flags & libc::AT_EMPTY_PATH != 0 }, &mut host)
        } {
            Ok(r) => {
                // Traced as the others: a line before (the buffers written), one more on failure.
                let traced = crate::trace::on().is_some();
                if traced {
                    // SAFETY: the caller's arguments.
                    unsafe { super::observe::exec(super::Sym::execveat, dirfd, path, argv, 0, 0) };
                }
                let ret = unsafe { real::execveat(dirfd, r.ptr, argv, envp, flags) };
                if traced {
                    let e = sys::errno();
                    // SAFETY: as above.
                    unsafe { super::observe::exec(super::Sym::execveat, dirfd, path, argv, -1, e) };
                    sys::set_errno(e);
                }
                ret
            }
            Err(e) => fail(e),
        };
    }
    if p.first() == Some(&b'/') || (dirfd == libc::AT_FDCWD && !p.is_empty()) {
        return unsafe { exec_in_view(path, argv, envp) };
    }
    if p.is_empty() && flags & libc::AT_EMPTY_PATH == 0 {
        return fail(Errno::ENOENT);
    }
    let mut name = buf!();
    if let Err(e) = fd_program(dirfd, p, &mut name) {
        return fail(e);
    }
    unsafe { exec_in_view(name.as_cptr(), argv, envp) }
}
