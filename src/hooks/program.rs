//! What an exec runs, worked out in the view: the program's host path, the `#!` chain followed
//! wherever the script or its interpreter lies in a view (the kernel would look the interpreter
//! up on the host and hand it the host path of the script, where the view must give it the
//! virtual one), a root's own dynamic loader, the argument vector with room in front for them,
//! and the `--static` policy for a program that would leave the view. The exec and spawn shells
//! (`exec.rs`, `spawn.rs`) share it; what a `#!` line and ELF headers say is read by
//! `crate::exec`.
#![allow(unsafe_code)]

use super::env::Envp;
use super::types::*;
use super::{bytes, shorten, Short};
use crate::errno::{Errno, Res};
use crate::exec::{self as pure, Elf, HEAD};
use crate::resolver::kernel::Kernel;
use crate::resolver::{self, walk, Call, Route};
use crate::runtime::Runtime;
use crate::sys::pool::{Buf, Pool, Slot, Taken};
use crate::sys::{self, raw, PBuf};
use libc::c_char;

/// Interpreters in a chain of `#!` scripts, as the kernel's limit.
pub const MAX_INTERP_DEPTH: usize = 4;
/// How much of an executable is read to find its ELF program headers.
const ELF_HEAD: usize = 1024;
/// Argument vectors up to this size are built on the stack.
const INLINE_ARGS: usize = 256;

/// An argument vector under construction, with room in front for interpreters.
pub struct Args {
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
    const EMPTY: Args = Args {
        inline: [std::ptr::null(); INLINE_ARGS],
        mapped: std::ptr::null_mut(),
        mapped_len: 0,
        start: 0,
        heads: [[0; HEAD + 1]; MAX_INTERP_DEPTH],
    };

