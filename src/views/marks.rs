//! Marks: `hide` (`ENOENT`, and gone from the parent's listing), `deny` (`EACCES`) and `ro`
//! (writes fail with `EROFS`, as on a read-only bind mount of the path on itself), and `link`
//! (a symlink that leads into a mount: paths through it are walked in the view). A mark leads
//! nowhere: paths under it go on to the kernel unchanged, once allowed.

use super::{Layer, Listed, Op};
use crate::errno::{Errno, Res};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Hide,
    Deny,
    ReadOnly,
    /// A symlink outside every mount that leads into one: paths through it are walked.
    Link,
}

#[derive(Clone, Copy, Debug)]
pub struct Mark {
    pub at: &'static [u8],
    pub kind: MarkKind,
}

impl Layer for Mark {
    #[inline]
    fn at(&self) -> &[u8] {
        self.at
    }

    fn check(&self, op: Op) -> Res<()> {
        match self.kind {
            MarkKind::Hide => Err(Errno::ENOENT),
            MarkKind::Deny => Err(Errno::EACCES),
            MarkKind::ReadOnly if op.writes() => Err(Errno::EROFS),
            MarkKind::ReadOnly | MarkKind::Link => Ok(()),
        }
    }

    /// Through a link mark, the kernel would follow the link on the host, past the mount it
    /// leads into: the walk follows it in the view.
    fn walks(&self) -> bool {
        self.kind == MarkKind::Link
    }

    /// A read-only mark is the kernel's read-only bind mount of the path on itself.
    fn is_boundary(&self) -> bool {
        self.kind == MarkKind::ReadOnly
    }

    fn listed(&self) -> Listed {
        if self.kind == MarkKind::Hide {
            Listed::Dropped
        } else {
            Listed::AsIs
        }
    }

    fn read_only(&self) -> bool {
        self.kind == MarkKind::ReadOnly
    }
}
