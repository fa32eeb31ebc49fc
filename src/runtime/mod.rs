//! The process's stack at run time: loaded once from `KMVIEW_STACK` (before `main`, or on a
//! hook's first use, whichever comes first) into an arena of its own, then only read. Loading
//! allocates nothing on the heap and takes no lock, so it can happen inside a program's
//! allocator; a value that does not parse stops the program (fail closed).

pub mod chroot;
mod index;
pub mod load;

pub use index::Index;
pub use load::load;

use crate::views::{Layer, View};
use kmview_api::StaticPolicy;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// The views a process lives in, and what is derived from them once.
pub struct Runtime {
    /// Outermost first.
    pub views: &'static [View],
    /// The first components of every entry of every view (and `proc`, `dev` for the names the
    /// kernel gives descriptors and directories: `/proc/self/fd/N/…`, `/dev/fd/N/…`).
    pub index: Index,
    /// `KMVIEW_STACK=value`, NUL-terminated, for children.
    pub stack_env: &'static std::ffi::CStr,
    /// `LD_PRELOAD=<this library>`, NUL-terminated.
    pub preload_env: &'static std::ffi::CStr,
    /// This library's absolute path.
    pub lib_path: &'static [u8],
    /// What exec does with a program that would leave the view: the innermost view's word.
    pub static_policy: StaticPolicy,
    /// Complete mode (`complete=on|auto`): raw system calls are trapped too (see `complete`).
    pub complete: Option<kmview_api::CompleteMode>,
    /// Every path is walked component by component (`--exact`).
    pub exact: bool,
    /// Some view's table has an entry (worked out once: the slow way asks at every call).
    pub has_table: bool,
    /// Some view has a mount (not only marks).
    pub has_mounts: bool,
    /// Some view mounts `/`.
    pub has_root: bool,
    /// Some view has a read-only mount or mark.
    pub has_read_only: bool,
    /// Some view has an overlay: every change is resolved component by component in the view
    /// (a symlink outside the overlay may lead into it, and the kernel would follow it to the
    /// lower tree).
    pub has_overlay: bool,
    /// The view's `/proc` is the kernel's (so `/proc/self/…` names this process's state).
    pub proc_is_host: bool,
    /// `KMVIEW_CWD` and `KMVIEW_EXE` as this process received them (read at load: a program
    /// may clear its environment before the library first needs them).
    pub start_cwd: Option<&'static [u8]>,
    pub start_exe: Option<&'static [u8]>,
    /// `PWD=` the view's name of the starting directory, when the inherited `PWD` says
    /// otherwise (the constructor puts it in the environment).
    pub pwd_env: Option<&'static std::ffi::CStr>,
    /// The fake root facet of the innermost view that has one.
    pub fake: Option<Fake>,
    /// Every view's fake root, outermost first (a nested `-0` has a record of its own): results
    /// are adjusted by each in turn, outermost first, as they travel back.
    pub fakes: [Option<Fake>; crate::sys::shared::MAX_LAYERS],
    /// Every view's traces (`trace=`), in the order they were written, outermost view first.
    pub traces: [Option<Trace>; crate::sys::tracebuf::MAX_TRACES],
}

/// A trace facet: every call that crosses its view is written to `file`.
#[derive(Clone, Copy, Debug)]
pub struct Trace {
    /// The view it belongs to (index in `Runtime::views`).
    pub view: usize,
    pub format: kmview_api::TraceFormat,
    /// The file, as the kernel names it (mapped through the views outside its own).
    pub file: &'static std::ffi::CStr,
}

/// A fake root (`-0`): the identity processes start with, and the record of owners and modes.
#[derive(Clone, Copy, Debug)]
pub struct Fake {
    pub uid: u32,
    pub gid: u32,
    /// The record's file (a path of the outermost view's, that is the kernel's, terms).
    pub state: &'static std::ffi::CStr,
    /// A file nobody chowned shows its real owner (else 0:0).
    pub unknown_is_real: bool,
    /// The view it belongs to (its record's path is in the terms of the views outside it).
    pub view: usize,
}

