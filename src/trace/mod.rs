//! The trace (`trace=` in a view, `kmview --trace FILE`): every call that crosses a traced view,
//! one line each, in its trace's file. The hooks describe a call once it returned ([`Event`]);
//! [`crate::views::trace`] decides which traces it crossed and with which names; [`json`] and
//! [`fsatrace`] write the line into a buffer of [`crate::sys::tracebuf`], which reaches the file
//! whole. Nothing here allocates or locks: a traced call stays as signal- and fork-safe as any.

pub mod fsatrace;
pub mod json;
pub mod line;
mod quick;
pub mod words;

use crate::resolver::kernel::Kernel;
use crate::runtime::{self, Runtime, Trace};
use crate::sys::{pool, tracebuf, PBuf};
use crate::views::trace::{meet, Met};
use crate::views::Op;
use kmview_api::TraceFormat;
use libc::c_int;

/// What a call did to its path, as a trace reads it (and `--deps` sorts it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Looked at it: stat, access, readlink, chdir, an open of a directory or with `O_PATH`.
    Look,
    /// Read it (an open without a write flag).
    Read,
    /// Wrote or made it: an open that may write, truncate, mkdir, symlink, a chmod or chown.
    Write,
    /// Ran it.
    Exec,
    /// Listed it: opendir, fdopendir, scandir.
    List,
    /// Removed it: unlink, rmdir.
    Remove,
    /// Renamed it (the second path is the new name).
    Rename,
    /// Linked it (the second path is the new name).
    Link,
}

impl Access {
    pub fn word(self) -> &'static [u8] {
        match self {
            Access::Look => b"look",
            Access::Read => b"read",
            Access::Write => b"write",
            Access::Exec => b"exec",
            Access::List => b"list",
            Access::Remove => b"remove",
            Access::Rename => b"rename",
            Access::Link => b"link",
        }
    }

    /// What a call of the hook table's kind `op` does.
    pub fn of_op(op: Op) -> Access {
        match op {
            Op::Look | Op::AccessW => Access::Look,
            Op::Read => Access::Read,
            Op::Open(flags) => Access::of_open(flags),
            Op::Modify | Op::Chmod | Op::Truncate | Op::Create | Op::CreateDir => Access::Write,
            Op::Remove | Op::RemoveDir => Access::Remove,
            Op::Rename => Access::Rename,
        }
    }

    pub fn of_open(flags: c_int) -> Access {
        if crate::views::open_writes(flags) {
            Access::Write
        } else if flags & (libc::O_DIRECTORY | libc::O_PATH) != 0 {
            Access::Look
        } else {
            Access::Read
        }
    }
}

/// One call, once it returned.
pub struct Event<'a> {
    /// The function's name (`openat`).
    pub call: &'static str,
    pub access: Access,
    /// The descriptor a relative path starts from, or the descriptor a descriptor-based call
    /// is about (`path` empty).
    pub dirfd: c_int,
    /// The path as the program gave it; empty for a call on a descriptor.
    pub path: &'a [u8],
    /// What the resolver checked the path for (decides which views refused it).
    pub op: Op,
    /// Open flags, for the open family.
    pub flags: Option<c_int>,
    /// The second name of a rename or link, from its descriptor.
    pub second: Option<(c_int, &'a [u8])>,
    /// The program an exec ran, and its argv.
    pub program: Option<&'a [u8]>,
    pub argv: Option<crate::sys::argv::ArgList>,
    /// The call's result (a descriptor, 0, -1…) and its errno when it failed (else 0).
    pub result: i64,
    pub errno: c_int,
    /// The call made the path the working directory (a `chdir` that succeeded): a relative path
    /// was relative to the one it left, so its name is the new one's.
    pub lands_in_cwd: bool,
}

impl<'a> Event<'a> {
    /// A call on one path.
    pub fn path(call: &'static str, access: Access, op: Op, dirfd: c_int, path: &'a [u8]) -> Event<'a> {
        Event { call, access, dirfd, path, op, flags: None, second: None, program: None, argv: None, result: 0, errno: 0, lands_in_cwd: false }
    }

    /// With the result of a call that returns 0, a count or a descriptor, or -1 with `errno`.
    pub fn returned(mut self, result: i64, errno: c_int) -> Event<'a> {
        self.result = result;
        self.errno = if result < 0 { errno } else { 0 };
        self
    }
}

