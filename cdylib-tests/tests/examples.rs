//! The embedding API end to end: the three programs of `examples/` built and run against the
//! built library (what they print checked, and what they leave behind), `kmview env` against
//! `ViewBuilder::env`, and a program linking `kmview-api` checked to define no hook of its own.

use kmview_cdylib_tests::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// An example program of `examples/`, built once (with the library and the launcher).
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let dir = launcher().parent().unwrap().to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo).args(["build", "-p", "kmview-examples"]).current_dir(root()).status().expect("run cargo build");
        assert!(status.success(), "cargo build -p kmview-examples failed");
        dir
    });
    let bin = dir.join(name);
    assert!(bin.is_file(), "missing {}", bin.display());
    bin
}

/// `name ARGS` with the library named by KMVIEW_LIB and scratch files in `tmp`.
fn run_example(name: &str, args: &[&str], tmp: &Path) -> std::process::Output {
    run(Command::new(example(name)).args(args).env("KMVIEW_LIB", library()).env("TMPDIR", tmp).env_remove("KMVIEW_STACK"))
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn hermetic_build_prints_the_projects_inputs_at_the_fixed_path() {
    let s = Scratch::new("hermetic");
    let tmp = s.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // Its own project: exactly the four files make and the compiler read, not NOTES.txt.
    let o = run_example("hermetic-build", &[], &tmp);
    assert_eq!(ok(o), "/build/src/Makefile\n/build/src/main.c\n/build/src/util.c\n/build/src/util.h\n");
    assert_eq!(entries(&tmp), Vec::<String>::new(), "the scratch project and the made-up /build are removed");
    // A project given: its program is built there, and a source no rule names is not an input.
    let proj = s.join("proj");
    std::fs::create_dir(&proj).unwrap();
    std::fs::write(proj.join("Makefile"), "prog: prog.c defs.h\n\t$(CC) -o prog prog.c\n").unwrap();
    std::fs::write(proj.join("defs.h"), "#define ANSWER 42\n").unwrap();
    std::fs::write(proj.join("prog.c"), "#include <stdio.h>\n#include \"defs.h\"\nint main(void) { printf(\"%d\\n\", ANSWER); return 0; }\n")
        .unwrap();
    std::fs::write(proj.join("unrelated.c"), "int unused;\n").unwrap();
    let o = run_example("hermetic-build", &[proj.to_str().unwrap()], &tmp);
    assert_eq!(ok(o), "/build/src/Makefile\n/build/src/defs.h\n/build/src/prog.c\n");
    assert_eq!(ok(run(&mut Command::new(proj.join("prog")))), "42\n");
}

/// A work directory and a copy of the example and the library the unprivileged user can use.
fn unprivileged_fixture(s: &Scratch) -> (PathBuf, PathBuf) {
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (bin, work) = (s.join("bin"), s.join("work"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(example("package-tarball"), bin.join("package-tarball")).unwrap();
    std::fs::copy(library(), bin.join("libkmview.so")).unwrap();
    std::os::unix::fs::chown(&work, Some(NOBODY), Some(NOBODY)).unwrap();
    (bin, work)
}

/// `cmd` as the unprivileged user, in `work`, its scratch files there too.
fn as_nobody(work: &Path, cmd: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "--"]).args(cmd);
    c.current_dir(work).env("TMPDIR", work).env("HOME", work).env_remove("KMVIEW_LIB").env_remove("KMVIEW_STACK");
    c
}

/// The copied `package-tarball ARGS` as the unprivileged user, with the copied library.
fn package_tarball(bin: &Path, work: &Path, args: &[&str]) -> std::process::Output {
    let prog = bin.join("package-tarball");
    run(as_nobody(work, &[&[prog.to_str().unwrap()], args].concat()).env("KMVIEW_LIB", bin.join("libkmview.so")))
}

/// Run as an unprivileged user (these tests run as root, whose real chown would prove nothing):
/// root ownership in the archive can only come from the fake root.
#[test]
fn package_tarball_archives_root_owned_files_for_an_unprivileged_user() {
    let s = Scratch::new("package");
    let (bin, work) = unprivileged_fixture(&s);
    // The user cannot chown to root for real.
    let o = run(&mut as_nobody(&work, &["sh", "-c", "touch f && chown root:root f"]));
    assert!(!o.status.success(), "the unprivileged user could chown: {}", stderr(&o));
    let listing = ok(package_tarball(&bin, &work, &[]));
    let lines: Vec<&str> = listing.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("-rwxr-xr-x root/root") && l.ends_with(" ./usr/bin/hello")), "{listing}");
    assert!(lines.iter().any(|l| l.starts_with("-rw-r--r-- root/root") && l.ends_with(" ./etc/hello.conf")), "{listing}");
    assert_eq!(lines.len(), 6, "{listing}");
    assert!(lines.iter().all(|l| l.split_whitespace().nth(1) == Some("root/root")), "{listing}");
    assert_eq!(entries(&work), ["f"], "the example's scratch files are removed");
    // A staging directory of the user's: packed as root's, left the user's on disk.
    let staging = work.join("staging");
    std::fs::create_dir_all(staging.join("opt")).unwrap();
    std::fs::write(staging.join("opt/tool"), "tool\n").unwrap();
    for p in [&staging, &staging.join("opt"), &staging.join("opt/tool")] {
        std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let out = work.join("pkg.tar");
    let o = package_tarball(&bin, &work, &["staging", "pkg.tar"]);
    assert!(ok(o).lines().any(|l| l.contains("root/root") && l.ends_with(" ./opt/tool")));
    let listed = ok(run(Command::new("tar").args(["--numeric-owner", "-tvf"]).arg(&out)));
    assert!(listed.lines().all(|l| l.split_whitespace().nth(1) == Some("0/0")), "{listed}");
    assert_eq!(std::fs::metadata(staging.join("opt/tool")).unwrap().uid(), NOBODY, "the file on disk stays the user's");
}

