//! The exec and spawn family. glibc's `execv`, `execvp`, `execl*`, `posix_spawn`, `system` and
//! `popen` reach the kernel through internal calls, so each needs its own shell.
//!
//! An exec translates the executable's path, re-asserts the view's variables in the child's
//! environment ([`super::env`]), and reads a `#!` line itself whenever the script or its
//! interpreter lies in a view: the kernel would look the interpreter up on the host and hand it
//! the host path of the script, where the view must give it the virtual one. What a `#!` line
//! and ELF headers say is read by `crate::exec`.

use super::env::Envp;
use super::table::real;
use super::types::*;
use super::{bytes, fail};
use crate::errno::{Errno, Res};
use crate::exec::{self as pure, Elf, HEAD};
use crate::resolver::{self, walk, Call, Route};
use crate::runtime::{self, Runtime};
use crate::state::spawn;
use crate::sys::fs::Kernel;
use crate::sys::pool::{Buf, Pool, Slot, Taken};
use crate::sys::{self, raw, PBuf};

/// Interpreters in a chain of `#!` scripts, as the kernel's limit.
const MAX_INTERP_DEPTH: usize = 4;
/// How much of an executable is read to find its ELF program headers.
const ELF_HEAD: usize = 1024;
/// Argument vectors up to this size are built on the stack.
const INLINE_ARGS: usize = 256;

/// An argument vector under construction, with room in front for interpreters.
struct Args {
    inline: [*const c_char; INLINE_ARGS],
    mapped: *mut *const c_char,
    mapped_len: usize,
    /// Index of argv[0] in the array; items are prepended by moving it down.
    start: usize,
    /// One `#!` line per interpreter level, NUL-terminated where argv points into it.
    heads: [[u8; HEAD + 1]; MAX_INTERP_DEPTH],
}

impl Slot for Args {
    fn reset(&mut self) {
        if !self.mapped.is_null() {
            // SAFETY: mapped by `Args::load` with this length (by an earlier taker, perhaps a
            // `vfork` child that exec'd).
            unsafe { libc::munmap(self.mapped.cast(), self.mapped_len) };
        }
        self.mapped = std::ptr::null_mut();
        self.mapped_len = 0;
        self.start = 0;
    }
}

/// The argument vectors of the execs in flight, off the stack (see `sys::pool`).
static ARGS: Pool<Args, 64, 1> = Pool::new([const { Args::EMPTY }; 64]);

/// The exec family's pools after a `fork` (the child's copy: every slot free) or a `vfork`
/// (the parent resumed: the child's slots free).
pub fn pools_after(fork: bool) {
    if fork {
        ARGS.after_fork();
        super::env::ENVS.after_fork();
    } else {
        ARGS.release_vfork_child();
        super::env::ENVS.release_vfork_child();
    }
}

impl Args {
    const EMPTY: Args = Args { inline: [std::ptr::null(); INLINE_ARGS], mapped: std::ptr::null_mut(), mapped_len: 0, start: 0, heads: [[0; HEAD + 1]; MAX_INTERP_DEPTH] };

    /// An empty vector from the pool (`ENOMEM` when sixty-four execs are in flight).
    fn take() -> Res<Taken<Args>> {
        ARGS.take().ok_or(Errno::ENOMEM)
    }

    fn base(&mut self) -> *mut *const c_char {
        if self.mapped.is_null() {
            self.inline.as_mut_ptr()
        } else {
            self.mapped
        }
    }

    /// Copies `argv` in, leaving room for the interpreters and a loader in front.
    unsafe fn load(&mut self, argv: Argv) -> Res<()> {
        let mut n = 0;
        // SAFETY: argv is a NULL-terminated array (NULL argv counts as empty).
        while !argv.is_null() && unsafe { !(*argv.add(n)).is_null() } {
            n += 1;
        }
        // SAFETY: i < n, within argv.
        self.load_items(n, |i| unsafe { *argv.add(i) })
    }

    /// Copies the `n` arguments `item(0..n)` in (and a NULL after them).
    fn load_items(&mut self, n: usize, item: impl Fn(usize) -> CStrP) -> Res<()> {
        // Each `#!` level puts up to three items in front (interpreter, option, script), and a
        // root's own loader six more.
        let room = 3 * MAX_INTERP_DEPTH + 6 + 1;
        let total = room + n + 1;
        if total > INLINE_ARGS {
            let len = total * std::mem::size_of::<*const c_char>();
            // SAFETY: anonymous private mapping, unmapped when the slot is next reset.
            let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
            if p == libc::MAP_FAILED {
                return Err(Errno::E2BIG);
            }
            self.mapped = p.cast();
            self.mapped_len = len;
        }
        let base = self.base();
        self.start = room;
        for i in 0..=n {
            // SAFETY: room + i < total, inside the array.
            unsafe { *base.add(room + i) = if i == n { std::ptr::null() } else { item(i) } };
        }
        Ok(())
    }

