//! A value published once and replaceable later, read with one atomic load: the process's
//! stack (`runtime`), which a `chroot` replaces with one that has a view more. A published
//! value is never freed (it lives in an arena of its own), so a reader may keep the
//! `&'static` it got while another thread publishes a newer one.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicPtr, Ordering};

pub struct Published<T: 'static>(AtomicPtr<T>);

impl<T: 'static> Published<T> {
    pub const fn new() -> Self {
        Published(AtomicPtr::new(std::ptr::null_mut()))
    }

    #[inline(always)]
    pub fn get(&self) -> Option<&'static T> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: only `&'static T`s are ever stored (see `publish`), and never freed.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Takes the value out (readers get `None` until the next `publish`).
    pub fn take(&self) -> Option<&'static T> {
        let p = self.0.swap(std::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `get`.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Makes `value` the one readers get from now on.
    pub fn publish(&self, value: &'static T) {
        self.0.store(value as *const T as *mut T, Ordering::Release);
    }
}

impl<T: 'static> Default for Published<T> {
    fn default() -> Self {
        Self::new()
    }
}
