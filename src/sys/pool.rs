//! Working memory off the stack. A call through a view needs buffers for the paths it builds
//! (4 KiB and more each), and an exec the child's argv and environment (14 KiB); on the stack,
//! one path buffer alone is most of what a signal handler on a `SIGSTKSZ` alternate stack has
//! left once the kernel's signal frame is on it (3.3 KiB with AVX-512). So they come from
//! static pools, claimed and released lock-free (one compare-and-swap each way), and go back
//! when their [`Taken`] drops.
//!
//! A `vfork` child runs in its parent's memory and may exec (or `_exit`) holding slots it will
//! never give back: its claims are recorded, and the parent releases them when it resumes
//! ([`release_vfork_child`]). A path pool found empty (hundreds of calls in flight at once)
//! maps a buffer of its own with `mmap`, unmapped on drop; the exec pools fail the call
//! (`ENOMEM`) instead.
#![allow(unsafe_code)]

use super::PBuf;
use crate::errno::{Errno, Res};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

/// What a pool holds: made empty for each new taker.
pub trait Slot: 'static {
    fn reset(&mut self);
}

impl Slot for PBuf {
    fn reset(&mut self) {
        self.clear();
    }
}

/// `N` slots of `T` (`N` = 64 × `W`) and who holds them.
pub struct Pool<T: Slot, const N: usize, const W: usize> {
    slots: UnsafeCell<[T; N]>,
    taken: [AtomicU64; W],
    /// The slots a `vfork` child holds.
    child: [AtomicU64; W],
}

// SAFETY: slot i is used only by the claimer of bit i of `taken`, from its claim to its
// release; the bitmaps are atomics.
unsafe impl<T: Slot, const N: usize, const W: usize> Sync for Pool<T, N, W> {}

/// A slot of a pool (or a mapped path buffer), given back when dropped (a panic unwinding
/// through included).
pub struct Taken<T: Slot> {
    item: *mut T,
    /// The slot's bit in `taken`, or None for a mapping of its own.
    owner: Option<(&'static AtomicU64, &'static AtomicU64, u64)>,
}

/// A path buffer.
pub type Buf = Taken<PBuf>;

impl<T: Slot> Deref for Taken<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the slot (or mapping) is this Taken's alone until it drops.
        unsafe { &*self.item }
    }
}

impl<T: Slot> DerefMut for Taken<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`.
        unsafe { &mut *self.item }
    }
}

impl<T: Slot> Drop for Taken<T> {
    fn drop(&mut self) {
        match self.owner {
            Some((taken, child, bit)) => {
                if !super::owns_memory() {
                    child.fetch_and(!bit, Ordering::Relaxed);
                }
                taken.fetch_and(!bit, Ordering::Release);
            }
            None => {
                // SAFETY: the mapping `mapped_buf` made for this Taken, of this size.
                unsafe { libc::munmap(self.item.cast(), std::mem::size_of::<T>()) };
            }
        }
    }
}

impl<T: Slot, const N: usize, const W: usize> Pool<T, N, W> {
    pub const fn new(slots: [T; N]) -> Self {
        assert!(N == 64 * W);
        Pool { slots: UnsafeCell::new(slots), taken: [const { AtomicU64::new(0) }; W], child: [const { AtomicU64::new(0) }; W] }
    }

    /// An empty slot, or `None` if all are taken.
    #[inline]
    pub fn take(&'static self) -> Option<Taken<T>> {
        for (w, word) in self.taken.iter().enumerate() {
            let mut bits = word.load(Ordering::Relaxed);
            while bits != u64::MAX {
                let i = (!bits).trailing_zeros() as usize;
                let bit = 1u64 << i;
                match word.compare_exchange_weak(bits, bits | bit, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => {
                        if !super::owns_memory() {
                            self.child[w].fetch_or(bit, Ordering::Relaxed);
                        }
                        // SAFETY: bit i of word w is ours until the Taken drops; no other
                        // reference to the slot exists.
                        let item = unsafe { &mut (*self.slots.get())[w * 64 + i] as *mut T };
                        let mut t = Taken { item, owner: Some((word, &self.child[w], bit)) };
                        t.reset();
                        return Some(t);
                    }
                    Err(now) => bits = now,
                }
            }
        }
        None
    }

    /// In the child of a `fork`: the slots other threads held are theirs no more.
    pub fn after_fork(&self) {
        for w in self.taken.iter().chain(&self.child) {
            w.store(0, Ordering::Relaxed);
        }
    }

    /// In a `vfork` parent that resumed: the child is gone, and so are the slots it held.
    pub fn release_vfork_child(&self) {
        for (taken, child) in self.taken.iter().zip(&self.child) {
            let bits = child.swap(0, Ordering::Relaxed);
            if bits != 0 {
                taken.fetch_and(!bits, Ordering::Release);
            }
        }
    }
}

static PATHS: Pool<PBuf, 256, 4> = Pool::new([const { PBuf::empty() }; 256]);

/// An empty path buffer. `ENOMEM` only if the pool is empty and `mmap` fails.
#[inline]
pub fn take() -> Res<Buf> {
    match PATHS.take() {
        Some(b) => Ok(b),
        None => mapped_buf(),
    }
}

/// A buffer holding a copy of `bytes`.
pub fn copy_of(bytes: &[u8]) -> Res<Buf> {
    let mut b = take()?;
    b.set(bytes)?;
    Ok(b)
}

#[cold]
fn mapped_buf() -> Res<Buf> {
    // SAFETY: an anonymous private mapping; zeroed memory is a valid empty PBuf.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            std::mem::size_of::<PBuf>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(Errno::ENOMEM);
    }
    Ok(Taken { item: p.cast(), owner: None })
}

/// Runs `f` with an empty path buffer.
#[inline]
pub fn with_buf<R>(f: impl FnOnce(&mut PBuf) -> Res<R>) -> Res<R> {
    let mut b = take()?;
    f(&mut b)
}

/// Two buffers at once.
#[inline]
pub fn with_bufs<R>(f: impl FnOnce(&mut PBuf, &mut PBuf) -> Res<R>) -> Res<R> {
    let (mut a, mut b) = (take()?, take()?);
    f(&mut a, &mut b)
}

/// In the child of a `fork`: the buffers other threads held are theirs no more (the exec
/// family's pools are reset by its own fork shells).
pub fn after_fork() {
    PATHS.after_fork();
}

/// In a `vfork` parent that resumed: the child is gone (exec'd or exited), and so are the
/// buffers it held.
pub fn release_vfork_child() {
    PATHS.release_vfork_child();
}