    /// Replaces argv[0] by `items` (the interpreter, its option, the script's path).
    fn splice_front(&mut self, items: &[*const c_char]) {
        let base = self.base();
        // argv[0] goes (unless argv is empty: then the NULL stays); argv[1..] stays where it is.
        // SAFETY: start is within the array.
        let empty = unsafe { (*base.add(self.start)).is_null() };
        let new_start = self.start + usize::from(!empty) - items.len();
        for (i, &it) in items.iter().enumerate() {
            // SAFETY: new_start + i <= start, inside the reserved room.
            unsafe { *base.add(new_start + i) = it };
        }
        self.start = new_start;
    }

    fn first(&mut self) -> Option<*const c_char> {
        let start = self.start;
        // SAFETY: start is within the array.
        let a0 = unsafe { *self.base().add(start) };
        (!a0.is_null()).then_some(a0)
    }

    fn argv(&mut self) -> Argv {
        let start = self.start;
        // SAFETY: start is within the array.
        unsafe { self.base().add(start) as Argv }
    }
}

/// Where an exec really goes: the host path of the program to start and its argv, after the
/// `#!` chain was followed wherever the view must do it.
struct Prepared {
    target: Buf,
    /// The program's own loader, when the view puts a different one at its `PT_INTERP` than
    /// the host has (a root): its host path, its virtual path and the library path.
    loader: Option<(Buf, Buf, Buf)>,
    /// The program's virtual path as the exec named it (the last interpreter, for a script).
    program: Buf,
    /// Why the program will run outside the view (static, setuid), if it will.
    outside: Option<&'static [u8]>,
    /// The caller's path may go to the kernel as it is (neither it nor an interpreter is in a view).
    native: bool,
}

/// `path` for an exec: the host path into `host`, and whether it lies in a view. `probe`: look
/// whether the host path exists, and if not, walk it in the view (a symlink on the way may lead
/// into a mount the kernel does not know); the program itself is looked at by [`read_head`]
/// instead, which opens it anyway.
fn route_exec(rt: &Runtime, path: &[u8], host: &mut PBuf, probe: bool) -> Res<bool> {
    let routed = resolver::route(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), host)?;
    if routed.route == Route::Host {
        if probe && rt.has_mounts && routed.retry && matches!(raw::fstatat(libc::AT_FDCWD, host, 0), Err(Errno::ENOENT)) {
            resolver::retry(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), host)?;
        }
        return Ok(true);
    }
    host.set(path)?;
    if probe && rt.has_mounts && matches!(raw::fstatat(libc::AT_FDCWD, host, 0), Err(Errno::ENOENT)) && resolver::retry(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), host)? {
        return Ok(true);
    }
    host.set(path)?;
    Ok(false)
}

/// The program at `path` (routed into `target`): the first bytes of the file into `head` (how
/// many were read) and its mode. A program the kernel does not find at the host path is walked
/// in the view once (see [`route_exec`]); `in_view` says where it was found.
fn read_head(rt: &Runtime, path: &[u8], target: &mut PBuf, in_view: &mut bool, head: &mut [u8]) -> Res<(usize, libc::mode_t)> {
    let fd = match raw::openat(libc::AT_FDCWD, target, libc::O_RDONLY | libc::O_CLOEXEC) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) if rt.has_mounts => {
            let first = crate::sys::pool::copy_of(target.as_bytes())?;
            if !resolver::retry(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), target)? {
                // The walk leads where the kernel looked: its ENOENT stands.
                target.set(first.as_bytes())?;
                return Ok((0, 0));
            }
            *in_view = true;
            match raw::openat(libc::AT_FDCWD, target, libc::O_RDONLY | libc::O_CLOEXEC) {
                Ok(fd) => fd,
                Err(_) => return Ok((0, 0)),
            }
        }
        // The exec reports it (or runs a program that cannot be read: execute-only).
        Err(_) => return Ok((0, 0)),
    };
    let mode = raw::fstat(fd).map_or(0, |st| st.st_mode);
    let n = raw::read(fd, head).unwrap_or(0);
    raw::close(fd);
    Ok((n, mode))
}

