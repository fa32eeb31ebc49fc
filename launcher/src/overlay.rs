//! `kmview overlay diff|apply|discard UPPER`: the tools for an overlay's upper directory (the
//! OCI layer form `kmview --overlay DIR:UPPER` leaves), over `kmview_api::layer`, where the
//! logic lives for build tools to call too.
//!
//! Exit status: 0 done; 1 refused or failed (a refusal changes nothing); 125 a bad command line.

use clap::{CommandFactory, Parser, Subcommand};
use kmview_api::layer::{self, LayerError};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "kmview overlay",
    // A missing subcommand is a command-line error (125), not a request for help.
    arg_required_else_help = false,
    about = "Show, apply or discard the changes an overlay's upper directory holds (OCI layer form).",
    after_help = "UPPER holds added and changed entries at their paths, an empty .wh.NAME for each removed NAME, \
                  and .wh..wh..opq in a directory replaced wholesale (`tar -C UPPER -c .` is an OCI layer diff).\n\
                  Exit status: 0 done; 1 refused (nothing changed) or failed; 125 bad command line."
)]
pub struct OverlayArgs {
    #[command(subcommand)]
    command: OverlayCommand,
}

#[derive(Subcommand, Debug)]
enum OverlayCommand {
    /// What changed, one line per path sorted by path: A added, M modified (content or type),
    /// C changed or added (no DIR to tell), D removed, R replaced directory, m mode only,
    /// o owner only.
    Diff {
        /// Print a JSON array of {"path","change","kind","from","to"} objects instead.
        #[arg(long)]
        json: bool,
        /// The upper directory.
        upper: PathBuf,
        /// The lower tree it is compared with.
        dir: Option<PathBuf>,
    },
    /// Make the changes real in DIR: copy added and changed entries, remove what whiteouts name,
    /// empty replaced directories first.
    Apply {
        /// The upper directory.
        upper: PathBuf,
        /// The tree to change.
        dir: PathBuf,
    },
    /// Remove UPPER and everything in it (not /, not the home directory).
    Discard {
        /// The upper directory.
        upper: PathBuf,
    },
}

/// Runs `kmview overlay ARGS` (`args` after the word `overlay`).
pub fn main(args: &[OsString]) -> ExitCode {
    let argv = std::iter::once(OsString::from("kmview overlay")).chain(args.iter().cloned());
    let parsed = match OverlayArgs::command().try_get_matches_from(argv) {
        Ok(m) => <OverlayArgs as clap::FromArgMatches>::from_arg_matches(&m),
        Err(e) => Err(e),
    };
    let opts = match parsed {
        Ok(o) => o,
        Err(e) if e.use_stderr() => return crate::fail(format!("overlay: {}", crate::one_line(&e, "kmview overlay --help"))),
        Err(e) => {
            // --help, --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(opts.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kmview overlay: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(command: OverlayCommand) -> Result<(), LayerError> {
    match command {
        OverlayCommand::Diff { json, upper, dir } => {
            let items = layer::diff(&upper, dir.as_deref())?;
            if json {
                print!("{}", layer::to_json(&items));
            } else {
                items.iter().for_each(|i| println!("{i}"));
            }
        }
        OverlayCommand::Apply { upper, dir } => {
            let summary = layer::apply(&upper, &dir, |a| println!("{a}"))?;
            println!("applied {} to {}: {summary}", upper.display(), dir.display());
        }
        OverlayCommand::Discard { upper } => {
            let gone = layer::discard(&upper)?;
            println!("removed {} ({} entries)", gone.path.display(), gone.entries);
        }
    }
    Ok(())
}
