//! Programs that are hard on a preloaded library: an allocator that calls hooked functions
//! while holding its own lock (rustc, jemalloc, a C program of our own), small stacks (an 8 KiB
//! signal stack, a 32 KiB thread), and failing closed when the library cannot be loaded or the
//! stack is malformed.
//!
//! The oracle is the same program run natively. A hang is a failure: every run here has a
//! deadline, after which its whole process group is killed.

use kmview_cdylib_tests::*;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const JEMALLOC: &str = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

/// Runs `cmd` in a process group of its own; `Err` (with what it printed so far) if it has not
/// ended after `secs` seconds, and then the whole group is killed.
fn run_within(cmd: &mut Command, secs: u64) -> Result<Output, String> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    match status {
        Some(status) => Ok(Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }),
        None => {
            // SAFETY: kill on the process group this test started (its leader is our child).
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            let (o, e) = (out.join().unwrap(), err.join().unwrap());
            Err(format!(
                "{cmd:?} did not finish within {secs} s (killed)\nstdout so far:\n{}\nstderr so far:\n{}",
                String::from_utf8_lossy(&o),
                String::from_utf8_lossy(&e)
            ))
        }
    }
}

/// `run_within` that panics on a timeout.
#[track_caller]
fn finishes(cmd: &mut Command, secs: u64) -> Output {
    run_within(cmd, secs).unwrap_or_else(|e| panic!("hung: {e}"))
}

fn jemalloc() -> &'static str {
    assert!(Path::new(JEMALLOC).exists(), "{JEMALLOC} is missing: install the Debian package libjemalloc2");
    JEMALLOC
}

fn rustc() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let cargo_bin = home.join(".cargo/bin/rustc");
    if cargo_bin.is_file() {
        cargo_bin
    } else {
        PathBuf::from("rustc")
    }
}

// ---- Allocators that call hooked functions ----

#[test]
fn rustc_runs_in_a_view() {
    // rustc's allocator (jemalloc) reads its configuration with a hooked call on its first
    // allocation, which may come before the library's constructor has finished.
    let rustc = rustc();
    let native = ok(run(Command::new(&rustc).arg("-vV")));
    assert!(native.contains("host: "), "{native}");
    let o = finishes(kmview(["--"]).arg(&rustc).arg("-vV"), 60);
    assert_eq!(stdout(&o), native, "stderr: {}", stderr(&o));
    assert!(o.status.success(), "{:?} {}", o.status, stderr(&o));
}

#[test]
fn jemalloc_preloaded_by_a_program_in_a_view() {
    let je = jemalloc();
    // The view without jemalloc is the oracle; the shell and ls both run with jemalloc, and the
    // shell says which of the two libraries it has mapped.
    let script = "ls / /unreal/etc; grep -o 'lib\\(jemalloc\\|kmview\\)[^ ]*$' /proc/$$/maps | sort -u";
    let want = ok(run(&mut kmview(["--unreal", "--", "sh", "-c", "ls / /unreal/etc"]))) + "libjemalloc.so.2\nlibkmview.so\n";
    let o = finishes(&mut kmview(["--unreal", "--", "env", &format!("LD_PRELOAD={je}"), "sh", "-c", script]), 20);
    assert_eq!(stdout(&o), want, "stderr: {}", stderr(&o));
    assert!(o.status.success(), "{:?}", o.status);
    // ls itself, as the command.
    let o = finishes(&mut kmview(["--unreal", "--", "env", &format!("LD_PRELOAD={je}"), "ls", "/unreal/etc"]), 20);
    assert_eq!(stdout(&o), ok(run(Command::new("ls").arg("/etc"))), "stderr: {}", stderr(&o));
}

