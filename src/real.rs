//! The real libc functions behind the hooks, each resolved once with `dlsym(RTLD_NEXT)`.
//!
//! The symbols come from the one hook table (`hooks/table.rs`); this file holds the machinery
//! the table expands into. A symbol libc lacks makes its call fail with `ENOSYS`, never abort.

use std::sync::atomic::{AtomicUsize, Ordering};

pub use crate::hooks::table::real::*;
pub use crate::hooks::table::{Sym, SYMBOLS};

/// Slot states: a resolved address is any other value.
const UNRESOLVED: usize = 0;
const MISSING: usize = 1;

/// One slot per hooked symbol: the address of the next definition (libc's).
pub struct Slots<const N: usize>(pub [AtomicUsize; N]);

impl<const N: usize> Slots<N> {
    pub const fn new() -> Self {
        Slots([const { AtomicUsize::new(UNRESOLVED) }; N])
    }
}

/// The address of `sym`'s next definition, resolving it now if the constructor has not run
/// yet; `None` if libc has no such symbol.
#[inline(always)]
pub fn address(sym: Sym) -> Option<usize> {
    let slot = &crate::hooks::table::SLOTS.0[sym as usize];
    match slot.load(Ordering::Relaxed) {
        // Resolved (the usual case) is any value above MISSING: one comparison.
        addr if addr > MISSING => Some(addr),
        UNRESOLVED => resolve(sym),
        _ => None,
    }
}

#[cold]
fn resolve(sym: Sym) -> Option<usize> {
    let name = SYMBOLS[sym as usize];
    let addr = crate::sys::dlsym_next(name).unwrap_or(MISSING);
    crate::hooks::table::SLOTS.0[sym as usize].store(addr, Ordering::Relaxed);
    (addr != MISSING).then_some(addr)
}

/// Resolves every symbol of the table (the library's constructor calls this once): from the
/// following objects' hash tables where that is plain, else with `dlsym`.
pub fn resolve_all() {
    let next = crate::sys::symbols::Next::after(resolve_all as *const libc::c_void);
    for (i, name) in SYMBOLS.iter().enumerate() {
        let slot = &crate::hooks::table::SLOTS.0[i];
        if slot.load(Ordering::Relaxed) != UNRESOLVED {
            continue;
        }
        let bare = &name.as_bytes()[..name.len() - 1];
        match next.as_ref().and_then(|n| n.lookup(bare)) {
            Some(addr) if addr > MISSING => slot.store(addr, Ordering::Relaxed),
            _ => {
                resolve(Sym::from_index(i));
            }
        }
    }
}

/// What a call returns when it fails before or instead of reaching libc (`-1`, `NULL`).
pub trait Failed {
    fn failed() -> Self;
    /// Whether this result is the failure value.
    fn is_failed(&self) -> bool;
}

macro_rules! failed_is {
    ($v:expr => $($t:ty),*) => { $(impl Failed for $t {
        #[inline] fn failed() -> Self { $v }
        #[inline] fn is_failed(&self) -> bool { *self == $v }
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

/// Generates, from one list of C signatures: the `Sym` enum and symbol names, the slots,
/// `real::NAME` (calls libc's definition) and the exported `NAME` shells, each of which calls
/// `hooks::FAMILY::NAME` inside [`crate::hooks::guard`].
#[macro_export]
macro_rules! hook_table {
    ($( $family:ident :: $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty ; )*) => {
        /// One variant per hooked symbol, in table order.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub enum Sym { $($name,)* }

        /// The symbol names, NUL-terminated, in table order.
        pub static SYMBOLS: &[&str] = &[$(concat!(stringify!($name), "\0"),)*];

        const COUNT: usize = [$(stringify!($name)),*].len();
        pub static SLOTS: $crate::real::Slots<COUNT> = $crate::real::Slots::new();

        impl Sym {
            pub fn from_index(i: usize) -> Sym {
                const ALL: [Sym; COUNT] = [$(Sym::$name,)*];
                ALL[i]
            }
        }

        /// libc's own definitions.
        pub mod real {
            #[allow(unused_imports)]
            use libc::*;
            #[allow(unused_imports)]
            use $crate::hooks::types::*;
            $(
                /// Calls libc's definition; `ENOSYS` if libc has none.
                #[inline(always)]
                #[allow(clippy::missing_safety_doc, non_snake_case)]
                pub unsafe fn $name($($arg: $ty),*) -> $ret {
                    match $crate::real::address(super::Sym::$name) {
                        // SAFETY: the address is the next definition of this very symbol, whose C
                        // signature is the one in the table.
                        Some(addr) => unsafe {
                            let f: unsafe extern "C" fn($($ty),*) -> $ret = core::mem::transmute(addr);
                            f($($arg),*)
                        },
                        None => {
                            $crate::sys::set_errno(libc::ENOSYS);
                            <$ret as $crate::real::Failed>::failed()
                        }
                    }
                }
            )*
        }

        /// The exported shells.
        pub mod exports {
            #[allow(unused_imports)]
            use libc::*;
            #[allow(unused_imports)]
            use $crate::hooks::types::*;
            $(
                #[no_mangle]
                #[allow(clippy::missing_safety_doc, non_snake_case)]
                pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
                    $crate::hooks::guard(stringify!($name), || {
                        // SAFETY: the arguments are the caller's, passed on as C gave them.
                        unsafe { $crate::hooks::$family::$name($($arg),*) }
                    })
                }
            )*
        }
    };
}
