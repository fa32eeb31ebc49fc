//! Running the command: stage one (re-execute into the view, or, with `--tmp`, start stage two
//! and wait to clean up), stage two (inside the view: `chdir`, then become the command), and
//! `kmview stack`.

use crate::view_options::Built;
use crate::{fail, Options, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, EXIT_OWN};
use kmview_api::{Entry, Stack};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

/// The stack with `view` pushed onto the one this process runs in, and the library to preload
/// (canonical, checked to be kmview's of this version): what stage one and `kmview env` need.
pub fn stack_and_library(view: &kmview_api::View) -> Result<(Stack, std::path::PathBuf), String> {
    let outer = match kmview_api::current_stack() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return Err(format!("malformed KMVIEW_STACK in this environment: {e}")),
    };
    // The usual places, else the library this binary carries (unpacked into the user's cache).
    let lib = crate::embedded::library()?;
    let lib = std::fs::canonicalize(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    if let Err(why) = kmview_api::libcheck::check(&lib) {
        return Err(format!("{} {why} (check KMVIEW_LIB): refusing to run outside the view", escaped(lib.as_os_str().as_bytes())));
    }
    Ok((outer.pushed(view.clone()), lib))
}

/// Stage one: the new stack, the environment that carries it, and stage two.
pub fn launch(built: Built, opts: Options) -> ExitCode {
    let (stack, lib) = match stack_and_library(&built.view) {
        Ok(pair) => pair,
        Err(msg) => return fail(msg),
    };
    let mut cmd = kmview_api::command_in(&stack, &lib, "/proc/self/exe");
    cmd.arg0("kmview").arg("--in-view");
    if let Some(dir) = &opts.cwd {
        cmd.arg("--cwd").arg(dir);
    }
    cmd.arg("--").args(&opts.command);
    if built.tmp_dirs.is_empty() && built.save.is_none() && built.deps.is_none() {
        let err = cmd.exec();
        return fail(format!("cannot re-execute itself: {err}"));
    }
    wait_and_clean(cmd, built)
}

static CHILD: AtomicI32 = AtomicI32::new(0);

/// Passes a signal on to the command, unless the terminal sent it: the terminal signals the
/// whole foreground process group, which the command is in (`SI_KERNEL`), so it has it already.
extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let from_terminal = !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL;
    let pid = CHILD.load(Ordering::Relaxed);
    if pid > 0 && !from_terminal {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// With `--tmp`: run stage two as a child, pass on the signals meant for the command, then
/// remove the private directories and end as the command did.
fn wait_and_clean(mut cmd: std::process::Command, built: Built) -> ExitCode {
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot start the command: {e}")),
    };
    CHILD.store(child.id() as i32, Ordering::Relaxed);
    // SAFETY: installing handlers; `forward` only reads its siginfo and calls kill.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = forward as *const () as libc::sighandler_t;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    let status = child.wait();
    if let Some((trace, out)) = &built.deps {
        let written = kmview_api::deps::Deps::from_trace_file(trace).and_then(|d| std::fs::write(out, d.to_json()));
        if let Err(e) = written {
            let msg = format!("--deps {}: {}", out.display(), io_reason(&e));
            drop(built);
            return fail(msg);
        }
    }
    if let Some((record, file)) = &built.save {
        if let Err(msg) = crate::view_options::save_fakeroot(record, file) {
            drop(built);
            return fail(msg);
        }
    }
    for (dir, upper) in &built.made_uppers {
        eprintln!("kmview: the changes to {} are in {}", dir.display(), upper.display());
    }
    drop(built);
    match status {
        Err(e) => fail(format!("waiting for the command: {e}")),
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => ExitCode::from(code as u8),
            (None, Some(sig)) => {
                // Die of the same signal, as the command did.
                // SAFETY: restoring the default action and raising the signal.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
                ExitCode::from(128 + sig as u8)
            }
            (None, None) => ExitCode::from(EXIT_OWN),
        },
    }
}

