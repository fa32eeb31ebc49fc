//! This process's program in the view's terms (what `/proc/self/exe` names), when it was
//! started through a view; set once from `KMVIEW_EXE` (checked by the resolver).

use super::seqpath::SeqPath;
use crate::sys::PBuf;
use std::sync::atomic::{AtomicU8, Ordering};

static EXE: SeqPath = SeqPath::new();
/// 0: not looked at yet; 1: looked at (EXE holds the name, or is empty).
static DONE: AtomicU8 = AtomicU8::new(0);

pub fn is_decided() -> bool {
    DONE.load(Ordering::Acquire) != 0
}

pub fn decide(name: Option<&[u8]>) {
    if let Some(n) = name {
        EXE.store(n);
    }
    DONE.store(1, Ordering::Release);
}

/// The virtual path of this process's program, if it was started through a view.
pub fn name(out: &mut PBuf) -> bool {
    EXE.load(out).unwrap_or(false)
}
