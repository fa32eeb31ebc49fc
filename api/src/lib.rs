//! kmview's embedding API: the `KMVIEW_STACK` format (one parser, one writer, shared with the
//! library and the launcher) and a way to run a command inside a view.
//!
//! This crate carries no hook exports: a tool that links it keeps its own `open`.

pub mod env;
pub mod format;
pub mod record;
pub mod sink;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;

pub use format::{Entry, ParseError, Stack, StaticPolicy, View, Walk};

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

/// Finds `libkmview.so`: `$KMVIEW_LIB`, else beside the running executable, else in
/// `../lib/kmview/` from it (an installed layout).
pub fn find_library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KMVIEW_LIB") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join(LIB_NAME), dir.join("../lib/kmview").join(LIB_NAME)].into_iter().find(|p| p.is_file())
}

/// A `Command` that runs `program` inside `stack` (the whole stack, outermost first), with
/// `lib` (an absolute path to `libkmview.so`) preloaded.
pub fn command_in(stack: &Stack, lib: &Path, program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env(STACK_VAR, stack.encode());
    cmd.env("LD_PRELOAD", preload_value(lib, std::env::var_os("LD_PRELOAD")));
    if let Ok(cwd) = std::env::current_dir() {
        cmd.env(CWD_VAR, cwd);
    }
    // The first process of the view names every descriptor it inherits (none is unknown).
    cmd.env(env::FDS_VAR, OsStr::from_bytes(env::FDS_SCAN));
    cmd.env_remove(env::EXE_VAR);
    cmd
}

/// `LD_PRELOAD` with `lib` in it once, first, keeping any other preloads the caller had.
pub fn preload_value(lib: &Path, existing: Option<OsString>) -> OsString {
    let mut out = Vec::new();
    env::encode_preload(&mut out, lib.as_os_str().as_bytes(), existing.as_ref().map(|e| e.as_bytes()));
    OsString::from_vec(out)
}
