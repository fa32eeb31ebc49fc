//! `getuid` & co. and `set*id` under a fake root: answered from, and made on, the process's
//! fake identity (`state::identity`); libc's own without one. A `set*id` changes only what the
//! view shows: the real process keeps the real user's rights.

use super::done;
use super::table::real;
use super::types::*;
use crate::state::identity::{self as ids, EFFECTIVE, REAL, SAVED};

fn fake() -> bool {
    super::fakeroot::on()
}

/// The fake identity's answer under a fake root, else libc's own.
macro_rules! fake_or_libc {
    ($fake:expr, $libc:expr) => {
        if fake() {
            $fake
        } else {
            unsafe { $libc }
        }
    };
}

pub unsafe fn getuid() -> libc::uid_t {
    fake_or_libc!(ids::uid(REAL), real::getuid())
}

pub unsafe fn geteuid() -> libc::uid_t {
    fake_or_libc!(ids::uid(EFFECTIVE), real::geteuid())
}

pub unsafe fn getgid() -> libc::gid_t {
    fake_or_libc!(ids::gid(REAL), real::getgid())
}

pub unsafe fn getegid() -> libc::gid_t {
    fake_or_libc!(ids::gid(EFFECTIVE), real::getegid())
}

/// Writes three ids where the caller asked (`EFAULT` for a NULL pointer, as the kernel).
unsafe fn three(out: [*mut u32; 3], v: [u32; 3]) -> c_int {
    if out.iter().any(|p| p.is_null()) {
        return super::fail(crate::errno::Errno::EFAULT);
    }
    for (p, v) in out.into_iter().zip(v) {
        // SAFETY: the caller's pointers, checked non-NULL.
        unsafe { *p = v };
    }
    0
}

pub unsafe fn getresuid(r: *mut libc::uid_t, e: *mut libc::uid_t, s: *mut libc::uid_t) -> c_int {
    if !fake() {
        return unsafe { real::getresuid(r, e, s) };
    }
    unsafe { three([r, e, s], [ids::uid(REAL), ids::uid(EFFECTIVE), ids::uid(SAVED)]) }
}

pub unsafe fn getresgid(r: *mut libc::gid_t, e: *mut libc::gid_t, s: *mut libc::gid_t) -> c_int {
    if !fake() {
        return unsafe { real::getresgid(r, e, s) };
    }
    unsafe { three([r, e, s], [ids::gid(REAL), ids::gid(EFFECTIVE), ids::gid(SAVED)]) }
}

pub unsafe fn getgroups(n: c_int, list: *mut libc::gid_t) -> c_int {
    if !fake() {
        return unsafe { real::getgroups(n, list) };
    }
    let mut all = [0u32; kmview_api::env::MAX_GROUPS];
    let count = ids::groups(&mut all);
    if n == 0 {
        return count as c_int;
    }
    if n < 0 || (n as usize) < count {
        return super::fail(crate::errno::Errno::EINVAL);
    }
    for (i, g) in all[..count].iter().enumerate() {
        // SAFETY: the caller's array of `n` >= `count` entries.
        unsafe { *list.add(i) = *g };
    }
    count as c_int
}

pub unsafe fn setgroups(n: size_t, list: *const libc::gid_t) -> c_int {
    if !fake() {
        return unsafe { real::setgroups(n, list) };
    }
    // The kernel's order: privilege first, then the count.
    if ids::uid(EFFECTIVE) != 0 {
        return super::fail(crate::errno::Errno::EPERM);
    }
    if n > kmview_api::env::MAX_GROUPS {
        return super::fail(crate::errno::Errno::EINVAL);
    }
    let mut all = [0u32; kmview_api::env::MAX_GROUPS];
    for (i, g) in all[..n].iter_mut().enumerate() {
        // SAFETY: the caller's array of `n` entries.
        *g = unsafe { *list.add(i) };
    }
    done(ids::setgroups(&all[..n]))
}

