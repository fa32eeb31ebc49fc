//! The virtual directory of the last chdir action of each live `posix_spawn_file_actions_t`,
//! so that the child's `KMVIEW_CWD` names where it will start.

use super::seqpath::SeqPath;
use crate::sys::PBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

const N: usize = 16;
static OWNER: [AtomicUsize; N] = [const { AtomicUsize::new(0) }; N];
static DIR: [SeqPath; N] = [const { SeqPath::new() }; N];

pub fn set(actions: usize, virt: &[u8]) {
    let i = OWNER
        .iter()
        .position(|o| o.load(Ordering::Acquire) == actions)
        .or_else(|| OWNER.iter().position(|o| o.compare_exchange(0, actions, Ordering::AcqRel, Ordering::Relaxed).is_ok()));
    if let Some(i) = i {
        DIR[i].store(virt);
    }
}

pub fn get(actions: usize, out: &mut PBuf) -> bool {
    actions != 0 && OWNER.iter().position(|o| o.load(Ordering::Acquire) == actions).is_some_and(|i| DIR[i].load(out).unwrap_or(false))
}

pub fn forget(actions: usize) {
    if let Some(o) = OWNER.iter().find(|o| o.load(Ordering::Acquire) == actions) {
        o.store(0, Ordering::Release);
    }
}
