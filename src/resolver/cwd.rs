//! The working directory in the view: worked out on first use (not at load: a process that never
//! uses a relative path pays nothing), kept in `state::cwd`, and worked out again whenever the
//! kernel's moved without this library (glibc's internal `fchdir`, a raw system call).

use super::below::Below;
use super::{reverse, to_host};
use crate::errno::{Errno, Res};
use crate::runtime::Runtime;
use crate::state::cwd;
use crate::sys::PBuf;
use crate::views::Op;

/// The virtual working directory into `out`.
pub fn current<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf) -> Res<()> {
    if cwd::take_verify() {
        settle(b, rt);
    }
    if cwd::is_moving() {
        // A chdir is under way: the kernel's directory decides.
        return checked(b, rt, out);
    }
    if cwd::get(out, None).is_ok() {
        return Ok(());
    }
    let mut host = crate::sys::pool::take()?;
    match b.getcwd(&mut host) {
        Ok(()) => decide(b, rt, &host, out),
        // The kernel cannot name its directory (a host path longer than a page): the one the
        // parent named, if it is this directory.
        Err(Errno::ENAMETOOLONG) => claimed_unnamed(b, rt, out),
        Err(e) => Err(e),
    }
}

/// The working directory the parent named (`KMVIEW_CWD`) when the kernel cannot name its own:
/// believed if its host path is the very directory `.` is.
fn claimed_unnamed<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf) -> Res<()> {
    let claimed = rt.start_cwd.and_then(kmview_api::env::cwd).ok_or(Errno::ENAMETOOLONG)?;
    let mut behind = crate::sys::pool::take()?;
    to_host(rt, claimed, Op::Look, &mut behind)?;
    let full = crate::sys::pool::copy_of(behind.as_bytes())?;
    let _short = crate::sys::short::shorten(rt.proc_is_host, &mut behind)?;
    let dot = crate::sys::pool::copy_of(b".")?;
    match (b.stat(libc::AT_FDCWD, &behind, true), b.stat(libc::AT_FDCWD, &dot, true)) {
        (Ok(x), Ok(y)) if x.same(&y) => {
            out.set(claimed)?;
            publish(rt, claimed, full.as_bytes());
            Ok(())
        }
        _ => Err(Errno::ENAMETOOLONG),
    }
}

/// Names the kernel's working directory `host` in the view and publishes it: `KMVIEW_CWD`
/// (what the parent called it) if it names this very directory, else the kernel's path named
/// in the view with that as the hint. The virtual path lands in `out`.
pub fn decide<B: Below>(b: &B, rt: &Runtime, host: &PBuf, out: &mut PBuf) -> Res<()> {
    let claimed = rt.start_cwd.and_then(kmview_api::env::cwd);
    if let Some(claimed) = claimed {
        let mut behind = crate::sys::pool::take()?;
        if to_host(rt, claimed, Op::Look, &mut behind).is_ok() && same_dir(b, &behind, host) {
            out.set(claimed)?;
            publish(rt, out.as_bytes(), host.as_bytes());
            return Ok(());
        }
    }
    reverse::name(rt, host.as_bytes(), claimed.unwrap_or(b""), out)?;
    publish(rt, out.as_bytes(), host.as_bytes());
    Ok(())
}

/// Publishes `virt` (canonical) as the working directory, the kernel's being `host`.
pub fn publish(rt: &Runtime, virt: &[u8], host: &[u8]) {
    cwd::set(virt, host, is_plain(rt, virt));
    note_mount(rt, virt);
}

/// Remembers the innermost view's mount `virt` lies under: a name this process enters by.
fn note_mount(rt: &Runtime, virt: &[u8]) {
    if let Some(last) = rt.views.len().checked_sub(1) {
        let view = &rt.views[last];
        if let Some(m) = view.mount_of(virt) {
            if let Some(i) = view.entries.iter().position(|e| std::ptr::eq(e, m)) {
                cwd::note_entered(((last as u32) << 16) | i as u32);
            }
        }
    }
}

