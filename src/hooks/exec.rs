//! The exec and spawn family. glibc's `execv`, `execvp`, `execl*`, `posix_spawn`, `system` and
//! `popen` reach the kernel through internal calls, so each needs its own shell.
//!
//! An exec translates the executable's path, re-asserts the view's variables in the child's
//! environment ([`super::env`]), and reads a `#!` line itself whenever the script or its
//! interpreter lies in a view: the kernel would look the interpreter up on the host and hand it
//! the host path of the script, where the view must give it the virtual one.

use super::env::{process_environ, repair_environ, Envp};
use super::types::*;
use super::Access;
use super::{bytes, fail};
use crate::sys::PBuf;
use crate::stack::{self, Route};
use crate::{real, sys};

/// Interpreters in a chain of `#!` scripts, as the kernel's limit.
const MAX_INTERP_DEPTH: usize = 4;
/// The kernel reads this much of a file for its `#!` line.
const HEAD: usize = 256;
/// How much of an executable is read to find its ELF program headers.
const ELF_HEAD: usize = 1024;
/// Argument vectors up to this size are built on the stack.
const INLINE_ARGS: usize = 512;

/// An argument vector under construction, with room in front for interpreters.
struct Args {
    inline: [*const c_char; INLINE_ARGS],
    mapped: *mut *const c_char,
    mapped_len: usize,
    /// Index of argv[0] in the array; items are prepended by moving it down.
    start: usize,
    /// One `#!` line per interpreter level; the strings argv points into.
    heads: [[u8; HEAD + 1]; MAX_INTERP_DEPTH],
}

impl Drop for Args {
    fn drop(&mut self) {
        if !self.mapped.is_null() {
            // SAFETY: mapped by `Args::load` with this length.
            unsafe { libc::munmap(self.mapped.cast(), self.mapped_len) };
        }
    }
}

impl Args {
    fn new() -> Args {
        Args { inline: [std::ptr::null(); INLINE_ARGS], mapped: std::ptr::null_mut(), mapped_len: 0, start: 0, heads: [[0; HEAD + 1]; MAX_INTERP_DEPTH] }
    }

    fn base(&mut self) -> *mut *const c_char {
        if self.mapped.is_null() {
            self.inline.as_mut_ptr()
        } else {
            self.mapped
        }
    }