/// The loader the view puts at `interp` (a program's `PT_INTERP`), if the kernel would take
/// another (the host's): with a root, the root's own.
fn own_loader(rt: &Runtime, interp: &[u8]) -> Res<Option<(Buf, Buf, Buf)>> {
    let mut host = crate::sys::pool::take()?;
    // Without a root, a loader's path is the host's unless a mount covers it: no symlink on the
    // host's way to its own loader is worth a look.
    if !route_exec(rt, interp, &mut host, rt.has_root)? {
        return Ok(None);
    }
    let as_host = crate::sys::pool::copy_of(interp)?;
    match (raw::fstatat(libc::AT_FDCWD, &host, 0), raw::fstatat(libc::AT_FDCWD, &as_host, 0)) {
        (Err(_), _) => return Ok(None),
        (Ok(a), Ok(b)) if a.st_dev == b.st_dev && a.st_ino == b.st_ino => return Ok(None),
        _ => {}
    }
    let mut lib_path = crate::sys::pool::take()?;
    root_library_path(rt, &mut lib_path)?;
    Ok(Some((host, crate::sys::pool::copy_of(interp)?, lib_path)))
}

/// Runs the program through its own loader: `LOADER --argv0 ARGV0 --library-path DIRS
/// PROGRAM ARGS…`, as `ld.so` takes it.
fn through_loader(p: &Prepared, args: &mut Args) -> Option<*const c_char> {
    let (host, virt, lib_path) = p.loader.as_ref()?;
    let argv0 = args.first().unwrap_or(virt.as_cptr());
    args.splice_front(&[
        virt.as_cptr(),
        b"--argv0\0".as_ptr().cast(),
        argv0,
        b"--library-path\0".as_ptr().cast(),
        lib_path.as_cptr(),
        p.target.as_cptr(),
    ]);
    Some(host.as_cptr())
}

/// Tells the child its virtual name for `/proc/self/exe`, when the exec went through a view
/// (a native exec's `/proc/self/exe` is right as the kernel has it).
fn name_exe(rt: &Runtime, env: &mut Envp, p: &Prepared) {
    if p.native || p.program.is_empty() {
        return;
    }
    let mut virt = buf!();
    let mut host = buf!();
    if walk::canonicalize(&Kernel, rt, p.program.as_bytes(), libc::AT_FDCWD, &mut virt, &mut host).is_ok() {
        // Started through its own loader, the kernel's /proc/self/exe is that loader.
        env.set_exe(virt.as_bytes(), p.loader.as_ref().map(|(h, _, _)| h.as_bytes()));
    }
}

/// Why an executable would run outside the view: the kernel drops `LD_PRELOAD` for setuid and
/// setgid programs, and a static program (no `PT_INTERP`) has no loader to preload with.
fn leaves_view(mode: libc::mode_t, head: &[u8]) -> Option<&'static [u8]> {
    if mode & (libc::S_ISUID | libc::S_ISGID) != 0 && mode & 0o111 != 0 {
        return Some(b"is setuid or setgid (the kernel drops LD_PRELOAD for it)");
    }
    match pure::elf(head) {
        Elf::Static => Some(b"is statically linked (no dynamic loader to preload into)"),
        _ => None,
    }
}

/// The directories a root's own loader searches, as host paths joined with `:` (those the
/// view has): the program's `LD_LIBRARY_PATH`, then the usual ones (not the root's
/// `ld.so.conf`, which only `ldconfig`'s cache, read from the host's `/etc`, would give).
fn root_library_path(rt: &Runtime, out: &mut PBuf) -> Res<()> {
    const DIRS: [&[u8]; 8] = [
        b"/usr/local/lib/x86_64-linux-gnu",
        b"/usr/local/lib",
        b"/lib/x86_64-linux-gnu",
        b"/usr/lib/x86_64-linux-gnu",
        b"/lib64",
        b"/usr/lib64",
        b"/lib",
        b"/usr/lib",
    ];
    out.clear();
    let mut virt = crate::sys::pool::take()?;
    let mut host = crate::sys::pool::take()?;
    // `--library-path` replaces LD_LIBRARY_PATH for the loader: the program's own comes first,
    // in the view's terms.
    let user = sys::getenv(b"LD_LIBRARY_PATH\0").unwrap_or(b"");
    for d in user.split(|&b| b == b':').filter(|d| d.first() == Some(&b'/')).chain(DIRS) {
        if walk::canonicalize(&Kernel, rt, d, libc::AT_FDCWD, &mut virt, &mut host).is_err() || host.as_bytes().contains(&b':') {
            continue;
        }
        if raw::fstatat(libc::AT_FDCWD, &host, 0).is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR) {
            if !out.is_empty() {
                out.push_byte(b':')?;
            }
            out.push_bytes(host.as_bytes())?;
        }
    }
    Ok(())
}