/// What relative paths from the working directory `virt` may leave to the kernel: whether
/// relative paths without `..` are its business alone (what a directory descriptor opened there
/// would be, `resolver::fd_flags_for`: no entry below it, no mark over it, no mount over it
/// that walks or refuses writes; under a plain bind the kernel's working directory is the
/// source's directory, and stays right when a directory above it is renamed), and whether
/// the kernel's names are the view's too (no entry at it, above it or below it: `realpath`
/// of a relative path may be the kernel's). Neither among the kernel's magic names.
pub fn is_plain(rt: &Runtime, virt: &[u8]) -> (bool, bool) {
    let magic = rt.proc_is_host && (crate::path::is_under(virt, b"/proc") || crate::path::is_under(virt, b"/dev"));
    let paths = !magic && super::fd_flags_for(rt, virt) & (crate::state::fds::ROUTE | crate::state::fds::READ_ONLY) == 0;
    (paths, paths && !rt.touches(virt))
}

fn same_dir<B: Below>(b: &B, a: &PBuf, c: &PBuf) -> bool {
    a.as_bytes() == c.as_bytes() || matches!((b.stat(libc::AT_FDCWD, a, true), b.stat(libc::AT_FDCWD, c, true)), (Ok(x), Ok(y)) if x.same(&y))
}

/// The virtual working directory, checked against the kernel's: a directory renamed since, or
/// a cwd moved without this library (a raw syscall, glibc's own fchdir in nftw), is named anew
/// from the kernel's path (the old name as the hint). What getcwd answers.
pub fn checked<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf) -> Res<()> {
    let mut now = crate::sys::pool::take()?;
    // While other threads move it, the kernel's answer may be one no slot names any more (this
    // thread was held up after asking): ask again, a few times.
    for _ in 0..4 {
        match b.getcwd(&mut now) {
            Ok(()) => {}
            // A cwd whose host path is longer than the kernel will name (a page): the one this
            // process last entered, as it named it, else the one its parent named.
            Err(Errno::ENAMETOOLONG) if cwd::get(out, None).is_ok() => return Ok(()),
            Err(Errno::ENAMETOOLONG) => return claimed_unnamed(b, rt, out),
            Err(e) => return Err(e),
        }
        if cwd::get_if_host(out, now.as_bytes()) == Ok(true) {
            return Ok(());
        }
        // A chdir under way in another thread (or in the parent this process was forked
        // from): the directory it is entering, by the name it gave it.
        if cwd::find_by_host(now.as_bytes(), out) {
            return Ok(());
        }
        if !cwd::is_moving() {
            break;
        }
    }
    if cwd::is_moving() {
        // Other threads kept moving it faster than this one could look.
        return recent_name(rt, now.as_bytes(), out);
    }
    if cwd::get(out, None).is_ok() {
        // The directory was renamed, or the kernel's cwd moved without this library: named
        // anew, the old name as the hint.
        let mut hint = crate::sys::pool::take()?;
        hint.set(out.as_bytes())?;
        reverse::name(rt, now.as_bytes(), hint.as_bytes(), out)?;
        if out.as_bytes() == now.as_bytes() {
            // Its own name: unless it was entered through a mount's.
            by_entered_mount(rt, now.as_bytes(), out);
        }
        publish(rt, out.as_bytes(), now.as_bytes());
        return Ok(());
    }
    decide(b, rt, &now, out)
}

/// The kernel's working directory `host` named in the view by what this process called its
/// directories: the name a recent `chdir` gave it, else a mount's name if the process entered
/// directories through that mount, else its own name.
fn recent_name(rt: &Runtime, host: &[u8], out: &mut PBuf) -> Res<()> {
    if cwd::find_by_host(host, out) {
        return Ok(());
    }
    reverse::name(rt, host, b"", out)?;
    if out.as_bytes() == host {
        by_entered_mount(rt, host, out);
    }
    Ok(())
}

/// `host` named through a mount this process has had its working directory under, if one of
/// them shows it (the name it entered by: what the kernel would answer); `out` unchanged if none.
fn by_entered_mount(rt: &Runtime, host: &[u8], out: &mut PBuf) {
    let Some(last) = rt.views.len().checked_sub(1) else { return };
    let Ok(mut named) = crate::sys::pool::take() else { return };
    let found = cwd::any_entered(|code| {
        let (v, i) = ((code >> 16) as usize, (code & 0xffff) as usize);
        let Some(m) = (v == last).then(|| rt.views[v].entries.get(i)).flatten() else { return false };
        reverse::name(rt, host, crate::views::Layer::at(m), &mut named).is_ok() && named.as_bytes() != host
    });
    if found {
        let _ = out.set(named.as_bytes());
    }
}

