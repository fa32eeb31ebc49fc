//! The views: one file per mount kind (and, later, per facet), each behind the [`Mount`] trait,
//! whose defaults are pass-through.
//!
//! A view's mount table maps its virtual paths to paths of the view outside it (the onion
//! rule): a path leaves a view as a path of the next view out, and the outermost view's output
//! is what the kernel sees.

pub mod bind;
pub mod unreal;

use crate::path::is_under;
use kmview_api::{Entry, View as ViewSpec};

/// What a call is about to do under a mount, for kinds that refuse some of it (read-only,
/// deny, hide: later issues).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Look,
    Read,
    Write,
    Exec,
}

/// One mount of a view's table.
pub trait Mount: Send + Sync {
    /// Where the mount sits in its view: absolute and canonical.
    fn at(&self) -> &[u8];
    /// The path of the outer view that the mount's root shows: absolute and canonical.
    fn source(&self) -> &[u8];
    /// Whether `access` may proceed under this mount; pass-through by default.
    fn check(&self, _access: Access) -> Result<(), libc::c_int> {
        Ok(())
    }
}

/// One view at run time: its mounts, longest path first so the first match is the longest.
pub struct View {
    mounts: Vec<Box<dyn Mount>>,
}

impl View {
    pub fn from_spec(spec: &ViewSpec) -> View {
        let mut mounts: Vec<Box<dyn Mount>> = Vec::new();
        for entry in &spec.entries {
            match entry {
                Entry::Unreal { prefix } => mounts.extend(unreal::mounts(prefix)),
                // A policy of the exec hooks, read by the stack, not a mount.
                Entry::Static { .. } => {}
            }
        }
        // Longest first; among equals the later entry wins, as a later mount covers an earlier.
        mounts.reverse();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.at().len()));
        View { mounts }
    }

    pub fn mounts(&self) -> impl Iterator<Item = &dyn Mount> {
        self.mounts.iter().map(|m| m.as_ref())
    }

    /// The mount that `path` (absolute, without `.` or empty components) lies under, longest
    /// match by whole components.
    pub fn mount_of(&self, path: &[u8]) -> Option<&dyn Mount> {
        self.mounts().find(|m| is_under(path, m.at()))
    }

    /// Whether some mount sits strictly below `path` (so `..` or a listing there can meet it).
    pub fn has_mount_below(&self, path: &[u8]) -> bool {
        self.mounts().any(|m| m.at() != path && is_under(m.at(), path))
    }
}
