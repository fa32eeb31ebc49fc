//! `pthread_create`: in complete mode the new thread is armed before the program's routine
//! runs (the kernel does not pass syscall user dispatch on); otherwise libc's, untouched.

use super::table::real;
use super::types::*;
use crate::complete::clone;
use crate::sys::sud;

pub unsafe fn pthread_create(t: *mut libc::pthread_t, attr: *const libc::pthread_attr_t, f: *mut libc::c_void, arg: *mut libc::c_void) -> c_int {
    if !sud::armed() {
        return unsafe { real::pthread_create(t, attr, f, arg) };
    }
    let slot = clone::park(f as usize, arg as usize);
    let start = clone::thread_start as *const () as *mut libc::c_void;
    let r = unsafe { real::pthread_create(t, attr, start, slot as *mut libc::c_void) };
    if r != 0 {
        clone::unpark(slot);
    }
    r
}
