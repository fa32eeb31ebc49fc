//! Complete mode (`kmview --complete`): system calls a program makes without libc — Go's, and
//! a C program's own inline `syscall` instructions — are trapped in the process (syscall user
//! dispatch) and go through the view as libc's do.
//!
//! Every subject is compared with an oracle: the same program run natively on the host path, the
//! kernel's own mounts (`unshare -rm` with real bind mounts, `chroot` for a root), the program's
//! libc twin under the same view, or the real root for the fake root. Every test also shows that
//! without `--complete` the same calls escape the view (so that it would catch an escape).
//!
//! The subjects: `go/probe.go` (built with cgo, hence dynamic: an LD_PRELOAD library only enters
//! a dynamically linked program; and without, a static one for the refusal), `c/complete_raw.c`
//! (raw system calls: threads of its own, raw forks, an exec chain, its own SIGSYS handler, all
//! signals blocked), `c/complete_libc.c` (the probe's libc twin). Each run has a `timeout`, a
//! guard against a deadlock, not a measure.

use kmview_cdylib_tests::*;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// What the raw readers of `marker` expect to find there.
const WANT: &str = "kmview-complete-marker";

struct Programs {
    /// `go/probe.go` with cgo: dynamically linked.
    probe: PathBuf,
    /// `go/probe.go` without cgo: statically linked.
    probe_static: PathBuf,
    /// `c/complete_raw.c`.
    raw: PathBuf,
    /// `c/complete_libc.c`.
    twin: PathBuf,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

fn go_binary() -> PathBuf {
    for p in ["/usr/bin/go", "/usr/lib/go/bin/go", "/usr/local/go/bin/go"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("go")
}

/// Builds the Go probe (`cgo`: with `import "C"`, dynamic; without, static) into `out`, with the
/// build cache under the target directory (so that a second run costs little).
fn go_build(out: &Path, cgo: bool) {
    let dir = target_dir().join("kmview-complete");
    let src = root().join("cdylib-tests/go");
    let tmp = out.with_extension("tmp");
    let o = run(Command::new(go_binary())
        .arg("build")
        .arg("-o")
        .arg(&tmp)
        .arg(src.join("probe.go"))
        .arg(src.join("cgo.go"))
        .env("CGO_ENABLED", if cgo { "1" } else { "0" })
        .env("GO111MODULE", "off")
        .env("GOENV", "off")
        .env("GOFLAGS", "")
        .env("GOCACHE", dir.join("gocache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOTOOLCHAIN", "local")
        .current_dir(&dir));
    assert!(o.status.success(), "go build (cgo={cgo}) failed (.ci/run installs golang-go):\n{}{}", stdout(&o), stderr(&o));
    std::fs::rename(&tmp, out).unwrap();
}

/// The subjects, built once per test process.
fn programs() -> &'static Programs {
    static BUILT: OnceLock<Programs> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = target_dir().join("kmview-complete");
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let probe = bin.join("probe");
        let probe_static = bin.join("probe-static");
        go_build(&probe, true);
        go_build(&probe_static, false);
        assert!(elf_interpreter(&probe).is_some(), "{}: not dynamically linked (built without cgo?)", probe.display());
        assert!(elf_interpreter(&probe_static).is_none(), "{}: not statically linked", probe_static.display());
        let raw = compile_c(&bin, "complete_raw", include_str!("../c/complete_raw.c"), &[]);
        let twin = compile_c(&bin, "complete_libc", include_str!("../c/complete_libc.c"), &[]);
        Programs { probe, probe_static, raw, twin }
    })
}

/// The program's `PT_INTERP` (its dynamic loader), `None` for a static program.
fn elf_interpreter(path: &Path) -> Option<String> {
    let b = std::fs::read(path).unwrap();
    assert!(b.len() > 64 && &b[..4] == b"\x7fELF" && b[4] == 2, "{}: not a 64-bit ELF file", path.display());
    let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).map(|i| phoff + i * phentsize).find(|&ph| u32::from_le_bytes(b[ph..ph + 4].try_into().unwrap()) == 3).map(|ph| {
        let (off, size) = (u64_at(ph + 8), u64_at(ph + 32));
        String::from_utf8_lossy(&b[off..off + size]).trim_end_matches('\0').to_string()
    })
}

fn p(path: impl AsRef<Path>) -> String {
    path.as_ref().display().to_string()
}

fn unreal(path: impl AsRef<Path>) -> String {
    format!("/unreal{}", path.as_ref().display())
}

/// `argv` under `timeout` (a guard against a hang: a deadlock fails the test instead of holding
/// it up), stdin closed.
fn guarded<S: AsRef<std::ffi::OsStr>>(argv: impl IntoIterator<Item = S>) -> Command {
    let mut c = Command::new("timeout");
    c.args(["-k", "5", "120"]).args(argv).stdin(Stdio::null());
    c
}

/// `kmview ARGS...`, guarded.
fn km<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Command {
    let mut argv: Vec<OsString> = vec![launcher().into()];
    argv.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
    guarded(argv)
}

