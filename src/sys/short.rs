//! Host paths too long for the kernel behind view paths that are not: a mount's source can make
//! the host path longer than `PATH_MAX` where the view's path is not. Such a path is handed to
//! the kernel as `/proc/self/fd/N/NAME`, N a descriptor on its directory.

use super::{pool, raw, PBuf};
use crate::errno::{Errno, Res};
use libc::c_int;

/// A descriptor held open for a shortened host path (see [`shorten`]), closed when dropped.
pub struct Short(pub Option<c_int>);

impl Drop for Short {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(fd) = self.0 {
            raw::close(fd);
        }
    }
}

/// A host path too long for the kernel (`PATH_MAX`) behind a view path that is not: rewritten
/// as `/proc/self/fd/N/NAME`, N a descriptor on its directory, opened in two steps that each
/// fit (a mount's source can make the host path longer than the view's). Needs the kernel's
/// `/proc` (`proc_is_host`).
#[inline(always)]
pub fn shorten(proc_is_host: bool, host: &mut PBuf) -> Res<Short> {
    if host.len() < libc::PATH_MAX as usize || !proc_is_host {
        return Ok(Short(None));
    }
    shorten_long(host)
}

#[cold]
#[inline(never)]
fn shorten_long(host: &mut PBuf) -> Res<Short> {
    let limit = libc::PATH_MAX as usize;
    let bytes = host.as_bytes();
    // The last component (and a trailing `/` the caller wrote), and the directory before it.
    let body_end = bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let slash = memchr::memrchr(b'/', &bytes[..body_end]).ok_or(Errno::ENAMETOOLONG)?;
    let (dir, name) = (&bytes[..slash], &bytes[slash + 1..]);
    // The directory in two pieces that fit, split at a `/`.
    let cut = memchr::memrchr(b'/', &dir[..dir.len().min(limit - 1)]).ok_or(Errno::ENAMETOOLONG)?;
    let (first, second) = (if cut == 0 { &b"/"[..] } else { &dir[..cut] }, &dir[cut + 1..]);
    if second.len() >= limit {
        return Err(Errno::ENAMETOOLONG);
    }
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
    let a = raw::openat(libc::AT_FDCWD, &*pool::copy_of(first)?, flags)?;
    let b = if second.is_empty() { Ok(a) } else { raw::openat(a, &*pool::copy_of(second)?, flags) };
    if !second.is_empty() {
        raw::close(a);
    }
    let b = b?;
    let short = Short(Some(b));
    let mut digits = [0u8; 10];
    let mut out = pool::take()?;
    out.set(b"/proc/self/fd/")?;
    out.push_bytes(crate::path::decimal(b as u32, &mut digits))?;
    out.push_byte(b'/')?;
    out.push_bytes(name)?;
    host.set(out.as_bytes())?;
    Ok(short)
}
