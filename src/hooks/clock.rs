//! Time and host names. No view in this stack changes them yet (the `time` and `uname` facets
//! will): every call passes to libc as it is.

use super::types::*;
use crate::real;

pub unsafe fn time(t: *mut libc::time_t) -> libc::time_t { unsafe { real::time(t) } }
pub unsafe fn gettimeofday(tv: *mut libc::timeval, tz: *mut libc::c_void) -> c_int { unsafe { real::gettimeofday(tv, tz) } }
pub unsafe fn clock_gettime(clk: libc::clockid_t, ts: *mut libc::timespec) -> c_int { unsafe { real::clock_gettime(clk, ts) } }
pub unsafe fn uname(buf: *mut libc::utsname) -> c_int { unsafe { real::uname(buf) } }
pub unsafe fn gethostname(name: *mut c_char, len: size_t) -> c_int { unsafe { real::gethostname(name, len) } }
pub unsafe fn sethostname(name: CStrP, len: size_t) -> c_int { unsafe { real::sethostname(name, len) } }