fn both_sides(what: &str, oracle: &Output, ours: &Output) -> String {
    format!(
        "{what}\n--- oracle ({:?}) stdout:\n{}--- oracle stderr:\n{}--- kmview ({:?}) stdout:\n{}--- kmview stderr:\n{}",
        oracle.status,
        stdout(oracle),
        stderr(oracle),
        ours.status,
        stdout(ours),
        stderr(ours)
    )
}

fn shown(o: &Output) -> String {
    format!("status {:?}\n--- stdout:\n{}--- stderr:\n{}", o.status, stdout(o), stderr(o))
}

/// Both ran, and printed the same.
#[track_caller]
fn same(what: &str, oracle: &Output, ours: &Output) {
    assert!(oracle.status.success(), "the oracle failed: {}", both_sides(what, oracle, ours));
    assert!(ours.status.success(), "kmview's run failed: {}", both_sides(what, oracle, ours));
    assert!(!stdout(oracle).is_empty(), "the oracle printed nothing: {}", both_sides(what, oracle, ours));
    assert_eq!(stdout(ours), stdout(oracle), "{}", both_sides(what, oracle, ours));
}

/// Without `--complete`, the program's own system calls miss the view: it printed something
/// else than the oracle, and `needle` (an error the escape shows).
#[track_caller]
fn escaped(what: &str, oracle: &Output, plain: &Output, needle: &str) {
    assert_ne!(
        stdout(plain),
        stdout(oracle),
        "without --complete the calls were not expected to reach the view: {}",
        both_sides(what, oracle, plain)
    );
    assert!(stdout(plain).contains(needle), "without --complete: expected {needle:?}: {}", both_sides(what, oracle, plain));
}

