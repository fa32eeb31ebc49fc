//! The AF_UNIX names this process gave its sockets: as bound (what `getsockname` answers), and
//! as connected to (the hint for naming the peer). Kept per descriptor, forgotten at close.

use super::seqpath::SeqPath;
use crate::sys::PBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Sockets numbered this high and above are not given names.
pub const N: usize = 1024;

pub struct Names {
    used: AtomicUsize,
    names: [SeqPath; N],
}

pub static LOCAL: Names = Names::new();
pub static PEER: Names = Names::new();

impl Names {
    const fn new() -> Names {
        Names { used: AtomicUsize::new(0), names: [const { SeqPath::new() }; N] }
    }

    fn slot(&self, fd: libc::c_int) -> Option<&SeqPath> {
        (0..N as libc::c_int).contains(&fd).then(|| &self.names[fd as usize])
    }

    pub fn set(&self, fd: libc::c_int, name: &[u8]) {
        if let Some(s) = self.slot(fd) {
            if s.is_empty() {
                self.used.fetch_add(1, Ordering::Relaxed);
            }
            s.store(name);
        }
    }

    pub fn clear(&self, fd: libc::c_int) {
        if self.used.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(s) = self.slot(fd).filter(|s| !s.is_empty()) {
            s.store(b"");
            self.used.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The first name for which `matches` holds, into `out`.
    pub fn find(&self, mut matches: impl FnMut(&[u8]) -> bool, out: &mut PBuf) -> bool {
        if self.used.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.names.iter().any(|s| !s.is_empty() && s.load(out).unwrap_or(false) && matches(out.as_bytes()))
    }

    pub fn get(&self, fd: libc::c_int, out: &mut PBuf) -> bool {
        self.used.load(Ordering::Relaxed) != 0 && self.slot(fd).is_some_and(|s| s.load(out).unwrap_or(false))
    }
}

/// `fd` is closed.
#[inline(always)]
pub fn forget(fd: libc::c_int) {
    LOCAL.clear(fd);
    PEER.clear(fd);
}

/// `to` is now a duplicate of `from`.
pub fn copy(from: libc::c_int, to: libc::c_int) {
    if from == to {
        return;
    }
    let Ok(mut name) = crate::sys::pool::take() else {
        return;
    };
    for table in [&LOCAL, &PEER] {
        if table.get(from, &mut name) {
            table.set(to, name.as_bytes());
        } else {
            table.clear(to);
        }
    }
}
