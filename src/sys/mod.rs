//! Small safe wrappers over the real calls the library makes for itself (reading a link,
//! the real working directory, errno, a line on stderr). Part of the FFI edge.
//!
//! The library never calls a hooked libc function by name: inside this object, `open` would
//! bind to our own export. Everything goes through [`crate::real`].

mod pbuf;
pub mod scan;
pub mod symbols;

pub use pbuf::{PBuf, CAP};
use crate::real;
use libc::c_int;

/// The calling thread's errno.
#[inline]
pub fn errno() -> c_int {
    // SAFETY: __errno_location always returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

#[inline]
pub fn set_errno(e: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = e }
}

/// `dlsym(RTLD_NEXT, name)`; `name` ends with NUL.
pub fn dlsym_next(name: &str) -> Option<usize> {
    debug_assert!(name.ends_with('\0'));
    // SAFETY: name is NUL-terminated; dlsym only reads it.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast()) };
    (!p.is_null()).then_some(p as usize)
}

/// Writes all of `parts` to stderr, unbuffered, allocation-free.
pub fn write_stderr(parts: &[&[u8]]) {
    for part in parts {
        let mut rest = *part;
        while !rest.is_empty() {
            // SAFETY: rest is a valid slice.
            let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
            if n <= 0 {
                return;
            }
            rest = &rest[n as usize..];
        }
    }
}

/// The symlink target stored at `path` (a host path), into `out`; `Err(errno)` if `path` is
/// not a link (`EINVAL`) or cannot be read.
pub fn readlink(path: &PBuf, out: &mut PBuf) -> Result<(), c_int> {
    let cap = out.capacity();
    // SAFETY: path is NUL-terminated; out has room for cap bytes.
    let n = unsafe { real::readlink(path.as_cptr(), out.as_mut_ptr().cast(), cap) };
    if n < 0 {
        return Err(errno());
    }
    if n as usize >= cap {
        return Err(libc::ENAMETOOLONG);
    }
    out.set_len(n as usize);
    Ok(())
}

/// The kernel's (host) working directory, into `out`.
pub fn host_getcwd(out: &mut PBuf) -> Result<(), c_int> {
    let cap = out.capacity();
    // SAFETY: out has room for cap bytes; getcwd NUL-terminates on success.
    let p = unsafe { real::getcwd(out.as_mut_ptr().cast(), cap) };
    if p.is_null() {
        return Err(errno());
    }
    // SAFETY: getcwd succeeded, so out holds a NUL-terminated string.
    let len = unsafe { libc::strlen(out.as_mut_ptr().cast()) };
    out.set_len(len);
    Ok(())
}

/// `lstat` (or `stat` with `follow`) on a host path: (dev, ino, mode).
pub fn host_stat(path: &PBuf, follow: bool) -> Result<(u64, u64, u32), c_int> {
    // SAFETY: zeroed stat is a valid out-parameter; path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let r = unsafe {
        if follow {
            real::stat(path.as_cptr(), &mut st)
        } else {
            real::lstat(path.as_cptr(), &mut st)
        }
    };
    if r < 0 {
        return Err(errno());
    }
    Ok((st.st_dev, st.st_ino, st.st_mode))
}

/// Opens a host path read-only and reads up to `out.len()` bytes from its start (exec reads
/// the `#!` line this way). Returns the count read.
pub fn host_read_head(path: &PBuf, out: &mut [u8]) -> Result<usize, c_int> {
    // SAFETY: path is NUL-terminated; out is a valid buffer.
    let fd = unsafe { real::open(path.as_cptr(), libc::O_RDONLY | libc::O_CLOEXEC, 0) };
    if fd < 0 {
        return Err(errno());
    }
    let n = unsafe { libc::read(fd, out.as_mut_ptr().cast(), out.len()) };
    let e = errno();
    unsafe { real::close(fd) };
    if n < 0 {
        return Err(e);
    }
    Ok(n as usize)
}

/// The process id, without libc's cache games.
pub fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// Ends the process at once with `code` (the fail-closed exit).
pub fn exit_now(code: c_int) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// `getenv`, for the library's own start-up (the value is copied before anything can change it).
pub fn getenv(name_nul: &[u8]) -> Option<&'static [u8]> {
    debug_assert!(name_nul.ends_with(b"\0"));
    // SAFETY: name is NUL-terminated; getenv returns NULL or a NUL-terminated string that lives
    // in the environment, which the library reads at load before the program can change it.
    unsafe {
        let p = libc::getenv(name_nul.as_ptr().cast());
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_bytes())
    }
}

/// This library's own absolute path (what `LD_PRELOAD` must name in every child).
pub fn own_path() -> Vec<u8> {
    // SAFETY: dladdr fills info for an address inside this object; dli_fname then points to
    // the loader's NUL-terminated copy of the object's path.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(own_path as *const libc::c_void, &mut info) == 0 || info.dli_fname.is_null() {
            return b"libkmview.so".to_vec();
        }
        // The launcher preloads it by an absolute, canonical path; only another name needs work.
        if *info.dli_fname == b'/' as libc::c_char {
            return std::ffi::CStr::from_ptr(info.dli_fname).to_bytes().to_vec();
        }
        let mut resolved = [0u8; libc::PATH_MAX as usize + 1];
        if !real::realpath(info.dli_fname, resolved.as_mut_ptr().cast()).is_null() {
            return std::ffi::CStr::from_ptr(resolved.as_ptr().cast()).to_bytes().to_vec();
        }
        std::ffi::CStr::from_ptr(info.dli_fname).to_bytes().to_vec()
    }
}

/// `fstat` of a descriptor: (dev, ino, mode).
pub fn fd_stat(fd: c_int) -> Result<(u64, u64, u32), c_int> {
    // SAFETY: zeroed stat is a valid out-parameter; libc's own fstat, not the hook.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { real::fstat(fd, &mut st) } < 0 {
        return Err(errno());
    }
    Ok((st.st_dev, st.st_ino, st.st_mode))
}

/// The process whose memory this is: set at load and in the child of every `fork`. A `vfork`
/// child (or a `clone` sharing memory) runs in its parent's memory under another pid: it must not
/// change the parent's view state (its working directory, its descriptor names).
static OWNER: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Records this process as the owner of its memory (at load, and in a forked child).
pub fn claim_memory() {
    OWNER.store(getpid(), std::sync::atomic::Ordering::Relaxed);
}

/// Whether this process may change the view state kept in memory: false in a `vfork` child.
pub fn owns_memory() -> bool {
    let owner = OWNER.load(std::sync::atomic::Ordering::Relaxed);
    owner == 0 || owner == getpid()
}
