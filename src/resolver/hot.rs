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
    let m = runtime::mode();
    if m != mode::TEST {
        return untested(m);
    }
    // NULL: the kernel's EFAULT.
    if path.is_null() {
        return true;
    }
    // With an overlay, every change goes through the view (see `Runtime::has_overlay`); the op
    // first: for a look, known when the shell is compiled, the test is gone.
    if op.writes() && op != Op::AccessW && runtime::overlaid() {
        return false;
    }
    let c = path.first();
    if c == b'/' {
        // Under no entry whatever follows if no entry starts with this first component: the
        // table of first bytes says so for most paths, with two bytes read (`/`, `//x`, `/./x`
        // always go on to the slow way).
        let c1 = path.at(1);
        let c2 = if c1 == 0 { 0 } else { path.at(2) };
        if !runtime::first_bytes_unindexed(c1, c2) && indexed(path) {
            return false;
        }
        return !path.has_dotdot() || dotdot_stays(path, false);
    }
    if c == 0 {
        // An empty path is the kernel's ENOENT, or (AT_EMPTY_PATH) the descriptor itself.
        return !op.writes() || if dirfd == libc::AT_FDCWD { cwd::is_plain() } else { fds::flags(dirfd) & fds::READ_ONLY == 0 };
    }
    if dirfd == libc::AT_FDCWD {
        if !cwd::is_plain() {
            return false;
        }
    } else {
        let f = fds::flags(dirfd);
        // A descriptor in an untouched overlay's lower tree: a look or a read from it is the
        // kernel's (the lower tree is the whole merged tree then).
        let plain_lower = f & fds::LOWER != 0 && !op.writes() && overlays_untouched();
        if (f & fds::ROUTE != 0 || (f & fds::READ_ONLY != 0 && op.writes())) && !plain_lower {
            return false;
        }
    }
    !path.has_dotdot() || (dirfd == libc::AT_FDCWD && dotdot_stays(path, true))
}

/// For a path with `..` that the test let through so far (an absolute path whose first
/// component is in no entry, or a path relative to a working directory under no entry and
/// above none): whether its `..` components never climb to where an entry could be (to `/`,
/// or above the working directory). Then every position the kernel's walk takes lexically is
/// under no entry, as for a path without `..`.
#[cold]
#[inline(never)]
fn dotdot_stays(path: CPath, relative: bool) -> bool {
    if let Some(answer) = path.dotdot_stays(relative) {
        return answer;
    }
    let min = i32::from(!relative);
    let (mut depth, mut i) = (0i32, 0usize);
    loop {
        while path.at(i) == b'/' {
            i += 1;
        }
        if path.at(i) == 0 {
            return true;
        }
        let start = i;
        while !matches!(path.at(i), 0 | b'/') {
            i += 1;
        }
        match i - start {
            1 if path.at(start) == b'.' => {}
            2 if path.at(start) == b'.' && path.at(start + 1) == b'.' => {
                depth -= 1;
                if depth < min {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
}

/// Whether every overlay of the stack is untouched (`sys::ovgen`): a look or a read relative
/// to a descriptor in a lower tree then finds what the kernel finds from it.
#[cold]
#[inline(never)]
fn overlays_untouched() -> bool {
    runtime::get().is_some_and(super::overlays_untouched)
}

/// Outside the test mode: every path passes (no view changes any), or none does.
#[cold]
#[inline(never)]
fn untested(m: u8) -> bool {
    m == mode::PASS
}

/// Whether some entry starts with the first component of the absolute `path` (the table said
/// it may), or the path is one the slow way must look at (`/`, `//x`, `/./x`).
#[cold]
#[inline(never)]
fn indexed(path: CPath) -> bool {
    let Some(index) = runtime::index() else {
        return true;
    };
    if index.overflows() || matches!(path.at(1), 0 | b'/' | b'.') {
        return true;
    }
    for f in index.firsts() {
        if path.first_component_is(f) {
            return true;
        }
    }
    false
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