    /// An empty vector from the pool (`ENOMEM` when sixty-four execs are in flight).
    pub fn take() -> Res<Taken<Args>> {
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
    pub unsafe fn load(&mut self, argv: Argv) -> Res<()> {
        let mut n = 0;
        // SAFETY: argv is a NULL-terminated array (NULL argv counts as empty).
        while !argv.is_null() && unsafe { !(*argv.add(n)).is_null() } {
            n += 1;
        }
        // SAFETY: i < n, within argv.
        self.load_items(n, |i| unsafe { *argv.add(i) })
    }

    /// Copies the `n` arguments `item(0..n)` in (and a NULL after them).
    pub fn load_items(&mut self, n: usize, item: impl Fn(usize) -> CStrP) -> Res<()> {
        // Each `#!` level puts up to three items in front (interpreter, option, script), and a
        // root's own loader six more.
        let room = 3 * MAX_INTERP_DEPTH + 6 + 1;
        let total = room + n + 1;
        if total > INLINE_ARGS {
            let len = total * std::mem::size_of::<*const c_char>();
            // SAFETY: anonymous private mapping, unmapped when the slot is next reset.
            let p =
                unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
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
    pub fn splice_front(&mut self, items: &[*const c_char]) {
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

    pub fn first(&mut self) -> Option<*const c_char> {
        let start = self.start;
        // SAFETY: start is within the array.
        let a0 = unsafe { *self.base().add(start) };
        (!a0.is_null()).then_some(a0)
    }

    pub fn argv(&mut self) -> Argv {
        let start = self.start;
        // SAFETY: start is within the array.
        unsafe { self.base().add(start) as Argv }
    }
}

/// Where an exec really goes: the host path of the program to start and its argv, after the
/// `#!` chain was followed wherever the view must do it.
pub struct Prepared {
    pub target: Buf,
    /// The program's own loader, when the view puts a different one at its `PT_INTERP` than
    /// the host has (a root): its host path, its virtual path and the library path.
    pub loader: Option<(Buf, Buf, Buf)>,
    /// The program's virtual path as the exec named it (the last interpreter, for a script).
    pub program: Buf,
    /// Why the program will run outside the view (static, setuid, 32-bit), if it will.
    pub outside: Option<&'static [u8]>,
    /// The library cannot be preloaded into it (32-bit, another machine): the child's
    /// environment goes without `LD_PRELOAD`, so that its loader has nothing to complain of.
    pub foreign: bool,
    /// The caller's path may go to the kernel as it is (neither it nor an interpreter is in a view).
    pub native: bool,
    /// The descriptor `target` goes through when the host path is too long for the kernel
    /// (`/proc/self/fd/N/NAME`): held until the exec.
    pub held: Short,
}

/// `path` for an exec: the host path into `host`, and whether it lies in a view. `probe`: look
/// whether the host path exists, and if not, walk it in the view (a symlink on the way may lead
/// into a mount the kernel does not know); the program itself is looked at by [`read_head`]
/// instead, which opens it anyway.
pub fn route_exec(rt: &Runtime, path: &[u8], host: &mut PBuf, probe: bool) -> Res<bool> {
    let routed = resolver::route(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), host)?;
    if routed.route == Route::Host {
        if probe && rt.has_mounts && routed.retry && matches!(raw::fstatat(libc::AT_FDCWD, host, 0), Err(Errno::ENOENT)) {
            resolver::retry(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), host)?;
        }
        return Ok(true);
    }
    host.set(path)?;
    if probe
        && rt.has_mounts
        && matches!(raw::fstatat(libc::AT_FDCWD, host, 0), Err(Errno::ENOENT))
        && resolver::retry(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), host)?
    {
        return Ok(true);
    }
    host.set(path)?;
    Ok(false)
}

/// The program at `path` (routed into `target`): the first bytes of the file into `head` (how
/// many were read) and what `fstat` says of it. A program the kernel does not find at the host path is walked
/// in the view once (see [`route_exec`]); `in_view` says where it was found.
fn read_head(rt: &Runtime, path: &[u8], target: &mut PBuf, in_view: &mut bool, head: &mut [u8]) -> Res<(usize, Option<libc::stat>)> {
    let fd = match raw::openat(libc::AT_FDCWD, target, libc::O_RDONLY | libc::O_CLOEXEC) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) if rt.has_mounts => {
            let first = crate::sys::pool::copy_of(target.as_bytes())?;
            if !resolver::retry(&Kernel, rt, path, &Call::at_cwd(true, Op::Read), target)? {
                // The walk leads where the kernel looked: its ENOENT stands.
                target.set(first.as_bytes())?;
                return Ok((0, None));
            }
            *in_view = true;
            match raw::openat(libc::AT_FDCWD, target, libc::O_RDONLY | libc::O_CLOEXEC) {
                Ok(fd) => fd,
                Err(_) => return Ok((0, None)),
            }
        }
        // The exec reports it (or runs a program that cannot be read: execute-only).
        Err(_) => return Ok((0, None)),
    };
    let st = raw::fstat(fd).ok();
    let n = raw::read(fd, head).unwrap_or(0);
    raw::close(fd);
    Ok((n, st))
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
pub fn through_loader(p: &Prepared, args: &mut Args) -> Option<*const c_char> {
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
pub fn name_exe(rt: &Runtime, env: &mut Envp, p: &Prepared) {
    env.no_preload = p.foreign;
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

/// Why an executable would run outside the view: the kernel drops `LD_PRELOAD` for a program
/// that changes its identity when it starts (setuid or setgid to another user or group than the
/// caller's: running as root, a setuid-root program keeps it), and a static program (no
/// `PT_INTERP`) has no loader to preload with — unless it is a dynamic loader run directly
/// (`ld.so PROGRAM`, as `ldd` does), which loads the preload itself.
fn leaves_view(target: &PBuf, st: Option<&libc::stat>, head: &[u8]) -> Option<&'static [u8]> {
    if let Some(st) = st {
        // SAFETY: getuid and getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let changes_user = st.st_mode & libc::S_ISUID != 0 && st.st_uid != uid;
        let changes_group = st.st_mode & libc::S_ISGID != 0 && st.st_gid != gid;
        if st.st_mode & 0o111 != 0 && (changes_user || changes_group) {
            return Some(b"is setuid or setgid (the kernel drops LD_PRELOAD for it)");
        }
    }
    if let Some(why) = pure::foreign(head) {
        return Some(why);
    }
    match pure::elf(head) {
        Elf::Static if !is_dynamic_loader(target, st) => Some(b"is statically linked (no dynamic loader to preload into)"),
        _ => None,
    }
}

/// Whether the program at `target` is a dynamic loader: this process's own (the same file), or
/// one named as loaders are (`ld-linux-x86-64.so.2`, `ld-2.36.so`, `ld.so`).
fn is_dynamic_loader(target: &PBuf, st: Option<&libc::stat>) -> bool {
    let name = crate::path::base_name(target.as_bytes());
    if name.starts_with(b"ld-linux") || (name.starts_with(b"ld-") && name.ends_with(b".so")) || name == b"ld.so" {
        return true;
    }
    let (Some(st), Some(own)) = (st, crate::sys::symbols::loader_path()) else { return false };
    crate::sys::pool::copy_of(own).is_ok_and(|p| raw::fstatat(libc::AT_FDCWD, &p, 0).is_ok_and(|o| o.st_dev == st.st_dev && o.st_ino == st.st_ino))
}

/// The directories a root's own loader searches, as host paths joined with `:` (those the
/// view has): the program's `LD_LIBRARY_PATH`, the root's `ld.so.conf` (its loader would read
/// `ldconfig`'s cache of it from the host's `/etc`), then the usual ones.
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
    let mut add = |d: &[u8], out: &mut PBuf| -> Res<()> {
        if d.first() != Some(&b'/')
            || walk::canonicalize(&Kernel, rt, d, libc::AT_FDCWD, &mut virt, &mut host).is_err()
            || host.as_bytes().contains(&b':')
        {
            return Ok(());
        }
        if raw::fstatat(libc::AT_FDCWD, &host, 0).is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR) {
            if !out.is_empty() {
                out.push_byte(b':')?;
            }
            out.push_bytes(host.as_bytes())?;
        }
        Ok(())
    };
    // `--library-path` replaces LD_LIBRARY_PATH for the loader: the program's own comes first,
    // in the view's terms; then the root's `ld.so.conf` (what `ldconfig` would have put in its
    // cache), then the usual directories.
    let user = sys::getenv(b"LD_LIBRARY_PATH\0").unwrap_or(b"");
    for d in user.split(|&b| b == b':') {
        add(d, out)?;
    }
    let mut conf = crate::sys::pool::take()?;
    ld_so_conf(rt, b"/etc/ld.so.conf", &mut conf, 0, &mut |d| add(d, out))?;
    for d in DIRS {
        add(d, out)?;
    }
    Ok(())
}

