//! Flags and errno values in words, as a reader of a trace wants them (`O_WRONLY|O_CREAT`,
//! `ENOENT`), from fixed tables.

use libc::c_int;

/// The open flags of `flags`, access mode first; `out` gets at most 24 names.
pub fn open_flags(flags: c_int, out: &mut [&'static [u8]; 24]) -> usize {
    let mut n = 0;
    out[n] = match flags & libc::O_ACCMODE {
        libc::O_WRONLY => b"O_WRONLY",
        libc::O_RDWR => b"O_RDWR",
        libc::O_RDONLY => b"O_RDONLY",
        _ => b"O_ACCMODE",
    };
    n += 1;
    // O_TMPFILE includes O_DIRECTORY's bit, O_SYNC O_DSYNC's: the wider first, and what they
    // include not named again.
    let mut rest = flags & !libc::O_ACCMODE;
    const NAMES: [(c_int, &[u8]); 17] = [
        (libc::O_TMPFILE, b"O_TMPFILE"),
        (libc::O_SYNC, b"O_SYNC"),
        (libc::O_CREAT, b"O_CREAT"),
        (libc::O_EXCL, b"O_EXCL"),
        (libc::O_NOCTTY, b"O_NOCTTY"),
        (libc::O_TRUNC, b"O_TRUNC"),
        (libc::O_APPEND, b"O_APPEND"),
        (libc::O_NONBLOCK, b"O_NONBLOCK"),
        (libc::O_DSYNC, b"O_DSYNC"),
        (libc::O_DIRECT, b"O_DIRECT"),
        // The kernel's value (the libc crate says 0 on x86-64, where it is implied).
        (0o100000, b"O_LARGEFILE"),
        (libc::O_DIRECTORY, b"O_DIRECTORY"),
        (libc::O_NOFOLLOW, b"O_NOFOLLOW"),
        (libc::O_NOATIME, b"O_NOATIME"),
        (libc::O_CLOEXEC, b"O_CLOEXEC"),
        (libc::O_PATH, b"O_PATH"),
        (libc::O_ASYNC, b"O_ASYNC"),
    ];
    for (bit, name) in NAMES {
        if bit != 0 && rest & bit == bit && n < out.len() {
            out[n] = name;
            n += 1;
            rest &= !bit;
        }
    }
    n
}

/// The symbolic name of an errno value; `None` for one this table does not know (the caller
/// writes the number).
pub fn errno_name(e: c_int) -> Option<&'static str> {
    macro_rules! table {
        ($($n:ident),* $(,)?) => {
            match e {
                $(libc::$n => Some(stringify!($n)),)*
                _ => None,
            }
        };
    }
    table!(
        EPERM,
        ENOENT,
        ESRCH,
        EINTR,
        EIO,
        ENXIO,
        E2BIG,
        ENOEXEC,
        EBADF,
        ECHILD,
        EAGAIN,
        ENOMEM,
        EACCES,
        EFAULT,
        ENOTBLK,
        EBUSY,
        EEXIST,
        EXDEV,
        ENODEV,
        ENOTDIR,
        EISDIR,
        EINVAL,
        ENFILE,
        EMFILE,
        ENOTTY,
        ETXTBSY,
        EFBIG,
        ENOSPC,
        ESPIPE,
        EROFS,
        EMLINK,
        EPIPE,
        EDOM,
        ERANGE,
        EDEADLK,
        ENAMETOOLONG,
        ENOLCK,
        ENOSYS,
        ENOTEMPTY,
        ELOOP,
        ENOMSG,
        EIDRM,
        ENODATA,
        ETIME,
        ENOLINK,
        EPROTO,
        EOVERFLOW,
        EBADFD,
        EILSEQ,
        ENOTSOCK,
        EDESTADDRREQ,
        EMSGSIZE,
        EPROTOTYPE,
        ENOPROTOOPT,
        EPROTONOSUPPORT,
        EOPNOTSUPP,
        EAFNOSUPPORT,
        EADDRINUSE,
        EADDRNOTAVAIL,
        ENETDOWN,
        ENETUNREACH,
        ECONNABORTED,
        ECONNRESET,
        ENOBUFS,
        EISCONN,
        ENOTCONN,
        ETIMEDOUT,
        ECONNREFUSED,
        EHOSTUNREACH,
        EALREADY,
        EINPROGRESS,
        ESTALE,
        EDQUOT,
        ECANCELED,
        EOWNERDEAD,
        ENOTRECOVERABLE,
        ENOMEDIUM,
        EMEDIUMTYPE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(flags: c_int) -> String {
        let mut out = [&b""[..]; 24];
        let n = open_flags(flags, &mut out);
        out[..n].iter().map(|w| std::str::from_utf8(w).unwrap()).collect::<Vec<_>>().join("|")
    }

    #[test]
    fn open_flags_in_words() {
        assert_eq!(words(libc::O_RDONLY), "O_RDONLY");
        assert_eq!(words(libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC), "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
        assert_eq!(words(libc::O_RDWR | libc::O_TMPFILE), "O_RDWR|O_TMPFILE");
        assert_eq!(words(libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW), "O_RDONLY|O_DIRECTORY|O_NOFOLLOW");
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(libc::ENOENT), Some("ENOENT"));
        assert_eq!(errno_name(libc::EXDEV), Some("EXDEV"));
        assert_eq!(errno_name(4000), None);
    }
}
