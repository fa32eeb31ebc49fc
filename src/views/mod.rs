//! The layers: one file per mount kind (and, as they come, per facet), each behind the
//! [`Layer`] trait, whose methods all default to passing the call through unchanged.
//!
//! A view's table maps its virtual paths to paths of the view outside it (the onion rule): a
//! path leaves a view as a path of the next view out, and the outermost view's output is what
//! the kernel sees. Marks (`hide`, `deny`, `ro`) sit in the same table but lead nowhere: they
//! only refuse some calls under their path. The resolver (`crate::resolver`) decides the order
//! in which layers see a call; each layer decides only what it means.

pub mod bind;
pub mod fakeroot;
pub mod marks;
pub mod overlay;
pub mod trace;
pub mod unreal;

use crate::errno::Res;
use crate::sys::PBuf;
pub use bind::Bind;
use libc::c_int;
pub use marks::Mark;
pub use overlay::Overlay;

/// What a call is about to do with its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Looks at a name: stat, readlink, access without `W_OK`, opendir, chdir.
    Look,
    /// Reads: exec, dlopen.
    Read,
    /// Opens with these flags: a write if they may create, truncate or write.
    Open(c_int),
    /// Changes an existing file: owner, times, extended attributes.
    Modify,
    /// Changes a file's mode (glibc refuses a symlink's own mode with `EOPNOTSUPP` first).
    Chmod,
    /// `truncate` of a path.
    Truncate,
    /// Makes a name: mknod, mkfifo, symlink, the new name of a link.
    Create,
    /// Makes a directory (a trailing `/` is allowed).
    CreateDir,
    /// Removes a name: unlink.
    Remove,
    /// Removes a directory: rmdir.
    RemoveDir,
    /// Either name of a rename.
    Rename,
    /// `access(W_OK)`: the kernel answers `EROFS` for a file on a read-only mount.
    AccessW,
}

impl Op {
    /// Whether the call makes, removes or renames a name: what it writes is the name's
    /// directory (a read-only mount's own root lives in its parent's directory).
    pub fn names_entry(self) -> bool {
        matches!(self, Op::Create | Op::CreateDir | Op::Remove | Op::RemoveDir | Op::Rename)
    }

    /// Whether the call may change anything.
    #[inline(always)]
    pub fn writes(self) -> bool {
        match self {
            Op::Look | Op::Read => false,
            Op::Open(flags) => open_writes(flags),
            _ => true,
        }
    }
}

/// Whether an open with `flags` may change the file system.
#[inline(always)]
pub fn open_writes(flags: c_int) -> bool {
    // O_TMPFILE includes O_DIRECTORY's bit: it must be matched whole.
    flags & (libc::O_WRONLY | libc::O_RDWR | libc::O_TRUNC | libc::O_CREAT) != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE
}

/// How an entry's own name shows in its parent directory's listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// As the directory underneath has it.
    AsIs,
    /// Listed even when nothing lies at that name underneath (a mountpoint).
    Added,
    /// Never listed (hidden).
    Dropped,
}

/// One layer of a view. The defaults pass everything through; each kind overrides what it
/// decides.
pub trait Layer {
    /// Where it sits in its view: absolute and canonical (`/` for a root).
    fn at(&self) -> &[u8];
    /// The outer view's path that a mount's root shows; `None` for a mark, which changes what
    /// calls may do but not where paths lead.
    fn source(&self) -> Option<&[u8]> {
        None
    }
    /// Maps `path` (canonical, at or under [`Layer::at`]) to the outer view's terms, in place.
    fn map_out(&self, _path: &mut PBuf) -> Res<()> {
        Ok(())
    }
    /// Maps back: if this layer shows the outer view's `outer`, writes its name here into `out`.
    fn map_back(&self, _outer: &[u8], _out: &mut PBuf) -> Res<bool> {
        Ok(false)
    }
    /// Whether `op` may proceed at or under this layer's path.
    fn check(&self, _op: Op) -> Res<()> {
        Ok(())
    }
    /// Whether paths below must be resolved component by component (a bind whose source holds
    /// symlinks leading out of it, which the kernel would follow on the host).
    fn walks(&self) -> bool {
        false
    }
    /// Whether a path with `..` below must be walked (a symlink below lands shallower than it
    /// sits, so the kernel's `..` after it could leave the source).
    fn walks_dotdot(&self) -> bool {
        self.walks()
    }
    /// Whether it is a mount boundary, as the kernel sees one: `rename` and `link` across it are
    /// `EXDEV`, its own path is `EBUSY` to remove. Mounts are, and so is a read-only mark (the
    /// kernel's equivalent is a read-only bind mount of the path on itself).
    fn is_boundary(&self) -> bool {
        self.source().is_some()
    }
    /// How its own name shows in its parent's listing.
    fn listed(&self) -> Listed {
        Listed::AsIs
    }
    /// Whether writes at or under it are refused with `EROFS` (descriptors opened here remember it).
    fn read_only(&self) -> bool {
        false
    }
    /// Whether calls relative to a directory under it must come back through the view even
    /// without a `..` (it refuses some of them, or resolves below itself).
    fn routes_below(&self) -> bool {
        self.walks() || self.check(Op::Look).is_err()
    }
}

/// One entry of a view's table. A closed set of kinds: a plain enum, no dynamic dispatch.
#[derive(Clone, Copy, Debug)]
pub enum Entry {
    Bind(Bind),
    Mark(Mark),
    Overlay(Overlay),
}

