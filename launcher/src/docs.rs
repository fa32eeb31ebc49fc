//! `kmview __generate-docs DIR`: the man pages and shell completions, made from the clap
//! definitions so that they cannot say something the parser does not do. The output is
//! committed under `doc/` and a test regenerates it and compares, so it must be deterministic:
//! no date, no path, nothing but the definitions and the version.

use crate::Options;
use clap::{Arg, ArgAction, Command, CommandFactory};
use clap_complete::Shell;
use roff::{roman, Roff};
use std::io;
use std::path::Path;

/// What kmview's man page says beyond `--help` (after its NOTES): the environment, and what it
/// is not. Hand-written roff, because none of it is an option.
const KMVIEW_MORE: &str = r#".PP
kmview is not a security boundary: a program that makes system calls directly steps outside the view.
.SH ENVIRONMENT
.TP
\fBKMVIEW_LIB\fR
The library to preload instead of the one installed with \fBkmview\fR;
it must be kmview's, of the launcher's own version.
.TP
\fBTMPDIR\fR
Where \fB\-\-tmp\fR directories are made (default \fI/tmp\fR).
.TP
\fBSHELL\fR
The command run when none is given (default \fI/bin/sh\fR).
.TP
\fBKMVIEW_STACK\fR, \fBKMVIEW_CWD\fR, \fBKMVIEW_FDS\fR, \fBKMVIEW_EXE\fR, \fBKMVIEW_IDS\fR
Set by \fBkmview\fR for the library in every process of the view; not for users to set.
.SH "SEE ALSO"
\fBkmview\-fakeroot\fR(1), \fBkmview\-proot\fR(1), \fBfakeroot\fR(1), \fBproot\fR(1), \fBbwrap\fR(1)
"#;

/// The long description of `kmview` in its man page (`--help` shows only the one-line about).
const KMVIEW_DESCRIPTION: &str = "kmview gives COMMAND, and every process it starts, its own view of the file system: \
bind mounts, a different root, hidden, denied and read-only paths, a fake root, a trace of every call. \
It needs no root, no user namespace and no kernel module: libkmview.so, preloaded with LD_PRELOAD, \
translates each call inside the process. A kmview run inside a view adds a view inside it.";

/// `kmview-fakeroot`'s options, for its man page: the same list its hand-written parser accepts
/// (`fakeroot_front.rs`; the test in `cdylib-tests/tests/docs.rs` tries each one on it).
pub fn fakeroot_command() -> Command {
    let value = |id: &'static str, name: &'static str| Arg::new(id).value_name(name).action(ArgAction::Set);
    Command::new("kmview-fakeroot")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Run a command under kmview's fake root, with Debian fakeroot's command line")
        .long_about(
            "kmview-fakeroot takes fakeroot's options, sets FAKEROOTKEY (which scripts and dpkg test to know they run \
             under a fake root) and runs `kmview -0` beside it: the same fake root, in-process and without a daemon, \
             so `dpkg-buildpackage -rkmview-fakeroot` builds what `-rfakeroot` builds.",
        )
        .override_usage("kmview-fakeroot [OPTIONS] [--] [COMMAND [ARGS...]]")
        .disable_version_flag(true)
        .disable_help_flag(true)
        .arg(value("save", "SAVE-FILE").short('s').help("When the command ends, write the record to SAVE-FILE (kmview --state-save)"))
        .arg(value("load", "LOAD-FILE").short('i').help("Start from the record in LOAD-FILE (kmview --state-load)"))
        .arg(value("state", "STATE-FILE").short('p').help("fakeroot-ng's persistent state: keep the record in STATE-FILE (kmview --state)"))
        .arg(
            Arg::new("unknown")
                .short('u')
                .long("unknown-is-real")
                .action(ArgAction::SetTrue)
                .help("A file nobody chowned shows its real owner, not root"),
        )
        .arg(value("lib", "LIB").short('l').long("lib").help("Accepted and ignored, with a note: kmview has no separate library to choose"))
        .arg(value("faked", "BIN").long("faked").help("Accepted and ignored, with a note: kmview has no daemon"))
        .arg(value("fd", "FD").short('b').help("Ignored: the descriptor fakeroot's daemon would use"))
        .arg(Arg::new("help").short('h').long("help").action(ArgAction::Help).help("Print a short usage"))
        .arg(Arg::new("version").short('v').long("version").action(ArgAction::Version).help("Print version"))
        .arg(Arg::new("command").value_name("COMMAND").num_args(0..).trailing_var_arg(true).help("The command and its arguments (default: $SHELL)"))
        .after_help("Exit status: the command's own; 125 for kmview-fakeroot's or kmview's own error.")
}