pub unsafe fn setuid(u: libc::uid_t) -> c_int {
    fake_or_libc!(done(ids::setuid(u)), real::setuid(u))
}

pub unsafe fn seteuid(u: libc::uid_t) -> c_int {
    fake_or_libc!(done(ids::seteuid(u)), real::seteuid(u))
}

pub unsafe fn setreuid(r: libc::uid_t, e: libc::uid_t) -> c_int {
    fake_or_libc!(done(ids::setreuid(r, e)), real::setreuid(r, e))
}

pub unsafe fn setresuid(r: libc::uid_t, e: libc::uid_t, s: libc::uid_t) -> c_int {
    fake_or_libc!(done(ids::setresuid(r, e, s)), real::setresuid(r, e, s))
}

pub unsafe fn setgid(g: libc::gid_t) -> c_int {
    fake_or_libc!(done(ids::setgid(g)), real::setgid(g))
}

pub unsafe fn setegid(g: libc::gid_t) -> c_int {
    fake_or_libc!(done(ids::setegid(g)), real::setegid(g))
}

pub unsafe fn setregid(r: libc::gid_t, e: libc::gid_t) -> c_int {
    fake_or_libc!(done(ids::setregid(r, e)), real::setregid(r, e))
}

pub unsafe fn setresgid(r: libc::gid_t, e: libc::gid_t, s: libc::gid_t) -> c_int {
    fake_or_libc!(done(ids::setresgid(r, e, s)), real::setresgid(r, e, s))
}

pub unsafe fn setfsuid(u: libc::uid_t) -> c_int {
    fake_or_libc!(ids::setfsuid(u) as c_int, real::setfsuid(u))
}

pub unsafe fn setfsgid(g: libc::gid_t) -> c_int {
    fake_or_libc!(ids::setfsgid(g) as c_int, real::setfsgid(g))
}

/// `initgroups`: under a fake root, the group given (the user database is the view's files,
/// which a program reads itself; a build needs no more).
pub unsafe fn initgroups(user: CStrP, g: libc::gid_t) -> c_int {
    fake_or_libc!(done(ids::setgroups(&[g])), real::initgroups(user, g))
}

/// The capability sets' versions whose data is two 32-bit words per set (else one).
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;
/// Every capability of this kernel generation (0 to 40), in two words.
const ALL_CAPS: [u32; 2] = [u32::MAX, (1 << (40 + 1 - 32)) - 1];

fn fake_root() -> bool {
    fake() && ids::uid(EFFECTIVE) == 0
}

/// `capget`: a fake root has every capability (effective and permitted), as root does; the
/// kernel checks the header and fills the rest.
pub unsafe fn capget(hdr: *mut libc::c_void, data: *mut libc::c_void) -> c_int {
    // SAFETY: the caller's arguments.
    let r = unsafe { real::capget(hdr, data) };
    if r != 0 || data.is_null() || !fake_root() {
        return r;
    }
    // SAFETY: the kernel accepted the header: a version word first.
    let words = if matches!(unsafe { *hdr.cast::<u32>() }, CAP_V2 | CAP_V3) { 2 } else { 1 };
    let sets = data.cast::<[u32; 3]>();
    for (i, all) in ALL_CAPS.iter().enumerate().take(words) {
        // SAFETY: `words` sets of effective, permitted, inheritable, as the kernel just wrote.
        unsafe {
            (*sets.add(i))[0] = *all;
            (*sets.add(i))[1] = *all;
        }
    }
    0
}

/// `capset`: a fake root may set any capability (in the view, nothing changes for real).
pub unsafe fn capset(hdr: *mut libc::c_void, data: *const libc::c_void) -> c_int {
    if fake_root() && !hdr.is_null() && !data.is_null() {
        return 0;
    }
    // SAFETY: the caller's arguments.
    unsafe { real::capset(hdr, data) }
}
