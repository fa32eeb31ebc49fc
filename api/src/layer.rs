//! Overlay upper directories in the OCI image-layer form: what changed ([`diff`]), making the
//! changes real in the lower tree ([`apply`]), and throwing them away ([`discard`]).
//!
//! The form (the one `kmview --overlay DIR:UPPER` writes, and what `tar -C UPPER -c .` turns
//! into a valid OCI layer diff):
//! - an added or changed file, directory or symlink sits in UPPER at its relative path; a
//!   changed file is a whole copy with its own mode, owner and times;
//! - an entry `NAME` removed from the lower tree leaves an empty regular file `.wh.NAME` beside
//!   where it was (one for a whole removed directory);
//! - a directory replaced wholesale (removed, then made again) holds a `.wh..wh..opq` file:
//!   nothing of the lower directory shows through it.
//!
//! Other names starting with `.wh..wh.` are reserved by the format (AUFS's bookkeeping) and
//! ignored. The kernel's overlayfs uses another form (a character device 0/0 as whiteout, an
//! xattr for opaque directories): such a device is refused, not guessed at.
//!
//! ```
//! use kmview_api::layer::{self, Change};
//! let tmp = std::env::temp_dir().join(format!("kmview-layer-doc-{}", std::process::id()));
//! let (upper, lower) = (tmp.join("upper"), tmp.join("lower"));
//! std::fs::create_dir_all(&upper)?;
//! std::fs::create_dir_all(&lower)?;
//! std::fs::write(lower.join("old"), "gone soon")?;
//! std::fs::write(lower.join("kept"), "v1")?;
//! std::fs::write(upper.join("kept"), "v2")?;
//! std::fs::write(upper.join(".wh.old"), "")?;
//!
//! let items = layer::diff(&upper, Some(&lower))?;
//! let lines: Vec<String> = items.iter().map(|i| i.to_string()).collect();
//! assert_eq!(lines, ["M kept", "D old"]);
//! assert_eq!(items[1].change, Change::Removed);
//!
//! layer::apply(&upper, &lower, |_| {})?;
//! assert_eq!(std::fs::read_to_string(lower.join("kept"))?, "v2");
//! assert!(!lower.join("old").exists());
//!
//! layer::discard(&upper)?;
//! assert!(!upper.exists());
//! # std::fs::remove_dir_all(&tmp)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
mod diff;
mod discard;
mod error;
mod json;

pub use apply::{apply, Action, Summary};
pub use diff::diff;
pub use discard::{discard, Discarded};
pub use error::LayerError;
pub use json::to_json;

use std::ffi::OsStr;
use std::fmt;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

/// The prefix of a whiteout: `.wh.NAME` says `NAME` was removed.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The marker of an opaque directory: nothing of the lower directory shows through.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The prefix of the names the format reserves for itself (the opaque marker among them).
pub const RESERVED_PREFIX: &str = ".wh..wh.";

/// What an entry of the upper directory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// A fifo, socket or device: diffed, but not something [`apply`] makes.
    Other,
}

impl Kind {
    pub fn of(m: &Metadata) -> Kind {
        let t = m.file_type();
        if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File
        } else if t.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        }
    }

    /// The word the JSON form uses.
    pub fn word(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }
}

/// How one path differs, as [`diff`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// `A`: not in the lower tree (or under a directory that is not there, or is replaced).
    Added,
    /// `M`: content or type differs from the lower tree's.
    Modified,
    /// `C`: in the upper directory, no lower tree given to tell an addition from a change.
    ChangedOrAdded,
    /// `D`: removed (a whiteout); a removed directory is one entry.
    Removed,
    /// `R`: a directory replaced wholesale (opaque): the lower one's entries are all gone.
    Replaced,
    /// `m`: same content and type, other permission bits (`mode & 0o7777`).
    Mode { from: u32, to: u32 },
    /// `o`: same content and type, other owner (`(uid, gid)`).
    Owner { from: (u32, u32), to: (u32, u32) },
}

