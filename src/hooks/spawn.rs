//! Starting processes without an exec of our own: `posix_spawn` (the spawn happens inside
//! glibc, so the program, its `#!` chain and its file actions' paths are worked out here, in the
//! view of the process that sets them up), `system` and `popen` (glibc's would start the host's
//! `/bin/sh`), and the fork family (the view's state is memory: a child gets a copy; a `vfork`
//! child shares it, and must not change it).
#![allow(unsafe_code)]

use super::bytes;
use super::env::Envp;
use super::program::{candidate, check_outside, name_exe, pools_after, prepare, route_exec, through_loader, Args};
use super::table::real;
use super::types::*;
use crate::exec as pure;
use crate::resolver::kernel::Kernel;
use crate::resolver::{walk, Call};
use crate::runtime;
use crate::state::spawn;
use crate::sys::{self, raw};

pub unsafe fn posix_spawn(pid: *mut pid_t, path: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the caller's arguments.
    let e = unsafe { spawn_routed(pid, path, actions, attr, argv, envp) };
    if crate::trace::on().is_some() {
        // SAFETY: as above.
        unsafe { super::observe::exec(super::Sym::posix_spawn, libc::AT_FDCWD, path, argv, if e == 0 { 0 } else { -1 }, e) };
    }
    e
}

/// [`posix_spawn`] in the view: the program and its `#!` chain worked out here, the child's
/// environment re-asserted.
unsafe fn spawn_routed(pid: *mut pid_t, path: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int {
    let Some(rt) = runtime::get() else {
        return unsafe { real::posix_spawn(pid, path, actions, attr, argv, envp) };
    };
    let mut args = match Args::take() {
        Ok(a) => a,
        Err(e) => return e.0,
    };
    if let Err(e) = unsafe { args.load(argv) } {
        return e.0;
    }
    let p = match unsafe { prepare(rt, path, &mut args) } {
        Ok(p) => p,
        Err(e) => return e.0,
    };
    let mut env = match Envp::take() {
        Ok(e) => e,
        Err(e) => return e.0,
    };
    name_exe(rt, &mut env, &p);
    let mut child_cwd = match crate::sys::pool::take() {
        Ok(b) => b,
        Err(e) => return e.0,
    };
    let in_dir = spawn::get(actions as usize, &mut child_cwd);
    let envp = unsafe { env.build(envp, in_dir.then_some(child_cwd.as_bytes())) };
    if envp.is_null() {
        return libc::ENOMEM;
    }
    if let Err(e) = check_outside(rt, &p, unsafe { bytes(path) }.unwrap_or(b"")) {
        return e.0;
    }
    if p.native {
        unsafe { real::posix_spawn(pid, path, actions, attr, argv, envp) }
    } else if let Some(loader) = through_loader(&p, &mut args) {
        unsafe { real::posix_spawn(pid, loader, actions, attr, args.argv(), envp) }
    } else {
        unsafe { real::posix_spawn(pid, p.target.as_cptr(), actions, attr, args.argv(), envp) }
    }
}

/// `posix_spawnp`: the `$PATH` search happens here, in the view (the first candidate that is
/// an executable regular file wins), and the spawn goes through [`posix_spawn`].
pub unsafe fn posix_spawnp(pid: *mut pid_t, file: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int {
    let Some(name) = (unsafe { bytes(file) }) else {
        return libc::EFAULT;
    };
    let Some(rt) = runtime::get() else {
        return unsafe { real::posix_spawnp(pid, file, actions, attr, argv, envp) };
    };
    if name.contains(&b'/') {
        return unsafe { posix_spawn(pid, file, actions, attr, argv, envp) };
    }
    if name.is_empty() {
        return libc::ENOENT;
    }
    let path_var: &[u8] = sys::getenv(b"PATH\0").unwrap_or(b"/bin:/usr/bin");
    let mut result = libc::ENOENT;
    let mut cand = match crate::sys::pool::take() {
        Ok(b) => b,
        Err(e) => return e.0,
    };
    for (dir, name) in pure::path_candidates(path_var, name) {
        if !candidate(&mut cand, dir, name) {
            continue;
        }
        let mut host = match crate::sys::pool::take() {
            Ok(b) => b,
            Err(e) => return e.0,
        };
        if route_exec(rt, cand.as_bytes(), &mut host, true).is_err() {
            continue;
        }
        match raw::fstatat(libc::AT_FDCWD, &host, 0) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                if raw::faccessat(libc::AT_FDCWD, &host, libc::X_OK).is_ok() {
                    return unsafe { posix_spawn(pid, cand.as_cptr(), actions, attr, argv, envp) };
                }
                result = libc::EACCES;
            }
            Ok(_) => result = libc::EACCES,
            Err(_) => {}
        }
    }
    result
}

