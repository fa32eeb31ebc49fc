//! `record-deps [--out FILE] COMMAND [ARGS...]`: runs a command in an empty view (nothing is
//! moved, so every name is the host's) with a trace, then writes what it read, wrote, ran,
//! listed and looked for, as the JSON document `kmview --deps` writes (`kmview_api::deps`): to
//! FILE, or to stdout (the command's own stdout then goes to stderr, so the document stays
//! whole). The exit status is the command's.
//!
//! Why a view and not `strace`: the trace is written by the library inside each process, so
//! it costs no `ptrace` stop per call, follows every child, and names paths as the program saw
//! them (the same code gives a view with binds its view's names).

use kmview_api::deps::Deps;
use kmview_api::ViewBuilder;
use kmview_examples::{exit_code, main_with, TempDir};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

const USAGE: &str = "usage: record-deps [--out FILE] COMMAND [ARGS...]";

fn main() -> ExitCode {
    main_with("record-deps", || {
        let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
        let mut out = None;
        if args.first().is_some_and(|a| a == "--out") {
            args.remove(0);
            out = Some(PathBuf::from(if args.is_empty() { return Err(USAGE.into()) } else { args.remove(0) }));
        }
        if args.is_empty() {
            return Err(USAGE.into());
        }
        let scratch = TempDir::new("record-deps")?;
        let trace = scratch.path().join("trace.jsonl");
        // An empty view: only the trace facet. The builder must outlive the command.
        let view = ViewBuilder::new().trace(&trace);
        let mut cmd = view.command(&args[0])?;
        cmd.args(&args[1..]);
        if out.is_none() {
            cmd.stdout(Stdio::from(std::io::stderr()));
        }
        let status = cmd.status().map_err(|e| format!("{}: {e}", args[0].to_string_lossy()))?;
        let doc = Deps::from_trace_file(&trace)?.to_json();
        match out {
            Some(file) => std::fs::write(&file, doc).map_err(|e| format!("{}: {e}", file.display()))?,
            None => print!("{doc}"),
        }
        Ok(exit_code(status))
    })
}