/// The line of `doc` (a deps document) for `path`.
fn deps_line<'a>(doc: &'a str, path: &Path) -> &'a str {
    let key = format!("{{\"path\":\"{}\",", path.display());
    doc.lines().find(|l| l.contains(&key)).unwrap_or_else(|| panic!("no {} in:\n{doc}", path.display()))
}

#[test]
fn record_deps_writes_what_the_command_read_wrote_listed_and_missed() {
    let s = Scratch::new("record-deps");
    let (input, dir, output, missing) = (s.join("in.txt"), s.join("d"), s.join("out.txt"), s.join("nothere"));
    std::fs::write(&input, "in\n").unwrap();
    std::fs::create_dir(&dir).unwrap();
    let script = format!(
        "cat {} >/dev/null; ls {} >/dev/null; echo x > {}; test -e {}; echo on-stdout",
        input.display(),
        dir.display(),
        output.display(),
        missing.display()
    );
    let file = s.join("deps.json");
    let o = run_example("record-deps", &["--out", file.to_str().unwrap(), "sh", "-c", &script], s.path());
    assert_eq!(ok(o), "on-stdout\n", "with --out, stdout is the command's");
    let doc = std::fs::read_to_string(&file).unwrap();
    assert!(doc.starts_with("{\"paths\":["), "{doc}");
    assert!(deps_line(&doc, &input).contains("\"read\":true"), "{doc}");
    assert!(deps_line(&doc, &dir).contains("\"listed\":true"), "{doc}");
    assert!(deps_line(&doc, &output).contains("\"written\":true"), "{doc}");
    assert!(deps_line(&doc, &missing).contains("\"missing\":true"), "{doc}");
    assert!(!deps_line(&doc, &input).contains("written"), "{doc}");
    // Without --out the document is stdout, whole; the command's output goes to stderr; the
    // exit status is the command's.
    let o = run_example("record-deps", &["sh", "-c", &format!("cat {}; exit 3", input.display())], s.path());
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).starts_with("{\"paths\":[") && stdout(&o).ends_with("]}\n"), "{}", stdout(&o));
    assert!(deps_line(&stdout(&o), &input).contains("\"read\":true"));
    assert_eq!(stderr(&o), "in\n");
}

