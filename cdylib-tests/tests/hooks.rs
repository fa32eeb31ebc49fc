//! Every function of the hook table (`src/hooks/table.in`, the assembly shells included) is
//! exported by `libkmview.so` alone, and behaves inside a view as the same call does on the
//! real path.
//!
//! `every_hook_sees_the_view` runs `c/every_hook.c` under `kmview --unreal`: for each function
//! it does the same operations once through `/unreal/<scratch>` and once on `<scratch>` itself,
//! and prints `NAME ok` when both agree (and, where the answer is a path, each is in its own
//! terms), `NAME MISMATCH ...` otherwise.

use kmview_cdylib_tests::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// The C programs that exercise the hooks, each printing `NAME ok|MISMATCH …` lines and `done`
/// last; their lines are taken together.
const PROGRAMS: [(&str, &str); 2] = [("every_hook", include_str!("../c/every_hook.c")), ("every_hook_more", include_str!("../c/every_hook_more.c"))];

// The build script uses all of the parser; this test only the rows' names and attributes.
#[allow(dead_code)]
#[path = "../../build/hooktable.rs"]
mod hooktable;

/// Lines the C program prints besides one per hooked function.
const EXTRA_CHECKS: [&str; 8] = [
    "mountpoint_listing",
    "mountpoint_listing_content",
    "mountpoint_listing_root",
    "mountpoint_listing_inner",
    "proc_self_cwd",
    "proc_self_fd",
    "error_stat_missing",
    "error_open_enotdir",
];

/// Every hooked name: the rows of the one table (`src/hooks/table.in`), read with the parser
/// `build.rs` uses, the assembly shells included.
fn all_hooked_names() -> Vec<String> {
    let path = root().join("src/hooks/table.in");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let rows = hooktable::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(rows.len() >= 200, "only {} rows in {}", rows.len(), path.display());
    rows.into_iter().map(|r| r.name).collect()
}

/// `nm -D --defined-only FILE`: name → symbol type letter.
fn defined_dynamic_symbols(file: &Path) -> BTreeMap<String, String> {
    let o = run(Command::new("nm").args(["-D", "--defined-only"]).arg(file));
    let err = stderr(&o);
    assert!(o.status.success() || err.contains("no symbols"), "nm -D {} failed: {err}", file.display());
    let mut m = BTreeMap::new();
    for line in stdout(&o).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 3 {
            // A versioned name reads `name@VERSION` or `name@@VERSION`.
            let name = f[2].split('@').next().unwrap().to_owned();
            m.insert(name, f[1].to_owned());
        }
    }
    m
}

#[test]
fn every_table_entry_is_exported() {
    let lib = defined_dynamic_symbols(library());
    let mut problems = Vec::new();
    for name in all_hooked_names() {
        match lib.get(&name) {
            Some(t) if t == "T" => {}
            Some(t) => problems.push(format!("{name}: symbol type {t}, want T")),
            None => problems.push(format!("{name}: not exported")),
        }
    }
    assert!(problems.is_empty(), "libkmview.so ({}):\n{}", library().display(), problems.join("\n"));

    // The hooks live in the cdylib alone: the launcher must not interpose on anything.
    let launcher_syms = defined_dynamic_symbols(launcher());
    let leaked: Vec<&str> =
        ["open", "stat", "execve", "opendir", "readlink", "getcwd"].into_iter().filter(|n| launcher_syms.contains_key(*n)).collect();
    assert!(leaked.is_empty(), "the launcher {} defines hook symbols: {leaked:?}", launcher().display());
}

/// The files the C program works on (see the comment at the top of `every_hook.c`).
fn make_fixture(s: &Scratch) {
    std::fs::write(s.join("file"), "hello kmview\n").unwrap();
    std::fs::set_permissions(s.join("file"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir(s.join("sub")).unwrap();
    std::fs::write(s.join("sub/inner"), "inner\n").unwrap();
    symlink("file", s.join("link")).unwrap();
    symlink("sub", s.join("dirlink")).unwrap();
    std::fs::create_dir(s.join("bin")).unwrap();
    std::fs::create_dir(s.join("w")).unwrap();
    for (name, interp) in [("prog", "/unreal/bin/sh"), ("hprog", "/bin/sh")] {
        let p = s.join("bin").join(name);
        std::fs::write(&p, format!("#!{interp}\necho \"$0 $*\"\npwd -P\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn every_hook_sees_the_view() {
    every_hook_under(&[]);
}

/// The same with complete mode armed: every libc hook behaves as in preload mode (the library's
/// own calls stay exempt; threads, forks, signal handlers and masks keep working).
#[test]
fn every_hook_sees_the_view_in_complete_mode() {
    every_hook_under(&["--complete"]);
}

fn every_hook_under(extra: &[&str]) {
    let s = Scratch::new("hooks");
    make_fixture(&s);
    // The program lives in its own directory, so that the fixture's listing stays as made.
    let build = Scratch::new("hooks-build");
    let a = s.unreal();
    let b = s.path().to_str().unwrap().to_owned();
    let mut out = String::new();
    let mut err = String::new();
    for (name, source) in PROGRAMS {
        let bin = compile_c(build.path(), name, source, &["-U_FORTIFY_SOURCE", "-D_FORTIFY_SOURCE=0"]);
        let o = run(kmview(["--unreal"].iter().chain(extra).chain(&["--"])).arg(&bin).arg(&a).arg(&b));
        let (o_out, o_err) = (stdout(&o), stderr(&o));
        assert!(o.status.success(), "{name} failed: {:?}\nstdout:\n{o_out}\nstderr:\n{o_err}", o.status);
        assert!(o_out.lines().any(|l| l.starts_with("done ")), "{name} did not finish:\nstdout:\n{o_out}\nstderr:\n{o_err}");
        out.push_str(&o_out);
        err.push_str(&o_err);
    }
    let mut results: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in out.lines() {
        let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
        results.entry(name).or_default().push(rest);
    }
    let mut problems = Vec::new();
    let names = all_hooked_names();
    for name in names.iter().map(String::as_str).chain(EXTRA_CHECKS) {
        match results.get(name) {
            None => problems.push(format!("{name}: no line")),
            Some(v) if v.iter().all(|r| *r == "ok") => {}
            Some(v) => problems.extend(v.iter().filter(|r| **r != "ok").map(|r| format!("{name} {r}"))),
        }
    }
    // Any other MISMATCH line counts too.
    for line in out.lines() {
        let name = line.split(' ').next().unwrap();
        if line.contains(" MISMATCH") && !names.iter().any(|n| n == name) && !EXTRA_CHECKS.contains(&name) {
            problems.push(line.to_owned());
        }
    }
    assert!(
        problems.is_empty(),
        "{} hook check(s) failed (A = {a}, B = {b}):\n{}\n\nfull stdout:\n{out}\nstderr (details of every check):\n{err}",
        problems.len(),
        problems.join("\n")
    );
}
