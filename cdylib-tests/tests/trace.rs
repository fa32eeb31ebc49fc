//! The trace (`--trace`, `--trace-format=fsatrace`, `--deps`): what it records of real programs,
//! that concurrent writers and a `kill -9` never tear a line, the onion order of nested views,
//! and, as the oracle, `strace -f` on the same commands run natively.

use kmview_api::trace::{read_file, Event};
use kmview_cdylib_tests::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn p(path: impl AsRef<Path>) -> String {
    path.as_ref().display().to_string()
}

fn events(file: &Path) -> Vec<Event> {
    read_file(file).unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), std::fs::read_to_string(file).unwrap_or_default()))
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The events on `view` (the view's name), any call.
fn on<'a>(evs: &'a [Event], view: &str) -> Vec<&'a Event> {
    evs.iter().filter(|e| e.view == view.as_bytes()).collect()
}

#[test]
fn a_trace_names_each_call_as_given_in_the_view_and_as_handed_out() {
    let d = Scratch::new("trace-basic");
    std::fs::create_dir(d.join("src")).unwrap();
    std::fs::write(d.join("src/f"), "hello\n").unwrap();
    let t = d.join("t.jsonl");
    let out = ok(run(&mut kmview([
        "-b",
        &format!("{}:/b", p(d.join("src"))),
        "--trace",
        &p(&t),
        "--",
        "sh",
        "-c",
        "cd /b && cat f && ls /b/missing 2>/dev/null; mv f g && rm g && mkdir dir && ln -s x lnk && readlink lnk",
    ])));
    assert_eq!(out, "hello\nx\n");
    let evs = events(&t);
    let host = |rel: &str| p(d.join("src").join(rel));
    // cat's open: as given (relative), in the view, on the host; flags in words.
    let open = evs.iter().find(|e| e.op == "read" && e.path == b"f").expect("cat's open of f");
    assert_eq!(s(&open.view), "/b/f");
    assert_eq!(open.out.as_deref().map(s), Some(host("f")));
    assert!(open.flags.as_deref().unwrap_or("").starts_with("O_RDONLY"), "{open:?}");
    assert!(open.result >= 0 && !open.failed());
    // A probe that found nothing: its errno by name.
    let missing = on(&evs, "/b/missing");
    assert!(!missing.is_empty() && missing.iter().all(|e| e.errno.as_deref() == Some("ENOENT") && e.result == -1), "{missing:?}");
    // Two names: a rename's old and new, each in the view and outside it.
    let mv = evs.iter().find(|e| e.op == "rename").expect("mv's rename");
    assert_eq!((s(&mv.view), mv.view2.as_deref().map(s)), ("/b/f".to_string(), Some("/b/g".to_string())));
    assert_eq!(mv.out2.as_deref().map(s), Some(host("g")));
    assert!(evs.iter().any(|e| e.op == "remove" && e.view == b"/b/g" && e.result == 0), "rm's unlink");
    assert!(evs.iter().any(|e| e.call.starts_with("mkdir") && e.op == "write" && e.view == b"/b/dir"), "mkdir");
    assert!(evs.iter().any(|e| e.call.starts_with("readlink") && e.view == b"/b/lnk" && e.result == 1), "readlink");
    // Exec records: argv and the program, before the process was replaced.
    let cat =
        evs.iter().find(|e| e.op == "exec" && e.argv.as_ref().is_some_and(|a| a.first().map(|x| x.as_slice()) == Some(b"cat"))).expect("exec of cat");
    assert_eq!(cat.argv.as_ref().unwrap(), &vec![b"cat".to_vec(), b"f".to_vec()]);
    assert!(cat.program.as_ref().is_some_and(|p| p.ends_with(b"/cat")) && cat.result == 0, "{cat:?}");
    assert_eq!(cat.cwd.as_deref(), Some(&b"/b"[..]), "the exec's working directory, in the view");
    // Every process and thread named.
    assert!(evs.iter().all(|e| e.pid > 0 && e.tid > 0 && e.t > 0));
}

