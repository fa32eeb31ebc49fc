//! Fault injection, for the tests of the library's own guarantees: `KMVIEW_FAULT=panic:NAME`
//! makes the hook `NAME` panic inside the library, so that a test can check that the call then
//! fails with `EIO` and one line on stderr, and that the real call was not made. Read once at
//! load (it also sends every path the slow way, under the guard); on the call path it costs one
//! relaxed load of a flag that is false.

use super::table::SYMBOLS;
use super::Sym;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ARMED: AtomicBool = AtomicBool::new(false);
static TARGET: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Reads `KMVIEW_FAULT` (the constructor calls this once, before the stack is loaded).
pub fn init() {
    let Some(v) = crate::sys::getenv(b"KMVIEW_FAULT\0") else {
        return;
    };
    let Some(name) = v.strip_prefix(b"panic:") else {
        return;
    };
    if let Some(i) = SYMBOLS.iter().position(|s| &s.as_bytes()[..s.len() - 1] == name) {
        TARGET.store(i, Ordering::Relaxed);
        ARMED.store(true, Ordering::Relaxed);
        crate::runtime::force_slow();
    }
}

/// Panics if the fault is armed for the hook `sym`.
#[inline(always)]
pub fn maybe_panic(sym: Sym) {
    if ARMED.load(Ordering::Relaxed) {
        hit(sym);
    }
}

#[cold]
fn hit(sym: Sym) {
    if TARGET.load(Ordering::Relaxed) == sym as usize {
        panic!("injected fault in {}", SYMBOLS[sym as usize]);
    }
}
