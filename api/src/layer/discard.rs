//! [`discard`]: an upper directory thrown away, with the checks that keep a slip of the
//! command line from removing something else.

use super::{sorted_names, LayerError};
use std::path::{Path, PathBuf};

/// What [`discard`] removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discarded {
    pub path: PathBuf,
    /// Entries below it (files, directories, symlinks, whiteouts), not counting itself.
    pub entries: usize,
}

/// Removes the upper directory `upper` and everything in it: the changes are thrown away.
/// Refused: something that is not a directory (a symlink to one included: name the directory
/// itself), `/`, and the home directory or a directory holding it.
///
/// ```
/// # let tmp = std::env::temp_dir().join(format!("kmview-discard-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(tmp.join("upper/d"))?;
/// # std::fs::write(tmp.join("upper/d/.wh.x"), "")?;
/// let gone = kmview_api::layer::discard(&tmp.join("upper"))?;
/// assert_eq!(gone.entries, 2);
/// assert!(kmview_api::layer::discard(std::path::Path::new("/")).unwrap_err().is_refusal());
/// # std::fs::remove_dir_all(&tmp)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn discard(upper: &Path) -> Result<Discarded, LayerError> {
    let refused = |why| Err(LayerError::Refused { path: upper.to_path_buf(), why });
    match std::fs::symlink_metadata(upper) {
        Ok(m) if m.file_type().is_symlink() => return refused("it is a symlink (name the directory itself)"),
        Ok(m) if m.is_dir() => {}
        _ => return Err(LayerError::NotADirectory { role: "UPPER", path: upper.to_path_buf() }),
    }
    let real = upper.canonicalize().map_err(|e| LayerError::io("resolve", upper, e))?;
    if real == Path::new("/") {
        return refused("it is the root directory");
    }
    let home = std::env::var_os("HOME").and_then(|h| Path::new(&h).canonicalize().ok());
    if home.is_some_and(|h| h.starts_with(&real)) {
        return refused("it is the home directory or holds it");
    }
    let entries = count(&real)?;
    std::fs::remove_dir_all(&real).map_err(|e| LayerError::io("remove", &real, e))?;
    Ok(Discarded { path: real, entries })
}

fn count(dir: &Path) -> Result<usize, LayerError> {
    let mut n = 0;
    for name in sorted_names(dir)? {
        let p = dir.join(name);
        n += 1;
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            n += count(&p)?;
        }
    }
    Ok(n)
}