const WRITERS: &str = r#"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
static int N;
static void *work(void *arg) {
    char p[128];
    struct stat st;
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof p, "/nonexistent-kmview/%d-%ld-%d", getpid(), (long)arg, i);
        stat(p, &st);
    }
    return 0;
}
int main(int argc, char **argv) {
    N = atoi(argv[1]);
    for (int k = 0; k < 4; k++) {
        if (fork() == 0) {
            pthread_t t[4];
            for (long j = 0; j < 4; j++) pthread_create(&t[j], 0, work, (void *)j);
            for (int j = 0; j < 4; j++) pthread_join(t[j], 0);
            /* One child ends without exit's handlers. */
            if (k == 3) _exit(0);
            return 0;
        }
    }
    while (wait(0) > 0) {}
    return 0;
}
"#;

#[test]
fn concurrent_writers_never_tear_interleave_or_lose_a_line() {
    let d = Scratch::new("trace-writers");
    let bin = compile_c(d.path(), "writers", WRITERS, &["-pthread"]);
    let t = d.join("t.jsonl");
    let n = 3000;
    ok(run(&mut kmview(["--trace", &p(&t), "--"]).arg(&bin).arg(n.to_string())));
    // Every line whole (read_file refuses a line that is not one).
    let evs = events(&t);
    let mine: Vec<&Event> = evs.iter().filter(|e| e.view.starts_with(b"/nonexistent-kmview/")).collect();
    let names: BTreeSet<&[u8]> = mine.iter().map(|e| e.view.as_slice()).collect();
    assert_eq!(mine.len(), 4 * 4 * n, "one line per call: none lost, none twice");
    assert_eq!(names.len(), 4 * 4 * n);
    // Every thread of every process named (16 threads, each its own tid).
    let threads: BTreeSet<(i64, i64)> = mine.iter().map(|e| (e.pid, e.tid)).collect();
    assert_eq!(threads.len(), 16, "{threads:?}");
}

