//! `kmview`: builds a view from its options, pushes it onto the stack it runs in, and runs a
//! command inside it.
//!
//! It runs in two stages. Stage one parses the options and re-executes this same binary
//! (`/proc/self/exe`) with the new stack in the environment and the library preloaded; stage
//! two (`--in-view`, internal) is then inside the view, so its `chdir` and its `execvp` of the
//! command go through the view: the command is looked up in the view, and a `#!` script's
//! interpreter too. With `--tmp`, stage one stays behind to remove the directories at the end.

mod chroot_args;
mod docs;
mod embedded;
mod overlay;
mod print_env;
mod run;
mod view_options;

use clap::{CommandFactory, Parser};
use std::ffi::OsString;
use std::process::ExitCode;

/// The launcher's own failures (bad option, missing library): never the command's.
pub const EXIT_OWN: u8 = 125;
pub const EXIT_NOT_EXECUTABLE: u8 = 126;
pub const EXIT_NOT_FOUND: u8 = 127;

#[derive(Parser, Debug)]
#[command(
    name = "kmview",
    version,
    about = "Run a command in its own view of the file system (no root, no namespaces).",
    after_help = "Examples:\n  \
                  kmview -b \"$PWD:/build\" -w /build -- make             build at a fixed path\n  \
                  kmview -r ~/roots/bookworm -b /proc -b /dev -- bash   a Debian root's own programs\n  \
                  kmview --hide ~/.ssh --ro \"$PWD\" -- ./tool            hide secrets, keep the tree as it is\n  \
                  kmview -0 -- tar --numeric-owner -cf pkg.tar pkg      fake root (kmview-fakeroot: fakeroot's options)\n  \
                  kmview --unreal -- cat /unreal/etc/passwd             the seed's test view\n\n\
                  SRC paths are paths of the view kmview runs in; in SRC:DST, `\\:` is a colon and `\\\\` a backslash.\n\
                  Inside a view, `kmview stack` prints the stack, outermost view first; `kmview --print-lib` the library.\n\
                  `kmview env OPTIONS` prints the variables that put programs in that view, for `eval \"$(kmview env ...)\"`.\n\
                  `kmview overlay diff|apply|discard UPPER` shows, applies or discards an overlay's upper directory (OCI layer form).\n\
                  Exit status: the command's own (killed by a signal: the same signal); \
                  125 kmview's own error; 126 command not executable; 127 command not found.",
    trailing_var_arg = true
)]
pub struct Options {
    /// DST shows SRC (a file or a directory); SRC alone binds it at its own path (proot's -b, -m, --mount).
    #[arg(short = 'b', long = "bind", value_name = "SRC[:DST]", short_alias = 'm', alias = "mount", help_heading = "Mounts")]
    pub bind: Vec<OsString>,

    /// The same, read-only: every write under DST fails with EROFS.
    #[arg(long = "ro-bind", value_name = "SRC:DST", help_heading = "Mounts")]
    pub ro_bind: Vec<OsString>,

    /// DIR is the view's /, with the other mounts on top of it.
    #[arg(short = 'r', long = "root", value_name = "DIR", alias = "rootfs", help_heading = "Mounts")]
    pub root: Option<OsString>,

    /// DIR is the view's /, with the host's usual paths bound on it, as proot's -R does: /dev,
    /// /proc, /sys, /tmp, /run, $HOME, and /etc's hosts, passwd, group, resolv.conf, localtime...
    #[arg(short = 'R', long = "root-with-host", value_name = "DIR", conflicts_with = "root", help_heading = "Mounts")]
    pub root_with_host: Option<OsString>,

    /// PATH is ENOENT, and absent from its parent's listing.
    #[arg(long = "hide", value_name = "PATH", help_heading = "Hiding and protecting")]
    pub hide: Vec<OsString>,

    /// EACCES for PATH and below.
    #[arg(long = "deny", value_name = "PATH", help_heading = "Hiding and protecting")]
    pub deny: Vec<OsString>,

    /// Every write under PATH fails with EROFS: PATH is a read-only bind mount of itself (rename and link across its edge are EXDEV, removing PATH is EBUSY).
    #[arg(long = "ro", value_name = "PATH", help_heading = "Hiding and protecting")]
    pub ro: Vec<OsString>,

