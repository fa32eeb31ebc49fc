//! `libkmview.so`: loaded with `LD_PRELOAD`, it gives a process and every process it starts
//! its own view of the file system.
//!
//! The way a call travels (DESIGN.md, Architecture):
//!
//! ```text
//! program ─► hooks/ ─► stack ─► views/ (innermost … outermost) ─► real ─► kernel
//! ```
//!
//! - [`hooks`]: the one table of hooked functions and the thin exported shells it generates,
//!   one file per libc family. This, [`real`] and [`sys`] are the FFI edge: the only places
//!   with `unsafe`.
//! - [`stack`]: the views a process lives in, parsed once from `KMVIEW_STACK`, and the
//!   resolver that carries a path through them (the hot path, the textual fast path, the exact
//!   walk).
//! - [`views`]: one file per mount kind, behind the [`views::Mount`] trait.
//! - [`cwd`]: the process's virtual working directory.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod cwd;
pub mod fault;
pub mod hooks;
pub mod path;
pub mod fds;
pub mod real;
pub mod seqpath;
pub mod stack;
pub mod sys;
pub mod views;

/// Runs when the library is loaded, before `main`: resolves every real symbol and reads the
/// stack, so that no hook pays for either later (a hook that runs before this, from another
/// library's constructor, does the same work on its first call).
extern "C" fn on_load() {
    sys::claim_memory();
    real::resolve_all();
    hooks::exec::resolve_vfork();
    fault::init();
    // A panic is reported by the hook's guard in one line; the default hook would print more
    // (and allocate) first. This is the library's own copy of std: the program's is untouched.
    std::panic::set_hook(Box::new(|_| {}));
    stack::init();
}

#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;
