//! The kernel's answer to a write on a read-only mount. It is not always `EROFS`: the kernel
//! looks the name up first, and some of what it finds comes before (a missing directory is
//! `ENOENT`, an existing name to create is `EEXIST`, a directory opened for writing `EISDIR`),
//! and some writes a read-only mount allows (a device or a fifo opened for writing, `O_CREAT` of
//! a file that exists without asking to write it). This reproduces the order of fs/namei.c and
//! fs/open.c by looking at what lies at the path; the differential tests compare it with a
//! kernel read-only bind mount, call by call.

use super::below::{Below, FileId};
use crate::errno::{Errno, Res};
use crate::sys::PBuf;
use crate::views::Op;
use libc::c_int;

/// What the kernel would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The call may go ahead: nothing would be written (or only a device).
    Allow,
    Fail(Errno),
}

/// The kernel's verdict on `op` at `path` (from `dirfd`: the host path, or the caller's own
/// when the view did not change it) on a read-only mount. `follow` as the call says.
pub fn judge<B: Below>(b: &B, dirfd: c_int, path: &[u8], op: Op, follow: bool) -> Verdict {
    match verdict(b, dirfd, path, op, follow) {
        Ok(v) => v,
        Err(e) => Verdict::Fail(e),
    }
}

fn verdict<B: Below>(b: &B, dirfd: c_int, path: &[u8], op: Op, follow: bool) -> Res<Verdict> {
    let p = crate::sys::pool::copy_of(path)?;
    let trailing = path.len() > 1 && path.ends_with(b"/");
    let body = trim_slashes(path);
    let last = crate::path::base_name(body);
    let dots = last == b"." || last == b"..";
    let erofs = Ok(Verdict::Fail(Errno::EROFS));
    match op {
        Op::Look | Op::Read => Ok(Verdict::Allow),
        Op::Modify => {
            b.stat(dirfd, &p, follow)?;
            erofs
        }
        Op::Chmod => {
            // glibc changes a mode without following through an O_PATH descriptor, and refuses
            // a symlink's own before the kernel is asked.
            if b.stat(dirfd, &p, follow)?.is_link() && !follow {
                return Err(Errno::EOPNOTSUPP);
            }
            erofs
        }
        Op::Truncate => {
            let st = b.stat(dirfd, &p, true)?;
            if st.is_dir() {
                return Err(Errno::EISDIR);
            }
            if !st.is_reg() {
                return Err(Errno::EINVAL);
            }
            erofs
        }
        Op::AccessW => {
            let st = b.stat(dirfd, &p, follow)?;
            // The kernel refuses writes only to what lives on the file system itself.
            if st.is_reg() || st.is_dir() || st.is_link() {
                erofs
            } else {
                Ok(Verdict::Allow)
            }
        }
        Op::Create | Op::CreateDir => {
            parent_dir(b, dirfd, body)?;
            if dots || body == b"/" {
                return Err(Errno::EEXIST);
            }
            // The name itself is looked up without the trailing `/` (`mkdir("f/")` is EEXIST).
            match b.stat(dirfd, &*crate::sys::pool::copy_of(body)?, false) {
                Ok(_) => Err(Errno::EEXIST),
                // `x/` asks for a directory: only mkdir may make one.
                Err(Errno::ENOENT) if trailing && op == Op::Create => Err(Errno::ENOENT),
                Err(Errno::ENOENT) => erofs,
                Err(e) => Err(e),
            }
        }
        Op::Remove | Op::RemoveDir => {
            parent_dir(b, dirfd, body)?;
            if dots || body == b"/" {
                return Err(match (op, last) {
                    (Op::RemoveDir, b".") => Errno::EINVAL,
                    (Op::RemoveDir, b"..") => Errno::ENOTEMPTY,
                    (Op::RemoveDir, _) => Errno::EBUSY,
                    _ => Errno::EISDIR,
                });
            }
            erofs
        }
        Op::Rename => {
            parent_dir(b, dirfd, body)?;
            if dots || body == b"/" {
                return Err(Errno::EBUSY);
            }
            erofs
        }
        Op::Open(flags) => open(b, dirfd, &p, body, trailing, flags),
    }
}

