//! `kmview-proot`: proot's command line in front of `kmview`, so a flow written for proot
//! switches by changing one word. Options that mean the same are translated; the others get
//! one line on stderr saying they are not supported, and are skipped.
//!
//! ```text
//! kmview-proot [-r|--rootfs DIR] [-b|-m|--bind|--mount HOST[:GUEST]]... [-w|--pwd|--cwd DIR]
//!              [-R DIR] [-S DIR] [-0|--root-id] [-i|--change-id UID:GID] [other proot options]
//!              [--] [COMMAND [ARGS...]]
//! ```

#[path = "front.rs"]
mod front;

use std::ffi::OsString;
use std::process::ExitCode;

fn fail(msg: &str) -> ExitCode {
    front::fail("kmview-proot", msg)
}

/// proot's options kmview has no counterpart for, and whether each takes a value.
const UNSUPPORTED: [(&str, bool); 9] = [
    ("-q", true),
    ("--qemu", true),
    ("-k", true),
    ("--kernel-release", true),
    ("-p", true),
    ("--port", true),
    ("--link2symlink", false),
    ("--kill-on-exit", false),
    ("-n", false),
];

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    let mut km: Vec<OsString> = Vec::new();
    while let Some(a) = args.peek().cloned() {
        let Some(word) = a.to_str().map(str::to_owned) else { break };
        if !word.starts_with('-') || word == "-" {
            break;
        }
        args.next();
        // `--opt=value` as well as `--opt value`.
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(OsString::from(v))),
            _ => (word.clone(), None),
        };
        let mut value = |what: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{what} needs a value"));
        let mut pass = |to: &str, what: &str| -> Result<(), String> {
            let v = value(what)?;
            km.extend([OsString::from(to), v]);
            Ok(())
        };
        let r = match name.as_str() {
            "--" => break,
            "-r" | "--rootfs" => pass("-r", &name),
            "-b" | "-m" | "--bind" | "--mount" => pass("-b", &name),
            "-w" | "--pwd" | "--cwd" => pass("-w", &name),
            "-R" => pass("-R", &name),
            // proot's -S: -R with a fake root.
            "-S" => pass("-R", &name).map(|()| km.push("-0".into())),
            "-0" | "--root-id" => {
                km.push("-0".into());
                Ok(())
            }
            "-i" | "--change-id" => value(&name).and_then(|v| {
                let v = v.to_string_lossy().into_owned();
                let (u, g) = v.split_once(':').ok_or_else(|| format!("{name} takes UID:GID"))?;
                km.extend(["--uid".into(), u.into(), "--gid".into(), g.into()]);
                Ok(())
            }),
            "-v" | "--verbose" => value(&name).map(|_| ()),
            "-V" | "--version" => {
                println!("kmview-proot (kmview {})", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" | "--usage" => {
                println!("kmview-proot: proot's options in front of kmview (see kmview --help): -r, -b/-m, -w, -R, -S, -0, -i; others are noted and skipped");
                return ExitCode::SUCCESS;
            }
            other => match UNSUPPORTED.iter().find(|(n, _)| *n == other) {
                Some((n, takes)) => {
                    if *takes {
                        let _ = value(n);
                    }
                    eprintln!("kmview-proot: note: {n} is not supported by kmview, skipped");
                    Ok(())
                }
                None => Err(format!("unknown option {other}")),
            },
        };
        if let Err(e) = r {
            return fail(&e);
        }
    }
    km.push("--".into());
    km.extend(args);
    front::exec_kmview("kmview-proot", &km, &[])
}