impl Layer for Entry {
    #[inline]
    fn at(&self) -> &[u8] {
        match self {
            Entry::Bind(b) => b.at(),
            Entry::Mark(m) => m.at(),
            Entry::Overlay(o) => o.at(),
        }
    }
    fn source(&self) -> Option<&[u8]> {
        match self {
            Entry::Bind(b) => b.source(),
            Entry::Mark(m) => m.source(),
            Entry::Overlay(o) => o.source(),
        }
    }
    fn map_out(&self, path: &mut PBuf) -> Res<()> {
        match self {
            Entry::Bind(b) => b.map_out(path),
            Entry::Mark(m) => m.map_out(path),
            Entry::Overlay(o) => o.map_out(path),
        }
    }
    fn map_back(&self, outer: &[u8], out: &mut PBuf) -> Res<bool> {
        match self {
            Entry::Bind(b) => b.map_back(outer, out),
            Entry::Mark(m) => m.map_back(outer, out),
            Entry::Overlay(o) => o.map_back(outer, out),
        }
    }
    fn check(&self, op: Op) -> Res<()> {
        match self {
            Entry::Bind(b) => b.check(op),
            Entry::Mark(m) => m.check(op),
            Entry::Overlay(o) => o.check(op),
        }
    }
    fn walks(&self) -> bool {
        match self {
            Entry::Bind(b) => b.walks(),
            Entry::Mark(m) => m.walks(),
            Entry::Overlay(o) => o.walks(),
        }
    }
    fn walks_dotdot(&self) -> bool {
        match self {
            Entry::Bind(b) => b.walks_dotdot(),
            Entry::Mark(m) => m.walks_dotdot(),
            Entry::Overlay(o) => o.walks_dotdot(),
        }
    }
    fn is_boundary(&self) -> bool {
        match self {
            Entry::Bind(b) => b.is_boundary(),
            Entry::Mark(m) => m.is_boundary(),
            Entry::Overlay(o) => o.is_boundary(),
        }
    }
    fn listed(&self) -> Listed {
        match self {
            Entry::Bind(b) => b.listed(),
            Entry::Mark(m) => m.listed(),
            Entry::Overlay(o) => o.listed(),
        }
    }
    fn read_only(&self) -> bool {
        match self {
            Entry::Bind(b) => b.read_only(),
            Entry::Mark(m) => m.read_only(),
            Entry::Overlay(o) => o.read_only(),
        }
    }
}

impl Entry {
    /// Whether it leads somewhere (a mount), rather than only refusing calls (a mark).
    pub fn is_mount(&self) -> bool {
        matches!(self, Entry::Bind(_) | Entry::Overlay(_))
    }
}

/// Whether two decisions name the same entry (the very entry of the table, or both none).
pub fn same_entry(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => std::ptr::eq(x, y),
        _ => false,
    }
}

/// One view at run time: its table, longest path first (among equals, the later entry first,
/// as a later mount covers an earlier one).
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub entries: &'static [Entry],
    /// A view a program's `chroot(2)` made (see `runtime::chroot`).
    pub chroot: bool,
}

/// What a view decides for one canonical path.
#[derive(Clone, Copy, Debug, Default)]
pub struct Decision {
    /// The mount the path lies under, if any: it maps the path outward.
    pub mount: Option<&'static Entry>,
    /// Writes are refused (`EROFS`) here.
    pub read_only: bool,
    /// Some entry decided something (a mark or a mount applies).
    pub touched: bool,
    /// A mark says paths here must be walked (a link into a mount).
    pub walks: bool,
}

impl View {
    /// The entries that apply at `path` (canonical), longest first: marks until the first
    /// mount (which shadows whatever lies above it). `op` is checked against each; `Err` is the
    /// view's refusal other than read-only (hide's `ENOENT`, deny's `EACCES`).
    #[inline]
    pub fn decide(&self, path: &[u8], op: Op) -> Res<Decision> {
        let mut d = Decision::default();
        for e in self.entries {
            if !crate::path::is_under(path, e.at()) {
                continue;
            }
            d.touched = true;
            d.walks |= !e.is_mount() && e.walks();
            // Read-only is reported, not failed: the kernel's order for the errno depends on the
            // call and on what lies at the path (see `resolver::refusal`).
            if e.read_only() {
                // A name at the mount's own root lives in the parent's directory.
                if !(op.names_entry() && e.at() == path) {
                    d.read_only = true;
                }
            } else {
                e.check(op)?;
            }
            if e.is_mount() {
                d.mount = Some(e);
                break;
            }
        }
        Ok(d)
    }

    /// Whether some entry sits strictly below `path`.
    pub fn has_entry_below(&self, path: &[u8]) -> bool {
        self.entries.iter().any(|e| crate::path::is_above(path, e.at()))
    }

    /// The mount `path` lies under (longest), if any.
    pub fn mount_of(&self, path: &[u8]) -> Option<&'static Entry> {
        self.entries.iter().find(|e| e.is_mount() && crate::path::is_under(path, e.at()))
    }

    /// The boundary (mount or read-only mark) `path` lies under (longest), if any.
    pub fn boundary_of(&self, path: &[u8]) -> Option<&'static Entry> {
        self.entries.iter().find(|e| e.is_boundary() && crate::path::is_under(path, e.at()))
    }
}
