//! The working directory in the view: worked out on first use (not at load: a process that never
//! uses a relative path pays nothing), kept in `state::cwd`, and worked out again whenever the
//! kernel's moved without this library (glibc's internal `fchdir`, a raw system call).

use super::below::Below;
use super::{reverse, to_host};
use crate::errno::Res;
use crate::runtime::Runtime;
use crate::state::cwd;
use crate::sys::PBuf;
use crate::views::Op;

/// The virtual working directory into `out`.
pub fn current<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf) -> Res<()> {
    if cwd::get(out, None).is_ok() {
        return Ok(());
    }
    let mut host = crate::sys::pool::take()?;
    b.getcwd(&mut host)?;
    decide(b, rt, &host, out)
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
}

/// Whether relative paths without `..` from `virt` are the kernel's business alone: no entry
/// at it, above it or below it, and it is not among the kernel's magic names.
pub fn is_plain(rt: &Runtime, virt: &[u8]) -> bool {
    let magic = rt.proc_is_host && (crate::path::is_under(virt, b"/proc") || crate::path::is_under(virt, b"/dev"));
    !magic && !rt.touches(virt)
}

fn same_dir<B: Below>(b: &B, a: &PBuf, c: &PBuf) -> bool {
    a.as_bytes() == c.as_bytes() || matches!((b.stat(libc::AT_FDCWD, a, true), b.stat(libc::AT_FDCWD, c, true)), (Ok(x), Ok(y)) if x.same(&y))
}

/// The virtual working directory, checked against the kernel's: a directory renamed since, or
/// a cwd moved without this library (a raw syscall, glibc's own fchdir in nftw), is named anew
/// from the kernel's path (the old name as the hint). What getcwd answers.
pub fn checked<B: Below>(b: &B, rt: &Runtime, out: &mut PBuf) -> Res<()> {
    let mut now = crate::sys::pool::take()?;
    b.getcwd(&mut now)?;
    if cwd::get_if_host(out, now.as_bytes()) == Ok(true) {
        return Ok(());
    }
    if cwd::get(out, None).is_ok() {
        let mut hint = crate::sys::pool::take()?;
        hint.set(out.as_bytes())?;
        reverse::name(rt, now.as_bytes(), hint.as_bytes(), out)?;
        publish(rt, out.as_bytes(), now.as_bytes());
        return Ok(());
    }
    decide(b, rt, &now, out)
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
