//! `kmview-fakechroot`: fakechroot's command line in front of `kmview`, for flows written for
//! `fakechroot [fakeroot] CMD` (`debootstrap --variant=fakechroot`, `mmdebstrap
//! --mode=fakechroot`). The command runs in a view, where `chroot(2)` is emulated (a new
//! innermost view) and the chroot's own users and groups are read; the environment says
//! `FAKECHROOT=true`, which those tools check before they start (they refuse to run
//! otherwise), and `FAKECHROOT_VERSION`. fakechroot's options that configure fakechroot itself
//! (its library, its config directory, its loader) have nothing to configure here: each gets
//! one line on stderr and is skipped.
//!
//! ```text
//! kmview-fakechroot [-s|--use-system-libs] [-e|--environment ENV] [-c|--config-dir DIR]
//!                   [-l|--lib LIB] [-d|--elfloader LDSO] [-b|--bindir DIR] [--] COMMAND [ARGS...]
//! ```

#[path = "front.rs"]
mod front;

use std::ffi::OsString;
use std::process::ExitCode;

/// fakechroot's options, and whether each takes a value.
const OPTIONS: [(&str, &str, bool); 6] = [
    ("-s", "--use-system-libs", false),
    ("-e", "--environment", true),
    ("-c", "--config-dir", true),
    ("-l", "--lib", true),
    ("-d", "--elfloader", true),
    ("-b", "--bindir", true),
];

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    while let Some(a) = args.peek().cloned() {
        let Some(word) = a.to_str().map(str::to_owned) else { break };
        if !word.starts_with('-') || word == "-" {
            break;
        }
        args.next();
        match word.as_str() {
            "--" => break,
            "-h" | "--help" => {
                println!("kmview-fakechroot: fakechroot's command line in front of kmview: [OPTIONS] [--] COMMAND [ARGS...]; chroot(2) is emulated in the view, FAKECHROOT=true is set");
                return ExitCode::SUCCESS;
            }
            "-v" | "--version" => {
                println!("kmview-fakechroot (kmview {})", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ => {
                let (name, inline) = match word.split_once('=') {
                    Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                    _ => (word.clone(), None),
                };
                let Some((short, long, takes)) = OPTIONS.iter().find(|(s, l, _)| *s == name || *l == name) else {
                    return front::fail("kmview-fakechroot", &format!("unknown option {word}"));
                };
                if *takes && inline.is_none() && args.next().is_none() {
                    return front::fail("kmview-fakechroot", &format!("{name} needs a value"));
                }
                eprintln!("kmview-fakechroot: note: {short}/{long} configures fakechroot itself: nothing to do in kmview, skipped");
            }
        }
    }
    let command: Vec<OsString> = args.collect();
    if command.is_empty() {
        return front::fail("kmview-fakechroot", "missing the command to run");
    }
    let mut km: Vec<OsString> = vec!["--".into()];
    km.extend(command);
    let version = format!("kmview-{}", env!("CARGO_PKG_VERSION"));
    front::exec_kmview("kmview-fakechroot", &km, &[("FAKECHROOT", "true"), ("FAKECHROOT_VERSION", &version)])
}