#[test]
fn a_writer_killed_with_sigkill_leaves_only_whole_lines() {
    let d = Scratch::new("trace-kill");
    let t = d.join("t.jsonl");
    // Long lines (a 200-byte name), so that a buffer is written often and a kill lands inside a
    // write now and then.
    let name = format!("/nonexistent-kmview-kill/{}", "k".repeat(200));
    for round in 0..20u64 {
        let _ = std::fs::remove_file(&t);
        let mut child = kmview(["--trace", &p(&t), "--", "sh", "-c", &format!("while :; do test -e {name}; done")]).spawn().unwrap();
        // Once the shell has written some (however loaded the machine), at a different moment
        // of its writing each round.
        let start = std::time::Instant::now();
        // (As a path: the name is in the shell's own exec record, in its argv, first.)
        let as_path = format!("\"path\":\"{name}\"");
        let written = || std::fs::read(&t).is_ok_and(|b| memfind(&b, as_path.as_bytes()));
        while !written() && start.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(3 * round));
        // The shell, not the launcher (which became it): same pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let text = std::fs::read(&t).unwrap();
        assert_eq!(text.len() % 4096, 0, "round {round}: a write cut short inside a page");
        let evs = events(&t);
        assert!(evs.iter().any(|e| e.view == name.as_bytes()), "round {round}: nothing written before the kill");
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn nested_traces_see_the_onion_in_both_directions() {
    let d = Scratch::new("trace-onion");
    std::fs::create_dir(d.join("src")).unwrap();
    std::fs::write(d.join("src/f"), "f\n").unwrap();
    let (a, b, c) = (d.join("a.jsonl"), d.join("b.jsonl"), d.join("c.jsonl"));
    let src_f = p(d.join("src/f"));
    // Two views: the inner one's name on the way in, the outer one's below it.
    ok(run(&mut kmview(["--trace", &p(&a), "--"]).arg(launcher()).args(["--unreal", "--trace", &p(&b), "--", "cat", &format!("/unreal{src_f}")])));
    let (outer, inner) = (events(&a), events(&b));
    let i = inner.iter().find(|e| e.op == "read" && e.path == format!("/unreal{src_f}").as_bytes()).expect("inner: the /unreal name");
    assert_eq!(i.out.as_deref().map(s), Some(src_f.clone()));
    let o = outer.iter().find(|e| e.op == "read" && e.view == src_f.as_bytes()).expect("outer: the name the inner view handed out");
    assert_eq!(o.path, src_f.as_bytes(), "the outer view was given the inner view's output");
    assert!(!outer.iter().any(|e| e.path.starts_with(b"/unreal")), "no inner name reaches the outer trace");

    // Three views: /unreal inside a bind inside a traced empty view.
    for f in [&a, &b, &c] {
        let _ = std::fs::remove_file(f);
    }
    ok(run(&mut kmview(["--trace", &p(&a), "--"])
        .arg(launcher())
        .args(["-b", &format!("{}:/m", p(d.join("src"))), "--trace", &p(&b), "--"])
        .arg(launcher())
        .args(["--unreal", "--trace", &p(&c), "--", "cat", "/unreal/m/f"])));
    let find = |f: &Path, view: &str| events(f).into_iter().find(|e| e.op == "read" && e.view == view.as_bytes());
    let ci = find(&c, "/unreal/m/f").expect("innermost");
    assert_eq!(ci.out.as_deref().map(s).as_deref(), Some("/m/f"));
    let bi = find(&b, "/m/f").expect("middle");
    assert_eq!(bi.out.as_deref().map(s), Some(src_f.clone()));
    assert!(find(&a, &src_f).is_some(), "outermost: the host name");

    // Results on their way back: the outer view hides the file; the inner trace records the
    // ENOENT that came back through it, the outer one its own refusal.
    for f in [&a, &b] {
        let _ = std::fs::remove_file(f);
    }
    let o = run(&mut kmview(["--hide", &src_f, "--trace", &p(&a), "--"]).arg(launcher()).args([
        "--unreal",
        "--trace",
        &p(&b),
        "--",
        "cat",
        &format!("/unreal{src_f}"),
    ]));
    assert!(!o.status.success());
    let i = events(&b).into_iter().find(|e| e.path == format!("/unreal{src_f}").as_bytes() && e.call.starts_with("open")).expect("inner");
    assert_eq!((i.errno.as_deref(), i.out.as_deref().map(s)), (Some("ENOENT"), Some(src_f.clone())));
    let o = events(&a).into_iter().find(|e| e.view == src_f.as_bytes() && e.call.starts_with("open")).expect("outer: its refusal");
    assert_eq!((o.errno.as_deref(), o.out.as_ref()), (Some("ENOENT"), None), "refused in this view: no outward name");

    // A refusal inside never reaches outward: an inner --deny, traced or not.
    for inner_trace in [true, false] {
        for f in [&a, &b] {
            let _ = std::fs::remove_file(f);
        }
        let mut cmd = kmview(["--trace", &p(&a), "--"]);
        cmd.arg(launcher()).args(["--deny", &p(d.join("src"))]);
        if inner_trace {
            cmd.args(["--trace", &p(&b)]);
        }
        let o = run(cmd.args(["--", "cat", &src_f]));
        assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
        assert!(!events(&a).iter().any(|e| e.view == src_f.as_bytes()), "the outer trace saw a call the inner view refused");
        if inner_trace {
            let i = events(&b).into_iter().find(|e| e.view == src_f.as_bytes()).expect("the inner trace sees its own refusal");
            assert_eq!(i.errno.as_deref(), Some("EACCES"));
        }
    }
}

#[test]
fn the_fsatrace_format_has_fsatraces_lines() {
    let d = Scratch::new("trace-fsa");
    std::fs::write(d.join("f"), "f\n").unwrap();
    let t = d.join("t.txt");
    ok(run(kmview(["--trace", &p(&t), "--trace-format=fsatrace", "--"]).current_dir(d.path()).args([
        "sh",
        "-c",
        "cat f >/dev/null && echo x > g && mv g h && rm h && stat f >/dev/null && touch -c -d @0 f && stat missing 2>/dev/null; true",
    ])));
    let text = std::fs::read_to_string(&t).unwrap();
    let lines: BTreeSet<&str> = text.lines().collect();
    let dir = p(d.path());
    for want in [
        format!("r|{dir}/f"),
        format!("w|{dir}/g"),
        format!("m|{dir}/h|{dir}/g"),
        format!("d|{dir}/h"),
        format!("q|{dir}/f"),
        format!("t|{dir}/f"),
        "r|/usr/bin/cat".to_string(),
    ] {
        assert!(lines.contains(want.as_str()), "no `{want}` in:\n{text}");
    }
    // fsatrace writes successful operations only, each `op|path` (a move `m|new|old`).
    assert!(!text.contains("missing"), "a failed stat is not fsatrace's:\n{text}");
    for l in text.lines() {
        let fields: Vec<&str> = l.split('|').collect();
        assert!(["r", "w", "m", "d", "q", "t"].contains(&fields[0]), "{l}");
        assert_eq!(fields.len(), if fields[0] == "m" { 3 } else { 2 }, "{l}");
        assert!(fields[1..].iter().all(|f| f.starts_with('/')), "{l}");
    }
}

/// A small C project: a header, a source that probes for a header that is not there.
fn project(d: &Scratch) -> std::path::PathBuf {
    let src = d.join("proj");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("main.h"), "#define GREETING \"hi\"\n").unwrap();
    std::fs::write(
        src.join("main.c"),
        "#if __has_include(\"nothere.h\")\n#error\n#endif\n#include <stdio.h>\n#include \"main.h\"\nint main(void) { puts(GREETING); return 0; }\n",
    )
    .unwrap();
    std::fs::write(src.join("Makefile"), "main: main.o\n\tgcc -o main main.o\nmain.o: main.c main.h\n\tgcc -c main.c\n").unwrap();
    src
}