/// Applies the `--static` policy to a program that would leave the view: `Err(EACCES)` to deny.
fn check_outside(rt: &Runtime, p: &Prepared, shown: &[u8]) -> Res<()> {
    let Some(why) = p.outside else { return Ok(()) };
    match rt.static_policy {
        kmview_api::StaticPolicy::Allow => Ok(()),
        kmview_api::StaticPolicy::Warn => {
            sys::write_stderr(&[b"kmview: warning: ", shown, b" ", why, b": it runs outside the view\n"]);
            Ok(())
        }
        kmview_api::StaticPolicy::Deny => {
            sys::write_stderr(&[b"kmview: ", shown, b" ", why, b": refused (--static=deny)\n"]);
            Err(Errno::EACCES)
        }
    }
}

/// Resolves `path` for exec, following `#!` lines whose script or interpreter is in a view.
///
/// # Safety
/// `path` is a C string; `args` was loaded with the caller's argv.
unsafe fn prepare(rt: &Runtime, path: CStrP, args: &mut Args) -> Res<Prepared> {
    // SAFETY: per the contract.
    let Some(first) = (unsafe { bytes(path) }) else { return Err(Errno::EFAULT) };
    let mut cur_path = path;
    let mut cur = first;
    let mut depth = 0;
    loop {
        let mut target = crate::sys::pool::take()?;
        let mut in_view = route_exec(rt, cur, &mut target, false)?;
        let mut elf = [0u8; ELF_HEAD];
        let (n_elf, mode) = read_head(rt, cur, &mut target, &mut in_view, &mut elf)?;
        let Some(bang) = pure::shebang(&elf[..n_elf.min(HEAD)]) else {
            let outside = leaves_view(mode, &elf[..n_elf]);
            let loader = match pure::elf(&elf[..n_elf]) {
                Elf::Interp(r) if !r.is_empty() => own_loader(rt, &elf[r])?,
                _ => None,
            };
            return Ok(Prepared { native: depth == 0 && !in_view && loader.is_none(), target, outside, program: crate::sys::pool::copy_of(cur)?, loader });
        };
        let interp = &elf[bang.interp.clone()];
        let mut probe = crate::sys::pool::take()?;
        let interp_in_view = resolver::route(&Kernel, rt, interp, &Call::at_cwd(true, Op::Read), &mut probe)?.route == Route::Host;
        if depth == 0 && !in_view && !interp_in_view {
            // The kernel can do it all: the script and its interpreter are where it looks.
            return Ok(Prepared { native: true, target, outside: None, program: crate::sys::pool::take()?, loader: None });
        }
        if depth == MAX_INTERP_DEPTH {
            return Err(Errno::ELOOP);
        }
        // The kernel's checks on the script, which it no longer sees: execute permission on a
        // regular file.
        raw::faccessat(libc::AT_FDCWD, &target, libc::X_OK)?;
        match raw::fstatat(libc::AT_FDCWD, &target, 0) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {}
            Ok(_) => return Err(Errno::EACCES),
            Err(e) => return Err(e),
        }
        // Keep the line where argv can point into it, NUL-terminated.
        let saved = &mut args.heads[depth];
        let line = n_elf.min(HEAD);
        saved[..line].copy_from_slice(&elf[..line]);
        saved[bang.interp.end] = 0;
        let interp_ptr: *const c_char = saved[bang.interp.start..].as_ptr().cast();
        let arg_ptr = bang.arg.clone().map(|a| {
            saved[a.end] = 0;
            saved[a.start..].as_ptr().cast::<c_char>()
        });
        match arg_ptr {
            Some(a) => args.splice_front(&[interp_ptr, a, cur_path]),
            None => args.splice_front(&[interp_ptr, cur_path]),
        }
        cur_path = interp_ptr;
        // SAFETY: interp_ptr is NUL-terminated in args.heads, which outlives this loop.
        cur = unsafe { std::slice::from_raw_parts(interp_ptr.cast::<u8>(), bang.interp.len()) };
        depth += 1;
    }
}

