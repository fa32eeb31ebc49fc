//! Why a layer could not be diffed, applied or discarded. The refusals come before anything is
//! changed; an [`LayerError::Io`] during [`super::apply`] can leave it half done, and says where.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
#[non_exhaustive]
pub enum LayerError {
    /// `role` (`UPPER`, `DIR`) is not a directory.
    NotADirectory { role: &'static str, path: PathBuf },
    /// A whiteout whose name is not one plain sibling name (`.wh...`, `.wh.`).
    BadWhiteout { path: PathBuf, why: &'static str },
    /// A character device 0/0: the kernel overlayfs's whiteout, not the OCI form's.
    KernelWhiteout { path: PathBuf },
    /// An entry [`super::apply`] cannot make with the standard library (fifo, socket, device).
    Unsupported { path: PathBuf },
    /// [`super::discard`] will not remove this directory.
    Refused { path: PathBuf, why: &'static str },
    /// A system call failed: what was being done, on which path.
    Io { op: &'static str, path: PathBuf, error: std::io::Error },
}

impl LayerError {
    pub(crate) fn io(op: &'static str, path: &Path, error: std::io::Error) -> LayerError {
        LayerError::Io { op, path: path.to_path_buf(), error }
    }

    /// A refusal (nothing was changed) rather than a failure on the way.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, LayerError::Io { .. })
    }
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerError::NotADirectory { role, path } => write!(f, "{role} {} is not a directory", path.display()),
            LayerError::BadWhiteout { path, why } => {
                write!(f, "whiteout {} {why}: refusing the whole layer (nothing changed)", path.display())
            }
            LayerError::KernelWhiteout { path } => write!(
                f,
                "{} is a character device 0/0, the kernel overlayfs's whiteout: convert the upper to the OCI form \
                 (an empty file .wh.NAME) first (nothing changed)",
                path.display()
            ),
            LayerError::Unsupported { path } => {
                write!(f, "{} is a fifo, socket or device, which this tool does not copy (nothing changed)", path.display())
            }
            LayerError::Refused { path, why } => write!(f, "refusing to remove {}: {why}", path.display()),
            LayerError::Io { op, path, error } => write!(f, "cannot {op} {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LayerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LayerError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}
