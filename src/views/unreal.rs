//! `unreal`: View-OS's test view. `PREFIX/X` and `PREFIX/PREFIX/X` are both the outer `/X`, so
//! two levels of the prefix reach the outer root and a third is the outer view's `PREFIX`.
//! It is two binds of `/`; this file only says so.

use super::Bind;

/// The two binds for `prefix`; `twice` is `prefix` written twice over (kept by the caller).
pub fn binds(prefix: &'static [u8], twice: &'static [u8]) -> [Bind; 2] {
    [
        Bind { at: prefix, source: b"/", read_only: false, walk: kmview_api::Walk::No },
        Bind { at: twice, source: b"/", read_only: false, walk: kmview_api::Walk::No },
    ]
}
