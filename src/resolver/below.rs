//! What the resolver asks of the world beneath the outermost view: read a link, look at a file,
//! the kernel's working directory. In preload mode that is the kernel through raw system calls
//! (`sys/fs.rs`); in complete mode it will be the same from a SIGSYS handler; in unit tests, an
//! in-memory tree. The resolver never calls libc itself.

use crate::errno::Res;
use crate::sys::PBuf;
use libc::c_int;

/// The identity and type of a file, as `stat` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
}

impl FileId {
    pub fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.kind() == libc::S_IFDIR
    }

    pub fn is_reg(&self) -> bool {
        self.kind() == libc::S_IFREG
    }

    pub fn is_link(&self) -> bool {
        self.kind() == libc::S_IFLNK
    }

    /// The same file (device and inode).
    pub fn same(&self, other: &FileId) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

pub trait Below {
    /// The target of the symlink at `path` (from `dirfd`) into `out`, its length; `EINVAL` if
    /// it is not one, `ENAMETOOLONG` if it does not fit.
    fn readlink(&self, dirfd: c_int, path: &PBuf, out: &mut [u8]) -> Res<usize>;
    /// `stat` (`follow`) or `lstat` of `path` from `dirfd`.
    fn stat(&self, dirfd: c_int, path: &PBuf, follow: bool) -> Res<FileId>;
    /// `fstat` of a descriptor.
    fn fstat(&self, fd: c_int) -> Res<FileId>;
    /// The kernel's working directory.
    fn getcwd(&self, out: &mut PBuf) -> Res<()>;
    /// A descriptor's status flags (`F_GETFL`).
    fn fd_flags(&self, fd: c_int) -> Res<c_int>;
    /// This process's id.
    fn pid(&self) -> i32;
    /// Calls `f` with every descriptor this process has open (none if that cannot be known).
    fn each_open_fd(&self, f: &mut dyn FnMut(c_int));
}

/// [`Below::readlink`] into a path buffer.
pub fn readlink_into<B: Below>(b: &B, dirfd: c_int, path: &PBuf, out: &mut PBuf) -> Res<()> {
    out.fill_with(|buf| b.readlink(dirfd, path, buf))
}

/// An in-memory tree for the resolver's unit tests: the kernel's answers for a few paths.
#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::errno::Errno;
    use std::collections::BTreeMap;

    /// Paths (absolute, canonical) to what lies there: `dir`, `file`, `fifo`, `link:TARGET`.
    pub struct Tree {
        nodes: BTreeMap<Vec<u8>, (String, u64)>,
        pub cwd: Vec<u8>,
        pub pid: i32,
    }

    impl Tree {
        pub fn new(nodes: &[(&str, &str)]) -> Tree {
            let mut map = BTreeMap::new();
            map.insert(b"/".to_vec(), ("dir".to_string(), 1));
            for (i, (p, k)) in nodes.iter().enumerate() {
                map.insert(p.as_bytes().to_vec(), (k.to_string(), i as u64 + 2));
            }
            Tree { nodes: map, cwd: b"/".to_vec(), pid: 4242 }
        }

        /// Resolves `path` as the kernel would: the canonical path of what it names.
        pub fn resolve(&self, path: &[u8], follow: bool, depth: u32) -> Res<Vec<u8>> {
            if depth > 40 {
                return Err(Errno::ELOOP);
            }
            let abs = if path.first() == Some(&b'/') { path.to_vec() } else { [self.cwd.as_slice(), b"/", path].concat() };
            let comps: Vec<&[u8]> = abs.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".").collect();
            let mut cur: Vec<u8> = b"/".to_vec();
            for (i, c) in comps.iter().enumerate() {
                let last = i + 1 == comps.len();
                if !self.kind(&cur).is_some_and(|k| k == "dir") {
                    return Err(if self.kind(&cur).is_some() { Errno::ENOTDIR } else { Errno::ENOENT });
                }
                if *c == b".." {
                    let cut = cur.iter().rposition(|&b| b == b'/').unwrap_or(0);
                    cur.truncate(cut.max(1));
                    continue;
                }
                let mut next = if cur == b"/" { Vec::new() } else { cur.clone() };
                next.push(b'/');
                next.extend_from_slice(c);
                match self.kind(&next) {
                    None => {
                        if last {
                            return Err(Errno::ENOENT);
                        }
                        return Err(Errno::ENOENT);
                    }
                    Some(k) if k.starts_with("link:") && (!last || follow) => {
                        let target = k["link:".len()..].as_bytes();
                        let base = if target.first() == Some(&b'/') { target.to_vec() } else { [cur.as_slice(), b"/", target].concat() };
                        cur = self.resolve(&base, true, depth + 1)?;
                    }
                    Some(_) => cur = next,
                }
            }
            if path.len() > 1 && path.ends_with(b"/") && !self.kind(&cur).is_some_and(|k| k == "dir") {
                return Err(Errno::ENOTDIR);
            }
            Ok(cur)
        }

        fn kind(&self, p: &[u8]) -> Option<&str> {
            self.nodes.get(p).map(|(k, _)| k.as_str())
        }
    }

    impl Below for Tree {
        fn readlink(&self, _dirfd: c_int, path: &PBuf, out: &mut [u8]) -> Res<usize> {
            let parent = crate::path::parent(path.as_bytes());
            let dir = self.resolve(parent, true, 0)?;
            let mut full = if dir == b"/" { Vec::new() } else { dir };
            full.push(b'/');
            full.extend_from_slice(crate::path::base_name(path.as_bytes()));
            match self.kind(&full) {
                Some(k) if k.starts_with("link:") => {
                    let t = &k.as_bytes()["link:".len()..];
                    out[..t.len()].copy_from_slice(t);
                    Ok(t.len())
                }
                Some(_) => Err(Errno::EINVAL),
                None => Err(Errno::ENOENT),
            }
        }

        fn stat(&self, _dirfd: c_int, path: &PBuf, follow: bool) -> Res<FileId> {
            let p = self.resolve(path.as_bytes(), follow, 0)?;
            let (k, ino) = self.nodes.get(&p).ok_or(Errno::ENOENT)?;
            let mode = match k.as_str() {
                "dir" => libc::S_IFDIR,
                "file" => libc::S_IFREG,
                "fifo" => libc::S_IFIFO,
                _ => libc::S_IFLNK,
            };
            Ok(FileId { dev: 1, ino: *ino, mode })
        }

        fn fstat(&self, _fd: c_int) -> Res<FileId> {
            Err(Errno::EBADF)
        }

        fn getcwd(&self, out: &mut PBuf) -> Res<()> {
            out.set(&self.cwd)
        }

        fn fd_flags(&self, _fd: c_int) -> Res<c_int> {
            Err(Errno::EBADF)
        }

        fn pid(&self) -> i32 {
            self.pid
        }

        fn each_open_fd(&self, _f: &mut dyn FnMut(c_int)) {}
    }
}
