//! `hermetic-build [PROJECT]`: builds a C project with `make` at a fixed path, `/build/src`,
//! wherever its files really are, and prints the project's files the build read (its inputs),
//! one per line, as the build saw them: `/build/src/main.c`. Everything else (make's output, a
//! count of the toolchain's inputs) goes to stderr. Without PROJECT it writes a small project
//! of its own (and a file the build never reads) into a scratch directory.
//!
//! A fixed path makes the build's output independent of the checkout's place (gcc writes the
//! directory into debug information), and the trace turns "what did this build depend on" into
//! a list, from the calls themselves rather than a compiler's `-MD` files.

use kmview_api::deps::Deps;
use kmview_api::ViewBuilder;
use kmview_examples::{exit_code, main_with, TempDir};
use std::path::Path;
use std::process::{ExitCode, Stdio};

/// Where the project is seen during the build.
const AT: &str = "/build/src";

fn write_project(dir: &Path) -> std::io::Result<()> {
    let files = [
        ("Makefile", "hello: main.o util.o\n\t$(CC) -o $@ main.o util.o\nmain.o: main.c util.h\nutil.o: util.c util.h\n"),
        ("util.h", "int twice(int x);\n"),
        ("util.c", "#include \"util.h\"\nint twice(int x) { return 2 * x; }\n"),
        ("main.c", "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n"),
        ("NOTES.txt", "Not part of the build.\n"),
    ];
    files.iter().try_for_each(|(name, text)| std::fs::write(dir.join(name), text))
}

fn main() -> ExitCode {
    main_with("hermetic-build", || {
        let scratch = TempDir::new("hermetic-build")?;
        let project = match std::env::args_os().nth(1) {
            Some(dir) => dir.into(),
            None => {
                let dir = scratch.path().join("project");
                std::fs::create_dir(&dir)?;
                write_project(&dir)?;
                dir
            }
        };
        let trace = scratch.path().join("trace.jsonl");
        // `/build` does not exist: the builder makes it up (a private directory, removed when
        // `view` is dropped, after the build).
        let view = ViewBuilder::new().bind(&project, AT).trace(&trace);
        // make runs with the library preloaded, so its `-C` and every path of the build go
        // through the view.
        let status = view.command("make")?.args(["-C", AT]).stdout(Stdio::from(std::io::stderr())).status()?;
        if !status.success() {
            eprintln!("hermetic-build: make failed");
            return Ok(exit_code(status));
        }
        let deps = Deps::from_trace_file(&trace)?;
        // Inputs: read (or run) and not produced by the build itself (an object file is both).
        let inputs = deps.paths.iter().filter(|(_, a)| (a.read || a.executed) && !a.written);
        let (ours, toolchain): (Vec<_>, Vec<_>) = inputs.partition(|(path, _)| path.starts_with(format!("{AT}/").as_bytes()));
        for (path, _) in &ours {
            println!("{}", String::from_utf8_lossy(path));
        }
        eprintln!("hermetic-build: and {} inputs outside {AT} (make, the compiler, headers, libraries)", toolchain.len());
        Ok(ExitCode::SUCCESS)
    })
}
