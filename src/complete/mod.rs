//! Complete mode: the system calls a program makes without libc (Go's runtime, inline `syscall`
//! instructions, the loader) go through the same view as the ones the hooks see.
//!
//! ```text
//! raw `syscall` ─► kernel (syscall user dispatch) ─► SIGSYS ─► hooks::trap ─► hooks::syscall's
//!                                                                              dispatch ─► …
//! ```
//!
//! - `hooks::trap`: the `SIGSYS` handler, the shell of raw calls: decodes the registers, runs
//!   the call through the hooks' dispatch (every mount kind and facet applies unchanged) and
//!   writes the result back.
//! - [`clone`]: processes and threads stay armed: a trapped `clone`/`fork`/`vfork`, and the
//!   libc ways of making threads (`pthread_create`, `clone()`), whose child starts unarmed.
//! - [`signals`]: `SIGSYS` stays ours and unblocked whatever the program does with signals; the
//!   program's own `SIGSYS` handler is kept aside and called for what is not a trap.
//! - `sys::sud`: the kernel interface, and the library's own calls kept exempt.
//!
//! Armed in the constructor when the stack asks for it (`complete=on`, or `complete=auto` and
//! the program is a Go program), again in every thread and child, and by every new program
//! (the kernel disarms at exec).
#![allow(unsafe_code)]

pub mod clone;
pub mod signals;

use crate::runtime::Runtime;
use crate::sys::{self, sud, symbols};
use kmview_api::CompleteMode;

/// Arms complete mode in this process if its stack asks for it (from the constructor: one
/// thread, before `main`). A kernel that cannot arms nothing: the program is stopped rather
/// than run with calls the view would not see.
pub fn start(rt: &Runtime, handler: usize) {
    let wanted = match rt.complete {
        Some(CompleteMode::On) => true,
        Some(CompleteMode::Auto) => is_go_program(),
        None => false,
    };
    if !wanted {
        return;
    }
    let Some((syscall_fn, lo, len)) = libc_text() else {
        refuse(b"libc's code could not be found");
    };
    sud::prepare(syscall_fn, lo, len);
    if let symbols::Found::At(vfork) = symbols::lookup_next(b"vfork") {
        if (lo..lo + len).contains(&vfork) {
            sud::find_vfork(vfork);
        }
    }
    if !signals::install(handler) {
        refuse(b"its SIGSYS handler could not be installed");
    }
    if sud::arm_thread().is_err() {
        refuse(b"the kernel refused syscall user dispatch (Linux 5.11 or later is needed)");
    }
    // libc's own forks (`daemon`, …) call no hook: their children are armed here.
    // SAFETY: registering a handler that only arms the calling thread.
    unsafe { libc::pthread_atfork(None, None, Some(arm_child)) };
}

extern "C" fn arm_child() {
    arm_or_die();
}

/// Arms the calling thread of an armed process (a new thread, a fork child): its calls would
/// otherwise leave the view, so a failure ends the process.
pub fn arm_or_die() {
    if sud::armed() && sud::arm_thread().is_err() {
        refuse(b"a new thread could not be armed");
    }
}

fn refuse(why: &[u8]) -> ! {
    sys::write_stderr(&[b"kmview: --complete: ", why, b"; stopping rather than run outside the view\n"]);
    sys::raw::exit_group(125)
}

/// libc's `syscall()` and the executable segment holding it.
fn libc_text() -> Option<(usize, usize, usize)> {
    let symbols::Found::At(addr) = symbols::lookup_next(b"syscall") else { return None };
    let mut found = (addr, 0usize, 0usize);
    // SAFETY: dl_iterate_phdr calls back with valid headers; the callback only reads them.
    unsafe { libc::dl_iterate_phdr(Some(segment_of), (&mut found as *mut (usize, usize, usize)).cast()) };
    (found.2 != 0).then_some(found)
}