#[test]
fn kmview_env_prints_what_the_builder_sets_and_a_shell_can_eval_it() {
    let s = Scratch::new("env");
    std::fs::create_dir(s.join("src")).unwrap();
    std::fs::write(s.join("src/file"), "in the view\n").unwrap();
    let bind = format!("{}:/kmview-env-y", s.join("src").display());
    let printed = ok(run(kmview(["env", "-b", &bind, "--hide", "/kmview-env-y/secret"]).current_dir(s.path())));
    let vars = kmview_api::ViewBuilder::new().bind(s.join("src"), "/kmview-env-y").hide("/kmview-env-y/secret").library(library()).env();
    let vars = vars.unwrap_or_else(|e| panic!("{e}"));
    // The builder runs in this process: its KMVIEW_CWD is this process's directory.
    let want: String = vars
        .iter()
        .map(|(k, v)| {
            let v = if k == "KMVIEW_CWD" { s.path().as_os_str() } else { v };
            format!("export {}='{}'\n", k.to_str().unwrap(), v.to_str().unwrap())
        })
        .collect();
    assert_eq!(printed, want);
    let script = format!("eval \"$({} env -b '{bind}')\" && sh -c 'cat /kmview-env-y/file'", launcher().display());
    assert_eq!(ok(native_sh(&script)), "in the view\n");
}

#[test]
fn kmview_env_refuses_what_only_a_running_kmview_cleans_up() {
    let s = Scratch::new("env-refuse");
    let tmp = s.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let missing_parent = format!("/etc:/kmview-env-nothere-{}/x", std::process::id());
    for (args, names) in [
        (vec!["--tmp", "/kmview-env-t"], "--tmp"),
        (vec!["-0"], "-0"),
        (vec!["--uid", "5"], "--state FILE"),
        (vec!["--state-save", "/tmp/x"], "--state-save"),
        (vec!["-w", "/"], "--cwd"),
        (vec!["--", "true"], "COMMAND"),
        (vec!["-b", &missing_parent], "does not exist"),
    ] {
        let o = run(kmview([&["env"], &args[..]].concat()).env("TMPDIR", &tmp));
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.starts_with("kmview: env: ") && err.contains(names) && err.lines().count() == 1, "{args:?}: {err}");
        assert_eq!(stdout(&o), "", "{args:?}");
    }
    assert_eq!(entries(&tmp), Vec::<String>::new(), "a refused kmview env left files behind");
    // A record of the caller's (--state) stays: allowed.
    let state = s.join("state");
    let o = ok(run(&mut kmview(["env", "-0", "--state", state.to_str().unwrap()])));
    assert!(o.contains(&format!("fakeroot=0:0:{}", state.display())), "{o}");
    assert!(kmview_api::record::check(&state).is_ok());
}

/// Names of symbols `file` defines (its static table and its dynamic one).
fn defined_symbols(file: &Path) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for dynamic in [false, true] {
        let o = run(Command::new("nm").args(if dynamic { &["-D", "--defined-only"][..] } else { &["--defined-only"][..] }).arg(file));
        let err = stderr(&o);
        assert!(o.status.success() || err.contains("no symbols"), "nm {}: {err}", file.display());
        names.extend(stdout(&o).lines().filter_map(|l| l.split_whitespace().nth(2)).map(|n| n.split('@').next().unwrap().to_owned()));
    }
    names
}

/// A tool that links kmview-api keeps libc's `open`: the crate exports no hook, so linking it
/// never changes what the tool's own calls do.
#[test]
fn a_program_linking_the_api_defines_no_hook() {
    let list = std::fs::read_to_string(root().join("cdylib-tests/libc-surface.txt")).unwrap();
    let hooks: Vec<&str> = list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert!(hooks.len() > 200 && hooks.contains(&"open") && hooks.contains(&"execve"));
    // The check can fail: the library defines them.
    let lib = defined_symbols(library());
    assert!(hooks.iter().all(|h| lib.contains(*h)), "the library lacks some hooks");
    for name in ["record-deps", "hermetic-build", "package-tarball"] {
        let defined = defined_symbols(&example(name));
        let own: Vec<&&str> = hooks.iter().filter(|h| defined.contains(**h)).collect();
        assert!(own.is_empty(), "{name} defines hooks of its own: {own:?}");
        assert!(!defined.contains("kmview_library_version"), "{name} carries the library");
    }
}