impl Change {
    /// The one-letter code of the short form (`git status --short`'s column).
    pub fn letter(&self) -> char {
        match self {
            Change::Added => 'A',
            Change::Modified => 'M',
            Change::ChangedOrAdded => 'C',
            Change::Removed => 'D',
            Change::Replaced => 'R',
            Change::Mode { .. } => 'm',
            Change::Owner { .. } => 'o',
        }
    }

    /// The word of the JSON form's `"change"`.
    pub fn word(&self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::ChangedOrAdded => "changed-or-added",
            Change::Removed => "removed",
            Change::Replaced => "replaced",
            Change::Mode { .. } => "mode",
            Change::Owner { .. } => "owner",
        }
    }

    /// `(from, to)` as the short form shows them: `0644`, `1000:1000`.
    pub fn from_to(&self) -> Option<(String, String)> {
        match self {
            Change::Mode { from, to } => Some((format!("{from:04o}"), format!("{to:04o}"))),
            Change::Owner { from, to } => Some((format!("{}:{}", from.0, from.1), format!("{}:{}", to.0, to.1))),
            _ => None,
        }
    }
}

/// One line of a diff: a path relative to the layer's root, and how it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Relative to the upper directory (and the lower tree); empty for the root itself.
    pub path: PathBuf,
    /// What the upper directory has there; `None` for a removal.
    pub kind: Option<Kind>,
    pub change: Change,
}

impl Item {
    /// The path as the short form shows it: directories end in `/`, the root is `./`.
    pub fn shown_path(&self) -> String {
        let mut p = self.path.to_string_lossy().into_owned();
        if self.kind == Some(Kind::Dir) {
            p.push('/');
        }
        if p.is_empty() || p == "/" {
            p = "./".into();
        }
        p
    }
}

/// The short form: `A path`, `m path (0644 -> 0755)`.
impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.change.letter(), self.shown_path())?;
        if let Some((from, to)) = self.change.from_to() {
            write!(f, " ({from} -> {to})")?;
        }
        Ok(())
    }
}

/// What a name of the upper directory means.
enum Name<'a> {
    /// An entry to show or copy.
    Entry,
    /// `.wh.NAME`: NAME was removed.
    Whiteout(&'a OsStr),
    /// `.wh..wh..opq`.
    Opaque,
    /// Another `.wh..wh.` name: the format's own, ignored.
    Reserved,
}

fn classify(name: &OsStr) -> Name<'_> {
    let b = name.as_bytes();
    if b == OPAQUE_MARKER.as_bytes() {
        Name::Opaque
    } else if b.starts_with(RESERVED_PREFIX.as_bytes()) {
        Name::Reserved
    } else if let Some(rest) = b.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
        Name::Whiteout(OsStr::from_bytes(rest))
    } else {
        Name::Entry
    }
}

/// A whiteout's target must be one plain name of the same directory: `..`, `.` or an empty name
/// would remove something else than a sibling.
fn check_whiteout(target: &OsStr) -> Result<(), &'static str> {
    match target.as_bytes() {
        b"" => Err("names nothing"),
        b"." | b".." => Err("would escape its directory"),
        b if b.contains(&b'/') => Err("would escape its directory"),
        _ => Ok(()),
    }
}

/// The kernel overlayfs's whiteout: a character device 0/0. Its presence means the upper was
/// not converted to the OCI form.
fn is_kernel_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// A directory's names, sorted by bytes, so that every walk is in one deterministic order.
fn sorted_names(dir: &std::path::Path) -> Result<Vec<std::ffi::OsString>, LayerError> {
    let rd = std::fs::read_dir(dir).map_err(|e| LayerError::io("read directory", dir, e))?;
    let mut names = Vec::new();
    for e in rd {
        names.push(e.map_err(|e| LayerError::io("read directory", dir, e))?.file_name());
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

#[cfg(test)]
mod tests;