impl Runtime {
    /// The `KMVIEW_STACK` value (after the `=`).
    pub fn stack_value(&self) -> &'static [u8] {
        &self.stack_env.to_bytes()[b"KMVIEW_STACK=".len()..]
    }

    /// Whether any view has an entry at all, or a trace (which sees every path).
    pub fn has_entries(&self) -> bool {
        self.has_table_entries() || self.is_traced()
    }

    /// Whether some view's table has an entry (a trace is no entry of a table).
    #[inline(always)]
    pub fn has_table_entries(&self) -> bool {
        self.has_table
    }

    /// How many views at the end of the stack a program's chroots made (see `chroot`).
    pub fn chroot_views(&self) -> usize {
        self.views.iter().rev().take_while(|v| v.chroot).count()
    }

    /// Whether some view has a trace.
    #[inline]
    pub fn is_traced(&self) -> bool {
        self.traces[0].is_some()
    }

    /// Whether `virt` (canonical, innermost terms) lies under some entry of some view, or some
    /// entry lies below it: then paths relative to it can meet the view.
    pub fn touches(&self, virt: &[u8]) -> bool {
        self.views.iter().any(|v| v.entries.iter().any(|e| crate::path::is_under(virt, e.at()) || crate::path::is_above(virt, e.at())))
    }
}

/// How the hot test treats a path: every hook reads this one byte first.
pub mod mode {
    /// Paths go through the hot test (the usual case).
    pub const TEST: u8 = 0;
    /// No view changes any path (no stack, or no entries): every path call passes.
    pub const PASS: u8 = 1;
    /// Every path takes the slow way: not loaded yet, a root, `--exact`, fault injection.
    pub const SLOW: u8 = 2;
}

pub static MODE: AtomicU8 = AtomicU8::new(mode::SLOW);

/// Some view has an overlay (see [`Runtime::has_overlay`]), where the hot test reads it.
pub static OVERLAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether some view has an overlay (one load).
#[inline(always)]
pub fn overlaid() -> bool {
    OVERLAID.load(Ordering::Relaxed)
}

/// The index's table of first bytes (see [`Index::table`]), where the hot test reads it
/// without touching the runtime. All ones until loaded (the mode is slow until then anyway).
pub static FIRSTS: [AtomicU64; 256] = [const { AtomicU64::new(u64::MAX) }; 256];

/// Published by the one thread that loads (see `load::ensure`), replaced by a `chroot` (see
/// `load::chroot`): reading it is an atomic load.
static RUNTIME: crate::sys::published::Published<Runtime> = crate::sys::published::Published::new();

/// What a `vfork` child's `chroot` replaced, and the mode then: the parent gets them back when
/// it resumes (see [`vfork_parent_resumed`]).
static VFORK_SAVED: crate::sys::published::Published<Runtime> = crate::sys::published::Published::new();
static VFORK_MODE: AtomicU8 = AtomicU8::new(0);

/// In a `vfork` parent that resumed: a `chroot` its child made was the child's.
pub fn vfork_parent_resumed() {
    if let Some(rt) = VFORK_SAVED.take() {
        RUNTIME.publish(rt);
        MODE.store(VFORK_MODE.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Loading: 0 not started, 1 under way, 2 done.
static STATE: AtomicU8 = AtomicU8::new(0);

#[inline(always)]
pub fn mode() -> u8 {
    MODE.load(Ordering::Relaxed)
}

/// The stack, or `None` when the process has none (then every call passes). Loads it on first
/// use.
#[inline(always)]
pub fn get() -> Option<&'static Runtime> {
    if STATE.load(Ordering::Acquire) != 2 {
        load::ensure();
    }
    RUNTIME.get()
}

/// The stack if it is loaded, without loading it (for the exit path: a process that is
/// refusing to run, or ending before it loaded, has nothing to write).
#[inline]
pub fn loaded() -> Option<&'static Runtime> {
    if STATE.load(Ordering::Acquire) != 2 {
        return None;
    }
    RUNTIME.get()
}

/// Whether the table lets an absolute path whose component starts with `c1`, `c2` (`c2` unread
/// when `c1` is NUL: pass 0) through as under no entry.
#[inline(always)]
pub fn first_bytes_unindexed(c1: u8, c2: u8) -> bool {
    FIRSTS[c1 as usize].load(Ordering::Relaxed) & index::second_bit(c2) == 0
}

/// The index, once loaded (in `mode::TEST` it always is).
#[inline(always)]
pub fn index() -> Option<&'static Index> {
    RUNTIME.get().map(|r| &r.index)
}

/// Every path takes the slow way, whatever the stack (fault injection wants every call guarded).
static FORCED_SLOW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Forces every path through the slow way, now and after the stack is loaded.
pub fn force_slow() {
    FORCED_SLOW.store(true, Ordering::Relaxed);
    MODE.store(mode::SLOW, Ordering::Relaxed);
}

/// Whether any view's table holds an entry of this description.
pub fn any_entry(rt: &Runtime, f: impl Fn(&crate::views::Entry) -> bool) -> bool {
    rt.views.iter().any(|v| v.entries.iter().any(&f))
}
