//! `libkmview.so`: loaded with `LD_PRELOAD`, it gives a process and every process it starts
//! its own view of the file system.
//!
//! The way a call travels (see ARCHITECTURE.md):
//!
//! ```text
//! program ─► hooks/ ─► resolver/ ─► views/ (innermost … outermost) ─► below (sys/) ─► kernel
//! ```
//!
//! - [`hooks`]: the exported shells, generated from one annotated table (`hooks/table.in`),
//!   and the families written by hand. With [`sys`], the FFI edge: the only places with
//!   `unsafe` (the crate denies it everywhere else).
//! - [`resolver`]: a call's journey: the hot test, the textual way, the exact walk, names
//!   taken back into the view, listings, the kernel's checks between mounts and its errno order.
//! - [`views`]: the layers, one file per mount kind, behind the [`views::Layer`] trait.
//! - [`runtime`]: the stack, loaded from `KMVIEW_STACK` without the heap.
//! - [`state`]: the working directory, descriptor names, socket names, lock-free.
//! - [`exec`]: what `#!` lines and ELF headers say.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod complete;
pub mod errno;
pub mod exec;
pub mod hooks;
pub mod path;
pub mod resolver;
pub mod runtime;
pub mod state;
pub mod sys;
pub mod trace;
pub mod views;

/// This library's version, exported so that the launcher can check it preloads kmview's own
/// library of its own version (`kmview_library_version`).
#[no_mangle]
#[allow(unsafe_code)]
pub static kmview_library_version: [u8; 32] = version_bytes();

const fn version_bytes() -> [u8; 32] {
    let v = concat!("kmview ", env!("CARGO_PKG_VERSION")).as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < v.len() && i < 31 {
        out[i] = v[i];
        i += 1;
    }
    out
}

/// Runs when the library is loaded, before `main`: reads the stack (failing closed on a
/// malformed one) and nothing else a process that never touches a view would pay for. Symbols
/// are resolved on first use; the working directory is worked out on first need.
extern "C" fn on_load() {
    sys::scan::detect();
    hooks::fault::init();
    // A panic is reported by the hook's guard in one line; the default hook would print more
    // (and allocate) first. A zero-sized closure: boxing it allocates nothing. (Not in the
    // unit tests' binary, whose failures must say what they are.)
    #[cfg(not(test))]
    std::panic::set_hook(Box::new(|_| {}));
    runtime::load::ensure();
    if let Some(rt) = runtime::get() {
        if rt.is_traced() {
            sys::tracebuf::forget_in_fork_children();
        }
        resolver::start::inherited_fds(&resolver::kernel::Kernel, rt);
        complete::start(rt, hooks::trap::on_sigsys as *const () as usize);
        // Before main, one thread: the environment may be changed (PWD exists, so putenv
        // replaces its entry without allocating).
        if let Some(pwd) = rt.pwd_env.filter(|_| !resolver::cwd::pwd_names_cwd(&resolver::kernel::Kernel, rt)) {
            sys::putenv_static(pwd);
        }
        // Started through its root's own loader, the kernel named the process after the loader:
        // its name is the program's, as after an exec of it.
        resolver::names::name_after_program(&resolver::kernel::Kernel, rt);
    }
}

#[used]
#[allow(unsafe_code)]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;

/// Runs at `exit` (after the program's own handlers): the trace's buffered lines are written.
extern "C" fn on_unload() {
    trace::flush();
}

#[used]
#[allow(unsafe_code)]
#[link_section = ".fini_array"]
static ON_UNLOAD: extern "C" fn() = on_unload;