    /// A fresh empty writable directory at PATH, removed when the command ends.
    #[arg(long = "tmp", value_name = "PATH", help_heading = "Mounts")]
    pub tmp: Vec<OsString>,

    /// DIR copy-on-write: the command may change it freely, DIR itself is never written. The
    /// changes land in UPPER (made if missing; by default a fresh directory, named on stderr when
    /// the command ends and kept) as an OCI layer: `.wh.NAME` for a removed entry, `.wh..wh..opq`
    /// in a directory replaced wholesale. See `kmview overlay`.
    #[arg(long = "overlay", value_name = "DIR[:UPPER]", help_heading = "Mounts")]
    pub overlay: Vec<OsString>,

    /// Fake root, as fakeroot does it but in-process: the command and its children are root
    /// (uid and gid 0) in the view, their chown, chmod and mknod are recorded and every stat
    /// reports them; files nobody chowned show as owned by root. The record lasts as long as
    /// the command.
    #[arg(short = '0', long = "fakeroot", help_heading = "Fake root")]
    pub fakeroot: bool,

    /// With the fake root: the user id processes start with (default 0; implies -0).
    #[arg(long, value_name = "N", help_heading = "Fake root")]
    pub uid: Option<u32>,

    /// With the fake root: the group id processes start with (default 0; implies -0).
    #[arg(long, value_name = "N", help_heading = "Fake root")]
    pub gid: Option<u32>,

    /// With the fake root: a file nobody chowned shows its real owner, not root (implies -0).
    #[arg(short = 'u', long = "unknown-is-real", help_heading = "Fake root")]
    pub unknown_is_real: bool,

    /// With the fake root: keep the record in FILE (made if missing), across runs, and share it
    /// live with every other kmview naming the same FILE (implies -0).
    #[arg(long, value_name = "FILE", help_heading = "Fake root")]
    pub state: Option<OsString>,

    /// With the fake root: when the command ends, write the record to FILE in Debian fakeroot's
    /// save format (what `fakeroot -s FILE` writes; implies -0).
    #[arg(long = "state-save", value_name = "FILE", help_heading = "Fake root")]
    pub state_save: Option<OsString>,

    /// With the fake root: start from the record in FILE, in Debian fakeroot's save format (what
    /// `fakeroot -i FILE` reads; implies -0).
    #[arg(long = "state-load", value_name = "FILE", help_heading = "Fake root")]
    pub state_load: Option<OsString>,

    /// Write every call that crosses this view to FILE, one line per call (JSON objects, or
    /// fsatrace's lines with --trace-format=fsatrace); FILE is emptied first.
    #[arg(long, value_name = "FILE", help_heading = "Tracing")]
    pub trace: Option<OsString>,

    /// The trace's format: json (default) or fsatrace (its `op|path` lines).
    #[arg(long = "trace-format", value_name = "FORMAT", value_parser = ["json", "fsatrace"], help_heading = "Tracing")]
    pub trace_format: Option<String>,

    /// When the command ends, write to FILE, as one JSON document, every path it read, wrote,
    /// executed, listed, removed, renamed or probed and found missing, with its host name.
    #[arg(long, value_name = "FILE", help_heading = "Tracing")]
    pub deps: Option<OsString>,

    /// The starting directory inside the view.
    #[arg(short = 'w', long = "cwd", value_name = "DIR", alias = "pwd", help_heading = "Running")]
    pub cwd: Option<OsString>,

    /// The seed's test view: PREFIX/X and PREFIX/PREFIX/X are /X (PREFIX defaults to /unreal).
    #[arg(long, value_name = "PREFIX", num_args = 0..=1, require_equals = true, default_missing_value = "/unreal", help_heading = "Running")]
    pub unreal: Option<OsString>,

    /// Resolve every path component by component in the view, so that a symlink outside every
    /// mount whose target leads into a mount, a hidden or a denied path is seen too (the default
    /// fast way leaves such a link to the kernel, which follows it on the host). Slower.
    #[arg(long, help_heading = "Running")]
    pub exact: bool,

