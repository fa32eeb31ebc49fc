//! The hot test: inlined into every exported shell, it decides from one byte of mode, one pass
//! over the path and (for an absolute path) its first component whether the view has anything
//! to do with the call. When it has not, the caller's own pointer goes to libc.

use crate::runtime::{self, mode};
use crate::state::{cwd, fds};
use crate::sys::cpath::CPath;
use crate::views::Op;
use libc::c_int;

/// Whether `path` (from `dirfd`) may go to the kernel as it is, for `op`.
#[inline(always)]
pub fn is_hot(dirfd: c_int, path: CPath, op: Op) -> bool {
    match runtime::mode() {
        mode::TEST => {}
        mode::PASS => return true,
        _ => return false,
    }
    // NULL: the kernel's EFAULT.
    if path.is_null() {
        return true;
    }
    let c = path.first();
    if c == b'/' {
        // `/`, `//x`, `/./x` (and a hidden name at the root) take the slow way.
        let c1 = path.at(1);
        if matches!(c1, 0 | b'/' | b'.') {
            return false;
        }
        // Under no entry whatever follows if no entry starts with this first component.
        if runtime::BLOOM.load(std::sync::atomic::Ordering::Relaxed) & runtime::index_bit(c1, path.at(2)) != 0 && indexed(path) {
            return false;
        }
        return !path.has_dotdot();
    }
    if c == 0 {
        // An empty path is the kernel's ENOENT, or (AT_EMPTY_PATH) the descriptor itself.
        return dirfd == libc::AT_FDCWD || !op.writes() || fds::flags(dirfd) & fds::READ_ONLY == 0;
    }
    if dirfd == libc::AT_FDCWD {
        if !cwd::is_plain() {
            return false;
        }
    } else {
        let f = fds::flags(dirfd);
        if f & fds::ROUTE != 0 || (f & fds::READ_ONLY != 0 && op.writes()) {
            return false;
        }
    }
    !path.has_dotdot()
}

/// Whether some entry starts with the first component of the absolute `path` (the bloom word
/// said it may).
#[cold]
#[inline(never)]
fn indexed(path: CPath) -> bool {
    let first = path.first_component().unwrap_or(b"");
    runtime::index().is_none_or(|i| i.may_hold(first))
}

/// [`is_hot`] for a call that makes a descriptor (the open family): relative to a descriptor
/// the table knows, the new one must be recorded too (it inherits where it lies).
#[inline(always)]
pub fn is_hot_open(dirfd: c_int, path: CPath, op: Op) -> bool {
    is_hot(dirfd, path, op) && (dirfd == libc::AT_FDCWD || path.is_null() || path.first() == b'/' || fds::flags(dirfd) == 0)
}

/// Whether a descriptor-based change (`fchmod`…) on `fd` is the kernel's business alone.
#[inline(always)]
pub fn fd_is_plain(fd: c_int) -> bool {
    fds::flags(fd) & fds::READ_ONLY == 0
}
