//! [`diff`]: an upper directory's changes, compared with the lower tree when it is given.

use super::{check_whiteout, classify, is_kernel_whiteout, sorted_names, Change, Item, Kind, LayerError, Name, OPAQUE_MARKER};
use std::fs::Metadata;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What the lower tree has at the directory being walked.
#[derive(Clone)]
enum Lower {
    /// No lower tree given: an entry may be new or changed.
    Unknown,
    /// Nothing shows through here (not in the lower tree, not a directory there, or opaque).
    Empty,
    /// The lower tree's directory at this place.
    Dir(PathBuf),
}

/// The changes `upper` holds, sorted by path (bytes), one [`Item`] per line of
/// `kmview overlay diff` (a directory's path as shown, with its `/`, then its entries). With `lower`, an entry is [`Change::Added`], [`Change::Modified`], or
/// only [`Change::Mode`] / [`Change::Owner`] when its content is the lower one's; a directory
/// there only as the parent of changes (same mode and owner as below) and a file whose content,
/// mode and owner are the lower one's (only touched) are not listed. Without `lower`, every
/// entry is [`Change::ChangedOrAdded`] except below an opaque directory (added), and a
/// directory is listed only when empty (a non-empty one is taken as the parent of its
/// entries). Whiteouts are [`Change::Removed`] either way.
///
/// ```
/// # let tmp = std::env::temp_dir().join(format!("kmview-diff-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(tmp.join("upper/new"))?;
/// # std::fs::write(tmp.join("upper/new/f"), "x")?;
/// # std::fs::write(tmp.join("upper/new/.wh..wh..opq"), "")?;
/// # std::fs::write(tmp.join("upper/.wh.old"), "")?;
/// let items = kmview_api::layer::diff(&tmp.join("upper"), None)?;
/// let lines: Vec<String> = items.iter().map(|i| i.to_string()).collect();
/// assert_eq!(lines, ["R new/", "A new/f", "D old"]);
/// # std::fs::remove_dir_all(&tmp)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn diff(upper: &Path, lower: Option<&Path>) -> Result<Vec<Item>, LayerError> {
    is_dir("UPPER", upper)?;
    let lower = match lower {
        Some(l) => {
            is_dir("DIR", l)?;
            Lower::Dir(l.to_path_buf())
        }
        None => Lower::Unknown,
    };
    let mut out = Vec::new();
    walk(upper, &lower, Path::new(""), &mut out)?;
    // Walk order puts `a/b` before `a.b`; the listing is by the path as shown (a directory
    // with its `/`), so that a directory comes just before its entries. Stable: `m` before `o`.
    out.sort_by_cached_key(|i| {
        let mut key = i.path.as_os_str().as_bytes().to_vec();
        if i.kind == Some(Kind::Dir) {
            key.push(b'/');
        }
        key
    });
    Ok(out)
}

pub(super) fn is_dir(role: &'static str, p: &Path) -> Result<(), LayerError> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(LayerError::NotADirectory { role, path: p.to_path_buf() }),
    }
}

fn lstat(p: &Path) -> Result<Metadata, LayerError> {
    std::fs::symlink_metadata(p).map_err(|e| LayerError::io("stat", p, e))
}

