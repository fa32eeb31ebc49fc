//! The views: one file per mount kind (and, later, per facet), each behind the [`Mount`] trait,
//! whose defaults are pass-through.
//!
//! A view's mount table maps its virtual paths to paths of the view outside it (the onion
//! rule): a path leaves a view as a path of the next view out, and the outermost view's output
//! is what the kernel sees. Marks (`hide`, `deny`, `ro`) sit in the same table but lead nowhere:
//! they only refuse some calls under their path.

pub mod bind;
pub mod marks;
pub mod unreal;

use crate::path::is_under;
use kmview_api::{Entry, View as ViewSpec};

/// What a call is about to do under a mount, for the kinds that refuse some of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Looks at a name: stat, access, readlink, opendir, chdir.
    Look,
    /// Reads (opens for reading, execs).
    Read,
    /// Changes the tree or a file: write, remove, rename, chmod, chown, times, xattrs.
    Write,
    /// Creates a name (mkdir, mknod, symlink, link, `O_CREAT`): a write, after the kernel's
    /// own answer for a name that exists already (`EEXIST` comes before `EROFS`).
    Create,
}

impl Access {
    /// Whether the call changes anything.
    pub fn writes(self) -> bool {
        matches!(self, Access::Write | Access::Create)
    }
}

/// One entry of a view's table: a mount or a mark.
pub trait Mount: Send + Sync {
    /// Where it sits in its view: absolute and canonical.
    fn at(&self) -> &[u8];
    /// The path of the outer view that a mount's root shows (absolute, canonical); `None` for a
    /// mark, which changes what calls may do but not where paths lead.
    fn source(&self) -> Option<&[u8]> {
        None
    }
    /// Whether `access` may proceed at or under this entry; pass-through by default.
    fn check(&self, _access: Access) -> Result<(), libc::c_int> {
        Ok(())
    }
    /// Whether paths below this mount must be resolved component by component (its source
    /// holds symlinks that lead out of it, which the kernel would follow on the host).
    fn walks(&self) -> bool {
        false
    }
    /// Whether some access is refused here (so calls relative to a directory under it must go
    /// through the view to be checked).
    fn refuses_some(&self) -> bool {
        [Access::Look, Access::Read, Access::Write].iter().any(|a| self.check(*a).is_err())
    }
    /// Whether the entry's own name is gone from its parent's listing (`hide`).
    fn hides_name(&self) -> bool {
        false
    }
}

/// One view at run time: its table, longest path first so the first match is the longest.
pub struct View {
    entries: Vec<Box<dyn Mount>>,
}

impl View {
    pub fn from_spec(spec: &ViewSpec) -> View {
        let mut entries: Vec<Box<dyn Mount>> = Vec::new();
        for entry in &spec.entries {
            match entry {
                Entry::Unreal { prefix } => entries.extend(unreal::mounts(prefix)),
                Entry::Bind { at, source, read_only, walk } => entries.push(Box::new(bind::Bind::new(at, source, *read_only).walking(*walk))),
                Entry::Root { source, walk } => entries.push(Box::new(bind::Bind::new(b"/", source, false).walking(*walk))),
                Entry::Tmp { at, source } => entries.push(Box::new(bind::Bind::new(at, source, false))),
                Entry::Hide { path } => entries.push(Box::new(marks::Mark::hide(path))),
                Entry::Deny { path } => entries.push(Box::new(marks::Mark::deny(path))),
                Entry::ReadOnly { path } => entries.push(Box::new(marks::Mark::read_only(path))),
                // A policy of the exec hooks, read by the stack, not a mount.
                Entry::Static { .. } => {}
            }
        }
        // Longest first; among equals the later entry wins, as a later mount covers an earlier.
        entries.reverse();
        entries.sort_by_key(|m| std::cmp::Reverse(m.at().len()));
        View { entries }
    }

    /// Every entry, marks included.
    pub fn entries(&self) -> impl Iterator<Item = &dyn Mount> {
        self.entries.iter().map(|m| m.as_ref())
    }

    /// The mounts (entries that lead somewhere).
    pub fn mounts(&self) -> impl Iterator<Item = &dyn Mount> {
        self.entries().filter(|m| m.source().is_some())
    }

    /// The mount that `path` (absolute, without `.` or empty components) lies under, longest
    /// match by whole components, with its source.
    pub fn mount_of(&self, path: &[u8]) -> Option<(&dyn Mount, &[u8])> {
        self.mounts().find(|m| is_under(path, m.at())).and_then(|m| m.source().map(|s| (m, s)))
    }

    /// In one pass: the entry that decides what may happen at `path` (the longest, mount or
    /// mark) and the mount it lies under (the longest with a source).
    #[inline]
    pub fn lookup(&self, path: &[u8]) -> (Option<&dyn Mount>, Option<(&dyn Mount, &[u8])>) {
        let mut entry = None;
        for m in self.entries() {
            if !is_under(path, m.at()) {
                continue;
            }
            if entry.is_none() {
                entry = Some(m);
            }
            if let Some(src) = m.source() {
                return (entry, Some((m, src)));
            }
        }
        (entry, None)
    }

    /// The entry, mount or mark, that decides what may happen at `path`: the longest.
    pub fn entry_of(&self, path: &[u8]) -> Option<&dyn Mount> {
        self.entries().find(|m| is_under(path, m.at()))
    }

    /// Whether some entry sits strictly below `path` (so `..` or a listing there can meet it).
    pub fn has_entry_below(&self, path: &[u8]) -> bool {
        self.entries().any(|m| m.at() != path && is_under(m.at(), path))
    }
}
