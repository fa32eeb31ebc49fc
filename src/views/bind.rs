//! `bind`: a subtree of the outer view shown at another path. `root` (a bind at `/`), `tmp`
//! (a bind of a private directory) and `unreal` are binds too: this is where a bind decides
//! what lies behind a path and what may happen there.

use super::{Access, Mount};

pub struct Bind {
    at: Vec<u8>,
    source: Vec<u8>,
    read_only: bool,
    walk: bool,
}

impl Bind {
    pub fn new(at: &[u8], source: &[u8], read_only: bool) -> Bind {
        Bind { at: at.to_vec(), source: source.to_vec(), read_only, walk: false }
    }

    /// Resolve paths below this bind component by component (see [`Mount::walks`]).
    pub fn walking(mut self, walk: bool) -> Bind {
        self.walk = walk;
        self
    }
}

impl Mount for Bind {
    fn at(&self) -> &[u8] {
        &self.at
    }

    fn source(&self) -> Option<&[u8]> {
        Some(&self.source)
    }

    fn walks(&self) -> bool {
        self.walk
    }

    fn check(&self, access: Access) -> Result<(), libc::c_int> {
        if self.read_only && access.writes() {
            return Err(libc::EROFS);
        }
        Ok(())
    }
}
