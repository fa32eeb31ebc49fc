//! Marks: `hide`, `deny` and `ro` refuse calls at and under a path without moving it anywhere.

use super::{Access, Mount};

enum Kind {
    Hide,
    Deny,
    ReadOnly,
}

pub struct Mark {
    at: Vec<u8>,
    kind: Kind,
}

impl Mark {
    pub fn hide(at: &[u8]) -> Mark {
        Mark { at: at.to_vec(), kind: Kind::Hide }
    }

    pub fn deny(at: &[u8]) -> Mark {
        Mark { at: at.to_vec(), kind: Kind::Deny }
    }

    pub fn read_only(at: &[u8]) -> Mark {
        Mark { at: at.to_vec(), kind: Kind::ReadOnly }
    }
}

impl Mount for Mark {
    fn at(&self) -> &[u8] {
        &self.at
    }

    fn check(&self, access: Access) -> Result<(), libc::c_int> {
        match self.kind {
            Kind::Hide => Err(libc::ENOENT),
            Kind::Deny => Err(libc::EACCES),
            Kind::ReadOnly if access.writes() => Err(libc::EROFS),
            Kind::ReadOnly => Ok(()),
        }
    }

    fn hides_name(&self) -> bool {
        matches!(self.kind, Kind::Hide)
    }
}