#[test]
fn deps_sort_every_path_by_what_the_command_did() {
    let d = Scratch::new("trace-deps");
    let src = project(&d);
    let deps = d.join("deps.json");
    ok(run(&mut kmview(["-b", &format!("{}:/build", p(&src)), "-w", "/build", "--deps", &p(&deps), "--", "make", "-s"])));
    let text = std::fs::read_to_string(&deps).unwrap();
    let entry = |path: &str| -> String {
        text.lines().find(|l| l.contains(&format!("{{\"path\":\"{path}\","))).unwrap_or_else(|| panic!("no {path} in\n{text}")).to_string()
    };
    assert!(entry("/build/main.c").contains("\"read\":true"));
    assert!(entry("/build/main.h").contains("\"read\":true"));
    assert!(entry("/build/main.c").contains(&format!("\"host\":\"{}\"", p(src.join("main.c")))));
    assert!(entry("/build/main.o").contains("\"written\":true"));
    assert!(entry("/build/main").contains("\"written\":true"));
    assert!(entry("/build/nothere.h").contains("\"missing\":true"));
    assert!(text.lines().any(|l| l.contains("\"executed\":true") && l.contains("/gcc")), "gcc ran:\n{text}");
    // Sorted by path, each once.
    let paths: Vec<&str> = text.lines().filter_map(|l| l.split("\"path\":\"").nth(1)?.split('"').next()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(paths, sorted);
}

/// The paths `strace -f -y` shows a native run open, stat, list or execute, absolute (`-y`
/// names the directory descriptor of an `*at` call).
fn strace_paths(dir: &Path, cmd: &[&str], realpath_walks: bool) -> BTreeSet<String> {
    let log = dir.join("strace.log");
    let o = run(Command::new("strace")
        .args(["-f", "-qq", "-y", "-e", "trace=%file,execve", "-o"])
        .arg(&log)
        .args(cmd)
        .current_dir(dir)
        .env("PWD", dir)
        .env_remove("LD_LIBRARY_PATH"));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut out = BTreeSet::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        // `PID name(ARGS) = R`; a call another process interrupted shows its path on its
        // `<unfinished ...>` line.
        if line.contains("resumed>") {
            continue;
        }
        let Some((head, args)) = line.split_once('(') else { continue };
        let name = head.split_whitespace().last().unwrap_or("");
        // glibc's realpath() walks the path with its own internal readlink calls (no preload
        // library sees them: fsatrace, fakechroot and pseudo alike): the trace has the realpath
        // call itself, with its argument.
        if name == "readlink" && realpath_walks {
            continue;
        }
        let quoted: Vec<&str> = args.split('"').skip(1).step_by(2).collect();
        let paths: &[&str] = match name {
            "execve" | "execveat" => &quoted[..quoted.len().min(1)],
            "rename" | "renameat" | "renameat2" | "link" | "linkat" => &quoted[..quoted.len().min(2)],
            "symlink" | "symlinkat" => &quoted[quoted.len().min(1)..quoted.len().min(2)],
            _ => &quoted[..quoted.len().min(1)],
        };
        // The directory an `*at` call starts from: `AT_FDCWD` or `N</its/path>`.
        let base = match args.split_once('<') {
            Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => rest.split('>').next().unwrap_or("").to_string(),
            _ => dir.display().to_string(),
        };
        for q in paths {
            if q.is_empty() {
                continue;
            }
            let abs = if q.starts_with('/') { q.to_string() } else { format!("{base}/{q}") };
            out.insert(normal(&abs));
        }
    }
    out
}