/// The child opens this path itself (inside glibc), so it is translated now, in the view of the
/// process that sets the action up.
pub unsafe fn posix_spawn_file_actions_addopen(actions: *mut SpawnActions, fd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int {
    let Some(rt) = runtime::get() else {
        return unsafe { real::posix_spawn_file_actions_addopen(actions, fd, path, flags, mode) };
    };
    let mut host = match crate::sys::pool::take() {
        Ok(b) => b,
        Err(e) => return e.0,
    };
    let how = Call::at_cwd(flags & libc::O_NOFOLLOW == 0, Op::Open(flags));
    match unsafe { super::route(rt, path, &how, &mut host) } {
        Ok(r) => unsafe { real::posix_spawn_file_actions_addopen(actions, fd, r.ptr, if r.allowed { flags & !libc::O_CREAT } else { flags }, mode) },
        Err(e) => e.0,
    }
}

/// A chdir action: translated now, and its virtual directory remembered for the child's
/// `KMVIEW_CWD` (the child's cwd is then not this process's).
pub unsafe fn posix_spawn_file_actions_addchdir_np(actions: *mut SpawnActions, path: CStrP) -> c_int {
    let Some(p) = (unsafe { bytes(path) }) else {
        return libc::EINVAL;
    };
    let Some(rt) = runtime::get() else {
        return unsafe { real::posix_spawn_file_actions_addchdir_np(actions, path) };
    };
    let mut virt = match crate::sys::pool::take() {
        Ok(b) => b,
        Err(e) => return e.0,
    };
    let mut host = match crate::sys::pool::take() {
        Ok(b) => b,
        Err(e) => return e.0,
    };
    if walk::canonicalize(&Kernel, rt, p, libc::AT_FDCWD, &mut virt, &mut host).is_err() {
        // Let the child meet the error where the kernel would.
        return unsafe { real::posix_spawn_file_actions_addchdir_np(actions, path) };
    }
    let r = unsafe { real::posix_spawn_file_actions_addchdir_np(actions, host.as_cptr()) };
    if r == 0 {
        spawn::set(actions as usize, virt.as_bytes());
    }
    r
}

pub unsafe fn posix_spawn_file_actions_destroy(actions: *mut SpawnActions) -> c_int {
    spawn::forget(actions as usize);
    unsafe { real::posix_spawn_file_actions_destroy(actions) }
}

/// `system` in the view: glibc starts `/bin/sh` with its own internal spawn, which would take
/// the host's shell (under a root, the wrong one), so the shell is started here, through
/// [`posix_spawn`], with glibc's signal handling: SIGINT and SIGQUIT ignored and SIGCHLD blocked
/// while waiting, their defaults and the caller's mask in the child.
pub unsafe fn system(command: CStrP) -> c_int {
    let Some(rt) = runtime::get() else {
        return unsafe { real::system(command) };
    };
    if command.is_null() {
        // "Is a shell available?" — the view's.
        let mut host = buf!();
        return match route_exec(rt, b"/bin/sh", &mut host, true) {
            Ok(_) => raw::faccessat(libc::AT_FDCWD, &host, libc::X_OK).is_ok() as c_int,
            Err(_) => 0,
        };
    }
    // SAFETY: plain signal and spawn calls on locals; argv lives until the spawn returns.
    unsafe {
        let mut ignore: libc::sigaction = std::mem::zeroed();
        ignore.sa_sigaction = libc::SIG_IGN;
        let (mut old_int, mut old_quit): (libc::sigaction, libc::sigaction) = (std::mem::zeroed(), std::mem::zeroed());
        libc::sigaction(libc::SIGINT, &ignore, &mut old_int);
        libc::sigaction(libc::SIGQUIT, &ignore, &mut old_quit);
        let (mut block, mut old_mask): (libc::sigset_t, libc::sigset_t) = (std::mem::zeroed(), std::mem::zeroed());
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &block, &mut old_mask);

        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawnattr_init(&mut attr);
        let mut defaults: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut defaults);
        if old_int.sa_sigaction != libc::SIG_IGN {
            libc::sigaddset(&mut defaults, libc::SIGINT);
        }
        if old_quit.sa_sigaction != libc::SIG_IGN {
            libc::sigaddset(&mut defaults, libc::SIGQUIT);
        }
        libc::posix_spawnattr_setsigdefault(&mut attr, &defaults);
        libc::posix_spawnattr_setsigmask(&mut attr, &old_mask);
        libc::posix_spawnattr_setflags(&mut attr, (libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK) as i16);
        let argv: [CStrP; 4] = [b"sh\0".as_ptr().cast(), b"-c\0".as_ptr().cast(), command, std::ptr::null()];
        let mut pid: pid_t = 0;
        let err = posix_spawn(&mut pid, b"/bin/sh\0".as_ptr().cast(), std::ptr::null(), &attr, argv.as_ptr(), sys::environ_ptr());
        libc::posix_spawnattr_destroy(&mut attr);
        let mut status: c_int = 0;
        let result = if err == 0 {
            loop {
                if libc::waitpid(pid, &mut status, 0) >= 0 {
                    break status;
                }
                if sys::errno() != libc::EINTR {
                    break -1;
                }
            }
        } else {
            // As glibc: a shell that could not be started reads as one that exited with 127.
            127 << 8
        };
        let e = sys::errno();
        libc::sigaction(libc::SIGINT, &old_int, std::ptr::null_mut());
        libc::sigaction(libc::SIGQUIT, &old_quit, std::ptr::null_mut());
        libc::sigprocmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut());
        sys::set_errno(e);
        result
    }
}

