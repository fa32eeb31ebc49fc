//! The launcher's contract: exit statuses, `kmview stack`, the default shell, and failing
//! closed on a malformed stack.

use kmview_cdylib_tests::*;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn the_exit_status_is_the_commands() {
    let o = run(&mut kmview(["--unreal", "--", "sh", "-c", "exit 3"]));
    assert_eq!(o.status.code(), Some(3));
    let o = run(&mut kmview(["--unreal", "--", "sh", "-c", "kill -TERM $$"]));
    assert_eq!(o.status.signal(), Some(libc::SIGTERM), "{:?}", o.status);
}

#[test]
fn own_errors_are_125_and_name_the_option_in_one_line() {
    let cases: [(&[&str], &str); 5] = [
        (&["--frobnicate", "--", "true"], "--frobnicate"),
        (&["--unreal=relative/path", "--", "true"], "--unreal"),
        (&["--static=sometimes", "--", "true"], "warn, deny, allow"),
        (&["-b"], "--bind"),
        (&["-b", "/tmp:/x", "-w", "/no/such/dir", "--", "true"], "--cwd /no/such/dir: No such file or directory"),
    ];
    for (args, names) in cases {
        let o = run(&mut kmview(args));
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(names), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: the error takes more than one line:\n{err}");
        assert!(err.starts_with("kmview: "), "{args:?}: {err}");
    }
}

#[test]
fn the_starting_directory_is_pwd_in_the_views_terms() {
    let s = Scratch::new("pwd");
    let proj = s.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let bind = format!("{}:/kmview-build-dir", proj.display());
    // `-w` into a bind: PWD, the shell's pwd and getcwd all say the view's name.
    let o = run(kmview(["-b", &bind, "-w", "/kmview-build-dir", "--", "sh", "-c", "echo $PWD; pwd; /bin/pwd"]).current_dir(&proj));
    assert_eq!(stdout(&o), "/kmview-build-dir\n".repeat(3), "{}", stderr(&o));
    // A PWD inherited into a process of the view that does not name its cwd there is put right
    // at start-up; one that does (the host name of the same directory) stays, as under the kernel.
    let script = format!("cd /kmview-build-dir; env PWD=/no/such/dir sh -c 'echo $PWD'; env PWD={0} sh -c 'echo $PWD'", proj.display());
    let o = run(kmview(["-b", &bind, "--", "sh", "-c", &script]).current_dir(&proj));
    assert_eq!(stdout(&o), format!("/kmview-build-dir\n{}\n", proj.display()), "{}", stderr(&o));
}

/// What the PWD fix is for: gcc names the compilation directory after `$PWD` when it names the
/// same directory, so a build at a fixed path must record the view's name, not the host's.
#[test]
fn gcc_records_the_views_directory_as_the_compilation_directory() {
    let s = Scratch::new("comp-dir");
    let proj = s.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join("hello.c"), "int main(void) { return 0; }\n").unwrap();
    let bind = format!("{}:/kmview-build-dir", proj.display());
    let build = "gcc -g -c hello.c -o hello.o && readelf --debug-dump=info hello.o";
    let o = run(kmview(["-b", &bind, "-w", "/kmview-build-dir", "--", "sh", "-c", build]).current_dir(&proj));
    let out = stdout(&o);
    let comp_dir = out.lines().find(|l| l.contains("DW_AT_comp_dir")).unwrap_or_else(|| panic!("no DW_AT_comp_dir: {out}{}", stderr(&o)));
    assert!(comp_dir.trim_end().ends_with(": /kmview-build-dir"), "{comp_dir}");
}

#[test]
fn a_source_may_end_with_a_backslash_and_stack_escapes_what_it_prints() {
    let s = Scratch::new("escapes");
    let odd = s.join("dir\\");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("f"), "in odd\n").unwrap();
    let bind = format!("{}\\\\:/kmview-odd", s.join("dir").display());
    let o = run(&mut kmview(["-b", &bind, "--", "cat", "/kmview-odd/f"]));
    assert_eq!(stdout(&o), "in odd\n", "{}", stderr(&o));
    let nl = s.join("new\nline");
    std::fs::create_dir_all(&nl).unwrap();
    let o = run(kmview(["-b", &format!("{}:/kmview-nl", nl.display()), "--"]).arg(launcher()).arg("stack"));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "kmview stack printed a raw newline: {out:?}");
    assert!(out.contains("new\\x0aline") || out.contains("new\\nline"), "{out:?}");
}