/// The directories a root's `ld.so.conf` at `path` names, in order, to `each`: one per line
/// (`#` comments, blank lines skipped), and the files an `include DIR/*.conf` line names, read
/// the same way (in name order, as `ldconfig` globs them; two levels at most).
fn ld_so_conf(rt: &Runtime, path: &[u8], buf: &mut PBuf, depth: u32, each: &mut dyn FnMut(&[u8]) -> Res<()>) -> Res<()> {
    let mut host = crate::sys::pool::take()?;
    let mut virt = crate::sys::pool::take()?;
    if depth > 2 || walk::canonicalize(&Kernel, rt, path, libc::AT_FDCWD, &mut virt, &mut host).is_err() {
        return Ok(());
    }
    let Ok(fd) = raw::openat(libc::AT_FDCWD, &host, libc::O_RDONLY | libc::O_CLOEXEC) else { return Ok(()) };
    let text = buf.all_mut();
    let n = raw::read(fd, &mut text[..crate::sys::CAP - 1]).unwrap_or(0);
    raw::close(fd);
    let mut name = crate::sys::pool::take()?;
    for line in text[..n].split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or(b"").trim_ascii();
        if let Some(pattern) = line.strip_prefix(b"include").map(<[u8]>::trim_ascii).filter(|_| line.len() > 7 && line[7].is_ascii_whitespace()) {
            // `DIR/PREFIX*SUFFIX`: the files of DIR that match, in name order.
            let (dir, glob) = pattern.split_at(pattern.iter().rposition(|&b| b == b'/').unwrap_or(0));
            let glob = glob.strip_prefix(b"/").unwrap_or(glob);
            let Some(star) = glob.iter().position(|&b| b == b'*') else {
                let mut sub = crate::sys::pool::take()?;
                ld_so_conf(rt, pattern, &mut sub, depth + 1, each)?;
                continue;
            };
            let (prefix, suffix) = (&glob[..star], &glob[star + 1..]);
            // The smallest name after the last one read, until none: name order without a
            // list to sort.
            let mut prev = crate::sys::pool::take()?;
            let mut first = true;
            while next_name(rt, dir, prefix, suffix, (!first).then_some(prev.as_bytes()), &mut name)? {
                first = false;
                let mut file = crate::sys::pool::copy_of(dir)?;
                file.push_byte(b'/')?;
                file.push_bytes(name.as_bytes())?;
                let mut sub = crate::sys::pool::take()?;
                ld_so_conf(rt, file.as_bytes(), &mut sub, depth + 1, each)?;
                prev.set(name.as_bytes())?;
            }
        } else if !line.is_empty() {
            each(line)?;
        }
    }
    Ok(())
}

/// Applies the `--static` policy to a program that would leave the view: `Err(EACCES)` to deny.
pub fn check_outside(rt: &Runtime, p: &Prepared, shown: &[u8]) -> Res<()> {
    let Some(why) = p.outside else { return Ok(()) };
    match rt.static_policy {
        kmview_api::StaticPolicy::Allow => Ok(()),
        kmview_api::StaticPolicy::Warn => {
            sys::write_stderr(&[b"kmview: warning: ", shown, b" ", why, b": it runs outside the view\n"]);
            Ok(())
        }
        kmview_api::StaticPolicy::Deny => {
            let how: &[u8] = if rt.complete.is_some() {
                b": refused (--complete cannot follow it; --static=allow runs it outside the view)\n"
            } else {
                b": refused (--static=deny)\n"
            };
            sys::write_stderr(&[b"kmview: ", shown, b" ", why, how]);
            Err(Errno::EACCES)
        }
    }
}