/// Whether this process writes a trace at all (one load; the call path's only cost without).
#[inline(always)]
pub fn on() -> Option<&'static Runtime> {
    runtime::get().filter(|rt| rt.is_traced())
}

/// Writes `ev` to every trace it crossed. Errno is kept as the call left it.
pub fn emit(rt: &Runtime, ev: &Event) {
    let saved = crate::sys::errno();
    // The call has happened: a bug here loses its line, never turns its result into an error.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| emit_in(rt, ev)));
    crate::sys::set_errno(saved);
}

/// The names one path has in one view: as the program gave it, in the view, handed outward.
pub struct Names<'a> {
    pub given: &'a [u8],
    pub input: &'a [u8],
    pub output: &'a [u8],
    pub met: Met,
}

/// The buffers one name's journey through the views needs, taken when first needed: a trace
/// view of its own (`--trace` alone, the common case) needs none.
#[derive(Default)]
struct Journey {
    input: Option<pool::Buf>,
    output: Option<pool::Buf>,
}

impl Journey {
    /// The names of `virt` (the innermost view's) in view `k`; `given`: as the program gave it.
    fn names<'a>(&'a mut self, rt: &Runtime, k: usize, virt: &'a [u8], given: &'a [u8], op: Op, errno: c_int) -> crate::errno::Res<Names<'a>> {
        let innermost = rt.views.len().saturating_sub(1);
        if k == innermost && rt.views[k].entries.is_empty() {
            // A view with nothing in its table hands every path out as it came.
            return Ok(Names { given, input: virt, output: virt, met: Met::Crossed });
        }
        if self.input.is_none() {
            self.input = Some(pool::take()?);
            self.output = Some(pool::take()?);
        }
        let (Some(input), Some(output)) = (self.input.as_mut(), self.output.as_mut()) else { return Err(crate::errno::Errno::ENOMEM) };
        let met = meet(rt.views, k, virt, op, errno, input, output)?;
        let (input, output) = (input.as_bytes(), output.as_bytes());
        // As the program gave it in the innermost view; as the view inside handed it here in
        // an outer one.
        Ok(Names { given: if k == innermost { given } else { input }, input, output, met })
    }
}

fn emit_in(rt: &Runtime, ev: &Event) -> crate::errno::Res<()> {
    let mut virt = pool::take()?;
    if ev.lands_in_cwd && ev.result == 0 && ev.path.first() != Some(&b'/') {
        view_name(rt, libc::AT_FDCWD, b"", &mut virt)?;
    } else {
        view_name(rt, ev.dirfd, ev.path, &mut virt)?;
    }
    // The second name and an exec's working directory (what a compile_commands.json calls
    // `directory`) only when the call has them: each buffer taken is a compare-and-swap.
    let virt2 = match ev.second {
        Some((fd2, p2)) => {
            let mut b = pool::take()?;
            view_name(rt, fd2, p2, &mut b)?;
            Some((b, p2))
        }
        None => None,
    };
    let cwd = match ev.access {
        Access::Exec => {
            let mut b = pool::take()?;
            view_name(rt, libc::AT_FDCWD, b"", &mut b)?;
            Some(b)
        }
        _ => None,
    };
    let (mut j1, mut j2, mut j3) = (Journey::default(), Journey::default(), Journey::default());
    // Traces are kept in view order (outermost first), so each traced view is one run of them.
    let mut k_done = usize::MAX;
    for (idx, t) in rt.traces.iter().enumerate() {
        let Some(t) = t else { break };
        let k = t.view;
        if k == k_done {
            continue;
        }
        k_done = k;
        let one = j1.names(rt, k, virt.as_bytes(), ev.path, ev.op, ev.errno)?;
        if one.met == Met::Stopped {
            continue;
        }
        let two = match &virt2 {
            Some((v, p2)) => Some(j2.names(rt, k, v.as_bytes(), p2, ev.op, ev.errno)?),
            None => None,
        };
        let dir = match &cwd {
            Some(c) => Some(j3.names(rt, k, c.as_bytes(), c.as_bytes(), Op::Look, 0)?),
            None => None,
        };
        for (i, t) in rt.traces.iter().enumerate().skip(idx) {
            match t {
                Some(t) if t.view == k => write(i, t, ev, &one, two.as_ref(), dir.as_ref()),
                _ => break,
            }
        }
    }
    Ok(())
}