/// Whether the inherited `PWD` names the working directory in the view (a shell's test: the
/// same directory as `.`), so that it may stay as it is.
pub fn pwd_names_cwd<B: Below>(b: &B, rt: &Runtime) -> bool {
    let Some(pwd) = crate::sys::getenv(b"PWD\0").filter(|p| p.first() == Some(&b'/')) else { return false };
    let (Ok(mut host), Ok(dot)) = (crate::sys::pool::take(), crate::sys::pool::copy_of(b".")) else { return false };
    let Ok(routed) = super::route(b, rt, pwd, &super::Call::at_cwd(true, Op::Look), &mut host) else { return false };
    if routed.route == super::Route::Native && host.set(pwd).is_err() {
        return false;
    }
    matches!((b.stat(libc::AT_FDCWD, &host, true), b.stat(libc::AT_FDCWD, &dot, true)), (Ok(x), Ok(y)) if x.same(&y))
}

/// After a `chdir` into `virt` (the kernel's `host`, whose slot the hook prepared) succeeded:
/// publishes it if the kernel is there, else (another thread moved in between) names where the
/// kernel is.
pub fn entered<B: Below>(b: &B, rt: &Runtime, slot: Option<usize>, virt: &[u8], host: &[u8]) {
    let (Ok(mut now), Ok(mut named)) = (crate::sys::pool::take(), crate::sys::pool::take()) else {
        slot.map(cwd::release);
        return cwd::forget();
    };
    match b.getcwd(&mut now) {
        Ok(()) => {}
        // The kernel cannot say where it is (a path longer than a page): the chdir it just
        // made went where the view said.
        Err(Errno::ENAMETOOLONG) => {
            return match slot {
                Some(i) => {
                    cwd::publish_prepared(i, is_plain(rt, virt));
                    note_mount(rt, virt);
                }
                None => publish(rt, virt, host),
            };
        }
        Err(_) => {
            slot.map(cwd::release);
            return cwd::forget();
        }
    }
    match slot {
        Some(i) if now.as_bytes() == host => {
            cwd::publish_prepared(i, is_plain(rt, virt));
            note_mount(rt, virt);
        }
        Some(i) => cwd::release(i),
        None => {}
    }
    // Another thread's chdir may have come between this one and its publication (or between
    // its own check and publication): until the kernel's directory is what is published, name
    // it as its mover did and publish that.
    for _ in 0..8 {
        if b.getcwd(&mut now).is_err() {
            return cwd::forget();
        }
        if cwd::get_if_host(&mut named, now.as_bytes()) == Ok(true) {
            return;
        }
        if recent_name(rt, now.as_bytes(), &mut named).is_ok() {
            publish(rt, named.as_bytes(), now.as_bytes());
        } else {
            return cwd::forget();
        }
    }
}

/// The kernel's working directory, named as this process named it (by a recent `chdir`, or the
/// mount it entered by), published as the cwd: after a `fork` (see `state::cwd::after_fork`).
pub fn settle<B: Below>(b: &B, rt: &Runtime) {
    let Ok(mut virt) = crate::sys::pool::take() else { return cwd::forget() };
    let Ok(mut now) = crate::sys::pool::take() else { return cwd::forget() };
    if b.getcwd(&mut now).is_ok() && checked(b, rt, &mut virt).is_ok() {
        publish(rt, virt.as_bytes(), now.as_bytes());
    } else {
        cwd::forget();
    }
}

/// Whether the working directory lies beyond the process's root: the innermost view is a
/// chroot's and cannot name it (the program chrooted into a subdirectory without entering it,
/// as the kernel lets it). Relative paths then start from the kernel's directory.
pub fn beyond_root<B: Below>(b: &B, rt: &Runtime) -> bool {
    if rt.chroot_views() == 0 || cwd::is_known() {
        return false;
    }
    crate::sys::pool::take().is_ok_and(|mut out| current(b, rt, &mut out) == Err(Errno::ENOENT))
}
