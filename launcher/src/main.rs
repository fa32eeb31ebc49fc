//! `kmview`: builds a view from its options, pushes it onto the stack it runs in, and runs a
//! command inside it.
//!
//! It runs in two stages. Stage one parses the options and re-executes this same binary
//! (`/proc/self/exe`) with the new stack in the environment and the library preloaded; stage
//! two (`--in-view`, internal) is then inside the view, so its `execvp` of the command goes
//! through the view: the command's path is looked up in the view, and a `#!` script's
//! interpreter too.

use clap::Parser;
use kmview_api::{Entry, Stack, View};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// The launcher's own failures (bad option, missing library): never the command's.
const EXIT_OWN: u8 = 125;
const EXIT_NOT_EXECUTABLE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;

#[derive(Parser, Debug)]
#[command(
    name = "kmview",
    version,
    about = "Run a command in its own view of the file system (no root, no namespaces).",
    after_help = "Inside a view, `kmview stack` prints the stack, outermost view first.\n\
                  Exit status: the command's own (killed by a signal: the same signal); \
                  125 kmview's own error; 126 command not executable; 127 command not found.",
    trailing_var_arg = true
)]
struct Options {
    /// The seed's test view: PREFIX/X and PREFIX/PREFIX/X are /X (PREFIX defaults to /unreal).
    #[arg(long, value_name = "PREFIX", num_args = 0..=1, require_equals = true, default_missing_value = "/unreal")]
    unreal: Option<OsString>,

    /// What to do when the command runs a static or setuid/setgid executable, which leaves
    /// the view: warn (default: one line on stderr), deny (EACCES) or allow.
    #[arg(long = "static", value_name = "POLICY", value_parser = ["warn", "deny", "allow"])]
    static_policy: Option<String>,

    /// Internal: the second stage, already inside the view.
    #[arg(long, hide = true)]
    in_view: bool,

    /// The command and its arguments (default: $SHELL).
    #[arg(value_name = "COMMAND")]
    command: Vec<OsString>,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kmview: {msg}");
    ExitCode::from(EXIT_OWN)
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.len() >= 2 && argv[1] == "stack" {
        return print_stack(&argv[2..]);
    }
    let opts = match Options::try_parse_from(&argv) {
        Ok(o) => o,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_OWN } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if opts.in_view {
        return exec_command(opts.command);
    }
    launch(opts)
}

/// Stage one: the new view, the environment that carries it, and the re-exec.
fn launch(opts: Options) -> ExitCode {
    let mut view = View::default();
    if let Some(prefix) = &opts.unreal {
        let bytes = prefix.as_bytes();
        if let Err(e) = kmview_api::format::check_mount_path(bytes) {
            return fail(format!("--unreal: {e}"));
        }
        if bytes == b"/" {
            return fail("--unreal: the prefix must not be `/`");
        }
        view.entries.push(Entry::Unreal { prefix: bytes.to_vec() });
    }
    if let Some(p) = &opts.static_policy {
        let Some(policy) = kmview_api::StaticPolicy::from_name(p.as_bytes()) else {
            return fail(format!("--static: `{p}` is not warn, deny or allow"));
        };
        view.entries.push(Entry::Static { policy });
    }
    let outer = match kmview_api::current_stack() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return fail(format!("malformed KMVIEW_STACK in this environment: {e}")),
    };
    let stack: Stack = outer.pushed(view);
    let Some(lib) = kmview_api::find_library() else {
        return fail(format!("cannot find {} beside this executable (set KMVIEW_LIB)", kmview_api::LIB_NAME));
    };
    let lib = match std::fs::canonicalize(&lib) {
        Ok(l) => l,
        Err(e) => return fail(format!("{}: {e}", lib.display())),
    };
    let mut cmd = kmview_api::command_in(&stack, &lib, "/proc/self/exe");
    cmd.arg0("kmview").arg("--in-view").arg("--").args(&opts.command);
    let err = cmd.exec();
    fail(format!("cannot re-execute itself: {err}"))
}

/// Stage two: inside the view, become the command (or `$SHELL`).
fn exec_command(mut command: Vec<OsString>) -> ExitCode {
    if command.is_empty() {
        command.push(std::env::var_os("SHELL").filter(|s| !s.is_empty()).unwrap_or_else(|| "/bin/sh".into()));
    }
    let Ok(args) = command.iter().map(|a| CString::new(a.clone().into_vec())).collect::<Result<Vec<_>, _>>() else {
        return fail("an argument contains a NUL byte");
    };
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: ptrs is a NULL-terminated array of C strings that outlive the call. execvp here
    // is the library's (this process runs with it preloaded), so the lookup happens in the view.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    let err = std::io::Error::last_os_error();
    let name = command[0].to_string_lossy();
    match err.raw_os_error() {
        Some(libc::ENOENT) => {
            eprintln!("kmview: {name}: command not found");
            ExitCode::from(EXIT_NOT_FOUND)
        }
        _ => {
            eprintln!("kmview: {name}: {err}");
            ExitCode::from(EXIT_NOT_EXECUTABLE)
        }
    }
}

/// `kmview stack`: the stack this process lives in, outermost view first.
fn print_stack(rest: &[OsString]) -> ExitCode {
    if let Some(extra) = rest.first() {
        return fail(format!("stack: unexpected argument `{}`", extra.to_string_lossy()));
    }
    match kmview_api::current_stack() {
        Err(e) => fail(format!("malformed KMVIEW_STACK: {e}")),
        Ok(None) => {
            println!("no view: this process is not inside kmview");
            ExitCode::from(1)
        }
        Ok(Some(stack)) => {
            for (i, view) in stack.views.iter().enumerate() {
                let entries: Vec<String> = view.entries.iter().map(describe).collect();
                println!("{}: {}", i + 1, if entries.is_empty() { "(empty view)".into() } else { entries.join(", ") });
            }
            ExitCode::SUCCESS
        }
    }
}

fn describe(e: &Entry) -> String {
    match e {
        Entry::Unreal { prefix } => format!("unreal {}", String::from_utf8_lossy(prefix)),
        Entry::Static { policy } => format!("static={}", policy.name()),
    }
}
