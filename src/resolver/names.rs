//! The virtual names of descriptors and of the program: what a relative path from a directory
//! descriptor starts from, what `/proc/self/fd/N` and `/proc/self/exe` read as in the view.

use super::below::{readlink_into, Below};
use super::reverse;
use crate::errno::{Errno, Res};
use crate::runtime::Runtime;
use crate::state::{exe, fds};
use crate::sys::PBuf;
use libc::c_int;

/// `/proc/self/fd/N` into `out`.
fn proc_fd(fd: c_int, out: &mut PBuf) -> Res<()> {
    let mut digits = [0u8; 10];
    out.set(b"/proc/self/fd/")?;
    out.push_bytes(crate::path::decimal(fd as u32, &mut digits))
}

/// The virtual name of the directory descriptor `fd` (where a relative path from it starts):
/// the recorded name, else the kernel's, named in the view.
pub fn of_fd<B: Below>(b: &B, rt: &Runtime, fd: c_int, out: &mut PBuf) -> Res<()> {
    if fds::name_of(fd, out) {
        // The kernel walks on from a directory only (looked at here, when the descriptor is
        // first used as one, not when it is opened: most never are).
        if fds::flags(fd) & fds::DIR == 0 {
            if !b.fstat(fd).map_err(|_| Errno::EBADF)?.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            fds::add_flags(fd, fds::DIR);
        }
        return Ok(());
    }
    if !b.fstat(fd).map_err(|_| Errno::EBADF)?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    kernel(b, rt, fd, b"", out).map_err(|e| if e == Errno::ENOENT { Errno::EBADF } else { e })
}

/// The virtual name of any descriptor (a directory or not): the recorded one, else the
/// kernel's, named in the view.
pub fn of_fd_any<B: Below>(b: &B, rt: &Runtime, fd: c_int, out: &mut PBuf) -> Res<()> {
    if fds::name_of(fd, out) {
        return Ok(());
    }
    kernel(b, rt, fd, b"", out).map_err(|e| if e == Errno::ENOENT { Errno::EBADF } else { e })
}

/// The kernel's name of `fd`, named in the view (`hint`: a name this process knows it by).
/// `ENOTDIR` if the kernel's name is no path (a pipe, a socket).
pub fn kernel<B: Below>(b: &B, rt: &Runtime, fd: c_int, hint: &[u8], out: &mut PBuf) -> Res<()> {
    crate::sys::pool::with_buf(|link| {
        proc_fd(fd, link)?;
        readlink_into(b, libc::AT_FDCWD, link, out)?;
        if out.as_bytes().first() != Some(&b'/') {
            return Err(Errno::ENOTDIR);
        }
        link.set(out.as_bytes())?;
        reverse::name(rt, link.as_bytes(), hint, out)
    })
}

/// What `readlink("/proc/self/fd/N")` answers in the view: the kernel's name, named in the view
/// with the recorded name as the hint. `Ok(false)`: the kernel's own answer stands (a pipe, a
/// socket, a descriptor the view has nothing to say about).
pub fn fd_link<B: Below>(b: &B, rt: &Runtime, fd: c_int, out: &mut PBuf) -> Res<bool> {
    let mut hint = crate::sys::pool::take()?;
    fds::name_of(fd, &mut hint);
    match kernel(b, rt, fd, hint.as_bytes(), out) {
        Ok(()) => Ok(true),
        Err(Errno::ENOTDIR) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What `/proc/self/exe` names in the view: `KMVIEW_EXE`, if it names the file the kernel says
/// this process runs (checked once).
pub fn exe<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf) -> bool {
    if !exe::is_decided() {
        let Ok(mut checked) = crate::sys::pool::take() else {
            return false;
        };
        let ok = exe_claim(b, rt, &mut checked).unwrap_or(false);
        exe::decide(ok.then_some(checked.as_bytes()));
    }
    exe::name(out)
}

/// If this process was started through its root's own loader (see `KMVIEW_EXE`), gives it the
/// name the kernel gives a program it execs (`/proc/self/comm`: the last component of the path
/// it was run by, which `argv[0]` carries), not the loader's.
pub fn name_after_program<B: Below>(b: &B, rt: &Runtime) {
    let via = rt.start_exe.and_then(|v| kmview_api::env::exe(v).ok()).is_some_and(|(_, via)| via.is_some());
    let Ok(mut virt) = crate::sys::pool::take() else { return };
    if via && exe(b, rt, &mut virt) {
        let name = crate::sys::argv0_name();
        crate::sys::set_process_name(if name.is_empty() { crate::path::base_name(virt.as_bytes()) } else { name });
    }
}

fn exe_claim<B: Below>(b: &B, rt: &Runtime, virt: &mut PBuf) -> Res<bool> {
    let Some(value) = rt.start_exe else {
        return Ok(false);
    };
    let Ok((name, via)) = kmview_api::env::exe(value) else {
        return Ok(false);
    };
    virt.fill_with(|buf| {
        if name.decoded_len() >= buf.len() {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(name.decode_into(buf))
    })?;
    let mut runs = crate::sys::pool::take()?;
    match via {
        // Started through its own loader: the kernel's /proc/self/exe is that loader.
        Some(loader) => runs.fill_with(|buf| {
            if loader.decoded_len() >= buf.len() {
                return Err(Errno::ENAMETOOLONG);
            }
            Ok(loader.decode_into(buf))
        })?,
        None => {
            super::to_host(rt, virt.as_bytes(), crate::views::Op::Look, &mut runs)?;
        }
    }
    let exe = crate::sys::pool::copy_of(b"/proc/self/exe")?;
    Ok(b.stat(libc::AT_FDCWD, &runs, true)?.same(&b.stat(libc::AT_FDCWD, &exe, true)?))
}

/// The virtual name to record for a descriptor `fd` just opened as `path` (from `dirfd`): the
/// path in the innermost view's terms, normalized, a `..` walked away; the magic links by what
/// the kernel says the new descriptor is.
pub fn opened<B: Below>(b: &B, rt: &Runtime, fd: c_int, dirfd: c_int, path: &[u8], out: &mut PBuf) -> Res<()> {
    let shape = super::virtual_path(b, rt, path, dirfd, out)?;
    let call = super::Call { dirfd, follow: true, op: crate::views::Op::Look, empty: false };
    match super::magic::expand(b, rt, out, shape, &call)? {
        super::magic::Expanded::Done(_) => kernel(b, rt, fd, b"", out),
        super::magic::Expanded::Path(s) if s.dotdot => {
            let mut virt = crate::sys::pool::take()?;
            super::walk::walk_into(
                b,
                rt,
                out,
                crate::path::Shape { dotdot: true, trail: crate::path::Trail::None },
                true,
                crate::views::Op::Look,
                Some(&mut virt),
            )?;
            out.set(virt.as_bytes())
        }
        super::magic::Expanded::Path(_) => Ok(()),
    }
}

/// Records `fd`, which lies at `virt`, with the descriptor table's flags for it (what the view
/// says of the place: [`super::fd_flags_for`] when `flags` is 0). Whether it is a directory is
/// looked at when it is first used as one ([`of_fd`]).
pub fn record<B: Below>(_b: &B, rt: &Runtime, fd: c_int, virt: &[u8], mut flags: u8) {
    if flags == 0 {
        flags = super::fd_flags_for(rt, virt);
    }
    if flags == 0 {
        return;
    }
    fds::record(fd, virt, flags);
}