#[test]
fn not_found_is_127_and_not_executable_is_126_as_in_a_shell() {
    let o = run(&mut kmview(["--unreal", "--", "no-such-command-kmview"]));
    assert_eq!(o.status.code(), Some(127));
    let o = run(&mut kmview(["--unreal", "--", "/etc/passwd"]));
    assert_eq!(o.status.code(), Some(126));
    // The command is looked up in the view: only /unreal/bin/true exists there, not on the host.
    let o = run(&mut kmview(["--unreal", "--", "/unreal/bin/true"]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&mut kmview(["--unreal", "--", "/unreal/unreal/unreal/bin/true"]));
    assert_eq!(o.status.code(), Some(127));
}

#[test]
fn no_command_runs_the_shell() {
    let mut child = kmview(["--unreal"]).env("SHELL", "/bin/sh").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"cd /unreal/etc && pwd -P; exit 4\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "/unreal/etc\n");
    assert_eq!(o.status.code(), Some(4));
}

#[test]
fn stack_prints_the_views_outermost_first() {
    let k = launcher().to_str().unwrap().to_owned();
    let o = ok(run(&mut kmview(["--unreal", "--", &k, "--unreal=/other", "--", &k, "stack"])));
    assert_eq!(o, "1: unreal /unreal\n2: unreal /other\n");
    let o = run(&mut kmview(["stack"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("no view"));
}

#[test]
fn a_malformed_stack_stops_the_program_before_it_runs() {
    let s = Scratch::new("failclosed");
    let marker = s.join("ran");
    for bad in ["kmview9;unreal=/unreal", "kmview1;unreal=relative", "kmview1;unreal=/x%zz", "garbage"] {
        let o = run(Command::new("sh").arg("-c").arg(format!("touch {}", marker.display())).env("LD_PRELOAD", library()).env("KMVIEW_STACK", bad));
        assert_eq!(o.status.code(), Some(125), "{bad}");
        assert!(!marker.exists(), "the program ran under {bad}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("KMVIEW_STACK"), "{err}");
    }
    // And the launcher refuses to push onto one.
    let o = run(kmview(["--unreal", "--", "true"]).env("KMVIEW_STACK", "garbage"));
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn help_names_the_options() {
    let o = ok(run(&mut kmview(["--help"])));
    assert!(o.contains("--unreal") && o.contains("125"), "{o}");
}

#[test]
fn a_panic_inside_the_library_fails_the_call_with_eio_and_does_not_repeat_it() {
    let s = Scratch::new("panic");
    // mkdir panics inside the library: it must fail with EIO, say so in one line, and not have
    // made the directory (the real call is never made after a panic).
    let o = run(kmview([
        "--unreal",
        "--",
        "python3",
        "-c",
        &format!(
            "import os, errno\ntry:\n    os.mkdir('{}/d')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\nprint(os.path.exists('{}/d'))",
            s.unreal(),
            s.path().display()
        ),
    ])
    .env("KMVIEW_FAULT", "panic:mkdir"));
    assert_eq!(stdout(&o), "EIO\nFalse\n", "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("internal error in mkdir"), "{err}");
    // Other calls go on working in the same process.
    let o = run(kmview(["--unreal", "--", "cat", "/unreal/etc/hostname"]).env("KMVIEW_FAULT", "panic:mkdir"));
    assert_eq!(stdout(&o), std::fs::read_to_string("/etc/hostname").unwrap());
}

/// With `--tmp` the launcher waits for the command: a Ctrl-C typed at the terminal reaches the
/// command once (the terminal signals the whole foreground group; the launcher passes on only
/// what it alone was sent). The command counts the SIGINTs it gets, its handler slow enough that
/// a second one would wait for it rather than merge with the first.
#[test]
fn a_ctrl_c_at_the_terminal_reaches_the_command_once() {
    let script = r#"
import os, pty, select, sys, time
km = sys.argv[1]
prog = "import signal, time\nn = [0]\ndef h(s, f):\n    n[0] += 1\n    time.sleep(0.3)\nsignal.signal(signal.SIGINT, h)\nprint('ready', flush=True)\ntime.sleep(1.5)\nprint('got', n[0], flush=True)\n"
pid, fd = pty.fork()
if pid == 0:
    os.execv(km, [km, "--tmp", "/kmview-test-ctrl-c", "--", "python3", "-c", prog])
out = b""
sent = False
end = time.time() + 10
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 1024)
        except OSError:
            break
        if not d:
            break
        out += d
    if not sent and b"ready" in out:
        time.sleep(0.3)
        os.write(fd, b"\x03")
        sent = True
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
"#;
    let o = run(Command::new("python3").arg("-c").arg(script).arg(launcher()));
    let out = stdout(&o);
    assert!(out.contains("got 1\n"), "the command should count one SIGINT: {out:?} {}", stderr(&o));
}

/// `kmview --print-lib` names the library (for wrappers that set `LD_PRELOAD` themselves), and
/// proot's option names work where they mean the same: `-m`/`--mount` for `-b`, `HOST` alone
/// bound at its own path, `--rootfs` for `-r`, `--pwd` for `-w`.
#[test]
fn print_lib_and_proots_option_names() {
    let o = run(&mut kmview(["--print-lib"]));
    assert_eq!(stdout(&o).trim_end(), std::fs::canonicalize(library()).unwrap().display().to_string(), "{}", stderr(&o));
    let s = Scratch::new("proot-names");
    std::fs::create_dir_all(s.join("src")).unwrap();
    std::fs::write(s.join("src/f"), "f\n").unwrap();
    let src = s.join("src").display().to_string();
    // HOST alone: the view shows it where it is (with --ro-bind, read-only there).
    let o = run(&mut kmview(["--ro-bind", &src, "--pwd", &src, "--", "sh", "-c", "cat f; touch g 2>&1 | grep -c 'Read-only'"]));
    assert_eq!(stdout(&o), "f\n1\n", "{}", stderr(&o));
    let o = run(&mut kmview([
        "-m",
        &format!("{src}:/kmview-m"),
        "--mount",
        &format!("{src}:/kmview-mount"),
        "--",
        "cat",
        "/kmview-m/f",
        "/kmview-mount/f",
    ]));
    assert_eq!(stdout(&o), "f\nf\n", "{}", stderr(&o));
    let o = run(&mut kmview(["--rootfs", "/", "--", "cat", &format!("{src}/f")]));
    assert_eq!(stdout(&o), "f\n", "{}", stderr(&o));
}

/// `--help` is grouped by purpose, with an example per group.
#[test]
fn help_is_grouped_with_examples() {
    let o = run(&mut kmview(["--help"]));
    let out = stdout(&o);
    for heading in ["Mounts:", "Hiding and protecting:", "Fake root:", "Running:", "Examples:"] {
        assert!(out.contains(heading), "no {heading} in:\n{out}");
    }
    for example in ["kmview -b \"$PWD:/build\"", "kmview --hide", "kmview -0 --", "kmview -r "] {
        assert!(out.contains(example), "no example {example} in:\n{out}");
    }
}

/// `kmview-proot` takes proot's command line: the options that mean the same translated, the
/// others noted on one line each and skipped.
#[test]
fn the_proot_front_end_takes_proots_command_line() {
    let front = launcher().with_file_name("kmview-proot");
    let s = Scratch::new("proot-front");
    std::fs::create_dir_all(s.join("src")).unwrap();
    std::fs::write(s.join("src/f"), "f\n").unwrap();
    let bind = format!("{}:/kmview-pb", s.join("src").display());
    let o = run(Command::new(&front).args([
        "-b",
        &bind,
        "--pwd=/kmview-pb",
        "-q",
        "qemu-arm",
        "--kill-on-exit",
        "-i",
        "1000:100",
        "--",
        "sh",
        "-c",
        "cat f; id -u; id -g",
    ]));
    assert_eq!(stdout(&o), "f\n1000\n100\n", "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().filter(|l| l.contains("not supported")).count(), 2, "{}", stderr(&o));
    let o = run(Command::new(&front).args(["--frobnicate", "true"]));
    assert_eq!(o.status.code(), Some(125));
}
