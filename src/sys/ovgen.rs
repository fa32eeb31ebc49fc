//! Each overlay's change count, shared by every process of the view through a small file in
//! the overlay's work directory (`gen`, written by the launcher: 0 when upper was empty). While
//! it is 0 nothing has been made in upper, so every path is lower's with no probe at all: a
//! fresh overlay that is only read costs what a bind costs. A change through the view counts
//! itself before it happens.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Overlays with a count of their own (a later one is always probed).
pub const MAX_OVERLAYS: usize = 8;

/// Each overlay's mapped count (null until first used; a failed mapping stays null).
static COUNTS: [AtomicPtr<AtomicU64>; MAX_OVERLAYS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_OVERLAYS];

/// The count of overlay `slot`, mapped on first use from the work directory `work` writes
/// (as the kernel names it).
fn count(slot: usize, work: impl FnOnce(&mut super::PBuf) -> crate::errno::Res<()>) -> Option<&'static AtomicU64> {
    let cell = COUNTS.get(slot)?;
    let mut p = cell.load(Ordering::Acquire);
    if p.is_null() {
        let mut path = super::pool::take().ok()?;
        work(&mut path).ok()?;
        path.push_component(b"gen").ok()?;
        let fd = super::raw::openat(libc::AT_FDCWD, &path, libc::O_RDWR | libc::O_CLOEXEC).ok()?;
        let ok = super::raw::fstat(fd).is_ok_and(|st| st.st_size >= 8);
        // SAFETY: a shared mapping of the file's first page, which holds at least 8 bytes.
        let m = if ok {
            unsafe { libc::mmap(std::ptr::null_mut(), 8, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0) }
        } else {
            libc::MAP_FAILED
        };
        super::raw::close(fd);
        if m == libc::MAP_FAILED {
            return None;
        }
        match cell.compare_exchange(std::ptr::null_mut(), m.cast(), Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => p = m.cast(),
            Err(other) => {
                // Another thread mapped it first.
                // SAFETY: our own mapping, never shared.
                unsafe { libc::munmap(m, 8) };
                p = other;
            }
        }
    }
    // SAFETY: an 8-byte aligned word of a mapping never unmapped, only accessed atomically.
    Some(unsafe { &*p })
}

/// Overlay `slot`'s count now (None when it has none).
pub fn current(slot: usize, work: impl FnOnce(&mut super::PBuf) -> crate::errno::Res<()>) -> Option<u64> {
    count(slot, work).map(|c| c.load(Ordering::Acquire))
}

/// Whether nothing was ever made in overlay `slot`'s upper (false when unknown).
pub fn untouched(slot: usize, work: impl FnOnce(&mut super::PBuf) -> crate::errno::Res<()>) -> bool {
    count(slot, work).is_some_and(|c| c.load(Ordering::Acquire) == 0)
}

/// Counts a change about to be made in overlay `slot`'s upper.
pub fn changing(slot: usize, work: impl FnOnce(&mut super::PBuf) -> crate::errno::Res<()>) {
    if let Some(c) = count(slot, work) {
        c.fetch_add(1, Ordering::AcqRel);
    }
}
