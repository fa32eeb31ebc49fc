//! Identity. No view in this stack changes it yet (the fakeroot facet will): every call passes
//! to libc as it is, through a shell that is a load and a jump.

use super::types::*;
use crate::real;
use libc::{gid_t, uid_t};

pub unsafe fn getuid() -> uid_t { unsafe { real::getuid() } }
pub unsafe fn geteuid() -> uid_t { unsafe { real::geteuid() } }
pub unsafe fn getgid() -> gid_t { unsafe { real::getgid() } }
pub unsafe fn getegid() -> gid_t { unsafe { real::getegid() } }
pub unsafe fn getresuid(r: *mut uid_t, e: *mut uid_t, s: *mut uid_t) -> c_int { unsafe { real::getresuid(r, e, s) } }
pub unsafe fn getresgid(r: *mut gid_t, e: *mut gid_t, s: *mut gid_t) -> c_int { unsafe { real::getresgid(r, e, s) } }
pub unsafe fn setuid(u: uid_t) -> c_int { unsafe { real::setuid(u) } }
pub unsafe fn seteuid(u: uid_t) -> c_int { unsafe { real::seteuid(u) } }
pub unsafe fn setreuid(r: uid_t, e: uid_t) -> c_int { unsafe { real::setreuid(r, e) } }
pub unsafe fn setresuid(r: uid_t, e: uid_t, s: uid_t) -> c_int { unsafe { real::setresuid(r, e, s) } }
pub unsafe fn setgid(g: gid_t) -> c_int { unsafe { real::setgid(g) } }
pub unsafe fn setegid(g: gid_t) -> c_int { unsafe { real::setegid(g) } }
pub unsafe fn setregid(r: gid_t, e: gid_t) -> c_int { unsafe { real::setregid(r, e) } }
pub unsafe fn setresgid(r: gid_t, e: gid_t, s: gid_t) -> c_int { unsafe { real::setresgid(r, e, s) } }
pub unsafe fn setgroups(n: size_t, list: *const gid_t) -> c_int { unsafe { real::setgroups(n, list) } }
pub unsafe fn getgroups(n: c_int, list: *mut gid_t) -> c_int { unsafe { real::getgroups(n, list) } }
