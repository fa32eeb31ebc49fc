//! kmview's embedding API: the `KMVIEW_STACK` format (one parser, one writer, shared with the
//! library and the launcher) and a way to run a command inside a view: [`ViewBuilder`] builds a
//! view in code, as `kmview`'s options do, and gives a [`Command`] that runs in it or the
//! environment variables that put a program in it.
//!
//! This crate carries no hook exports: a tool that links it keeps its own `open`.
//!
//! ```
//! let dir = std::env::temp_dir();
//! let b = kmview_api::ViewBuilder::new().ro_bind(&dir, "/kmview-doc/src").hide("/kmview-doc/secret");
//! let view = b.view()?;
//! assert!(kmview_api::Stack { views: vec![view] }.encode().contains("robind=/kmview-doc/src:"));
//! # Ok::<(), kmview_api::Error>(())
//! ```

mod builder;
pub mod deps;
pub mod env;
mod error;
pub mod format;
pub mod layer;
pub mod libcheck;
pub mod mounts;
pub mod record;
pub mod sink;
pub mod trace;
pub mod walks;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;

pub use builder::ViewBuilder;
pub use error::Error;
pub use format::{CompleteMode, Entry, ParseError, Stack, StaticPolicy, TraceFormat, View, Walk};

/// The environment variable that carries the stack, outermost view first.
pub const STACK_VAR: &str = "KMVIEW_STACK";
/// The environment variable that carries the process's virtual working directory across exec.
pub const CWD_VAR: &str = "KMVIEW_CWD";
/// The library's file name.
pub const LIB_NAME: &str = "libkmview.so";

/// The stack this process lives in: `Ok(None)` outside any view.
pub fn current_stack() -> Result<Option<Stack>, ParseError> {
    match std::env::var_os(STACK_VAR) {
        None => Ok(None),
        Some(v) => Stack::parse(v.as_bytes()).map(Some),
    }
}

/// The Debian multiarch directory of this build's target, `/usr/lib/<triplet>/`, if known.
const MULTIARCH: Option<&str> = if cfg!(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64")) {
    Some("x86_64-linux-gnu")
} else if cfg!(all(target_os = "linux", target_env = "gnu", target_arch = "aarch64")) {
    Some("aarch64-linux-gnu")
} else {
    None
};

/// Finds `libkmview.so`: `$KMVIEW_LIB`, else beside the running executable, else, from it, in
/// the installed layouts `../lib/kmview/` (`~/.local/bin` and `~/.local/lib/kmview/`) and
/// `../lib/<triplet>/kmview/` (`/usr/bin` and Debian's `/usr/lib/x86_64-linux-gnu/kmview/`).
/// (The `kmview` command, when built by `cargo install`, also carries a copy of its own.)
pub fn find_library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KMVIEW_LIB") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let multiarch = MULTIARCH.map(|t| dir.join("../lib").join(t).join("kmview").join(LIB_NAME));
    [Some(dir.join(LIB_NAME)), Some(dir.join("../lib/kmview").join(LIB_NAME)), multiarch].into_iter().flatten().find(|p| p.is_file())
}

/// A `Command` that runs `program` inside `stack` (the whole stack, outermost first), with
/// `lib` (an absolute path to `libkmview.so`) preloaded: [`view_env`]'s variables set, and
/// `KMVIEW_EXE` (what an outer view's process was started as) removed.
pub fn command_in(stack: &Stack, lib: &Path, program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.envs(view_env(stack, lib));
    cmd.env_remove(env::EXE_VAR);
    cmd
}

/// The variables that put a program this process starts inside `stack`, with `lib` (an absolute
/// path to `libkmview.so`) preloaded: `KMVIEW_STACK`, `LD_PRELOAD` (the library first, this
/// process's other preloads kept), `KMVIEW_CWD` (this process's directory, believed by the
/// library only while the program is still there) and `KMVIEW_FDS=*` (the first process of the
/// view names every descriptor it inherits). The one list [`command_in`] and `kmview env` set.
pub fn view_env(stack: &Stack, lib: &Path) -> Vec<(OsString, OsString)> {
    let mut vars = vec![(STACK_VAR.into(), stack.encode().into()), ("LD_PRELOAD".into(), preload_value(lib, std::env::var_os("LD_PRELOAD")))];
    if let Ok(cwd) = std::env::current_dir() {
        vars.push((CWD_VAR.into(), cwd.into()));
    }
    vars.push((env::FDS_VAR.into(), OsStr::from_bytes(env::FDS_SCAN).into()));
    vars
}

/// `LD_PRELOAD` with `lib` in it once, first, keeping any other preloads the caller had.
pub fn preload_value(lib: &Path, existing: Option<OsString>) -> OsString {
    let mut out = Vec::new();
    env::encode_preload(&mut out, lib.as_os_str().as_bytes(), existing.as_ref().map(|e| e.as_bytes()));
    OsString::from_vec(out)
}
