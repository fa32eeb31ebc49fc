//! `bind`: a subtree of the outer view shown at another path. The `unreal` and (later) `root`
//! and `tmp` kinds are binds too; this is where a bind decides what lies behind a path.

use super::Mount;

pub struct Bind {
    at: Vec<u8>,
    source: Vec<u8>,
}

impl Bind {
    pub fn new(at: &[u8], source: &[u8]) -> Bind {
        Bind { at: at.to_vec(), source: source.to_vec() }
    }
}

impl Mount for Bind {
    fn at(&self) -> &[u8] {
        &self.at
    }

    fn source(&self) -> &[u8] {
        &self.source
    }
}