/// `kmview-proot`'s options, for its man page: the same list its hand-written parser accepts
/// (`proot_front.rs`).
pub fn proot_command() -> Command {
    let value = |id: &'static str, name: &'static str| Arg::new(id).value_name(name).action(ArgAction::Set);
    let skipped = |id: &'static str| Arg::new(id).help("Not supported by kmview: noted on stderr and skipped");
    Command::new("kmview-proot")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Run a command in a kmview view, with proot's command line")
        .long_about(
            "kmview-proot takes proot's options and runs the kmview beside it with the options that mean the same; \
             the others get one line on stderr and are skipped. Unlike proot it needs no ptrace: see kmview(1).",
        )
        .override_usage("kmview-proot [OPTIONS] [--] [COMMAND [ARGS...]]")
        .disable_version_flag(true)
        .disable_help_flag(true)
        .arg(value("rootfs", "DIR").short('r').long("rootfs").help("DIR is the view's / (kmview -r)"))
        .arg(
            value("bind", "HOST[:GUEST]")
                .short('b')
                .long("bind")
                .short_alias('m')
                .visible_alias("mount")
                .action(ArgAction::Append)
                .help("GUEST shows HOST; HOST alone binds it at its own path (kmview -b; also -m, --mount)"),
        )
        .arg(value("cwd", "DIR").short('w').long("cwd").visible_alias("pwd").help("The starting directory inside the view (kmview -w; also --pwd)"))
        .arg(value("root-with-host", "DIR").short('R').help("DIR is the view's /, with the host's usual paths bound on it (kmview -R)"))
        .arg(value("root-with-host-as-root", "DIR").short('S').help("-R with a fake root (kmview -R DIR -0)"))
        .arg(Arg::new("root-id").short('0').long("root-id").action(ArgAction::SetTrue).help("Fake root (kmview -0)"))
        .arg(value("change-id", "UID:GID").short('i').long("change-id").help("Fake root starting as UID:GID (kmview --uid --gid)"))
        .arg(value("verbose", "LEVEL").short('v').long("verbose").help("Accepted and ignored"))
        .arg(skipped("qemu").short('q').long("qemu").value_name("COMMAND"))
        .arg(skipped("kernel-release").short('k').long("kernel-release").value_name("STRING"))
        .arg(skipped("port").short('p').long("port").value_name("PORT"))
        .arg(skipped("link2symlink").long("link2symlink").action(ArgAction::SetTrue))
        .arg(skipped("kill-on-exit").long("kill-on-exit").action(ArgAction::SetTrue))
        .arg(skipped("n").short('n').action(ArgAction::SetTrue))
        .arg(Arg::new("help").short('h').long("help").visible_alias("usage").action(ArgAction::Help).help("Print a short usage (also --usage)"))
        .arg(Arg::new("version").short('V').long("version").action(ArgAction::Version).help("Print version"))
        .arg(Arg::new("command").value_name("COMMAND").num_args(0..).trailing_var_arg(true).help("The command and its arguments (default: $SHELL)"))
        .after_help("Exit status: the command's own; 125 for kmview-proot's or kmview's own error.")
}

/// Writes `DIR/man/{kmview,kmview-fakeroot,kmview-proot}.1` and
/// `DIR/completions/{kmview.bash,_kmview,kmview.fish}`.
pub fn generate(dir: &Path) -> io::Result<()> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;

    let kmview = Options::command();
    // The first words main() handles before clap, which the derived usage cannot know.
    let page = kmview
        .clone()
        .long_about(KMVIEW_DESCRIPTION)
        .override_usage("kmview [OPTIONS] [--] [COMMAND [ARGS...]]\nkmview env [OPTIONS]\nkmview chroot [--skip-chdir] DIR [COMMAND [ARG]...]\nkmview overlay diff [--json] UPPER [DIR]\nkmview overlay apply UPPER DIR\nkmview overlay discard UPPER\nkmview stack\nkmview --print-lib");
    std::fs::write(man.join("kmview.1"), render_man(page, KMVIEW_MORE)?)?;
    for front in [fakeroot_command(), proot_command()] {
        let name = format!("{}.1", front.get_name());
        std::fs::write(man.join(name), render_man(front, ".SH \"SEE ALSO\"\n\\fBkmview\\fR(1)\n")?)?;
    }

    for (shell, file) in [(Shell::Bash, "kmview.bash"), (Shell::Zsh, "_kmview"), (Shell::Fish, "kmview.fish")] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut kmview.clone(), "kmview", &mut out);
        std::fs::write(completions.join(file), out)?;
    }
    Ok(())
}

/// clap_mangen's page, then the after-help text as sections of its own (clap_mangen would put it
/// in one filled `EXTRA` section, running the example lines together), then `more`.
fn render_man(cmd: Command, more: &str) -> io::Result<Vec<u8>> {
    let after = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.after_help(None::<&str>)).manual("kmview").render(&mut page)?;
    page.extend_from_slice(after_help_roff(&after).as_bytes());
    page.extend_from_slice(more.as_bytes());
    Ok(page)
}

/// `Examples:` and the indented lines after it become EXAMPLES, kept line for line; every other
/// line is a paragraph of NOTES.
fn after_help_roff(text: &str) -> String {
    let mut roff = Roff::new();
    let (examples, notes): (Vec<&str>, Vec<&str>) =
        text.lines().filter(|l| !l.trim().is_empty() && *l != "Examples:").partition(|l| l.starts_with("  "));
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]).control("nf", []);
        for line in examples {
            roff.text([roman(line.trim_start())]);
        }
        roff.control("fi", []);
    }
    if !notes.is_empty() {
        roff.control("SH", ["NOTES"]);
        for line in notes {
            roff.control("PP", []).text([roman(line)]);
        }
    }
    roff.to_roff()
}
