//! The real libc functions behind the hooks: one slot per hooked symbol (the table's `Sym`),
//! filled on the symbol's first use from the next objects' hash tables (`sys/symbols.rs`), never
//! by `dlsym` on the call path. A symbol libc lacks makes its call fail with `ENOSYS`, never abort.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// Slot states: a resolved address is any other value.
const UNRESOLVED: usize = 0;
const MISSING: usize = 1;

/// One slot per hooked symbol: the address of the next definition (libc's).
pub struct Slots<const N: usize>(pub [AtomicUsize; N]);

impl<const N: usize> Slots<N> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Slots([const { AtomicUsize::new(UNRESOLVED) }; N])
    }
}

/// The address of symbol `i`'s next definition, resolving it now on its first use; `None` if
/// libc has no such symbol.
#[inline(always)]
pub fn address<const N: usize>(i: usize, slots: &Slots<N>, names: &[&str; N]) -> Option<usize> {
    match slots.0[i].load(Ordering::Relaxed) {
        // Resolved (the usual case) is any value above MISSING: one comparison.
        addr if addr > MISSING => Some(addr),
        UNRESOLVED => resolve(i, slots, names),
        _ => None,
    }
}

#[cold]
#[inline(never)]
fn resolve<const N: usize>(i: usize, slots: &Slots<N>, names: &[&str; N]) -> Option<usize> {
    let name = names[i].as_bytes();
    let bare = &name[..name.len() - 1];
    let addr = match crate::sys::symbols::lookup_next(bare) {
        crate::sys::symbols::Found::At(a) if a > MISSING => a,
        crate::sys::symbols::Found::At(_) | crate::sys::symbols::Found::Missing => MISSING,
        // The loader's tables could not be read directly (never seen with glibc): dlsym is the
        // reference. It takes the loader's lock, so this is the one place the rule bends.
        crate::sys::symbols::Found::Unknown => crate::sys::dlsym_next(name).unwrap_or(MISSING),
    };
    // Two threads resolving at once store the same value.
    slots.0[i].store(addr, Ordering::Relaxed);
    (addr != MISSING).then_some(addr)
}

/// What a call returns when libc lacks the symbol: `ENOSYS` and the failure value.
#[cold]
pub fn missing<R: Failed>() -> R {
    crate::sys::set_errno(libc::ENOSYS);
    R::failed()
}

/// What a call returns when it fails before or instead of reaching libc (`-1`, `NULL`).
pub trait Failed {
    fn failed() -> Self;
    /// Whether this result is the failure value.
    fn is_failed(&self) -> bool;
    /// The result as a trace writes it: the number a call returns, -1/0 for a pointer.
    fn as_result(&self) -> i64 {
        if self.is_failed() {
            -1
        } else {
            0
        }
    }
}

macro_rules! failed_is {
    ($v:expr => $($t:ty),*) => { $(impl Failed for $t {
        #[inline] fn failed() -> Self { $v }
        #[inline] fn is_failed(&self) -> bool { *self == $v }
        #[inline] fn as_result(&self) -> i64 { if *self == $v { -1 } else { *self as i64 } }
    })* };
}
failed_is!(-1 => i32, i64, isize);
impl Failed for () {
    fn failed() -> Self {}
    fn is_failed(&self) -> bool {
        false
    }
}
// uid_t and gid_t: (uid_t)-1, as the identity calls never fail but a missing symbol must.
failed_is!(u32::MAX => u32);
// sighandler_t: SIG_ERR.
failed_is!(usize::MAX => usize);

impl<T> Failed for *mut T {
    fn failed() -> Self {
        std::ptr::null_mut()
    }
    fn is_failed(&self) -> bool {
        self.is_null()
    }
}

impl<T> Failed for *const T {
    fn failed() -> Self {
        std::ptr::null()
    }
    fn is_failed(&self) -> bool {
        self.is_null()
    }
}