    /// Complete mode: system calls a program makes without libc (Go programs, inline `syscall`
    /// instructions) are trapped in the process (syscall user dispatch, Linux 5.11) and go
    /// through the view too. `auto`: only in programs that need it (Go programs), so the rest pay
    /// nothing. A static executable cannot be followed and is refused unless --static=allow.
    #[arg(long, value_name = "WHEN", num_args = 0..=1, require_equals = true, default_missing_value = "on", value_parser = ["on", "auto"], help_heading = "Running")]
    pub complete: Option<String>,

    /// What to do when the command runs a static or setuid/setgid executable, which leaves
    /// the view: warn (default: one line on stderr), deny (EACCES; the default under
    /// --complete) or allow.
    #[arg(long = "static", value_name = "POLICY", value_parser = ["warn", "deny", "allow"], help_heading = "Running")]
    pub static_policy: Option<String>,

    /// Internal: the second stage, already inside the view.
    #[arg(long, hide = true)]
    pub in_view: bool,

    /// The command and its arguments (default: $SHELL).
    #[arg(value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

pub fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kmview: {msg}");
    ExitCode::from(EXIT_OWN)
}

/// A command-line error as one line: what is wrong, the values allowed, the fix clap suggests.
fn one_line(e: &clap::Error, help: &str) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines.next().unwrap_or("bad command line").trim_start_matches("error: ").to_string();
    for l in lines {
        if let Some(values) = l.strip_prefix("[possible values: ").or(l.strip_prefix("[subcommands: ")).and_then(|v| v.strip_suffix(']')) {
            out += &format!(" (possible values: {values})");
        } else if l.starts_with('<') || l.starts_with("--") {
            // The arguments a "required arguments were not provided" error names.
            out += &format!(" {l}");
        } else if let Some(tip) = l.strip_prefix("tip: ") {
            out += &format!("; {tip}");
        }
    }
    out + &format!(" (see {help})")
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.len() == 2 && argv[1] == "--print-lib" {
        // For wrappers that set LD_PRELOAD themselves.
        return match embedded::library().and_then(|lib| std::fs::canonicalize(&lib).map_err(|e| format!("{}: {}", lib.display(), run::io_reason(&e))))
        {
            Ok(lib) => {
                println!("{}", lib.display());
                ExitCode::SUCCESS
            }
            Err(msg) => fail(msg),
        };
    }
    // Hidden: regenerates doc/ (man pages, completions) from the definitions below.
    if argv.len() == 3 && argv[1] == "__generate-docs" {
        return match docs::generate(argv[2].as_ref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("cannot write the docs into {}: {e}", argv[2].to_string_lossy())),
        };
    }
    // `kmview chroot DIR [COMMAND...]`: chroot's command line (see chroot_args.rs).
    if argv.len() >= 2 && argv[1] == "chroot" {
        return match chroot_args::translate(&argv[2..]) {
            Ok(km) => {
                use std::os::unix::process::CommandExt;
                let err = std::process::Command::new("/proc/self/exe").arg0("kmview").args(km).exec();
                fail(format!("cannot re-execute itself: {err}"))
            }
            Err(e) => fail(format!("chroot: {e}")),
        };
    }
    // `kmview overlay diff|apply|discard UPPER`: an overlay's upper directory (see overlay.rs).
    if argv.len() >= 2 && argv[1] == "overlay" {
        return overlay::main(&argv[2..]);
    }
    if argv.len() >= 2 && argv[1] == "stack" {
        return run::print_stack(&argv[2..]);
    }
    // `kmview env OPTIONS`: the view the same options build, printed as variables to set.
    let env_only = argv.len() >= 2 && argv[1] == "env";
    let argv: Vec<OsString> = if env_only { argv[..1].iter().chain(&argv[2..]).cloned().collect() } else { argv };
    let matches = match Options::command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) if e.use_stderr() => return fail(one_line(&e, "kmview --help")),
        Err(e) => {
            // --help, --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let opts = match <Options as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    if env_only {
        return print_env::print(&opts, &matches);
    }
    if opts.in_view {
        return run::in_view(opts.cwd, opts.command);
    }
    let view = match view_options::build(&opts, &matches) {
        Ok(v) => v,
        Err(msg) => return fail(msg),
    };
    run::launch(view, opts)
}
