//! `kmview env [OPTIONS]`: the environment that puts a program in the view the options
//! describe, printed as `export NAME='value'` lines for a shell's `eval` (or any tool that sets
//! variables itself). The variables come from `kmview_api::view_env`, the one list
//! `kmview_api::ViewBuilder::env` and the launcher's own stage one use.
//!
//! No `kmview` stays behind to clean up, so the options whose files it removes or writes when
//! the command ends are refused (125, one line naming the option) rather than leaving stray
//! private directories: what is kept (a `--state` record, a `--trace` file) is the caller's.

use crate::view_options::Built;
use crate::{fail, Options};
use kmview_api::Entry;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// The first option given that needs a `kmview` that runs the command, as the message says it.
fn needs_launcher(opts: &Options) -> Option<&'static str> {
    let fake = opts.fakeroot || opts.uid.is_some() || opts.gid.is_some() || opts.unknown_is_real || opts.state_load.is_some();
    [
        (
            !opts.tmp.is_empty(),
            "--tmp: its directory is removed when the command ends, and kmview env runs none; bind a directory of your own (-b DIR:PATH)",
        ),
        (
            fake && opts.state.is_none(),
            "-0: the fake root's record is removed when the command ends, and kmview env runs none; keep it in a file with --state FILE",
        ),
        (opts.state_save.is_some(), "--state-save: the record is written when the command ends, and kmview env runs none; use --state FILE"),
        (
            opts.deps.is_some(),
            "--deps: the document is written when the command ends, and kmview env runs none; use --trace FILE and read it afterwards",
        ),
        (opts.cwd.is_some(), "--cwd: kmview env runs no command to start there; cd there in the view instead"),
        (!opts.command.is_empty(), "a COMMAND: kmview env runs none; eval its output, then run the command"),
    ]
    .into_iter()
    .find_map(|(given, msg)| given.then_some(msg))
}

/// A directory made up for a mountpoint whose parent is missing: removed only by a `kmview`
/// that waits, so refused too.
fn made_up(built: &Built) -> Option<String> {
    built.view.entries.iter().find_map(|e| match e {
        Entry::Tmp { at, source } if built.tmp_dirs.iter().any(|d| d.as_os_str().as_bytes() == source.as_slice()) => {
            Some(String::from_utf8_lossy(at).into_owned())
        }
        _ => None,
    })
}

/// `value` in single quotes for a POSIX shell (`'` written as `'\''`), bytes as they are.
fn shell_quoted(value: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in value {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

pub fn print(opts: &Options, matches: &clap::ArgMatches) -> ExitCode {
    if let Some(msg) = needs_launcher(opts) {
        return fail(format!("env: {msg}"));
    }
    let built = match crate::view_options::build(opts, matches) {
        Ok(b) => b,
        Err(msg) => return fail(msg),
    };
    if let Some(at) = made_up(&built) {
        return fail(format!("env: {at} does not exist, and a directory made up there is removed when the command ends; create it, or mount higher"));
    }
    let (stack, lib) = match crate::run::stack_and_library(&built.view) {
        Ok(pair) => pair,
        Err(msg) => return fail(msg),
    };
    let mut out = Vec::new();
    for (name, value) in kmview_api::view_env(&stack, &lib) {
        out.extend_from_slice(b"export ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend(shell_quoted(value.as_bytes()));
        out.push(b'\n');
    }
    match std::io::stdout().write_all(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("env: writing the variables: {e}")),
    }
}
