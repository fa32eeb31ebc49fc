//! `kmview-fakeroot`: Debian fakeroot's command line (and fakeroot-ng's `-p`) in front of
//! `kmview -0`, so flows that call fakeroot by name switch by changing one word
//! (`dpkg-buildpackage -r"kmview-fakeroot"`). It translates the options, sets `FAKEROOTKEY`
//! (which scripts and dpkg test to know they run under a fake root), and becomes the `kmview`
//! beside it.
//!
//! ```text
//! kmview-fakeroot [-l|--lib LIB] [--faked BIN] [-s SAVE] [-i LOAD] [-u|--unknown-is-real]
//!                 [-b FD] [-p STATE] [-h] [-v] [--] [COMMAND [ARGS...]]
//! ```

#[path = "front.rs"]
mod front;

use std::ffi::OsString;
use std::process::ExitCode;

const USAGE: &str = "usage: kmview-fakeroot [-l|--lib LIB] [--faked BIN] [-s SAVE-FILE] [-i LOAD-FILE] [-u|--unknown-is-real] [-b FD] [-p STATE-FILE] [-h] [-v] [--] [COMMAND [ARGS...]]";

fn fail(msg: &str) -> ExitCode {
    front::fail("kmview-fakeroot", msg)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    let mut km: Vec<OsString> = vec!["-0".into()];
    while let Some(a) = args.peek().cloned() {
        let Some(word) = a.to_str().map(str::to_owned) else { break };
        if !word.starts_with('-') {
            break;
        }
        args.next();
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value ({USAGE})"));
        match word.as_str() {
            "--" => break,
            "-s" => match value("-s") {
                Ok(v) => km.extend(["--state-save".into(), v]),
                Err(e) => return fail(&e),
            },
            "-i" => match value("-i") {
                Ok(v) => km.extend(["--state-load".into(), v]),
                Err(e) => return fail(&e),
            },
            // fakeroot-ng's persistent state: kmview's own record, shared live.
            "-p" => match value("-p") {
                Ok(v) => km.extend(["--state".into(), v]),
                Err(e) => return fail(&e),
            },
            "-u" | "--unknown-is-real" => km.push("-u".into()),
            "-l" | "--lib" | "--faked" => {
                if value(&word).is_err() {
                    return fail(&format!("{word} needs a value"));
                }
                eprintln!("kmview-fakeroot: note: {word} ignored (kmview has no separate library or daemon to choose)");
            }
            // A descriptor fakeroot's daemon would use: nothing to do without one.
            "-b" => {
                if value("-b").is_err() {
                    return fail("-b needs a value");
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}\nfakeroot's options in front of `kmview -0` (see kmview --help).");
                return ExitCode::SUCCESS;
            }
            "-v" | "--version" => {
                println!("kmview-fakeroot (kmview {})", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => return fail(&format!("unknown option {other} ({USAGE})")),
        }
    }
    km.push("--".into());
    km.extend(args);
    // Scripts (and dpkg) test FAKEROOTKEY to know they run under a fake root.
    front::exec_kmview("kmview-fakeroot", &km, &[("FAKEROOTKEY", "kmview")])
}