/// `execve` in the view.
unsafe fn exec_in_view(path: CStrP, argv: Argv, envp: Argv) -> c_int {
    let Some(rt) = runtime::get() else { return unsafe { real::execve(path, argv, envp) } };
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
    let Some(name) = (unsafe { bytes(file) }) else { return fail(Errno::EFAULT) };
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
        cand.clear();
        if !dir.is_empty() && (cand.push_bytes(dir).is_err() || cand.push_byte(b'/').is_err()) {
            continue;
        }
        if cand.push_bytes(name).is_err() {
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
    let Ok(mut args) = Args::take() else { return -1 };
    if unsafe { args.load(argv) }.is_err() {
        return -1;
    }
    args.splice_front(&[b"/bin/sh\0".as_ptr().cast(), file]);
    unsafe { exec_in_view(b"/bin/sh\0".as_ptr().cast(), args.argv(), envp) };
    sys::set_errno(libc::ENOEXEC);
    -1
}

pub unsafe fn posix_spawn(pid: *mut pid_t, path: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int {
    let Some(rt) = runtime::get() else { return unsafe { real::posix_spawn(pid, path, actions, attr, argv, envp) } };
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
    let Some(name) = (unsafe { bytes(file) }) else { return libc::EFAULT };
    let Some(rt) = runtime::get() else { return unsafe { real::posix_spawnp(pid, file, actions, attr, argv, envp) } };
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
        cand.clear();
        if !dir.is_empty() && (cand.push_bytes(dir).is_err() || cand.push_byte(b'/').is_err()) {
            continue;
        }
        if cand.push_bytes(name).is_err() {
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
    let Some(rt) = runtime::get() else { return unsafe { real::posix_spawn_file_actions_addopen(actions, fd, path, flags, mode) } };
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
    let Some(p) = (unsafe { bytes(path) }) else { return libc::EINVAL };
    let Some(rt) = runtime::get() else { return unsafe { real::posix_spawn_file_actions_addchdir_np(actions, path) } };
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
    let Some(rt) = runtime::get() else { return unsafe { real::system(command) } };
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

pub unsafe fn popen(command: CStrP, mode: CStrP) -> *mut FILE {
    super::env::repair_environ();
    unsafe { real::popen(command, mode) }
}

// ---- execl, execle, execlp: C-variadic, so their shells are naked functions that lay the
// register arguments out beside the stack ones and call `execl_common` with both. ----

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
            unsafe { if i < 5 { *regs.add(i) } else { *stack.add(i - 5) } }
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
    let Some(p) = (unsafe { bytes(path) }) else { return fail(Errno::EFAULT) };
    if flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        let mut env = match Envp::take() {
            Ok(e) => e,
            Err(e) => return fail(e),
        };
        let envp = unsafe { env.build(envp, None) };
        if envp.is_null() {
            return fail(Errno::ENOMEM);
        }
        let Some(rt) = runtime::get() else { return unsafe { real::execveat(dirfd, path, argv, envp, flags) } };
        let mut host = buf!();
        return match unsafe { super::route(rt, path, &Call { dirfd, follow: false, op: Op::Read, empty: flags & libc::AT_EMPTY_PATH != 0 }, &mut host) } {
            Ok(r) => unsafe { real::execveat(dirfd, r.ptr, argv, envp, flags) },
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

/// `fork`: the view's state is memory, which the child gets a copy of; a path some other thread
/// was writing at that moment is dropped in the child.
pub unsafe fn fork() -> pid_t {
    let pid = unsafe { real::fork() };
    if pid == 0 {
        crate::state::after_fork();
        pools_after(true);
    }
    pid
}

#[allow(non_snake_case)]
pub unsafe fn _Fork() -> pid_t {
    let pid = unsafe { real::_Fork() };
    if pid == 0 {
        crate::state::after_fork();
        pools_after(true);
    }
    pid
}

/// `vfork` cannot be wrapped by a function with a frame (the child would return through it and
/// wreck the parent's stack), so its shell makes the system call itself, as glibc's does (the
/// return address kept in a register the kernel restores for each). The child marks where its
/// stack starts ([`sys::VFORK_SP`]: below it, it must not change its parent's view state); the
/// parent, when it resumes, clears the mark and takes back the buffers the child held.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn vfork() -> pid_t {
    core::arch::naked_asm!(
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
        nr = const libc::SYS_vfork,
        child = sym sys::VFORK_SP,
        resumed = sym vfork_resumed,
        failed = sym vfork_failed,
    )
}

/// The `vfork` parent resumed (the child exec'd or exited): the child's mark cleared, its
/// buffers given back; returns the child's pid.
extern "C" fn vfork_resumed(pid: pid_t) -> pid_t {
    crate::sys::pool::release_vfork_child();
    pools_after(false);
    sys::VFORK_SP.store(0, std::sync::atomic::Ordering::Relaxed);
    pid
}

/// `vfork` failed: errno, and -1.
extern "C" fn vfork_failed(e: c_int) -> pid_t {
    sys::set_errno(e);
    -1
}
