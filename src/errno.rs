//! Errors inside the library: a typed `Errno`, turned into `-1`/errno only at the exported edge
//! (`hooks/`), or into `-errno` by a caller below libc.

use libc::c_int;

/// A system error number.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub c_int);

/// What every fallible step inside the library returns.
pub type Res<T> = Result<T, Errno>;

macro_rules! names {
    ($($n:ident),* $(,)?) => {
        impl Errno {
            $(pub const $n: Errno = Errno(libc::$n);)*

            /// The symbolic name (`ENOENT`), for messages and tests.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $(libc::$n => stringify!($n),)*
                    _ => "E?",
                }
            }
        }
    };
}

names!(
    EPERM,
    ENOENT,
    EIO,
    EBADF,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENOSPC,
    EROFS,
    EOPNOTSUPP,
    ENAMETOOLONG,
    ENOSYS,
    ELOOP,
    ENOTEMPTY,
    E2BIG,
    ENOEXEC,
    ERANGE,
    ENXIO,
    ETXTBSY,
    ENODATA
);

impl std::fmt::Debug for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}