#[test]
fn jemalloc_preloaded_beside_the_library_with_no_view() {
    let je = jemalloc();
    let s = Scratch::new("jemalloc");
    for f in ["a", "b", "c"] {
        std::fs::write(s.join(f), f).unwrap();
    }
    let dir = s.path().display().to_string();
    let o = finishes(
        Command::new("sh")
            .args(["-c", "ls \"$0\"; grep -o 'lib\\(jemalloc\\|kmview\\)[^ ]*$' /proc/$$/maps | sort -u", &dir])
            .env("KMVIEW_STACK", "kmview1")
            .env("LD_PRELOAD", format!("{} {je}", library().display())),
        20,
    );
    assert_eq!(stdout(&o), "a\nb\nc\nlibjemalloc.so.2\nlibkmview.so\n", "stderr: {}", stderr(&o));
    let o = finishes(Command::new("ls").arg(&dir).env("KMVIEW_STACK", "kmview1").env("LD_PRELOAD", format!("{} {je}", library().display())), 20);
    assert_eq!(stdout(&o), "a\nb\nc\n", "stderr: {}", stderr(&o));
}

#[test]
fn an_allocator_that_calls_hooks_under_its_own_lock() {
    // c/own_malloc.c: malloc's first call runs readlink("/etc/malloc.conf") and stat("/")
    // holding a non-recursive lock that aborts with a message if re-entered.
    let s = Scratch::new("own-malloc");
    let bin = compile_c(s.path(), "own_malloc", include_str!("../c/own_malloc.c"), &[]);
    let native = ok(run(Command::new(&bin).arg("/etc")));
    assert!(native.starts_with("init readlink=-1") && native.contains("stat=0 ino="), "{native}");
    let at = s.join("etc-bind").display().to_string();
    let runs: Vec<(&str, Command)> = vec![
        ("in an unreal view", {
            let mut c = kmview(["--unreal", "--"]);
            c.arg(&bin).arg("/unreal/etc");
            c
        }),
        ("in a view with a bind", {
            let mut c = kmview(["-b".to_string(), format!("/etc:{at}"), "--".to_string()]);
            c.arg(&bin).arg(&at);
            c
        }),
        ("with no view", {
            let mut c = Command::new(&bin);
            c.arg("/etc").env("KMVIEW_STACK", "kmview1").env("LD_PRELOAD", library());
            c
        }),
    ];
    // Concurrently, so that three hangs cost one deadline.
    let results: Vec<(&str, Result<Output, String>)> = std::thread::scope(|sc| {
        let handles: Vec<_> = runs.into_iter().map(|(what, mut c)| sc.spawn(move || (what, run_within(&mut c, 20)))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = String::new();
    for (what, r) in results {
        match r {
            Err(e) => failures += &format!("{what}: hung: {e}\n"),
            Ok(o) if stdout(&o) != native || !o.status.success() => {
                failures += &format!("{what}: {:?}\n  stdout: {:?}\n  want:   {native:?}\n  stderr: {}\n", o.status, stdout(&o), stderr(&o))
            }
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

// ---- Small stacks ----

/// Calls through one view (a bind, `/unreal`, a read-only bind, `..` through a bind, a rename
/// across mounts, an exec of a script in a bind from a `vfork` child), through the exact walk
/// and with a trace, each from a signal handler on an 8 KiB alternate stack and from a thread with a
/// 32 KiB stack, both mapped above an unreadable guard page: a call that needs more stack
/// crashes instead of writing over whatever lies below. Each answer must be the kernel's for
/// the host path behind it, and the figures (the stack used, the kernel's signal frame
/// included) are printed for the README.
#[test]
fn calls_through_a_view_fit_an_8k_signal_stack_and_a_32k_thread_stack() {
    let s = Scratch::new("small-stack");
    let bin = compile_c(s.path(), "small_stack", include_str!("../c/small_stack.c"), &["-pthread", "-Wl,-z,now"]);
    std::fs::create_dir_all(s.join("src/sub")).unwrap();
    std::fs::create_dir_all(s.join("host")).unwrap();
    std::fs::write(s.join("src/sub/g"), "g").unwrap();
    std::fs::write(s.join("src/run.sh"), "#!/bin/sh\nexit 3\n").unwrap();
    std::fs::set_permissions(s.join("src/run.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(s.join("host/plain"), "plain").unwrap();
    let d = |p: &str| s.join(p).display().to_string();
    let (src, mnt, ro, plain) = (d("src"), d("host/mnt"), d("host/ro"), d("host/plain"));
    let ino = |p: &str| format!("ok {} ", std::fs::metadata(p).unwrap().ino());
    // (the call in the view, the answer's start: the host object's inode for a stat)
    let cases: Vec<(Vec<String>, String)> = vec![
        (vec!["stat".into(), plain.clone()], ino(&plain)),
        (vec!["stat".into(), format!("{mnt}/sub/g")], ino(&d("src/sub/g"))),
        (vec!["stat".into(), format!("/unreal{plain}")], ino(&plain)),
        (vec!["stat".into(), format!("{mnt}/sub/..")], ino(&src)),
        (vec!["stat".into(), format!("/unreal{src}/sub/..")], ino(&src)),
        (vec!["open".into(), format!("{mnt}/sub/g")], "ok 0 ".into()),
        (vec!["mkdir".into(), format!("{ro}/new")], "err EROFS ".into()),
        (vec!["rename".into(), format!("{mnt}/sub/g"), plain.clone()], "err EXDEV ".into()),
        (vec!["opendir".into(), mnt.clone()], "ok 0 ".into()),
        (vec!["chdir".into(), format!("{mnt}/sub")], "ok 0 ".into()),
        (vec!["readlink".into(), "/proc/self/cwd".into()], "ok ".into()),
        (vec!["exec".into(), format!("{mnt}/run.sh")], "ok 3 ".into()),
    ];
    let mut failures = String::new();
    let mut figures = String::new();
    // One call on a small stack: its answer must start as `want`; the stack it used is kept.
    let mut run_case = |what: &str, cmd: &mut Command, want: &str| match run_within(cmd, 20) {
        Err(e) => failures += &format!("{what}: hung: {e}\n"),
        Ok(o) if !stdout(&o).starts_with(want) || !o.status.success() => {
            let died = o.status.signal().map(|sig| format!(" (killed by signal {sig})")).unwrap_or_default();
            failures += &format!("{what}: {:?}{died}, stdout {:?}, want {want:?}..., stderr {}\n", o.status, stdout(&o), stderr(&o));
        }
        Ok(o) => figures += &format!("{what}: {}", stdout(&o)),
    };
    // The exact walk, and a trace (which formats and buffers a line on the same stack).
    let trace = d("trace.jsonl");
    for (exact, traced) in [(false, false), (true, false), (false, true)] {
        for (how, kib) in [("sig", "8"), ("thread", "32")] {
            for (call, want) in &cases {
                let mut args: Vec<String> = vec!["--unreal".into(), "-b".into(), format!("{src}:{mnt}"), "--ro-bind".into(), format!("{src}:{ro}")];
                if exact {
                    args.insert(0, "--exact".into());
                }
                if traced {
                    args.extend(["--trace".into(), trace.clone()]);
                }
                args.push("--".into());
                let what = format!("{}{}{how} {}", if exact { "--exact " } else { "" }, if traced { "--trace " } else { "" }, call.join(" "));
                run_case(&what, kmview(args).arg(&bin).arg(how).arg(kib).args(call), want);
            }
        }
    }
    // Through a copy-on-write overlay: copy-up, whiteouts, the merged listing, on the same
    // stacks (each case in a fresh upper, so each one copies up).
    let low = d("low");
    std::fs::create_dir_all(format!("{low}/d/e")).unwrap();
    std::fs::write(format!("{low}/d/f"), "f").unwrap();
    std::fs::write(format!("{low}/d/e/g"), "g").unwrap();
    let over: Vec<(Vec<String>, String)> = vec![
        (vec!["stat".into(), format!("{low}/d/f")], ino(&format!("{low}/d/f"))),
        (vec!["append".into(), format!("{low}/d/f")], "ok 0 ".into()),
        (vec!["append".into(), format!("{low}/d/e/g")], "ok 0 ".into()),
        (vec!["unlink".into(), format!("{low}/d/f")], "ok 0 ".into()),
        (vec!["mkdir".into(), format!("{low}/d/e/new")], "ok 0 ".into()),
        (vec!["rename".into(), format!("{low}/d/f"), format!("{low}/d/h")], "ok 0 ".into()),
        (vec!["rename".into(), format!("{low}/d/e"), format!("{low}/d/e2")], "err EXDEV ".into()),
        (vec!["opendir".into(), format!("{low}/d")], "ok 0 ".into()),
    ];
    let lower_before = std::fs::read_to_string(format!("{low}/d/f")).unwrap();
    for (how, kib) in [("sig", "8"), ("thread", "32")] {
        for (i, (call, want)) in over.iter().enumerate() {
            let up = d(&format!("up-{how}-{i}"));
            std::fs::create_dir_all(&up).unwrap();
            // A change made first, so that upper is not untouched: the probes run.
            std::fs::write(format!("{up}/touched"), "").unwrap();
            let what = format!("--overlay {how} {}", call.join(" "));
            let args = vec!["--overlay".to_string(), format!("{low}:{up}"), "--".into()];
            run_case(&what, kmview(args).arg(&bin).arg(how).arg(kib).args(call), want);
        }
    }
    assert_eq!(std::fs::read_to_string(format!("{low}/d/f")).unwrap(), lower_before, "the lower tree was written");
    eprintln!("stack used (the signal frame included):\n{figures}");
    assert!(failures.is_empty(), "calls on a small stack:\n{failures}");
}

// ---- Failing closed ----

#[test]
fn a_library_that_is_not_kmview_stops_the_launcher() {
    let s = Scratch::new("bad-lib");
    let marker = s.join("ran");
    for lib in ["/lib/x86_64-linux-gnu/libz.so.1", "/bin/true"] {
        assert!(Path::new(lib).exists(), "{lib} is missing on this machine");
        let canonical = std::fs::canonicalize(lib).unwrap().display().to_string();
        let o = run(kmview(["--unreal", "--", "sh", "-c", &format!("touch '{}'", marker.display())]).env("KMVIEW_LIB", lib));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(125), "KMVIEW_LIB={lib}: {:?}\nstderr: {err}", o.status);
        assert!(!marker.exists(), "KMVIEW_LIB={lib}: the command ran (outside any view)");
        assert_eq!(err.lines().count(), 1, "KMVIEW_LIB={lib}: one line on stderr, got:\n{err}");
        assert!(
            err.contains(lib) || err.contains(&canonical) || err.contains("KMVIEW_LIB"),
            "KMVIEW_LIB={lib}: the line names neither the library nor KMVIEW_LIB: {err}"
        );
    }
}

#[test]
fn a_stack_with_control_bytes_is_refused_in_one_escaped_line() {
    let s = Scratch::new("bad-stack");
    let marker = s.join("ran");
    let bad = "kmview1;unreal=/x\n\x1b[31mred";
    let o = run(Command::new("sh")
        .arg("-c")
        .arg(format!("touch '{}'", marker.display()))
        .env("LD_PRELOAD", library())
        .env("KMVIEW_STACK", bad)
        .stdin(Stdio::null()));
    assert_eq!(o.status.code(), Some(125), "{:?}", o.status);
    assert!(!marker.exists(), "the program ran");
    let err = &o.stderr;
    let shown = String::from_utf8_lossy(err);
    // One line: its only newline is the last byte; no raw escape byte reaches the terminal.
    assert_eq!(err.iter().filter(|&&b| b == b'\n').count(), 1, "stderr must be one line: {shown:?}");
    assert_eq!(err.last(), Some(&b'\n'), "{shown:?}");
    assert!(!err.contains(&0x1b), "a raw ESC byte on stderr: {shown:?}");
    assert!(shown.contains("KMVIEW_STACK"), "{shown:?}");
    // The bad bytes are shown escaped.
    let newline = ["\\n", "\\x0a", "\\x0A", "%0A", "\\012", "\\u{a}"];
    let escape = ["\\x1b", "\\x1B", "%1B", "\\033", "\\e", "\\u{1b}"];
    assert!(newline.iter().any(|e| shown.contains(e)), "the newline is not shown escaped: {shown:?}");
    assert!(escape.iter().any(|e| shown.contains(e)), "the ESC byte is not shown escaped: {shown:?}");
}