/// Resolves `path` for exec, following `#!` lines whose script or interpreter is in a view.
///
/// # Safety
/// `path` is a C string; `args` was loaded with the caller's argv.
pub unsafe fn prepare(rt: &Runtime, path: CStrP, args: &mut Args) -> Res<Prepared> {
    // SAFETY: per the contract.
    let Some(first) = (unsafe { bytes(path) }) else {
        return Err(Errno::EFAULT);
    };
    let mut cur_path = path;
    let mut cur = first;
    let mut depth = 0;
    loop {
        let mut target = crate::sys::pool::take()?;
        let mut in_view = route_exec(rt, cur, &mut target, false)?;
        // A host path too long for the kernel behind a view path that is not: through a
        // descriptor on its directory.
        let held = if in_view { shorten(rt.proc_is_host, &mut target)? } else { Short(None) };
        let mut elf = [0u8; ELF_HEAD];
        let (n_elf, st) = read_head(rt, cur, &mut target, &mut in_view, &mut elf)?;
        let Some(bang) = pure::shebang(&elf[..n_elf.min(HEAD)]) else {
            let outside = leaves_view(&target, st.as_ref(), &elf[..n_elf]);
            let loader = match pure::elf(&elf[..n_elf]) {
                Elf::Interp(r) if !r.is_empty() => own_loader(rt, &elf[r])?,
                _ => None,
            };
            // A root's own loader opens the program after the exec has closed the descriptor.
            if loader.is_some() && held.0.is_some() {
                return Err(Errno::ENAMETOOLONG);
            }
            return Ok(Prepared {
                native: depth == 0 && !in_view && loader.is_none(),
                target,
                outside,
                foreign: pure::foreign(&elf[..n_elf]).is_some(),
                program: crate::sys::pool::copy_of(cur)?,
                loader,
                held,
            });
        };
        let interp = &elf[bang.interp.clone()];
        let mut probe = crate::sys::pool::take()?;
        let interp_in_view = resolver::route(&Kernel, rt, interp, &Call::at_cwd(true, Op::Read), &mut probe)?.route == Route::Host;
        if depth == 0 && !in_view && !interp_in_view {
            // The kernel can do it all: the script and its interpreter are where it looks.
            return Ok(Prepared { native: true, target, outside: None, foreign: false, program: crate::sys::pool::take()?, loader: None, held });
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

/// `DIR/NAME` (or `NAME` for an empty `DIR`: the current directory) into `out`: one candidate
/// of a `$PATH` search; false if it does not fit.
pub fn candidate(out: &mut PBuf, dir: &[u8], name: &[u8]) -> bool {
    out.clear();
    (dir.is_empty() || (out.push_bytes(dir).is_ok() && out.push_byte(b'/').is_ok())) && out.push_bytes(name).is_ok()
}

/// Into `out`, the smallest name in the directory `dir` (of the view) that starts with
/// `prefix`, ends with `suffix` and sorts after `after`; false if there is none.
fn next_name(rt: &Runtime, dir: &[u8], prefix: &[u8], suffix: &[u8], after: Option<&[u8]>, out: &mut PBuf) -> Res<bool> {
    let (mut virt, mut host) = (crate::sys::pool::take()?, crate::sys::pool::take()?);
    if walk::canonicalize(&Kernel, rt, dir, libc::AT_FDCWD, &mut virt, &mut host).is_err() {
        return Ok(false);
    }
    let Ok(fd) = raw::openat(libc::AT_FDCWD, &host, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) else { return Ok(false) };
    let mut found = false;
    let mut block = crate::sys::pool::take()?;
    'read: loop {
        let buf = block.all_mut();
        let n = match raw::getdents64(fd, buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut at = 0;
        while at + 19 < n {
            let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
            if reclen == 0 {
                break 'read;
            }
            let name = &buf[at + 19..at + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            let fits = name.len() >= prefix.len() + suffix.len() && name.starts_with(prefix) && name.ends_with(suffix);
            if fits && after.is_none_or(|a| name > a) && (!found || name < out.as_bytes()) {
                out.set(name)?;
                found = true;
            }
            at += reclen;
        }
    }
    raw::close(fd);
    Ok(found)
}