/// `popen` in the view: glibc starts `/bin/sh` with its own internal spawn, which takes the
/// host's shell. Under a root that is the wrong one, so glibc's shell is only asked to `exec`
/// `/bin/sh` — an exec made in the view, which starts the root's — with the command quoted,
/// keeping glibc's `FILE` and `pclose`.
pub unsafe fn popen(command: CStrP, mode: CStrP) -> *mut FILE {
    super::env::repair_environ();
    if !runtime::get().is_some_and(|rt| rt.has_root) {
        return unsafe { real::popen(command, mode) };
    }
    // SAFETY: the caller's command (NULL is glibc's to refuse).
    let Some(cmd) = (unsafe { bytes(command) }) else {
        return unsafe { real::popen(command, mode) };
    };
    // `exec /bin/sh -c 'CMD'`, each `'` written as `'\''`: at most four bytes for one.
    let Some(mut line) = Mapped::new(32 + 4 * cmd.len()) else { return super::fail(crate::errno::Errno::ENOMEM) };
    let out = line.bytes();
    let mut n = 0;
    let mut put = |b: &[u8]| {
        out[n..n + b.len()].copy_from_slice(b);
        n += b.len();
    };
    put(b"exec /bin/sh -c '");
    for (k, piece) in cmd.split(|&c| c == b'\'').enumerate() {
        if k > 0 {
            put(b"'\\''");
        }
        put(piece);
    }
    put(b"'\0");
    // SAFETY: a NUL-terminated line; the mapping outlives the call (glibc's spawn has exec'd
    // the shell by the time popen returns).
    unsafe { real::popen(line.bytes().as_ptr().cast(), mode) }
}

/// An anonymous mapping of a few pages, unmapped when dropped: room for a command line of any
/// length without the heap.
struct Mapped {
    at: *mut u8,
    len: usize,
}

