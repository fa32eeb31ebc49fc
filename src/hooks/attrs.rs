//! The small functions the table's attributes are written with (`follow={follows_at(flags)}`).

pub use crate::resolver::Call;
use crate::views::Op;
use libc::c_int;

/// Whether an `*at` call with these flags follows a symlink in the last component.
#[inline(always)]
pub fn follows_at(flags: c_int) -> bool {
    flags & libc::AT_SYMLINK_NOFOLLOW == 0
}

/// Whether an empty path names the descriptor itself.
#[inline(always)]
pub fn empty_path(flags: c_int) -> bool {
    flags & libc::AT_EMPTY_PATH != 0
}

/// `access` with `W_OK` asks about writing: on a read-only mount the kernel answers `EROFS`.
#[inline(always)]
pub fn access_op(mode: c_int) -> Op {
    if mode & libc::W_OK != 0 {
        Op::AccessW
    } else {
        Op::Look
    }
}