/// Lists the changes of one directory of the upper (`dir`, at `rel`), recursing into its
/// subdirectories.
fn walk(dir: &Path, lower: &Lower, rel: &Path, out: &mut Vec<Item>) -> Result<(), LayerError> {
    for name in sorted_names(dir)? {
        let path = dir.join(&name);
        match classify(&name) {
            Name::Opaque | Name::Reserved => continue,
            Name::Whiteout(target) => {
                check_whiteout(target).map_err(|why| LayerError::BadWhiteout { path: path.clone(), why })?;
                out.push(Item { path: rel.join(target), kind: None, change: Change::Removed });
                continue;
            }
            Name::Entry => {}
        }
        let m = lstat(&path)?;
        if is_kernel_whiteout(&m) {
            return Err(LayerError::KernelWhiteout { path });
        }
        let kind = Kind::of(&m);
        let item_path = rel.join(&name);
        let below = lower_entry(lower, &name)?;
        let opaque = kind == Kind::Dir && std::fs::symlink_metadata(path.join(OPAQUE_MARKER)).is_ok();
        let changes = match &below {
            Below::Unknown if opaque => vec![Change::Replaced],
            Below::Unknown if kind == Kind::Dir && !is_empty(&path)? => vec![],
            Below::Unknown => vec![Change::ChangedOrAdded],
            Below::Missing => vec![Change::Added],
            Below::Present(_, lm) if Kind::of(lm) != kind => vec![Change::Modified],
            Below::Present(..) if opaque => vec![Change::Replaced],
            Below::Present(lp, lm) => compare(&path, &m, lp, lm)?,
        };
        for change in changes {
            out.push(Item { path: item_path.clone(), kind: Some(kind), change });
        }
        if kind == Kind::Dir {
            let next = match below {
                _ if opaque => Lower::Empty,
                Below::Unknown => Lower::Unknown,
                Below::Present(lp, lm) if lm.is_dir() => Lower::Dir(lp),
                _ => Lower::Empty,
            };
            walk(&path, &next, &item_path, out)?;
        }
    }
    Ok(())
}

/// What the lower tree has for one name.
enum Below {
    Unknown,
    Missing,
    Present(PathBuf, Metadata),
}

fn lower_entry(lower: &Lower, name: &std::ffi::OsStr) -> Result<Below, LayerError> {
    Ok(match lower {
        Lower::Unknown => Below::Unknown,
        Lower::Empty => Below::Missing,
        Lower::Dir(d) => {
            let p = d.join(name);
            match std::fs::symlink_metadata(&p) {
                Ok(m) => Below::Present(p, m),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Below::Missing,
                Err(e) => return Err(LayerError::io("stat", &p, e)),
            }
        }
    })
}

fn is_empty(dir: &Path) -> Result<bool, LayerError> {
    let mut rd = std::fs::read_dir(dir).map_err(|e| LayerError::io("read directory", dir, e))?;
    Ok(rd.next().is_none())
}

/// Two entries of the same kind: `M` if their content differs, else `m` and/or `o`.
fn compare(up: &Path, um: &Metadata, low: &Path, lm: &Metadata) -> Result<Vec<Change>, LayerError> {
    let same = match Kind::of(um) {
        Kind::Dir => true,
        Kind::File => um.len() == lm.len() && same_bytes(up, low)?,
        Kind::Symlink => read_link(up)? == read_link(low)?,
        Kind::Other => (um.mode() & 0o170000) == (lm.mode() & 0o170000) && um.rdev() == lm.rdev(),
    };
    if !same {
        return Ok(vec![Change::Modified]);
    }
    let mut out = Vec::new();
    let (from, to) = (lm.mode() & 0o7777, um.mode() & 0o7777);
    // A symlink's mode means nothing (always 0777 on Linux).
    if from != to && !um.file_type().is_symlink() {
        out.push(Change::Mode { from, to });
    }
    let (from, to) = ((lm.uid(), lm.gid()), (um.uid(), um.gid()));
    if from != to {
        out.push(Change::Owner { from, to });
    }
    Ok(out)
}

fn read_link(p: &Path) -> Result<PathBuf, LayerError> {
    std::fs::read_link(p).map_err(|e| LayerError::io("read link", p, e))
}

/// Compares two files of the same length block by block.
fn same_bytes(a: &Path, b: &Path) -> Result<bool, LayerError> {
    let open = |p: &Path| std::fs::File::open(p).map_err(|e| LayerError::io("open", p, e));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut fa, &mut ba).map_err(|e| LayerError::io("read", a, e))?;
        let m = read_full(&mut fb, &mut bb).map_err(|e| LayerError::io("read", b, e))?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Fills `buf` as far as the file goes, so that two files are compared at the same offsets.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