/// `dl_iterate_phdr` callback: the executable `PT_LOAD` that holds `data.0`, into `data.1..`.
unsafe extern "C" fn segment_of(info: *mut libc::dl_phdr_info, _size: usize, data: *mut libc::c_void) -> libc::c_int {
    // SAFETY: per dl_iterate_phdr's contract; `data` is the caller's tuple.
    unsafe {
        let found = &mut *data.cast::<(usize, usize, usize)>();
        let info = &*info;
        for i in 0..info.dlpi_phnum as usize {
            let ph = &*info.dlpi_phdr.add(i);
            if ph.p_type != libc::PT_LOAD || ph.p_flags & libc::PF_X == 0 {
                continue;
            }
            let lo = info.dlpi_addr as usize + ph.p_vaddr as usize;
            let len = ph.p_memsz as usize;
            if (lo..lo + len).contains(&found.0) {
                found.1 = lo;
                found.2 = len;
                return 1;
            }
        }
    }
    0
}

/// Whether the main program is a Go program (its `Go` build-id note, read from its program
/// headers in memory): the programs `complete=auto` arms.
fn is_go_program() -> bool {
    let mut found = false;
    // SAFETY: dl_iterate_phdr calls back with valid headers; the callback only reads them.
    unsafe { libc::dl_iterate_phdr(Some(main_has_go_note), (&mut found as *mut bool).cast()) };
    found
}

/// `dl_iterate_phdr` callback: the first object is the main program; its `PT_NOTE` segments
/// (mapped, at the load bias the loader reports) are searched.
unsafe extern "C" fn main_has_go_note(info: *mut libc::dl_phdr_info, _size: usize, data: *mut libc::c_void) -> libc::c_int {
    // SAFETY: per dl_iterate_phdr's contract; `data` is the caller's flag; a PT_NOTE segment
    // of a loaded object is mapped readable for its whole size.
    unsafe {
        let info = &*info;
        for i in 0..info.dlpi_phnum as usize {
            let ph = &*info.dlpi_phdr.add(i);
            if ph.p_type == libc::PT_NOTE {
                let at = (info.dlpi_addr as usize).wrapping_add(ph.p_vaddr as usize) as *const u8;
                if has_go_note(std::slice::from_raw_parts(at, ph.p_memsz as usize)) {
                    *data.cast::<bool>() = true;
                }
            }
        }
    }
    1
}

/// Whether a note segment holds the Go toolchain's build id (owner `Go`, type 4).
fn has_go_note(mut notes: &[u8]) -> bool {
    let word = |b: &[u8], at: usize| b.get(at..at + 4).map_or(0, |w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]) as usize);
    while notes.len() >= 12 {
        let (namesz, descsz, kind) = (word(notes, 0), word(notes, 4), word(notes, 8));
        let name_end = 12 + namesz;
        let next = 12 + namesz.next_multiple_of(4) + descsz.next_multiple_of(4);
        if notes.get(12..name_end).is_some_and(|n| n == b"Go\0" || n == b"Go\0\0") && kind == 4 {
            return true;
        }
        match notes.get(next..) {
            Some(rest) if next > 12 => notes = rest,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_notes_are_told_from_others() {
        let note = |name: &[u8], kind: u32, desc: &[u8]| {
            let mut v = Vec::new();
            v.extend((name.len() as u32).to_ne_bytes());
            v.extend((desc.len() as u32).to_ne_bytes());
            v.extend(kind.to_ne_bytes());
            v.extend(name);
            v.resize(v.len().next_multiple_of(4), 0);
            v.extend(desc);
            v.resize(v.len().next_multiple_of(4), 0);
            v
        };
        let gnu = note(b"GNU\0", 3, &[1; 20]);
        let go = note(b"Go\0\0", 4, b"abc/def");
        assert!(!super::has_go_note(&gnu));
        assert!(super::has_go_note(&[gnu.clone(), go.clone()].concat()));
        assert!(!super::has_go_note(&note(b"Go\0", 1, b"x")));
        assert!(!super::has_go_note(&go[..10]));
    }
}
