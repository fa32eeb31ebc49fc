//! What the front ends (`kmview-fakeroot`, `kmview-proot`) share: one-line errors (exit 125,
//! as `kmview`'s own) and becoming the `kmview` beside them with the options they translated.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// One line on stderr, named after the front end, and `kmview`'s own exit status for its errors.
pub fn fail(front: &str, msg: &str) -> ExitCode {
    eprintln!("{front}: {msg}");
    ExitCode::from(125)
}

/// Becomes `kmview ARGS` (the one beside this executable), with `env` set; returns only if it
/// cannot.
pub fn exec_kmview(front: &str, args: &[OsString], env: &[(&str, &str)]) -> ExitCode {
    let Some(kmview) = std::env::current_exe().ok().and_then(|e| Some(e.parent()?.join("kmview"))).filter(|k| k.is_file()) else {
        return fail(front, "cannot find kmview beside this executable");
    };
    let err = std::process::Command::new(&kmview).args(args).envs(env.iter().copied()).exec();
    fail(front, &format!("cannot run {}: {err}", kmview.display()))
}