/// The absolute name in the innermost view of `path` from `dirfd` (a descriptor's own name
/// when `path` is empty), `..` taken lexically.
fn view_name(rt: &Runtime, dirfd: c_int, path: &[u8], out: &mut PBuf) -> crate::errno::Res<()> {
    if path.is_empty() {
        if dirfd == libc::AT_FDCWD {
            return crate::resolver::cwd::current(&Kernel, rt, out);
        }
        return crate::resolver::names::of_fd_any(&Kernel, rt, dirfd, out);
    }
    // One plain name from a directory (what tree walkers pass): its directory's name and it.
    let one_name = !path.contains(&b'/') && path != b"." && path != b"..";
    if one_name && path.first() != Some(&b'/') {
        if dirfd == libc::AT_FDCWD {
            crate::resolver::cwd::current(&Kernel, rt, out)?;
        } else {
            crate::resolver::names::of_fd_any(&Kernel, rt, dirfd, out)?;
        }
        return out.push_component(path);
    }
    let shape = crate::resolver::virtual_path(&Kernel, rt, path, dirfd, out)?;
    if shape.dotdot {
        collapse_dotdot(out);
    }
    Ok(())
}

/// `a/b/../c` → `a/c`, on a normalized absolute path (a trace names what the program meant;
/// the resolver has its own, exact, rules for where `..` leads).
fn collapse_dotdot(p: &mut PBuf) {
    let Ok(mut buf) = pool::take() else { return };
    for c in crate::path::components(p.as_bytes()) {
        if c == b".." {
            buf.pop_component();
        } else if buf.push_component(c).is_err() {
            return;
        }
    }
    let _ = if buf.is_empty() { p.set(b"/") } else { p.set(buf.as_bytes()) };
}

/// Formats the line into a buffer of the trace and lets it go to the file when full.
fn write(idx: usize, t: &Trace, ev: &Event, one: &Names, two: Option<&Names>, cwd: Option<&Names>) {
    let format = |out: &mut [u8]| -> usize {
        match t.format {
            TraceFormat::Json => json::line(out, ev, one, two, cwd),
            TraceFormat::Fsatrace => fsatrace::line(out, ev, one, two),
        }
    };
    let paged = paged(t);
    match tracebuf::hold(idx) {
        Some(mut held) => {
            let mut n = format(held.spare());
            if n == 0 && !held.is_empty() {
                held.write_to(t.file, paged);
                n = format(held.spare());
            }
            held.commit(n, paged);
            if held.is_high() {
                held.write_to(t.file, paged);
            }
        }
        None => {
            // Every buffer is held (more threads tracing at once than buffers): this line goes
            // on its own.
            if let Ok(mut b) = pool::take() {
                b.fill_with(|out| Ok(format(out))).ok();
                tracebuf::append_line(t.file, b.as_bytes(), paged);
            }
        }
    }
}

/// Writes every buffered line of this process (before exec, `_exit`, and at exit).
pub fn flush() {
    if let Some(rt) = runtime::loaded().filter(|rt| rt.is_traced()) {
        tracebuf::flush_all(rt.traces.len(), |t| rt.traces[t].map(|t| (t.file, paged(&t))));
    }
}

/// Whether the trace's file is written in whole pages (see `sys::tracebuf`): a JSON line may end
/// in spaces, an fsatrace line may not.
fn paged(t: &Trace) -> bool {
    t.format == TraceFormat::Json
}

/// What every line carries first: time, process, thread.
/// The time as seconds and nanoseconds (written as one number of nanoseconds), the process and
/// the thread.
fn stamp() -> ((u64, u32), i32, i32) {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    crate::sys::monotonic(&mut ts);
    let (pid, tid) = tracebuf::ids();
    ((ts.tv_sec as u64, ts.tv_nsec as u32), pid, tid)
}
