//! Why a [`crate::ViewBuilder`] could not make its view or its command: each case says which
//! path and what to do, since the caller is usually a build tool showing it to a person.

use crate::format::ParseError;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// What went wrong building a view or the command that runs in it. A builder keeps the first
/// mistake and reports it from [`crate::ViewBuilder::view`], [`crate::ViewBuilder::env`] and
/// [`crate::ViewBuilder::command`] (each time: the error is `Clone`, so I/O errors are shared).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// A source (of `bind`, `ro_bind`, `root`) that does not exist or cannot be resolved.
    MissingSource { method: &'static str, path: PathBuf, error: Arc<std::io::Error> },
    /// A path of the view (a mountpoint, a mark, an unreal prefix) that is not absolute and
    /// normal (no `.`, `..`, empty component or trailing `/`).
    BadViewPath { method: &'static str, path: Vec<u8>, why: ParseError },
    /// Two entries at one place that a mount table cannot hold together: a place mounted twice,
    /// or hidden or denied where something is mounted.
    Conflict { path: Vec<u8>, first: &'static str, second: &'static str },
    /// A mountpoint the kernel would refuse, or a directory the view could not make up.
    Mountpoint { method: &'static str, error: Arc<crate::mounts::MountError> },
    /// A file the builder makes or empties (a `tmp` directory, a trace) could not be.
    File { method: &'static str, path: PathBuf, error: Arc<std::io::Error> },
    /// The fake root's record could not be made or opened.
    Record { path: PathBuf, error: Arc<std::io::Error> },
    /// The fake root's record file exists but is not a record this version can use.
    NotARecord { path: PathBuf, why: String },
    /// `libkmview.so` was not found (`$KMVIEW_LIB`, beside the program, `../lib/kmview/`).
    LibraryNotFound,
    /// The library named is not kmview's of this crate's version: a command preloading it
    /// would run outside any view, so it is refused.
    NotTheLibrary { path: PathBuf, why: String },
    /// This process runs under a `KMVIEW_STACK` that does not parse: a view cannot be pushed
    /// onto it.
    MalformedStack(ParseError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        match self {
            Error::MissingSource { method, path, error } => {
                write!(f, "{method}: source {}: {error} (a source must exist in the view this program runs in)", path.display())
            }
            Error::BadViewPath { method, path, why } => {
                write!(f, "{method}: `{}` is {} (paths of the view are absolute and normal, like /build/src)", shown(path), why.what)
            }
            Error::Conflict { path, first, second } => {
                write!(f, "{second}: `{}` conflicts with {first} at the same path (mount or mark each place once)", shown(path))
            }
            Error::Mountpoint { method, error } => write!(f, "{method}: {error}"),
            Error::File { method, path, error } => write!(f, "{method}: {}: {error}", path.display()),
            Error::Record { path, error } => {
                write!(f, "fakeroot: record {}: {error} (give a path in a directory this program can write)", path.display())
            }
            Error::NotARecord { path, why } => {
                write!(f, "fakeroot: {} is {why}: it is left as it is; remove it or give another path", path.display())
            }
            Error::LibraryNotFound => write!(
                f,
                "cannot find {} (looked at $KMVIEW_LIB, beside this program and in ../lib/kmview/): set KMVIEW_LIB to its path \
                 or call .library(path); build it with `cargo build -p kmview`",
                crate::LIB_NAME
            ),
            Error::NotTheLibrary { path, why } => {
                write!(f, "{} {why} (check KMVIEW_LIB or .library()): refusing to run a command outside its view", path.display())
            }
            Error::MalformedStack(e) => write!(
                f,
                "malformed {} in this environment ({e}): cannot push a view onto it; unset it or fix the program that set it",
                crate::STACK_VAR
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::MissingSource { error, .. } | Error::File { error, .. } | Error::Record { error, .. } => Some(&**error),
            Error::Mountpoint { error, .. } => Some(&**error),
            Error::BadViewPath { why, .. } | Error::MalformedStack(why) => Some(why),
            _ => None,
        }
    }
}