/// `a/./b/../c` → `a/c`, lexically.
fn normal(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What the loader opens before the program runs, and what glibc opens through its own
/// internal calls (no exported symbol is called, so no preload library sees them: fsatrace,
/// fakechroot and pseudo share this): listed apart.
fn loader_or_libc_internal(path: &str) -> bool {
    path.starts_with("/etc/ld.so")
        || path.contains(".so")
        || path.contains("/glibc-hwcaps")
        || path == "/etc/localtime"
        || path.starts_with("/usr/lib/locale")
        || path.contains("/gconv/")
        || path.starts_with("/usr/share/locale")
        || path.starts_with("/proc/")
        || path.starts_with("/sys/")
        || path.starts_with("/dev/")
}

#[test]
fn every_path_strace_sees_a_native_run_touch_is_in_the_trace() {
    if Command::new("strace").arg("-V").output().is_err() {
        panic!("strace is missing: .ci/run installs it (Debian's strace)");
    }
    let d = Scratch::new("trace-strace");
    let src = project(&d);
    let cases: [(&str, Vec<&str>); 2] = [
        ("make", vec!["make", "-s"]),
        ("python", vec!["/usr/bin/python3", "-S", "-c", "import json, email.mime.text, sqlite3; open('out.txt', 'w').write('x')"]),
    ];
    for (name, cmd) in cases {
        let _ = run(Command::new("make").args(["-s", "clean"]).current_dir(&src));
        for f in ["main", "main.o", "out.txt"] {
            let _ = std::fs::remove_file(src.join(f));
        }
        let t = d.join(format!("{name}.jsonl"));
        ok(run(kmview(["--trace", &p(&t), "--"]).args(&cmd).current_dir(&src).env("PWD", &src).env_remove("LD_LIBRARY_PATH")));
        let evs = events(&t);
        let traced: BTreeSet<String> = evs.iter().flat_map(|e| [Some(&e.view), e.view2.as_ref()]).flatten().map(|v| normal(&s(v))).collect();
        for f in ["main", "main.o", "out.txt"] {
            let _ = std::fs::remove_file(src.join(f));
        }
        let native = strace_paths(&src, &cmd, evs.iter().any(|e| e.call == "realpath"));
        // gcc's temporary files have a new random name in each run.
        let temporary = |p: &str| p.starts_with("/tmp/cc");
        let missed: Vec<&String> = native.iter().filter(|p| !traced.contains(*p) && !loader_or_libc_internal(p) && !temporary(p)).collect();
        assert!(missed.is_empty(), "{name}: strace saw these, the trace did not: {missed:#?}");
        assert!(native.iter().filter(|p| !loader_or_libc_internal(p)).count() > 10, "{name}: the oracle saw too little to compare");
    }
}
