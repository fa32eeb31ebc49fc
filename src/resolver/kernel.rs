//! The resolver's `Below` in preload mode: the kernel, through raw system calls.

use super::below::{Below, FileId};
use crate::errno::Res;
use crate::sys::raw;
use crate::sys::PBuf;
use libc::c_int;

/// The kernel beneath the outermost view.
pub struct Kernel;

fn id(st: &libc::stat) -> FileId {
    FileId { dev: st.st_dev, ino: st.st_ino, mode: st.st_mode }
}

impl Below for Kernel {
    fn readlink(&self, dirfd: c_int, path: &PBuf, out: &mut [u8]) -> Res<usize> {
        raw::readlinkat(dirfd, path, out)
    }

    fn stat(&self, dirfd: c_int, path: &PBuf, follow: bool) -> Res<FileId> {
        let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
        raw::fstatat(dirfd, path, flags).map(|st| id(&st))
    }

    fn fstat(&self, fd: c_int) -> Res<FileId> {
        raw::fstat(fd).map(|st| id(&st))
    }

    fn getcwd(&self, out: &mut PBuf) -> Res<()> {
        raw::getcwd(out)
    }

    fn fd_flags(&self, fd: c_int) -> Res<c_int> {
        raw::fcntl(fd, libc::F_GETFL)
    }

    fn pid(&self) -> i32 {
        raw::getpid()
    }

    fn each_open_fd(&self, f: &mut dyn FnMut(c_int)) {
        let Ok(dir) = crate::sys::pool::copy_of(b"/proc/self/fd") else {
            return;
        };
        let Ok(d) = raw::openat(libc::AT_FDCWD, &dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) else {
            return;
        };
        let mut buf = [0u8; 2048];
        while let Ok(n) = raw::getdents64(d, &mut buf) {
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at + 19 < n {
                // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
                let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                if reclen == 0 {
                    break;
                }
                let name = &buf[at + 19..(at + reclen).min(n)];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if let Some(fd) = crate::path::parse_decimal(name) {
                    if fd != d {
                        f(fd);
                    }
                }
                at += reclen;
            }
        }
        raw::close(d);
    }
}