/// The tree the probes work on: files, a directory, a symlink, a file to rename, a script that
/// prints a file beside it (by the path it was run by), and the raw readers' marker.
fn tree(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(dir.join("sub/b.txt"), "beta\n").unwrap();
    std::fs::write(dir.join("sub/c.txt"), "gamma\n").unwrap();
    std::fs::write(dir.join("mv-src"), "moved\n").unwrap();
    std::fs::write(dir.join("marker"), WANT).unwrap();
    std::os::unix::fs::symlink("a.txt", dir.join("link")).unwrap();
    std::fs::write(dir.join("hello.sh"), "#!/bin/sh\necho script; cat \"${0%/*}/a.txt\"\n").unwrap();
    std::fs::set_permissions(dir.join("hello.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.to_path_buf()
}

/// The Go probe's tour of a tree at `d` (as the program sees it): reads, stats, listings, a
/// symlink, a rename, writes, an exec of the tree's script and of `/bin/sh -c` (os/exec: a raw
/// clone and execve), a missing file, and goroutines stat-ing and reading at once.
fn go_tour(d: &str) -> Vec<String> {
    let f = |n: &str| format!("{d}/{n}");
    let mut v: Vec<String> = vec![];
    let mut add = |items: &[&str]| v.extend(items.iter().map(|s| s.to_string()));
    add(&["read", &f("a.txt"), "stat", &f("a.txt"), "stat", &f("sub"), "lstat", &f("link"), "readlink", &f("link"), "read", &f("link")]);
    add(&["ls", d, "ls", &f("sub"), "read", &f("missing"), "stat", &f("missing")]);
    add(&["rename", &f("mv-src"), &f("mv-dst"), "read", &f("mv-dst"), "stat", &f("mv-src")]);
    add(&["write", &f("new.txt"), "fresh", "read", &f("new.txt"), "mkdir", &f("newdir"), "remove", &f("sub/c.txt"), "ls", d, "ls", &f("sub")]);
    add(&["run", &f("hello.sh"), "sh", &format!("cat '{}'", f("sub/b.txt")), "par", "8", &f("sub/b.txt"), &f("a.txt")]);
    v
}

/// A sanity check of an oracle's tour: it did see the tree.
#[track_caller]
fn tour_saw_the_tree(o: &Output) {
    let out = stdout(o);
    for want in
        ["read a.txt: ok alpha\\n", "read mv-dst: ok moved\\n", "run hello.sh: ok script\\nalpha\\n", "sh: ok beta\\n", "par 8: ok good=320 bad=0"]
    {
        assert!(out.contains(want), "the oracle's tour lacks {want:?}: {}", shown(o));
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The Go probe through every kind of view.

#[test]
fn go_through_unreal_matches_native() {
    let pr = programs();
    let s = Scratch::new("cgo-unreal");
    let host = tree(&s.join("native/t"));
    let inside = tree(&s.join("view/t"));
    let oracle = run(&mut guarded([p(&pr.probe)].into_iter().chain(go_tour(&p(&host)))));
    tour_saw_the_tree(&oracle);
    let ours = run(&mut km(["--unreal".to_string(), "--complete".into(), "--".into(), p(&pr.probe)].into_iter().chain(go_tour(&unreal(&inside)))));
    same("the Go probe's tour, natively on the host path and under --unreal --complete on /unreal/…", &oracle, &ours);
    // The view's tree was changed (the rename, the write), not some other.
    assert!(inside.join("mv-dst").exists() && inside.join("new.txt").exists() && !inside.join("mv-src").exists(), "{}", shown(&ours));
    // Without --complete, Go's own calls miss /unreal.
    let third = tree(&s.join("plain/t"));
    let plain = run(&mut km(["--unreal".to_string(), "--".into(), p(&pr.probe)].into_iter().chain(go_tour(&unreal(&third)))));
    escaped("the Go probe under --unreal without --complete", &oracle, &plain, "read a.txt: ENOENT");
}

#[test]
fn go_through_a_bind_matches_the_kernels_bind_mount() {
    let pr = programs();
    let s = Scratch::new("cgo-bind");
    let src_kernel = tree(&s.join("src-kernel"));
    let src_view = tree(&s.join("src-view"));
    let mp = s.join("mnt/x");
    std::fs::create_dir_all(&mp).unwrap();
    std::fs::create_dir_all(s.join("outside")).unwrap();
    let mut ops = go_tour(&p(&mp));
    // A rename across the mount's edge: EXDEV.
    ops.extend(["rename".to_string(), p(mp.join("a.txt")), p(s.join("outside/moved")), "ls".into(), p(s.join("outside"))]);
    let mut oracle_argv: Vec<String> =
        ["unshare", "-rm", "sh", "-c", "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"", "sh"].map(String::from).to_vec();
    oracle_argv.extend([p(&src_kernel), p(&mp), p(&pr.probe)]);
    oracle_argv.extend(ops.iter().cloned());
    let oracle = run(&mut guarded(&oracle_argv));
    tour_saw_the_tree(&oracle);
    assert!(stdout(&oracle).contains("rename a.txt moved: EXDEV"), "{}", shown(&oracle));
    let bind = format!("{}:{}", p(&src_view), p(&mp));
    // The view itself is right: the libc twin through it prints what it prints through the
    // kernel's bind mount.
    let twin_ops = |d: &Path| -> Vec<String> {
        ["ls", &p(d), "read", &p(d.join("a.txt")), "stat", &p(d.join("sub")), "readlink", &p(d.join("link"))].map(String::from).to_vec()
    };
    let mut twin_argv: Vec<String> = oracle_argv[..6].to_vec();
    twin_argv.extend([p(&src_view), p(&mp), p(&pr.twin)]);
    twin_argv.extend(twin_ops(&mp));
    let twin_kernel = run(&mut guarded(&twin_argv));
    let twin_view = run(&mut km(["-b".to_string(), bind.clone(), "--".into(), p(&pr.twin)].into_iter().chain(twin_ops(&mp))));
    same("the libc twin through a bind: the kernel's and kmview's (without --complete)", &twin_kernel, &twin_view);
    let ours = run(&mut km(["-b".to_string(), bind.clone(), "--complete".into(), "--".into(), p(&pr.probe)].into_iter().chain(ops.iter().cloned())));
    same("the Go probe's tour through a bind: a kernel bind mount (unshare -rm) and kmview -b … --complete", &oracle, &ours);
    assert!(src_view.join("mv-dst").exists() && src_view.join("new.txt").exists(), "the changes did not land in the bind's source: {}", shown(&ours));
    assert_eq!(std::fs::read_dir(&mp).unwrap().count(), 0, "the view wrote under the mountpoint itself: {}", shown(&ours));
    // Without --complete, Go sees the empty mountpoint.
    let plain = run(&mut km(["-b", &bind, "--", &p(&pr.probe), "read", &p(mp.join("a.txt")), "ls", &p(&mp)]));
    escaped("the Go probe through a bind without --complete", &oracle, &plain, "read a.txt: ENOENT");
}

/// Copies `path` of this machine to the same path under `root`, following links (a real file at
/// the end).
fn copy_in(root: &Path, path: &Path, as_path: &Path) {
    let dst = root.join(as_path.strip_prefix("/").unwrap());
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(path, &dst).unwrap_or_else(|e| panic!("copy {} to {}: {e}", path.display(), dst.display()));
}

/// A small root of copies (new inodes, none of them the host's): the dynamic loader and the
/// libraries the programs load, `/bin/sh`, `/bin/cat`, the Go probe at `/prog`, its libc twin at
/// `/twin`, and the probe's tree at `/kmdata`.
fn small_root(dir: &Path) -> PathBuf {
    let pr = programs();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let cat = std::fs::canonicalize("/bin/cat").unwrap();
    for prog in [&pr.probe, &pr.twin, &sh, &cat] {
        let o = run(Command::new("ldd").arg(prog));
        for line in stdout(&o).lines() {
            let path = line.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
            if path.starts_with('/') {
                copy_in(dir, Path::new(path), Path::new(path));
            }
        }
    }
    copy_in(dir, &sh, Path::new("/bin/sh"));
    copy_in(dir, &cat, Path::new("/bin/cat"));
    copy_in(dir, &pr.probe, Path::new("/prog"));
    copy_in(dir, &pr.twin, Path::new("/twin"));
    tree(&dir.join("kmdata"));
    dir.to_path_buf()
}

#[test]
fn go_under_a_root_matches_the_kernels_chroot() {
    let s = Scratch::new("cgo-root");
    let kernel_root = small_root(&s.join("kernel"));
    let view_root = small_root(&s.join("view"));
    // The root itself is right: the libc twin in it prints what it prints under the kernel's
    // chroot.
    let twin_ops: Vec<String> =
        ["ls", "/", "ls", "/kmdata", "read", "/kmdata/a.txt", "stat", "/kmdata/sub", "readlink", "/kmdata/link"].map(String::from).to_vec();
    let twin_kernel = run(&mut guarded(
        ["unshare".to_string(), "-r".into(), "chroot".into(), p(&kernel_root), "/twin".into()].into_iter().chain(twin_ops.iter().cloned()),
    ));
    let twin_view = run(&mut km(["-r".to_string(), p(&view_root), "-w".into(), "/".into(), "--".into(), "/twin".into()]
        .into_iter()
        .chain(twin_ops.iter().cloned())));
    same("the libc twin in a small root: the kernel's chroot and kmview -r (without --complete)", &twin_kernel, &twin_view);
    let mut ops: Vec<String> = ["ls", "/", "ls", "/bin", "read", "/bin/../kmdata/a.txt"].map(String::from).to_vec();
    ops.extend(go_tour("/kmdata"));
    let mut oracle_argv: Vec<String> = vec!["unshare".into(), "-r".into(), "chroot".into(), p(&kernel_root), "/prog".into()];
    oracle_argv.extend(ops.iter().cloned());
    let oracle = run(&mut guarded(&oracle_argv));
    tour_saw_the_tree(&oracle);
    let ours = run(&mut km(["-r".to_string(), p(&view_root), "-w".into(), "/".into(), "--complete".into(), "--".into(), "/prog".into()]
        .into_iter()
        .chain(ops.iter().cloned())));
    same("the Go probe in a small root: the kernel's chroot and kmview -r … --complete", &oracle, &ours);
    assert!(view_root.join("kmdata/mv-dst").exists(), "the changes did not land in the root: {}", shown(&ours));
    // Without --complete, Go's calls reach the host's / (which has no /kmdata).
    let plain =
        run(&mut km(["-r".to_string(), p(&view_root), "-w".into(), "/".into(), "--".into(), "/prog".into()].into_iter().chain(ops.iter().cloned())));
    escaped("the Go probe in a root without --complete", &oracle, &plain, "read a.txt: ENOENT");
}

/// `a/secret/key` (to hide), `a/open/f` (the control).
fn secret_tree(dir: &Path, with_secret: bool) -> PathBuf {
    std::fs::create_dir_all(dir.join("a/open")).unwrap();
    std::fs::write(dir.join("a/open/f"), "f\n").unwrap();
    if with_secret {
        std::fs::create_dir_all(dir.join("a/secret")).unwrap();
        std::fs::write(dir.join("a/secret/key"), "k\n").unwrap();
    }
    dir.to_path_buf()
}

fn hide_ops(d: &Path) -> Vec<String> {
    let f = |n: &str| p(d.join(n));
    vec![
        "ls".into(),
        f("a"),
        "stat".into(),
        f("a/secret"),
        "lstat".into(),
        f("a/secret/key"),
        "read".into(),
        f("a/secret/key"),
        "ls".into(),
        f("a/secret"),
        "read".into(),
        f("a/open/f"),
        "stat".into(),
        f("a/open/f"),
        "owner".into(),
        f("a/open/f"),
    ]
}

#[test]
fn go_under_hide_sees_what_libc_sees_and_what_a_missing_path_gives() {
    let pr = programs();
    let s = Scratch::new("cgo-hide");
    let t = secret_tree(&s.join("t"), true);
    let hidden = p(t.join("a/secret"));
    // The kernel's answer for a path that is not there: the same tree without it.
    let missing = secret_tree(&s.join("m"), false);
    let ops_missing = hide_ops(&missing);
    let kernel = run(&mut guarded([p(&pr.probe)].into_iter().chain(ops_missing)));
    let out = stdout(&kernel);
    assert!(out.contains("ls a: ok open/\n") && out.contains("read key: ENOENT"), "{}", shown(&kernel));
    // The libc twin under the same view, without complete mode (libc's calls are seen anyway).
    let twin = run(&mut km(["--hide".to_string(), hidden.clone(), "--".into(), p(&pr.twin)].into_iter().chain(hide_ops(&t))));
    same("a hidden path: the kernel's missing one (the same tree without it) and the libc twin under --hide", &kernel, &twin);
    let ours = run(&mut km(["--hide".to_string(), hidden.clone(), "--complete".into(), "--".into(), p(&pr.probe)].into_iter().chain(hide_ops(&t))));
    same("a hidden path: the kernel's missing one and the Go probe under --hide --complete", &kernel, &ours);
    let plain = run(&mut km(["--hide".to_string(), hidden, "--".into(), p(&pr.probe)].into_iter().chain(hide_ops(&t))));
    escaped("the Go probe under --hide without --complete", &kernel, &plain, "ls a: ok open/,secret/");
}

/// A directory the unprivileged user owns, with copies of the launcher, the library and the
/// probe it can run.
struct Unprivileged {
    _s: Scratch,
    work: PathBuf,
    km: PathBuf,
    probe: PathBuf,
}

fn unprivileged_fixture(tag: &str) -> Unprivileged {
    let d = user_dirs(tag, &[(&programs().probe, "probe")]);
    std::fs::write(d.work.join("f"), "data\n").unwrap();
    if is_root() {
        std::os::unix::fs::chown(d.work.join("f"), Some(NOBODY), Some(NOBODY)).unwrap();
    }
    Unprivileged { km: d.bin.join("kmview"), probe: d.bin.join("probe"), work: d.work, _s: d.scratch }
}

/// `argv` as the unprivileged user (when the tests run as root), in `dir`, guarded.
fn as_nobody(dir: &Path, argv: &[String]) -> Command {
    let mut all: Vec<String> = vec![];
    if is_root() {
        all = vec!["setpriv".into(), format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into(), "--".into()];
    }
    all.extend(argv.iter().cloned());
    let mut c = guarded(&all);
    c.current_dir(dir).env("HOME", dir).env_remove("KMVIEW_LIB");
    c
}

fn fakeroot_ops(d: &Path) -> Vec<String> {
    let f = |n: &str| p(d.join(n));
    [
        "ids",
        "owner",
        &f("f"),
        "chown",
        &f("f"),
        "123",
        "456",
        "owner",
        &f("f"),
        "chmod",
        &f("f"),
        "4755",
        "stat",
        &f("f"),
        "write",
        &f("g"),
        "new",
        "owner",
        &f("g"),
        "chown",
        &f("g"),
        "7",
        "8",
        "sh",
        &format!("stat -c '%u:%g %a' '{}'", f("g")),
        "owner",
        &f("g"),
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn go_under_fake_root_is_root_as_the_real_root_is() {
    let pr = programs();
    // The oracle: the real root (these tests run as root), on a file of its own.
    let s = Scratch::new("cgo-root-oracle");
    std::fs::write(s.join("f"), "data\n").unwrap();
    let root_is_real = is_root();
    let oracle = run(&mut guarded([p(&pr.probe)].into_iter().chain(fakeroot_ops(s.path()))));
    if root_is_real {
        assert!(stdout(&oracle).starts_with("ids: ok uid=0 euid=0 gid=0 egid=0\nowner f: ok 0:0\n"), "{}", shown(&oracle));
        assert!(stdout(&oracle).contains("stat f: ok size=5 mode=104755"), "{}", shown(&oracle));
    }
    // The subject: an unprivileged user under kmview -0 --complete.
    let u = unprivileged_fixture("cgo-fakeroot");
    let mut argv = vec![p(&u.km), "-0".into(), "--complete".into(), "--".into(), p(&u.probe)];
    argv.extend(fakeroot_ops(&u.work));
    let ours = run(&mut as_nobody(&u.work, &argv));
    if root_is_real {
        same("the Go probe as the real root and as an unprivileged user under kmview -0 --complete", &oracle, &ours);
    } else {
        assert!(stdout(&ours).starts_with("ids: ok uid=0 euid=0 gid=0 egid=0\nowner f: ok 0:0\n"), "{}", shown(&ours));
        assert!(stdout(&ours).contains("owner f: ok 123:456\n") && stdout(&ours).contains("stat f: ok size=5 mode=104755"), "{}", shown(&ours));
    }
    // On disk the file is still the user's.
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(u.work.join("f")).unwrap();
    if root_is_real {
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7000), (NOBODY, NOBODY, 0), "{}", shown(&ours));
    }
    // Without --complete, Go asks the kernel: the user's own identity.
    let plain_fix = unprivileged_fixture("cgo-fakeroot-plain");
    let mut argv = vec![p(&plain_fix.km), "-0".into(), "--".into(), p(&plain_fix.probe)];
    argv.extend(fakeroot_ops(&plain_fix.work));
    let plain = run(&mut as_nobody(&plain_fix.work, &argv));
    if root_is_real {
        escaped("the Go probe under -0 without --complete", &oracle, &plain, &format!("ids: ok uid={NOBODY}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 2–4. C programs with their own `syscall` instructions.

/// `complete_raw ARGS` natively and under `kmview --unreal --complete` (where `view_args` has the
/// `/unreal` paths), and under `kmview --unreal` without it (the escape).
fn raw_runs(native_args: &[String], view_args: &[String]) -> (Output, Output, Output) {
    let raw = p(&programs().raw);
    let oracle = run(&mut guarded([raw.clone()].into_iter().chain(native_args.iter().cloned())));
    let ours = run(&mut km(["--unreal".to_string(), "--complete".into(), "--".into(), raw.clone()].into_iter().chain(view_args.iter().cloned())));
    let plain = run(&mut km(["--unreal".to_string(), "--".into(), raw].into_iter().chain(view_args.iter().cloned())));
    (oracle, ours, plain)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A marker file for the raw readers: `(host path, /unreal path)`.
fn marker(s: &Scratch) -> (String, String) {
    std::fs::write(s.join("marker"), WANT).unwrap();
    (p(s.join("marker")), unreal(s.join("marker")))
}

#[test]
fn raw_syscall_instructions_go_through_the_view() {
    let s = Scratch::new("raw-tour");
    let t = tree(&s.join("t"));
    let (oracle, ours, plain) = raw_runs(&strings(&["tour", &p(&t)]), &strings(&["tour", &unreal(&t)]));
    let o = stdout(&oracle);
    assert!(
        o.contains("openat a.txt: ok alpha")
            && o.contains("getdents64: a.txt hello.sh link marker mv-src sub")
            && o.contains("alpha\nexecve hello.sh: exit 0"),
        "{}",
        shown(&oracle)
    );
    same("raw openat, newfstatat, readlinkat, getdents64, execve: natively and under --unreal --complete on /unreal/…", &oracle, &ours);
    escaped("raw system calls under --unreal without --complete", &oracle, &plain, "openat a.txt: ENOENT");
}

#[test]
fn a_programs_own_sigsys_handler_still_gets_its_signals() {
    let s = Scratch::new("raw-sigsys");
    let (host, view) = marker(&s);
    for mode in ["sigsys", "sigsys-raw"] {
        let (oracle, ours, plain) = raw_runs(&strings(&[mode, &host, WANT]), &strings(&[mode, &view, WANT]));
        assert!(stdout(&oracle).contains("kill: handled=2 signo=SIGSYS code=SI_USER\nraw read after: ok\n"), "{}", shown(&oracle));
        same(&format!("{mode}: the program's own SIGSYS handler, natively and under --complete"), &oracle, &ours);
        escaped(&format!("{mode} without --complete"), &oracle, &plain, "raw read before: ENOENT");
    }
}

#[test]
fn raw_calls_work_with_every_signal_blocked() {
    let s = Scratch::new("raw-blocked");
    let (host, view) = marker(&s);
    let (oracle, ours, plain) = raw_runs(&strings(&["blocked", &host, WANT]), &strings(&["blocked", &view, WANT]));
    assert!(!stdout(&oracle).contains("ENOENT") && stdout(&oracle).contains("SIGUSR1 blocked: yes"), "{}", shown(&oracle));
    same("raw calls with every signal blocked (sigprocmask, then a raw rt_sigprocmask)", &oracle, &ours);
    escaped("raw calls with every signal blocked, without --complete", &oracle, &plain, "raw read: ENOENT");
}

#[test]
fn raw_clone_threads_are_followed() {
    let s = Scratch::new("raw-threads");
    let (host, view) = marker(&s);
    for (mode, n, iter) in [("threads-seq", "4", "10"), ("threads", "8", "50")] {
        let (oracle, ours, plain) = raw_runs(&strings(&[mode, n, iter, &host, WANT]), &strings(&[mode, n, iter, &view, WANT]));
        let all: usize = n.parse::<usize>().unwrap() * iter.parse::<usize>().unwrap();
        assert_eq!(stdout(&oracle), format!("threads: {all} of {all} reads good\n"), "{}", shown(&oracle));
        same(&format!("{mode}: threads of a raw clone (CLONE_VM|CLONE_THREAD|…), each reading the view's file raw"), &oracle, &ours);
        escaped(&format!("{mode} without --complete"), &oracle, &plain, &format!("threads: 0 of {all}"));
    }
}

#[test]
fn a_storm_of_raw_forks_is_followed() {
    let s = Scratch::new("raw-forks");
    let (host, view) = marker(&s);
    let (oracle, ours, plain) = raw_runs(&strings(&["forks", "50", &host, WANT]), &strings(&["forks", "50", &view, WANT]));
    assert_eq!(stdout(&oracle), "forks: 50 of 50 good\n", "{}", shown(&oracle));
    same("50 children of raw fork and raw clone(SIGCHLD), each reading the view's file raw", &oracle, &ours);
    escaped("raw forks without --complete", &oracle, &plain, "forks: 0 of 50 good");
}

#[test]
fn a_chain_of_raw_execs_stays_in_the_view() {
    let s = Scratch::new("raw-chain");
    let (host, view) = marker(&s);
    // The program execs itself by its /unreal path: each exec goes through the view too.
    let self_host = p(&programs().raw);
    let self_view = unreal(&programs().raw);
    for mode in ["chain", "chain-noenv"] {
        let (oracle, ours, plain) = raw_runs(&strings(&[mode, "5", &self_host, &host, WANT]), &strings(&[mode, "5", &self_view, &view, WANT]));
        assert_eq!(stdout(&oracle), "level 5: ok\nlevel 4: ok\nlevel 3: ok\nlevel 2: ok\nlevel 1: ok\nlevel 0: ok\n", "{}", shown(&oracle));
        same(&format!("{mode}: a raw execve of itself by a view path, five times, each level reading raw"), &oracle, &ours);
        escaped(&format!("{mode} without --complete"), &oracle, &plain, "level 5: ENOENT");
    }
}

#[test]
fn a_raw_call_from_a_handler_on_a_small_alternate_stack() {
    let s = Scratch::new("raw-altstack");
    let (host, view) = marker(&s);
    let (oracle, ours, plain) = raw_runs(&strings(&["altstack", "16", &host, WANT]), &strings(&["altstack", "16", &view, WANT]));
    assert_eq!(stdout(&oracle), "on the alternate stack: ok\n", "{}", shown(&oracle));
    same("a raw read from a signal handler on a 16 KiB alternate stack", &oracle, &ours);
    escaped("the same without --complete", &oracle, &plain, "on the alternate stack: ENOENT");
}

/// The trace facet sees the Go program's own calls (each trapped call goes through the hooks'
/// dispatch, observation included), with the view's names and the host's.
#[test]
fn the_trace_sees_gos_own_calls() {
    let pr = programs();
    let s = Scratch::new("cgo-trace");
    let t = tree(&s.join("t"));
    let trace = s.join("trace.json");
    let inside = unreal(&t);
    let args = ["read", &format!("{inside}/a.txt"), "rename", &format!("{inside}/mv-src"), &format!("{inside}/mv-dst")];
    let o = run(&mut km(["--unreal".to_string(), "--complete".into(), "--trace".into(), p(&trace), "--".into(), p(&pr.probe)]
        .into_iter()
        .chain(args.iter().map(|a| a.to_string()))));
    assert!(o.status.success() && stdout(&o).contains("read a.txt: ok alpha"), "{}", shown(&o));
    let text = std::fs::read_to_string(&trace).unwrap();
    let read = format!("\"path\":\"{inside}/a.txt\",\"out\":\"{}/a.txt\"", p(&t));
    assert!(
        text.lines().any(|l| l.contains("\"call\":\"openat\"") && l.contains(&read) && l.contains("\"result\":")),
        "no openat of a.txt with both names in the trace:\n{text}"
    );
    assert!(text.lines().any(|l| l.contains("\"call\":\"renameat") && l.contains(&format!("{inside}/mv-src"))), "no rename in the trace:\n{text}");
}

/// libc's `vfork` in complete mode is still a `vfork`: the child shares its parent's memory
/// until it exits (what it writes, the parent sees), and it is armed (its raw call goes
/// through the view).
#[test]
fn vfork_keeps_shared_memory_and_its_child_is_armed() {
    const VF: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static long raw4(long n, long a, long b, long c, long d) {
    long r; register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
int main(int argc, char **argv) {
    volatile int shared = 0;
    volatile long opened = -100;
    pid_t pid = vfork();
    if (pid == 0) {
        shared = 42;
        opened = raw4(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY, 0);
        _exit(7);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("shared=%d child=%s exit=%d\n", shared, opened >= 0 ? "opened" : "failed", WEXITSTATUS(st));
    return 0;
}
"#;
    let s = Scratch::new("raw-vfork");
    let t = tree(&s.join("t"));
    let prog = compile_c(s.path(), "vfork_shared", VF, &[]);
    let oracle = run(Command::new(&prog).arg(t.join("a.txt")));
    assert_eq!(stdout(&oracle), "shared=42 child=opened exit=7\n", "{}", shown(&oracle));
    let ours = run(&mut km(["--unreal".to_string(), "--complete".into(), "--".into(), p(&prog), format!("{}/a.txt", unreal(&t))]));
    same("a vfork child's write and raw call, natively and under --complete", &oracle, &ours);
    let plain = run(&mut km(["--unreal".to_string(), "--".into(), p(&prog), format!("{}/a.txt", unreal(&t))]));
    escaped("the same without --complete", &oracle, &plain, "shared=42 child=failed exit=7");
}

/// The handler's own stack use for calls through one view (a bind): measured on a patterned
/// alternate stack, the kernel's signal frame taken off; the budget is 8 KiB.
#[test]
fn the_sigsys_handler_uses_under_8_kib_of_stack() {
    let s = Scratch::new("raw-stackuse");
    let t = s.join("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("a.txt"), "alpha\n").unwrap();
    std::os::unix::fs::symlink("a.txt", t.join("link")).unwrap();
    let prog = compile_c(s.path(), "complete_stack", include_str!("../c/complete_stack.c"), &[]);
    let o = run(&mut km([
        "--complete".to_string(),
        "-b".into(),
        format!("{}:/mnt/kmview-stack", p(&t)),
        "--".into(),
        p(&prog),
        "/mnt/kmview-stack".into(),
    ]));
    assert!(o.status.success(), "{}", shown(&o));
    let out = stdout(&o);
    let handler: usize = out.trim().rsplit("handler=").next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{}", shown(&o)));
    eprintln!("SIGSYS handler stack use through a bind: {handler} bytes ({})", out.trim());
    assert!(handler > 0, "the handler never ran on the alternate stack: {}", shown(&o));
    assert!(handler <= 8192, "the handler used {handler} bytes of stack (budget 8 KiB): {}", shown(&o));
}

// ---------------------------------------------------------------------------------------------
// 5. What complete mode refuses: io_uring (its calls would bypass the trap), clone3 (its
// callers fall back to clone, which is followed).

#[test]
fn io_uring_setup_is_enosys_in_a_complete_view() {
    let (oracle, ours, plain) = raw_runs(&strings(&["uring"]), &strings(&["uring"]));
    assert!(oracle.status.success(), "{}", shown(&oracle));
    assert!(ours.status.success(), "{}", shown(&ours));
    assert_eq!(stdout(&ours), "io_uring_setup: ENOSYS\n", "{}", both_sides("io_uring_setup under --complete", &oracle, &ours));
    // Where this kernel has io_uring, it is complete mode that takes it away.
    if stdout(&oracle) == "io_uring_setup: ok\n" {
        assert_eq!(stdout(&plain), "io_uring_setup: ok\n", "{}", both_sides("io_uring_setup without --complete", &oracle, &plain));
    } else {
        eprintln!("note: io_uring_setup natively: {}", stdout(&oracle).trim());
    }
}

#[test]
fn raw_clone3_is_enosys_and_the_fallback_clone_is_followed() {
    let s = Scratch::new("raw-clone3");
    let (host, view) = marker(&s);
    let (oracle, ours, plain) = raw_runs(&strings(&["clone3", &host, WANT]), &strings(&["clone3", &view, WANT]));
    assert_eq!(stdout(&oracle), "clone3: ok\nchild: ok\n", "{}", shown(&oracle));
    assert!(ours.status.success(), "{}", shown(&ours));
    assert_eq!(stdout(&ours), "clone3: ENOSYS\nclone: ok\nchild: ok\n", "{}", both_sides("clone3 under --complete", &oracle, &ours));
    assert_eq!(stdout(&plain), "clone3: ok\nchild: failed\n", "{}", both_sides("clone3 without --complete", &oracle, &plain));
}

// ---------------------------------------------------------------------------------------------
// 6. A static program cannot be followed: complete mode refuses it unless told otherwise.

#[test]
fn a_static_program_is_refused_unless_static_allow() {
    let pr = programs();
    let st = p(&pr.probe_static);
    let st = st.as_str();
    let host = "/etc/hostname";
    let native = run(&mut guarded([st, "read", host]));
    assert!(native.status.success() && stdout(&native).starts_with("read hostname: ok "), "{}", shown(&native));
    // Run by a program in the view: the exec fails (EACCES, 126 as the shell reports it), and
    // the refusal names --static.
    let o = run(&mut km(["--unreal", "--complete", "--", "sh", "-c", &format!("{st} read {host}; echo rc=$?")]));
    assert_eq!(stdout(&o), "rc=126\n", "{}", shown(&o));
    assert!(stderr(&o).contains("--static") && stderr(&o).contains(st), "the refusal should name the program and --static: {}", shown(&o));
    // Run as the command itself.
    let o = run(&mut km(["--unreal", "--complete", "--", st, "read", host]));
    assert!(!o.status.success() && !stdout(&o).contains("read hostname"), "{}", shown(&o));
    assert!(stderr(&o).contains("--static"), "{}", shown(&o));
    // --complete=auto refuses it too.
    let o = run(&mut km(["--unreal", "--complete=auto", "--", st, "read", host]));
    assert!(!o.status.success() && stderr(&o).contains("--static"), "{}", shown(&o));
    // --static=allow runs it (outside the view: the host's file, as natively).
    let o = run(&mut km(["--unreal", "--complete", "--static=allow", "--", st, "read", host]));
    same("a static Go program under --complete --static=allow", &native, &o);
    let o = run(&mut km(["--unreal", "--complete", "--static=allow", "--", "sh", "-c", &format!("{st} read {host}; echo rc=$?")]));
    assert_eq!(stdout(&o), format!("{}rc=0\n", stdout(&native)), "{}", shown(&o));
    // The dynamic build of the same program is not refused.
    let o = run(&mut km(["--unreal", "--complete", "--", &p(&pr.probe), "read", &format!("/unreal{host}")]));
    same("the dynamic probe under --complete", &native, &o);
}

// ---------------------------------------------------------------------------------------------
// 7. --complete=auto: the Go program is trapped, a libc program runs as in plain mode.

#[test]
fn complete_auto_follows_go_and_leaves_libc_programs_working() {
    let pr = programs();
    let s = Scratch::new("auto");
    let host = tree(&s.join("native/t"));
    let inside = tree(&s.join("view/t"));
    let oracle = run(&mut guarded([p(&pr.probe)].into_iter().chain(go_tour(&p(&host)))));
    tour_saw_the_tree(&oracle);
    let ours =
        run(&mut km(["--unreal".to_string(), "--complete=auto".into(), "--".into(), p(&pr.probe)].into_iter().chain(go_tour(&unreal(&inside)))));
    same("the Go probe's tour under --unreal --complete=auto", &oracle, &ours);
    let ops = |d: &Path| -> Vec<String> {
        ["read", &p(d.join("a.txt")), "stat", &p(d.join("sub")), "lstat", &p(d.join("link")), "readlink", &p(d.join("link")), "ls", &p(d), "ids"]
            .map(String::from)
            .to_vec()
    };
    let native_twin = run(&mut guarded([p(&pr.twin)].into_iter().chain(ops(&host))));
    let unreal_dir = PathBuf::from(unreal(&host));
    let twin = run(&mut km(["--unreal".to_string(), "--complete=auto".into(), "--".into(), p(&pr.twin)].into_iter().chain(ops(&unreal_dir))));
    same("the libc twin under --unreal --complete=auto", &native_twin, &twin);
    let o = run(&mut km(["--unreal", "--complete=auto", "--", "sh", "-c", &format!("cat {}/a.txt {}/sub/b.txt", unreal(&host), unreal(&host))]));
    assert_eq!(stdout(&o), "alpha\nbeta\n", "{}", shown(&o));
}