    /// Copies `argv` in, leaving room for `2 * MAX_INTERP_DEPTH` items in front.
    unsafe fn load(&mut self, argv: Argv) -> Result<(), c_int> {
        let mut n = 0;
        // SAFETY: argv is a NULL-terminated array (NULL argv counts as empty).
        while !argv.is_null() && unsafe { !(*argv.add(n)).is_null() } {
            n += 1;
        }
        // Each `#!` level puts up to three items in front (interpreter, option, script), and a
        // root's own loader six more.
        let room = 3 * MAX_INTERP_DEPTH + 6 + 1;
        let total = room + n + 1;
        if total > INLINE_ARGS {
            let len = total * std::mem::size_of::<*const c_char>();
            // SAFETY: anonymous private mapping, unmapped in Drop.
            let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
            if p == libc::MAP_FAILED {
                return Err(libc::E2BIG);
            }
            self.mapped = p.cast();
            self.mapped_len = len;
        }
        let base = self.base();
        self.start = room;
        for i in 0..=n {
            // SAFETY: i <= n within argv (argv[n] is the NULL); room + i < total.
            unsafe { *base.add(room + i) = if argv.is_null() { std::ptr::null() } else { *argv.add(i) } };
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

    /// argv[0], if any.
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

/// A `#!` line: the interpreter and its one optional argument, NUL-terminated in place.
struct Shebang {
    interp: *const c_char,
    interp_len: usize,
    arg: Option<*const c_char>,
}

/// Parses the `#!` line in `head[..n]` as the kernel does, writing NULs into `head`.
fn parse_shebang(head: &mut [u8; HEAD + 1], n: usize) -> Option<Shebang> {
    if n < 2 || &head[..2] != b"#!" {
        return None;
    }
    let line_end = memchr::memchr(b'\n', &head[..n]).unwrap_or(n);
    let is_blank = |b: u8| b == b' ' || b == b'\t';
    let mut i = 2;
    while i < line_end && is_blank(head[i]) {
        i += 1;
    }
    let start = i;
    while i < line_end && !is_blank(head[i]) {
        i += 1;
    }
    if i == start {
        return None;
    }
    let interp_end = i;
    while i < line_end && is_blank(head[i]) {
        i += 1;
    }
    let mut arg_end = line_end;
    while arg_end > i && (is_blank(head[arg_end - 1]) || head[arg_end - 1] == b'\r') {
        arg_end -= 1;
    }
    let arg_start = i;
    head[interp_end] = 0;
    let arg = (arg_end > arg_start).then(|| {
        head[arg_end] = 0;
        head[arg_start..].as_ptr().cast()
    });
    Some(Shebang { interp: head[start..].as_ptr().cast(), interp_len: interp_end - start, arg })
}

/// Where an exec really goes: the host path of the program to start and its argv, after the
/// `#!` chain was followed wherever the view must do it.
struct Prepared {
    target: PBuf,
    /// The program's own loader, when the view puts a different one at its `PT_INTERP` than
    /// the host has (a root): (its host path, its virtual path, the library path).
    loader: Option<(PBuf, PBuf, PBuf)>,
    /// The program's virtual path as the exec named it (the last interpreter, for a script).
    program: PBuf,
    /// Why the program will run outside the view (static, setuid), if it will.
    outside: Option<&'static [u8]>,
    /// The caller's path may go to the kernel as it is (neither it nor an interpreter is in a view).
    native: bool,
}

/// The loader the view puts at `interp` (a program's `PT_INTERP`), if the kernel would take
/// another (the host's): with a root, the root's own.
fn own_loader(interp: &[u8]) -> Result<Option<(PBuf, PBuf, PBuf)>, c_int> {
    let mut host = PBuf::new();
    if !matches!(stack::route(interp, true, Access::Read, &mut host)?, Route::Host | Route::Fast) {
        return Ok(None);
    }
    let mut virt = PBuf::new();
    if stack::canonicalize(interp, &mut virt, &mut host).is_err() || sys::host_stat(&host, true).is_err() {
        return Ok(None);
    }
    let as_host = PBuf::from_bytes(interp)?;
    if matches!((sys::host_stat(&host, true), sys::host_stat(&as_host, true)), (Ok(a), Ok(b)) if a.0 == b.0 && a.1 == b.1) {
        return Ok(None);
    }
    let mut lib_path = PBuf::new();
    root_library_path(&mut lib_path)?;
    Ok(Some((host, PBuf::from_bytes(interp)?, lib_path)))
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
fn name_exe(env: &mut Envp, p: &Prepared) {
    if p.native || p.program.is_empty() {
        return;
    }
    let mut virt = PBuf::new();
    let mut host = PBuf::new();
    if stack::canonicalize(p.program.as_bytes(), &mut virt, &mut host).is_ok() {
        // Started through its own loader, the kernel's /proc/self/exe is that loader.
        env.set_exe(virt.as_bytes(), p.loader.as_ref().map(|(h, _, _)| h.as_bytes()));
    }
}

/// Why an executable would run outside the view: the kernel drops `LD_PRELOAD` for setuid and
/// setgid programs, and a static program (no `PT_INTERP`) has no loader to preload with.
fn leaves_view(target: &PBuf, head: &[u8]) -> Option<&'static [u8]> {
    if let Ok((_, _, mode)) = sys::host_stat(target, true) {
        if mode & (libc::S_ISUID | libc::S_ISGID) != 0 && mode & 0o111 != 0 {
            return Some(b"is setuid or setgid (the kernel drops LD_PRELOAD for it)");
        }
    }
    match elf_has_interp(head) {
        Some(false) => Some(b"is statically linked (no dynamic loader to preload into)"),
        _ => None,
    }
}

/// Whether an ELF file's program headers (within `head`) include `PT_INTERP`; `None` if it is
/// not ELF or its headers lie beyond what was read.
fn elf_has_interp(head: &[u8]) -> Option<bool> {
    elf_interp(head).map(|i| i.is_some())
}

/// An ELF program's `PT_INTERP` (its dynamic loader's path, empty if it lies beyond `head`):
/// `Some(None)` for a static program, `None` if `head` is not an ELF program's.
fn elf_interp(head: &[u8]) -> Option<Option<&[u8]>> {
    if head.len() < 64 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let u16_at = |o: usize| u16::from_le_bytes([head[o], head[o + 1]]) as usize;
    let wide = match head[4] {
        2 => true,
        1 => false,
        _ => return None,
    };
    let (phoff, phentsize, phnum) = if wide {
        (u64::from_le_bytes(head[32..40].try_into().ok()?) as usize, u16_at(54), u16_at(56))
    } else {
        (u32::from_le_bytes(head[28..32].try_into().ok()?) as usize, u16_at(42), u16_at(44))
    };
    // ET_REL and core files are not programs.
    if !matches!(u16_at(16), 2 | 3) || phentsize < if wide { 56 } else { 32 } {
        return None;
    }
    let end = phoff.checked_add(phentsize.checked_mul(phnum)?)?;
    if end > head.len() {
        return None;
    }
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if u32::from_le_bytes([head[o], head[o + 1], head[o + 2], head[o + 3]]) != PT_INTERP {
            continue;
        }
        let (off, size) = if wide {
            (u64::from_le_bytes(head[o + 8..o + 16].try_into().ok()?) as usize, u64::from_le_bytes(head[o + 32..o + 40].try_into().ok()?) as usize)
        } else {
            (u32::from_le_bytes(head[o + 4..o + 8].try_into().ok()?) as usize, u32::from_le_bytes(head[o + 16..o + 20].try_into().ok()?) as usize)
        };
        let path = head.get(off..off.checked_add(size)?).unwrap_or(b"");
        let path = path.split(|&b| b == 0).next().unwrap_or(b"");
        return Some(Some(path));
    }
    Some(None)
}

/// The directories a root's own loader searches, as host paths joined with `:` (those the
/// view has): the program's `LD_LIBRARY_PATH`, then the usual ones (not the root's
/// `ld.so.conf`, which only `ldconfig`'s cache, read from the host's `/etc`, would give).
fn root_library_path(out: &mut PBuf) -> Result<(), c_int> {
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
    let mut virt = PBuf::new();
    let mut host = PBuf::new();
    // `--library-path` replaces LD_LIBRARY_PATH for the loader: the program's own comes first,
    // in the view's terms.
    let user = sys::getenv(b"LD_LIBRARY_PATH\0").unwrap_or(b"");
    for d in user.split(|&b| b == b':').filter(|d| d.first() == Some(&b'/')).chain(DIRS) {
        if stack::canonicalize(d, &mut virt, &mut host).is_err() || host.as_bytes().contains(&b':') {
            continue;
        }
        if matches!(sys::host_stat(&host, true), Ok((_, _, m)) if m & libc::S_IFMT == libc::S_IFDIR) {
            if !out.is_empty() {
                out.push_byte(b':')?;
            }
            out.push_bytes(host.as_bytes())?;
        }
    }
    Ok(())
}

/// Applies the `--static` policy to a program that would leave the view: `Err(EACCES)` to deny.
fn check_outside(p: &Prepared, shown: &[u8]) -> Result<(), c_int> {
    let Some(why) = p.outside else { return Ok(()) };
    let Some(rt) = stack::runtime() else { return Ok(()) };
    match rt.static_policy {
        kmview_api::StaticPolicy::Allow => Ok(()),
        kmview_api::StaticPolicy::Warn => {
            sys::write_stderr(&[b"kmview: warning: ", shown, b" ", why, b": it runs outside the view\n"]);
            Ok(())
        }
        kmview_api::StaticPolicy::Deny => {
            sys::write_stderr(&[b"kmview: ", shown, b" ", why, b": refused (--static=deny)\n"]);
            Err(libc::EACCES)
        }
    }
}

/// Resolves `path` for exec, following `#!` lines whose script or interpreter is in a view.
///
/// # Safety
/// `path` is a C string; `args` was loaded with the caller's argv.
unsafe fn prepare(path: CStrP, args: &mut Args) -> Result<Prepared, c_int> {
    // SAFETY: per the contract.
    let Some(first) = (unsafe { bytes(path) }) else { return Err(libc::EFAULT) };
    let mut cur_path = path;
    let mut cur = first;
    let mut depth = 0;
    loop {
        let mut host = PBuf::new();
        let mut route = stack::route(cur, true, Access::Read, &mut host)?;
        if !matches!(route, Route::Host) && stack::runtime().is_some_and(|rt| rt.has_mounts) {
            // A symlink on the way may lead into a mount the kernel does not know; an exec can
            // afford to look (the fast path's host path, or the caller's, must exist).
            let probe = if matches!(route, Route::Fast) { PBuf::from_bytes(host.as_bytes())? } else { PBuf::from_bytes(cur)? };
            if sys::host_stat(&probe, true) == Err(libc::ENOENT) && stack::exact(cur, true, Access::Read, &mut host).unwrap_or(false) {
                route = Route::Host;
            }
        }
        let target = match route {
            Route::Host | Route::Fast => host,
            Route::Native => PBuf::from_bytes(cur)?,
        };
        let in_view = matches!(route, Route::Host | Route::Fast);
        let mut elf = [0u8; ELF_HEAD];
        let n_elf = sys::host_read_head(&target, &mut elf).unwrap_or(0);
        let mut head = [0u8; HEAD + 1];
        let n = n_elf.min(HEAD);
        head[..n].copy_from_slice(&elf[..n]);
        let Some(bang) = parse_shebang(&mut head, n) else {
            let outside = leaves_view(&target, &elf[..n_elf]);
            let loader = match elf_interp(&elf[..n_elf]) {
                Some(Some(interp)) if !interp.is_empty() => own_loader(interp)?,
                _ => None,
            };
            return Ok(Prepared { native: depth == 0 && !in_view && loader.is_none(), target, outside, program: PBuf::from_bytes(cur)?, loader });
        };
        // SAFETY: interp points into `head`, NUL-terminated there.
        let interp = unsafe { std::slice::from_raw_parts(bang.interp.cast::<u8>(), bang.interp_len) };
        let mut probe = PBuf::new();
        let interp_in_view = matches!(stack::route(interp, true, Access::Read, &mut probe)?, Route::Host | Route::Fast);
        if depth == 0 && !in_view && !interp_in_view {
            // The kernel can do it all: the script and its interpreter are where it looks.
            return Ok(Prepared { native: true, target, outside: None, program: PBuf::new(), loader: None });
        }
        if depth == MAX_INTERP_DEPTH {
            return Err(libc::ELOOP);
        }
        // The kernel's checks on the script, which it no longer sees: execute permission on a
        // regular file.
        // SAFETY: target is NUL-terminated.
        if unsafe { real::access(target.as_cptr(), libc::X_OK) } != 0 {
            return Err(sys::errno());
        }
        match sys::host_stat(&target, true) {
            Ok((_, _, mode)) if mode & libc::S_IFMT == libc::S_IFREG => {}
            Ok(_) => return Err(libc::EACCES),
            Err(e) => return Err(e),
        }
        args.heads[depth] = head;
        let saved = &mut args.heads[depth];
        // Re-point the parsed strings at the copy that lives as long as `args`.
        let off_i = bang.interp as usize - head.as_ptr() as usize;
        let interp_ptr: *const c_char = saved[off_i..].as_ptr().cast();
        let arg_ptr = bang.arg.map(|a| saved[a as usize - head.as_ptr() as usize..].as_ptr().cast::<c_char>());
        match arg_ptr {
            Some(a) => args.splice_front(&[interp_ptr, a, cur_path]),
            None => args.splice_front(&[interp_ptr, cur_path]),
        }
        cur_path = interp_ptr;
        // SAFETY: interp_ptr is NUL-terminated in args.heads, which outlives this loop.
        cur = unsafe { std::slice::from_raw_parts(interp_ptr.cast::<u8>(), bang.interp_len) };
        depth += 1;
    }
}

/// `execve` in the view, with `envp` already built when `built` says so.
unsafe fn exec_in_view(path: CStrP, argv: Argv, envp: Argv) -> c_int {
    if stack::runtime().is_none() {
        return unsafe { real::execve(path, argv, envp) };
    }
    let mut args = Args::new();
    if let Err(e) = unsafe { args.load(argv) } {
        return fail(e);
    }
    let p = match unsafe { prepare(path, &mut args) } {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut env = Envp::new();
    name_exe(&mut env, &p);
    // SAFETY: the caller's envp.
    let envp = unsafe { env.build(envp) };
    if envp.is_null() {
        return fail(libc::ENOMEM);
    }
    if let Err(e) = check_outside(&p, unsafe { bytes(path) }.unwrap_or(b"")) {
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
    unsafe { exec_in_view(path, argv, process_environ()) }
}

pub unsafe fn execvp(file: CStrP, argv: Argv) -> c_int {
    unsafe { execvpe(file, argv, process_environ()) }
}

/// `execvpe` as glibc does it, with each candidate going through the view: `$PATH` (default
/// `/bin:/usr/bin`) searched in order, `EACCES` remembered, a file the kernel cannot run
/// (`ENOEXEC`) handed to `/bin/sh`.
pub unsafe fn execvpe(file: CStrP, argv: Argv, envp: Argv) -> c_int {
    let Some(name) = (unsafe { bytes(file) }) else { return fail(libc::EFAULT) };
    if name.is_empty() {
        return fail(libc::ENOENT);
    }
    if name.contains(&b'/') {
        unsafe { exec_in_view(file, argv, envp) };
        return unsafe { sh_fallback(file, argv, envp) };
    }
    let path_var: &[u8] = sys::getenv(b"PATH\0").unwrap_or(b"/bin:/usr/bin");
    let mut got_eacces = false;
    let mut cand = PBuf::new();
    for dir in path_var.split(|&b| b == b':') {
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
    let mut args = Args::new();
    if unsafe { args.load(argv) }.is_err() {
        return -1;
    }
    args.splice_front(&[b"/bin/sh\0".as_ptr().cast(), file]);
    unsafe { exec_in_view(b"/bin/sh\0".as_ptr().cast(), args.argv(), envp) };
    sys::set_errno(libc::ENOEXEC);
    -1
}

pub unsafe fn posix_spawn(pid: *mut pid_t, path: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int {
    if stack::runtime().is_none() {
        return unsafe { real::posix_spawn(pid, path, actions, attr, argv, envp) };
    }
    let mut args = Args::new();
    if let Err(e) = unsafe { args.load(argv) } {
        return e;
    }
    let p = match unsafe { prepare(path, &mut args) } {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut env = Envp::new();
    name_exe(&mut env, &p);
    let mut child_cwd = PBuf::new();
    let in_dir = spawn_cwd::get(actions as usize, &mut child_cwd);
    let envp = unsafe { env.build_in(envp, in_dir.then_some(child_cwd.as_bytes())) };
    if envp.is_null() {
        return libc::ENOMEM;
    }
    if let Err(e) = check_outside(&p, unsafe { bytes(path) }.unwrap_or(b"")) {
        return e;
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
    if stack::runtime().is_none() {
        return unsafe { real::posix_spawnp(pid, file, actions, attr, argv, envp) };
    }
    if name.contains(&b'/') {
        return unsafe { posix_spawn(pid, file, actions, attr, argv, envp) };
    }
    if name.is_empty() {
        return libc::ENOENT;
    }
    let path_var: &[u8] = sys::getenv(b"PATH\0").unwrap_or(b"/bin:/usr/bin");
    let mut result = libc::ENOENT;
    let mut cand = PBuf::new();
    for dir in path_var.split(|&b| b == b':') {
        cand.clear();
        if !dir.is_empty() && (cand.push_bytes(dir).is_err() || cand.push_byte(b'/').is_err()) {
            continue;
        }
        if cand.push_bytes(name).is_err() {
            continue;
        }
        let mut host = PBuf::new();
        let Ok(route) = stack::route(cand.as_bytes(), true, Access::Read, &mut host) else { continue };
        let probe = match route {
            Route::Host | Route::Fast => host,
            Route::Native => PBuf::from_bytes(cand.as_bytes()).unwrap_or_default(),
        };
        match sys::host_stat(&probe, true) {
            Ok((_, _, mode)) if mode & libc::S_IFMT == libc::S_IFREG => {
                // SAFETY: probe is NUL-terminated.
                if unsafe { real::access(probe.as_cptr(), libc::X_OK) } == 0 {
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
    let mut host = PBuf::new();
    match unsafe { super::route_ptr(path, flags & libc::O_NOFOLLOW == 0, Access::Read, &mut host) } {
        Ok(p) => unsafe { real::posix_spawn_file_actions_addopen(actions, fd, p, flags, mode) },
        Err(e) => e,
    }
}

/// A chdir action: translated now, and its virtual directory remembered for the child's
/// `KMVIEW_CWD` (the child's cwd is then not this process's).
pub unsafe fn posix_spawn_file_actions_addchdir_np(actions: *mut SpawnActions, path: CStrP) -> c_int {
    let Some(p) = (unsafe { bytes(path) }) else { return libc::EINVAL };
    if stack::runtime().is_none() {
        return unsafe { real::posix_spawn_file_actions_addchdir_np(actions, path) };
    }
    let mut virt = PBuf::new();
    let mut host = PBuf::new();
    if stack::canonicalize(p, &mut virt, &mut host).is_err() {
        // Let the child meet the error where the kernel would.
        return unsafe { real::posix_spawn_file_actions_addchdir_np(actions, path) };
    }
    let r = unsafe { real::posix_spawn_file_actions_addchdir_np(actions, host.as_cptr()) };
    if r == 0 {
        spawn_cwd::set(actions as usize, virt.as_bytes());
    }
    r
}

pub unsafe fn posix_spawn_file_actions_destroy(actions: *mut SpawnActions) -> c_int {
    spawn_cwd::forget(actions as usize);
    unsafe { real::posix_spawn_file_actions_destroy(actions) }
}

/// The virtual directory of the last chdir action of each live file-actions object.
mod spawn_cwd {
    use crate::seqpath::SeqPath;
    use crate::sys::PBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const N: usize = 16;
    static OWNER: [AtomicUsize; N] = [const { AtomicUsize::new(0) }; N];
    static DIR: [SeqPath; N] = [const { SeqPath::new() }; N];

    pub fn set(actions: usize, virt: &[u8]) {
        let i = OWNER.iter().position(|o| o.load(Ordering::Acquire) == actions).or_else(|| {
            OWNER.iter().position(|o| o.compare_exchange(0, actions, Ordering::AcqRel, Ordering::Relaxed).is_ok())
        });
        if let Some(i) = i {
            DIR[i].store(virt);
        }
    }

    pub fn get(actions: usize, out: &mut PBuf) -> bool {
        actions != 0
            && OWNER.iter().position(|o| o.load(Ordering::Acquire) == actions).is_some_and(|i| DIR[i].load(out).unwrap_or(false))
    }

    pub fn forget(actions: usize) {
        if let Some(o) = OWNER.iter().find(|o| o.load(Ordering::Acquire) == actions) {
            o.store(0, Ordering::Release);
        }
    }
}

/// `system` in the view: glibc starts `/bin/sh` with its own internal spawn, which would take
/// the host's shell (under a root, the wrong one), so the shell is started here, through
/// [`posix_spawn`], with glibc's signal handling: SIGINT and SIGQUIT ignored and SIGCHLD blocked
/// while waiting, their defaults and the caller's mask in the child.
pub unsafe fn system(command: CStrP) -> c_int {
    if stack::runtime().is_none() {
        return unsafe { real::system(command) };
    }
    if command.is_null() {
        // "Is a shell available?" — the view's.
        let mut host = PBuf::new();
        let sh = match stack::route(b"/bin/sh", true, Access::Read, &mut host) {
            Ok(Route::Native) => PBuf::from_bytes(b"/bin/sh").unwrap_or_default(),
            Ok(_) => host,
            Err(_) => return 0,
        };
        return (unsafe { real::access(sh.as_cptr(), libc::X_OK) } == 0) as c_int;
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
        let err = posix_spawn(&mut pid, b"/bin/sh\0".as_ptr().cast(), std::ptr::null(), &attr, argv.as_ptr(), process_environ());
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
    repair_environ();
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
    crate::hooks::guard("execl", || {
        let item = |i: usize| -> CStrP {
            // SAFETY: the caller passed at least i + 1 variadic items (the list is NULL-terminated
            // and we stop at the NULL, or one past it for execle's envp).
            unsafe { if i < 5 { *regs.add(i) } else { *stack.add(i - 5) } }
        };
        let mut n = 0;
        while !item(n).is_null() {
            n += 1;
        }
        let envp = if kind == KIND_EXECLE { item(n + 1) as Argv } else { process_environ() };
        let mut args = Args::new();
        let mut flat: [CStrP; INLINE_ARGS] = [std::ptr::null(); INLINE_ARGS];
        if n + 1 > INLINE_ARGS {
            return fail(libc::E2BIG);
        }
        for (i, slot) in flat.iter_mut().enumerate().take(n) {
            *slot = item(i);
        }
        if unsafe { args.load(flat.as_ptr()) }.is_err() {
            return fail(libc::E2BIG);
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
/// kernel resolves `/dev/fd/N` itself), so a `#!` interpreter in the view is found, and the
/// script gets the same name the kernel would give it.
fn fd_program(fd: c_int, rel: &[u8], out: &mut PBuf) -> Result<(), c_int> {
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
        return fail(libc::EBADF);
    }
    let mut name = PBuf::new();
    if let Err(e) = fd_program(fd, b"", &mut name) {
        return fail(e);
    }
    unsafe { exec_in_view(name.as_cptr(), argv, envp) }
}

/// `execveat`: an absolute path, or one from the working directory, is an `execve` in the view;
/// a path from a directory descriptor is that descriptor's `/dev/fd/N/PATH`, or the view's
/// path for a descriptor the table names; `AT_SYMLINK_NOFOLLOW` leaves it to the kernel.
pub unsafe fn execveat(dirfd: c_int, path: CStrP, argv: Argv, envp: Argv, flags: c_int) -> c_int {
    let Some(p) = (unsafe { bytes(path) }) else { return fail(libc::EFAULT) };
    if flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        let mut env = Envp::new();
        let envp = unsafe { env.build(envp) };
        if envp.is_null() {
            return fail(libc::ENOMEM);
        }
        let mut host = PBuf::new();
        return match unsafe { super::route_at(dirfd, path, false, Access::Read, &mut host) } {
            Ok(q) => unsafe { real::execveat(dirfd, q, argv, envp, flags) },
            Err(e) => fail(e),
        };
    }
    if p.first() == Some(&b'/') || (dirfd == libc::AT_FDCWD && !p.is_empty()) {
        return unsafe { exec_in_view(path, argv, envp) };
    }
    if p.is_empty() && flags & libc::AT_EMPTY_PATH == 0 {
        return fail(libc::ENOENT);
    }
    let mut name = PBuf::new();
    let mut abs = PBuf::new();
    if !p.is_empty() && stack::at_path(dirfd, p, &mut abs).is_some() {
        return unsafe { exec_in_view(abs.as_cptr(), argv, envp) };
    }
    if let Err(e) = fd_program(dirfd, p, &mut name) {
        return fail(e);
    }
    unsafe { exec_in_view(name.as_cptr(), argv, envp) }
}

/// `fork`: the view's state is memory, which the child gets a copy of, and owns.
pub unsafe fn fork() -> pid_t {
    let pid = unsafe { real::fork() };
    if pid == 0 {
        sys::claim_memory();
    }
    pid
}

#[allow(non_snake_case)]
pub unsafe fn _Fork() -> pid_t {
    let pid = unsafe { real::_Fork() };
    if pid == 0 {
        sys::claim_memory();
    }
    pid
}

/// `clone` passes through: a child sharing memory shares the view's state, one with a copy
/// has a copy. Declared with every argument glibc's may read.
pub unsafe fn clone(
    f: *const libc::c_void,
    stack: *mut libc::c_void,
    flags: c_int,
    arg: *mut libc::c_void,
    ptid: *mut pid_t,
    tls: *mut libc::c_void,
    ctid: *mut pid_t,
) -> c_int {
    unsafe { real::clone(f, stack, flags, arg, ptid, tls, ctid) }
}

/// libc's `vfork`, resolved by the constructor.
pub static REAL_VFORK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn resolve_vfork() {
    if let Some(a) = sys::dlsym_next("vfork\0") {
        REAL_VFORK.store(a, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Without libc's vfork (never seen), a fork does: vfork's contract is the weaker one.
extern "C" fn vfork_fallback() -> pid_t {
    // SAFETY: fork has no preconditions.
    unsafe { real::fork() }
}

/// `vfork` cannot be wrapped by a function with a frame (the child would return through it and
/// wreck the parent's stack), so its shell is a bare jump to libc's.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn vfork() -> pid_t {
    core::arch::naked_asm!(
        "mov rax, qword ptr [rip + {real}]",
        "test rax, rax",
        "jz 2f",
        "jmp rax",
        "2:",
        "jmp {fallback}",
        real = sym REAL_VFORK,
        fallback = sym vfork_fallback,
    )
}