/// `open` and `openat`, as `path_openat` and `do_open` order their checks.
fn open<B: Below>(b: &B, dirfd: c_int, p: &PBuf, body: &[u8], trailing: bool, flags: c_int) -> Res<Verdict> {
    let create = flags & libc::O_CREAT != 0;
    let excl = flags & libc::O_EXCL != 0;
    let nofollow = flags & libc::O_NOFOLLOW != 0;
    let write_mode = flags & libc::O_ACCMODE != libc::O_RDONLY;
    let trunc = flags & libc::O_TRUNC != 0;
    if flags & libc::O_TMPFILE != libc::O_TMPFILE && create && flags & libc::O_DIRECTORY != 0 {
        // Linux 6.4 and later: O_CREAT|O_DIRECTORY is refused before anything.
        return Err(Errno::EINVAL);
    }
    if flags & libc::O_TMPFILE == libc::O_TMPFILE {
        if !b.stat(dirfd, p, true)?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        return Ok(Verdict::Fail(Errno::EROFS));
    }
    let st: FileId = if create {
        parent_dir(b, dirfd, body)?;
        if trailing {
            return Err(Errno::EISDIR);
        }
        match b.stat(dirfd, p, false) {
            Err(Errno::ENOENT) => return Ok(Verdict::Fail(Errno::EROFS)),
            Err(e) => return Err(e),
            Ok(_) if excl => return Err(Errno::EEXIST),
            Ok(l) if l.is_link() && !nofollow => match b.stat(dirfd, p, true) {
                // A dangling link: its target would be created.
                Err(Errno::ENOENT) => return Ok(Verdict::Fail(Errno::EROFS)),
                Err(e) => return Err(e),
                Ok(t) => t,
            },
            Ok(l) => l,
        }
    } else {
        b.stat(dirfd, p, !nofollow)?
    };
    if st.is_link() {
        return Err(Errno::ELOOP);
    }
    if st.is_dir() {
        if create || write_mode || trunc {
            return Err(Errno::EISDIR);
        }
        return Ok(Verdict::Allow);
    }
    if st.is_reg() {
        if write_mode || trunc {
            return Ok(Verdict::Fail(Errno::EROFS));
        }
        return Ok(Verdict::Allow);
    }
    // A device, a fifo, a socket: the kernel lets them be opened for writing on a read-only
    // mount (writing to one changes nothing on the file system).
    Ok(Verdict::Allow)
}

fn trim_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

/// The directory a name is made or removed in must be one: its lookup's errors come first.
fn parent_dir<B: Below>(b: &B, dirfd: c_int, body: &[u8]) -> Res<()> {
    let parent: &[u8] = match memchr::memrchr(b'/', body) {
        Some(0) => b"/",
        Some(i) => &body[..i],
        // A name relative to `dirfd` itself.
        None => b".",
    };
    let pp = crate::sys::pool::copy_of(parent)?;
    if !b.stat(dirfd, &pp, true)?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::below::tests::Tree;

    fn j(t: &Tree, path: &str, op: Op) -> Verdict {
        judge(t, libc::AT_FDCWD, path.as_bytes(), op, true)
    }

    #[test]
    fn the_kernels_order_on_a_read_only_mount() {
        let t = Tree::new(&[("/ro", "dir"), ("/ro/f", "file"), ("/ro/d", "dir"), ("/ro/fifo", "fifo"), ("/ro/l", "link:f")]);
        let fail = Verdict::Fail;
        assert_eq!(j(&t, "/ro/f", Op::Open(libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY)), fail(Errno::EEXIST));
        assert_eq!(j(&t, "/ro/d", Op::Open(libc::O_WRONLY)), fail(Errno::EISDIR));
        assert_eq!(j(&t, "/ro/missing", Op::Open(libc::O_WRONLY)), fail(Errno::ENOENT));
        assert_eq!(j(&t, "/ro/missing", Op::Open(libc::O_WRONLY | libc::O_CREAT)), fail(Errno::EROFS));
        assert_eq!(j(&t, "/ro/f/x", Op::Open(libc::O_WRONLY | libc::O_CREAT)), fail(Errno::ENOTDIR));
        assert_eq!(j(&t, "/ro/f", Op::Open(libc::O_RDONLY | libc::O_CREAT)), Verdict::Allow);
        assert_eq!(j(&t, "/ro/fifo", Op::Open(libc::O_WRONLY)), Verdict::Allow);
        assert_eq!(j(&t, "/ro/l", Op::Open(libc::O_WRONLY)), fail(Errno::EROFS));
        assert_eq!(j(&t, "/ro/f", Op::Create), fail(Errno::EEXIST));
        assert_eq!(j(&t, "/ro/new", Op::CreateDir), fail(Errno::EROFS));
        assert_eq!(j(&t, "/ro/missing/new", Op::CreateDir), fail(Errno::ENOENT));
        assert_eq!(j(&t, "/ro/d", Op::Truncate), fail(Errno::EISDIR));
        assert_eq!(j(&t, "/ro/missing", Op::Truncate), fail(Errno::ENOENT));
        assert_eq!(j(&t, "/ro/missing", Op::Remove), fail(Errno::EROFS));
        assert_eq!(j(&t, "/ro/d/.", Op::RemoveDir), fail(Errno::EINVAL));
        assert_eq!(j(&t, "/ro/missing", Op::Modify), fail(Errno::ENOENT));
        assert_eq!(j(&t, "/ro/f", Op::AccessW), fail(Errno::EROFS));
        assert_eq!(j(&t, "/ro/fifo", Op::AccessW), Verdict::Allow);
    }
}