/// Whether this process runs with kmview's own library preloaded, of this launcher's version:
/// `KMVIEW_LIB` naming another library (or one the loader refused) would run the command with
/// no view at all.
fn library_is_ours() -> bool {
    let want = format!("kmview {}", env!("CARGO_PKG_VERSION"));
    // SAFETY: dlsym with a NUL-terminated name; the symbol, if any, is the library's 32-byte
    // version string, NUL-padded.
    unsafe {
        let p = libc::dlsym(libc::RTLD_DEFAULT, c"kmview_library_version".as_ptr());
        if p.is_null() {
            return false;
        }
        let got = std::slice::from_raw_parts(p.cast::<u8>(), 32);
        let len = got.iter().position(|&b| b == 0).unwrap_or(32);
        &got[..len] == want.as_bytes()
    }
}

/// Stage two, inside the view: the starting directory, then the command (or `$SHELL`).
pub fn in_view(cwd: Option<OsString>, mut command: Vec<OsString>) -> ExitCode {
    if !library_is_ours() {
        let lib = std::env::var_os("LD_PRELOAD").unwrap_or_default();
        return fail(format!(
            "{} is not kmview's library of version {} (check KMVIEW_LIB): refusing to run outside the view",
            escaped(lib.as_bytes()),
            env!("CARGO_PKG_VERSION")
        ));
    }
    if let Some(dir) = &cwd {
        if let Err(e) = std::env::set_current_dir(dir) {
            return fail(format!("--cwd {}: {}", escaped(dir.as_bytes()), io_reason(&e)));
        }
    } else if let Some(here) = std::env::var_os(kmview_api::CWD_VAR) {
        // Stay where the launcher was if the view has that directory, else start at `/`
        // (a chroot-style root need not hold it).
        if std::env::set_current_dir(&here).is_err() {
            let _ = std::env::set_current_dir("/");
        }
    }
    // PWD names the starting directory in the view's terms (a shell believes PWD when it names
    // the same directory, and gcc writes it into DW_AT_comp_dir).
    if let Ok(here) = std::env::current_dir() {
        std::env::set_var("PWD", here);
    }
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

/// An I/O error as a message says it: the reason alone ("No such file or directory").
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Bytes for a one-line message, control characters escaped.
fn escaped(b: &[u8]) -> String {
    let mut v = Vec::new();
    kmview_api::env::escape_for_message(&mut v, b);
    String::from_utf8_lossy(&v).into_owned()
}

/// `kmview stack`: the stack this process lives in, outermost view first.
pub fn print_stack(rest: &[OsString]) -> ExitCode {
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
    // Paths escaped as in messages: a newline or an escape sequence in a path stays one line.
    let s = |b: &[u8]| escaped(b);
    match e {
        Entry::Unreal { prefix } => format!("unreal {}", s(prefix)),
        Entry::Bind { at, source, read_only, walk } => {
            format!(
                "{} {} at {}{}",
                if *read_only { "ro-bind" } else { "bind" },
                s(source),
                s(at),
                match walk {
                    kmview_api::Walk::All => " (walked)",
                    kmview_api::Walk::DotDot => " (walked for ..)",
                    kmview_api::Walk::No => "",
                }
            )
        }
        Entry::Root { source, walk } => format!(
            "root {}{}",
            s(source),
            match walk {
                kmview_api::Walk::All => " (walked)",
                kmview_api::Walk::DotDot => " (walked for ..)",
                kmview_api::Walk::No => "",
            }
        ),
        Entry::Hide { path } => format!("hide {}", s(path)),
        Entry::Deny { path } => format!("deny {}", s(path)),
        Entry::ReadOnly { path } => format!("ro {}", s(path)),
        Entry::Link { path } => format!("link {} (walked)", s(path)),
        Entry::Tmp { at, source } => format!("tmp {} at {}", s(source), s(at)),
        Entry::Overlay { at, lower, upper, .. } => format!("overlay {} at {}, changes in {}", s(lower), s(at), s(upper)),
        Entry::Static { policy } => format!("static={}", policy.name()),
        Entry::Exact => "exact".to_string(),
        Entry::Complete { mode } => format!("complete={}", mode.name()),
        Entry::FakeRoot { uid, gid, state, unknown_is_real } => {
            format!("fakeroot as {uid}:{gid}, record {}{}", s(state), if *unknown_is_real { ", unknown files as they are" } else { "" })
        }
        Entry::Trace { format, file } => format!("trace ({}) to {}", format.name(), s(file)),
        Entry::Chroot { dir } => format!("chroot {} (made by the program's chroot(2))", s(dir)),
    }
}