impl Mapped {
    fn new(len: usize) -> Option<Mapped> {
        // SAFETY: an anonymous private mapping, unmapped in Drop.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
        (p != libc::MAP_FAILED).then_some(Mapped { at: p.cast(), len })
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes, this Mapped's alone.
        unsafe { std::slice::from_raw_parts_mut(self.at, self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made.
        unsafe { libc::munmap(self.at.cast(), self.len) };
    }
}

// ---- execl, execle, execlp: C-variadic, so their shells are naked functions that lay the
// register arguments out beside the stack ones and call `execl_common` with both. ----

/// `fork`: the view's state is memory, which the child gets a copy of; a path some other thread
/// was writing at that moment is dropped in the child.
pub unsafe fn fork() -> pid_t {
    let pid = unsafe { real::fork() };
    if pid == 0 {
        after_fork_child();
    }
    pid
}

#[allow(non_snake_case)]
pub unsafe fn _Fork() -> pid_t {
    let pid = unsafe { real::_Fork() };
    if pid == 0 {
        after_fork_child();
    }
    pid
}

/// The child's view state after a `fork`: buffers and slots others held are free, and the cwd
/// is checked against the kernel's before it is next used.
pub(crate) fn after_fork_child() {
    crate::state::after_fork();
    // Complete mode: the child starts unarmed.
    crate::complete::arm_or_die();
    // The parent writes the trace lines it had buffered.
    crate::sys::tracebuf::after_fork();
    pools_after(true);
}

/// `vfork` cannot be wrapped by a function with a frame (the child would return through it and
/// wreck the parent's stack), so its shell makes the system call itself, as glibc's does (the
/// return address kept in a register the kernel restores for each). The child marks where its
/// stack starts ([`sys::VFORK_SP`]: below it, it must not change its parent's view state); the
/// parent, when it resumes, clears the mark and takes back the buffers the child held.
///
/// In complete mode the `syscall` instruction here would be trapped (and a trapped `vfork`
/// becomes a copy of memory): the shell enters libc's own `vfork` after its `pop`, inside the
/// exempt range, with its continuation as the return address, so the child still shares
/// memory; the child arms itself there (it starts unarmed) before it goes on.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn vfork() -> pid_t {
    core::arch::naked_asm!(
        "mov rax, qword ptr [rip + {after_pop}]",
        "test rax, rax",
        "jnz 5f",
        "pop rdi",
        "mov eax, {nr}",
        "syscall",
        "push rdi",
        "cmp rax, -4095",
        "jae 3f",
        "test eax, eax",
        "jnz 2f",
        "mov qword ptr [rip + {child}], rsp",
        "ret",
        "2:",
        "mov edi, eax",
        "jmp {resumed}",
        "3:",
        "neg eax",
        "mov edi, eax",
        "jmp {failed}",
        // Complete mode: libc's vfork, from after its `pop rdi`, returns to 6 (rsi, like rdi,
        // is kept by the kernel for parent and child); errno is already set on failure.
        "5:",
        "pop rsi",
        "lea rdi, [rip + 6f]",
        "jmp rax",
        "6:",
        "push rsi",
        "test eax, eax",
        "js 8f",
        "jnz 2b",
        "mov qword ptr [rip + {child}], rsp",
        // A child that cannot be armed ends (fail closed): its parent sees it exit with 125.
        crate::arm_thread_asm!(),
        "xor eax, eax",
        "ret",
        "8:",
        "ret",
        nr = const libc::SYS_vfork,
        prctl = const libc::SYS_prctl,
        exit_group = const libc::SYS_exit_group,
        child = sym sys::VFORK_SP,
        resumed = sym vfork_resumed,
        failed = sym vfork_failed,
        after_pop = sym sys::sud::VFORK_AFTER_POP,
        lo = sym sys::sud::LO,
        len = sym sys::sud::LEN,
    )
}

/// The `vfork` parent resumed (the child exec'd or exited): the child's mark cleared, its
/// buffers given back; returns the child's pid.
extern "C" fn vfork_resumed(pid: pid_t) -> pid_t {
    crate::sys::pool::release_vfork_child();
    crate::runtime::vfork_parent_resumed();
    pools_after(false);
    sys::VFORK_SP.store(0, std::sync::atomic::Ordering::Relaxed);
    pid
}

/// `vfork` failed: errno, and -1.
extern "C" fn vfork_failed(e: c_int) -> pid_t {
    sys::set_errno(e);
    -1
}

/// libc's `clone()`: in complete mode the child's function is wrapped so that the child is
/// armed before it runs (see `complete::clone`); otherwise libc's, untouched (a child sharing
/// memory shares the view's state; one with a copy has a copy).
pub unsafe fn clone(
    f: *const libc::c_void,
    stack: *mut libc::c_void,
    flags: c_int,
    arg: *mut libc::c_void,
    ptid: *mut pid_t,
    tls: *mut libc::c_void,
    ctid: *mut pid_t,
) -> c_int {
    use crate::complete::clone as cc;
    if !sys::sud::armed() || f.is_null() {
        return unsafe { real::clone(f, stack, flags, arg, ptid, tls, ctid) };
    }
    let slot = cc::park(f as usize, arg as usize);
    let start = cc::clone_start as *const () as *const libc::c_void;
    let r = unsafe { real::clone(start, stack, flags, slot as *mut libc::c_void, ptid, tls, ctid) };
    if r < 0 {
        cc::unpark(slot);
    }
    r
}
