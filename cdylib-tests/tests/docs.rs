//! `doc/`: the man pages and shell completions, generated from the launcher's clap definitions
//! (`kmview __generate-docs DIR`, `launcher/src/docs.rs`) and committed. The committed files must
//! be what the definitions generate now, and the front ends, whose parsers are hand-written,
//! must accept every option their man pages list.

use kmview_cdylib_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const REGENERATE: &str = "cargo build -p kmview-launcher && target/debug/kmview __generate-docs doc";

/// Every file under `dir`, by its path relative to `dir`.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(p.strip_prefix(base).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn committed_docs_are_what_the_definitions_generate() {
    let fresh = Scratch::new("docs");
    ok(run(kmview(["__generate-docs"]).arg(fresh.path())));
    let generated = files(fresh.path());
    let names: Vec<_> = generated.keys().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(
        names,
        ["completions/_kmview", "completions/kmview.bash", "completions/kmview.fish", "man/kmview-fakeroot.1", "man/kmview-proot.1", "man/kmview.1"]
    );
    // Written from the temp dir: no trace of where it was written, so doc/ is the same anywhere.
    let tmp = fresh.path().to_str().unwrap();
    for (name, bytes) in &generated {
        assert!(!String::from_utf8_lossy(bytes).contains(tmp), "{} names the directory it was written to", name.display());
    }
    let committed = files(&root().join("doc"));
    let names: BTreeSet<_> = generated.keys().chain(committed.keys()).collect();
    let stale: Vec<_> = names.into_iter().filter(|n| generated.get(*n) != committed.get(*n)).collect();
    assert!(
        stale.is_empty(),
        "doc/ is not what the launcher's definitions generate ({stale:?} differ or are missing); regenerate it with `{REGENERATE}`"
    );
}

/// Belt and braces for the byte comparison: every option row of `--help` (`  -b, --bind <SRC>`)
/// is an option entry of the man page, short and long form.
#[test]
fn the_man_page_documents_every_option_of_help() {
    let page = std::fs::read_to_string(root().join("doc/man/kmview.1")).unwrap();
    let help = ok(run(&mut kmview(["--help"])));
    let rows: Vec<&str> = help.lines().filter(|l| l.starts_with("  -") || l.starts_with("      --")).collect();
    assert!(rows.len() > 20, "too few option rows read from --help:\n{help}");
    for row in rows {
        for form in row.split_whitespace().take(2).map(|w| w.trim_end_matches(',')).filter(|w| w.starts_with('-')) {
            let name = form.split(['[', '=']).next().unwrap();
            let roff = format!("\\fB{}\\fR", name.replace('-', "\\-"));
            assert!(page.contains(&roff), "{name} (in --help) is not in doc/man/kmview.1; regenerate with `{REGENERATE}`");
        }
    }
}

/// The options a generated man page lists (`.TP` headers), each form with the name of the value
/// it takes, if any: `[("-s", Some("SAVE-FILE")), ("-u", None), ("--unknown-is-real", None)]`.
fn man_options(page: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if line != ".TP" {
            continue;
        }
        let header = lines.next().unwrap().replace("\\-", "-");
        let value = header.split_once("\\fI<").map(|(_, v)| v.split_once(">\\fR").unwrap().0.to_string());
        for form in header.split("\\fB").skip(1) {
            out.push((form.split_once("\\fR").unwrap().0.to_string(), value.clone()));
        }
    }
    out
}

#[test]
fn front_ends_accept_every_option_their_man_pages_list() {
    let tmp = Scratch::new("front-options");
    let load = tmp.join("empty-record");
    std::fs::write(&load, b"").unwrap();
    for (front, at_least) in [("kmview-fakeroot", 10), ("kmview-proot", 20)] {
        let page = std::fs::read_to_string(root().join(format!("doc/man/{front}.1"))).unwrap();
        let options = man_options(&page);
        assert!(options.len() >= at_least, "{front}: too few options read from its man page: {options:?}");
        for (n, (option, value)) in options.iter().enumerate() {
            // A value the option can use: each run must succeed, not only parse.
            let value = value.as_deref().map(|v| match v {
                "DIR" | "HOST[:GUEST]" => "/".into(),
                "UID:GID" => "0:0".into(),
                "LOAD-FILE" => load.clone().into_os_string(),
                v if v.ends_with("FILE") => tmp.join(format!("record-{n}")).into_os_string(),
                _ => "1".into(),
            });
            let mut cmd = Command::new(launcher().with_file_name(front));
            cmd.arg(option).args(value).args(["--", "true"]).stdin(std::process::Stdio::null());
            let o = run(&mut cmd);
            assert!(o.status.success(), "{front} {option} (in its man page) fails: {:?}\n{}", o.status, stderr(&o));
        }
    }
}
