//! The mount table's kinds that a kernel cannot express as mounts (hide, deny, a mountpoint
//! missing underneath), the launcher's option checks, and `--cwd`/`--tmp`. The expected outputs
//! are written here, each with the reason it is what a user must see.

use kmview_cdylib_tests::*;

fn tree() -> Scratch {
    let s = Scratch::new("mounts");
    for d in ["a/secret", "a/open", "src/sub"] {
        std::fs::create_dir_all(s.join(d)).unwrap();
    }
    std::fs::write(s.join("a/secret/key"), "k\n").unwrap();
    std::fs::write(s.join("a/open/f"), "f\n").unwrap();
    std::fs::write(s.join("src/sub/g"), "g\n").unwrap();
    s
}

#[test]
fn hide_makes_a_path_absent_everywhere() {
    let s = tree();
    let a = s.join("a").display().to_string();
    let o = ok(run(&mut kmview([
        "--hide",
        &format!("{a}/secret"),
        "--",
        "sh",
        "-c",
        &format!("exec 2>&1; cd {a} && ls; cat secret/key; ls secret; cd secret; stat -c %F secret/..; find . | sort; python3 -c 'import os; print(sorted(os.listdir(\".\")))'"),
    ])));
    // Like a path that was never there: not listed, ENOENT for it and below, even through `..`.
    assert_eq!(
        o,
        "open\n".to_string()
            + "cat: secret/key: No such file or directory\n"
            + "ls: cannot access 'secret': No such file or directory\n"
            + "sh: 1: cd: can't cd to secret\n"
            + "stat: cannot statx 'secret/..': No such file or directory\n"
            + ".\n./open\n./open/f\n"
            + "['open']\n"
    );
    assert!(s.join("a/secret/key").exists());
}

#[test]
fn deny_refuses_a_path_and_everything_below() {
    let s = tree();
    let a = s.join("a").display().to_string();
    let o = run(&mut kmview([
        "--deny",
        &format!("{a}/secret"),
        "--",
        "sh",
        "-c",
        &format!("cd {a} && ls; cat secret/key; ls secret; touch secret/new; cat open/f"),
    ]));
    // Listed (it is there), but every call on it or below is EACCES, root or not.
    assert_eq!(stdout(&o), "open\nsecret\nf\n");
    let err = stderr(&o);
    for want in
        ["cat: secret/key: Permission denied", "ls: cannot access 'secret': Permission denied", "touch: cannot touch 'secret/new': Permission denied"]
    {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    assert!(!s.join("a/secret/new").exists());
}

#[test]
fn ro_refuses_every_write_before_it_happens() {
    let s = tree();
    let a = s.join("a").display().to_string();
    let o = run(&mut kmview([
        "--ro",
        &a,
        "--",
        "sh",
        "-c",
        &format!("cd {a} && touch open/new; echo x > open/f; rm open/f; mkdir d; mv open o2; chmod 600 open/f; ln -s x l; cat open/f; mkdir open"),
    ]));
    assert_eq!(stdout(&o), "f\n");
    let err = stderr(&o);
    assert_eq!(err.matches("Read-only file system").count(), 7, "{err}");
    // The kernel's order: a name that exists is EEXIST before the mount is read-only.
    assert!(err.contains("mkdir: cannot create directory ‘open’: File exists"), "{err}");
    assert_eq!(std::fs::read_to_string(s.join("a/open/f")).unwrap(), "f\n");
    assert!(!s.join("a/open/new").exists() && !s.join("a/d").exists() && !s.join("a/l").exists());
}

#[test]
fn a_mountpoint_missing_underneath_still_appears() {
    // A kernel needs the mountpoint to exist; kmview does not, and shows it as a mount would.
    let s = tree();
    let src = s.join("src").display().to_string();
    let at = s.join("a/new").display().to_string();
    let o = ok(run(&mut kmview([
        "-b",
        &format!("{src}:{at}"),
        "--",
        "sh",
        "-c",
        &format!("ls {0}/a; stat -c %F {at}; cat {at}/sub/g; cd {at}/sub/.. && pwd -P; cd .. && pwd -P", s.path().display()),
    ])));
    let f = s.path().display();
    assert_eq!(o, format!("new\nopen\nsecret\ndirectory\ng\n{f}/a/new\n{f}/a\n"));
    assert!(!s.join("a/new").exists());
}

#[test]
fn bad_options_are_named_and_stop_before_the_command() {
    let s = tree();
    let marker = s.join("ran");
    let touch = format!("touch {}", marker.display());
    let src = s.join("src").display().to_string();
    for (args, named) in [
        (vec!["-b".to_string(), format!("{}/missing:/x", s.path().display())], "--bind"),
        (vec!["-b".to_string(), format!("{src}:relative/dst")], "--bind"),
        (vec!["-b".to_string(), "no-colon".to_string()], "--bind"),
        (vec!["--ro-bind".to_string(), format!("{src}:/x"), "-b".to_string(), format!("{src}:/x")], "--bind"),
        (vec!["--hide".to_string(), "/x".to_string(), "-b".to_string(), format!("{src}:/x")], "--bind"),
        (vec!["-r".to_string(), format!("{}/missing", s.path().display())], "--root"),
        (vec!["--tmp".to_string(), "rel".to_string()], "--tmp"),
        (vec!["-w".to_string(), format!("{}/missing", s.path().display())], "--cwd"),
    ] {
        let o = run(kmview(&args).args(["--", "sh", "-c", &touch]));
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(named), "{args:?} should name {named}: {}", stderr(&o));
        assert!(!marker.exists(), "{args:?}: the command ran");
    }
}

#[test]
fn an_escaped_colon_belongs_to_the_path() {
    let s = Scratch::new("colon");
    std::fs::create_dir_all(s.join("a:b")).unwrap();
    std::fs::write(s.join("a:b/f"), "colon\n").unwrap();
    let src = s.join("a:b").display().to_string().replace(':', "\\:");
    let o = ok(run(&mut kmview(["-b", &format!("{src}:/mnt/c\\:d"), "--", "cat", "/mnt/c:d/f"])));
    assert_eq!(o, "colon\n");
}

#[test]
fn cwd_starts_the_command_inside_the_view() {
    let s = tree();
    let src = s.join("src").display().to_string();
    let o = ok(run(&mut kmview(["-b", &format!("{src}:/mnt/s"), "-w", "/mnt/s/sub", "--", "sh", "-c", "pwd -P; cat g"])));
    assert_eq!(o, "/mnt/s/sub\ng\n");
}

#[test]
fn tmp_is_private_writable_and_gone_afterwards() {
    let o = ok(run(&mut kmview([
        "--tmp",
        "/scratch",
        "--",
        "sh",
        "-c",
        "ls -A /scratch | wc -l; echo hi > /scratch/f && cat /scratch/f; stat -c %a /scratch; kmview stack 2>/dev/null || true",
    ])));
    assert_eq!(o.lines().take(3).collect::<Vec<_>>(), ["0", "hi", "1777"]);
    // The private directory is gone once the command ends (and a signal still ends it so). It
    // is made in $TMPDIR: a directory of this test's own, so other tests' do not count.
    let own_tmp = Scratch::new("tmp-leftovers");
    let o =
        ok(run(kmview(["--tmp", "/scratch", "--", "sh", "-c", "readlink -f /proc/self/fd/1 >/dev/null; kill -0 $$; echo ok"])
            .env("TMPDIR", own_tmp.path())));
    assert_eq!(o, "ok\n");
    let leftovers: Vec<_> = std::fs::read_dir(own_tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    let o = run(&mut kmview(["--tmp", "/scratch", "--", "sh", "-c", "kill -TERM $$"]));
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&o.status), Some(libc::SIGTERM));
}

/// A bind asked onto a symlink is made on the link's target, as `mount --bind` follows it; the
/// link stays a link, and paths through it reach the mount (the kernel's run is the oracle).
#[test]
fn a_bind_onto_a_symlink_mounts_on_its_target_as_the_kernel_does() {
    let s = tree();
    std::fs::create_dir_all(s.join("host/target")).unwrap();
    std::fs::write(s.join("host/target/underneath"), "host\n").unwrap();
    std::os::unix::fs::symlink("target", s.join("host/link")).unwrap();
    let (src, host) = (s.join("src").display().to_string(), s.join("host").display().to_string());
    let script = "exec 2>&1; cd \"$1\"; ls target link link/; cat link/sub/g target/sub/g; stat -c '%n %F' link link/ target; readlink link; cat link/underneath";
    let kernel = run(std::process::Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount --bind {src} {host}/link && sh -c \"$0\" sh {host}"))
        .arg(script));
    let kernel = stdout(&kernel);
    assert!(kernel.contains("sub") && kernel.contains("g\ng\n"), "the kernel's run: {kernel}");
    let ours = run(&mut kmview(["-b", &format!("{src}:{host}/link"), "--", "sh", "-c", script, "sh", &host]));
    assert_eq!(stdout(&ours), kernel);
}

/// What the kernel refuses to mount is refused before the command runs: a file over a
/// directory, a directory over a file, `--tmp` on a file.
#[test]
fn mounts_the_kernel_refuses_are_refused_with_its_reason() {
    let s = tree();
    std::fs::write(s.join("file"), "f\n").unwrap();
    let (file, dir) = (s.join("file").display().to_string(), s.join("a").display().to_string());
    for args in
        [vec!["-b".to_string(), format!("{file}:{dir}")], vec!["-b".to_string(), format!("{dir}:{file}")], vec!["--tmp".to_string(), file.clone()]]
    {
        let mut all = args.clone();
        all.extend(["--".to_string(), "true".to_string()]);
        let o = run(&mut kmview(&all));
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        assert!(stderr(&o).contains("Not a directory") && stderr(&o).lines().count() == 1, "{args:?}: {}", stderr(&o));
    }
}

/// A relative AF_UNIX name of 100 bytes, bound from a directory under a bind: the kernel takes it
/// relative to the working directory; so must the view, though the whole host path would not fit
/// in `sun_path`.
#[test]
fn a_long_relative_socket_name_under_a_bind_stays_relative() {
    let s = tree();
    let c = r#"
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
    (void)argc;
    if (chdir(argv[1]) != 0) { perror("chdir"); return 2; }
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memset(a.sun_path, 's', 100);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = bind(fd, (struct sockaddr *)&a, sizeof a);
    printf("bind %s\n", r == 0 ? "ok" : "failed");
    if (r == 0) unlink(a.sun_path);
    return 0;
}
"#;
    let bin = compile_c(s.path(), "long_socket", c, &[]);
    std::fs::create_dir_all(s.join("src/deep/deeper")).unwrap();
    let native = ok(run(std::process::Command::new(&bin).arg(s.join("src/deep/deeper"))));
    assert_eq!(native, "bind ok\n");
    let ours = ok(run(kmview(["-b", &format!("{}:/mnt/kmview-long-socket", s.join("src").display()), "--"])
        .arg(&bin)
        .arg("/mnt/kmview-long-socket/deep/deeper")));
    assert_eq!(ours, native);
}

/// A view path that fits (under 4096 bytes) whose host path does not (the bind's source is
/// longer than its mountpoint): it works as under the kernel, which resolves the view path.
#[test]
fn a_view_path_that_fits_works_when_its_host_path_would_not() {
    use std::ffi::CString;
    let s = tree();
    // The source: a directory with a long name, then directories of 200 bytes down to a file,
    // the whole view path (under /mnt/kl) about 4000 bytes, the host path longer than 4096.
    let source = s.join(format!("source-{}", "s".repeat(200)));
    std::fs::create_dir_all(&source).unwrap();
    let comp = "d".repeat(200);
    let depth = 20;
    // SAFETY: plain *at calls on descriptors this test opens and closes.
    unsafe {
        let mut fd = libc::open(CString::new(source.to_str().unwrap()).unwrap().as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        assert!(fd >= 0);
        let c = CString::new(comp.as_str()).unwrap();
        for _ in 0..depth {
            assert_eq!(libc::mkdirat(fd, c.as_ptr(), 0o755), 0);
            let next = libc::openat(fd, c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            libc::close(fd);
            fd = next;
            assert!(fd >= 0);
        }
        let f = libc::openat(fd, c"file".as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o644);
        assert_eq!(libc::write(f, b"deep\n".as_ptr().cast(), 5), 5);
        libc::close(f);
        let f = libc::openat(fd, c"script".as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o755);
        assert_eq!(libc::write(f, b"#!/bin/sh\necho script\n".as_ptr().cast(), 22), 22);
        libc::close(f);
        libc::close(fd);
    }
    let rest: String = std::iter::repeat_n(comp.as_str(), depth).collect::<Vec<_>>().join("/");
    let inside = format!("/mnt/kl/{rest}");
    assert!(inside.len() + 5 < 4096 && source.display().to_string().len() + rest.len() + 6 > 4096);
    let script = format!(
        "cat {inside}/file; ls {inside}; stat -c %s {inside}/file; touch {inside}/new && ls {inside} | wc -l; \
         mv {inside}/new {inside}/moved && ln {inside}/moved {inside}/linked && ls {inside} | wc -l; rm {inside}/moved {inside}/linked; \
         cd {inside} && cat file; /bin/pwd | wc -c; python3 -c 'import os; print(len(os.getcwd()))'; \
         {inside}/script; cp /bin/echo {inside}/echo && {inside}/echo elf; rm {inside}/echo; \
         python3 -c 'import subprocess, sys; subprocess.run([sys.argv[1]])' {inside}/script"
    );
    let kernel = run(std::process::Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount -t tmpfs none /mnt && mkdir /mnt/kl && mount --bind {} /mnt/kl && sh -c \"$0\"", source.display()))
        .arg(&script));
    let expected = format!("deep\nfile\nscript\n5\n3\n4\ndeep\n{}\n{}\nscript\nelf\nscript\n", inside.len() + 1, inside.len());
    assert_eq!(stdout(&kernel), expected, "the kernel's run: {}", stderr(&kernel));
    let ours = run(&mut kmview(["-b", &format!("{}:/mnt/kl", source.display()), "--", "sh", "-c", &script]));
    assert_eq!(stdout(&ours), stdout(&kernel), "{}", stderr(&ours));
}

/// glibc's `ftw` and `nftw` walk a root in a view with names under the root as the caller wrote
/// it (the kernel's run with the same bind is the oracle), absolute or relative, the offset of
/// each last component included.
#[test]
fn ftw_and_nftw_report_the_views_names() {
    let s = tree();
    let c = r#"
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>
static int cb(const char *p, const struct stat *sb, int flag, struct FTW *f) { (void)sb; printf("nftw %s %d %s %d\n", p, flag, p + f->base, f->level); return 0; }
static int cb3(const char *p, const struct stat *sb, int flag) { (void)sb; printf("ftw %s %d\n", p, flag); return 0; }
int main(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        if (chdir(argv[1]) != 0) return 2;
        nftw(argv[i], cb, 8, FTW_PHYS);
        ftw(argv[i], cb3, 8);
    }
    return 0;
}
"#;
    let bin = compile_c(s.path(), "walker", c, &[]);
    let src = s.join("src").display().to_string();
    let args = ["/mnt/kmview-walk", "/mnt/kmview-walk/sub", "/mnt/kmview-walk/", "sub", "sub/", "."];
    let kernel = run(std::process::Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount -t tmpfs none /mnt && mkdir /mnt/kmview-walk && mount --bind {src} /mnt/kmview-walk && exec \"$@\""))
        .arg("sh")
        .arg(&bin)
        .arg("/mnt/kmview-walk")
        .args(args));
    let kernel = stdout(&kernel);
    assert!(kernel.contains("nftw /mnt/kmview-walk/sub/g 0 g 2"), "the kernel's run: {kernel}");
    let ours = run(kmview(["-b", &format!("{src}:/mnt/kmview-walk"), "--"]).arg(&bin).arg("/mnt/kmview-walk").args(args));
    assert_eq!(stdout(&ours), kernel, "{}", stderr(&ours));
}

/// glibc's `fts` walks a root in a view with `fts_path` under the root as the caller wrote it,
/// a root named by its own last component, and `fts_accpath` usable, with and without
/// `FTS_NOCHDIR`, one root at a time and nested roots at once (the kernel's run is the oracle).
#[test]
fn fts_reports_the_views_names() {
    let s = tree();
    let c = r#"
#include <fts.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
static void walk(char **roots) {
    for (int opt = 0; opt < 2; opt++) {
        FTS *f = fts_open(roots, opt ? FTS_PHYSICAL | FTS_NOCHDIR : FTS_PHYSICAL, NULL);
        FTSENT *e;
        while (f && (e = fts_read(f))) {
            struct stat st;
            printf("%d %s %d [%s] %d\n", opt, e->fts_path, e->fts_level, e->fts_name, stat(e->fts_accpath, &st) == 0);
        }
        if (f) fts_close(f);
    }
}
int main(int argc, char **argv) {
    if (chdir(argv[1]) != 0) return 2;
    for (int i = 2; i < argc; i++) {
        char *roots[] = {argv[i], NULL};
        walk(roots);
    }
    /* all at once: nested roots, each entry named under its own */
    walk(argv + 2);
    return 0;
}
"#;
    // Built both ways: with 64-bit offsets it calls fts64_open and friends.
    for (name, flags) in [("fts_walker", &[][..]), ("fts64_walker", &["-D_FILE_OFFSET_BITS=64"][..])] {
        let bin = compile_c(s.path(), name, c, flags);
        let src = s.join("src").display().to_string();
        let args = ["/mnt/kmview-fts", "/mnt/kmview-fts/", "/mnt/kmview-fts/sub", "sub", "sub/"];
        let kernel = run(std::process::Command::new("unshare")
            .args(["-rm", "--propagation", "private", "sh", "-c"])
            .arg(format!("mount -t tmpfs none /mnt && mkdir /mnt/kmview-fts && mount --bind {src} /mnt/kmview-fts && exec \"$@\""))
            .arg("sh")
            .arg(&bin)
            .arg("/mnt/kmview-fts")
            .args(args));
        let kernel = stdout(&kernel);
        assert!(
            kernel.contains("1 /mnt/kmview-fts/sub/g 2 [g] 1") && kernel.contains("0 /mnt/kmview-fts 0 [kmview-fts] 1"),
            "the kernel's run: {kernel}"
        );
        let ours = run(kmview(["-b", &format!("{src}:/mnt/kmview-fts"), "--"]).arg(&bin).arg("/mnt/kmview-fts").args(args));
        assert_eq!(stdout(&ours), kernel, "{name}: {}", stderr(&ours));
    }
}

/// A mountpoint whose parents do not exist: the directories above it are made up (as bwrap makes
/// them on its tmpfs, and proot's "glue"), listed, entered and written to as under the kernel
/// with the same directories made by hand, and gone from the host afterwards.
#[test]
fn the_missing_parents_of_a_mountpoint_are_made_up() {
    let s = tree();
    let src = s.join("src").display().to_string();
    let other = s.join("a").display().to_string();
    let glue = "/mnt/kmview-glue";
    assert!(!std::path::Path::new(glue).exists(), "{glue} exists on this machine");
    let script = format!(
        "exec 2>&1; ls {glue}; ls -a {glue}/b; cat {glue}/b/c/sub/g {glue}/d/open/f; stat -c '%n %F' {glue} {glue}/b {glue}/b/c; \
         cd {glue}/b/c/sub && pwd && ls ../..; ls {glue}/x; touch {glue}/new && ls {glue}"
    );
    let kernel = run(std::process::Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!(
        "mount -t tmpfs none /mnt && mkdir -p {glue}/b/c {glue}/d && mount --bind {src} {glue}/b/c && mount --bind {other} {glue}/d && sh -c \"$0\""
    ))
        .arg(&script));
    let kernel = stdout(&kernel);
    assert!(kernel.contains("/mnt/kmview-glue/b directory\n"), "the kernel's run: {kernel}");
    let ours = run(&mut kmview(["-b", &format!("{src}:{glue}/b/c"), "-b", &format!("{other}:{glue}/d"), "--", "sh", "-c", &script]));
    assert_eq!(stdout(&ours), kernel);
    assert!(!std::path::Path::new(glue).exists(), "the made-up {glue} was left on the host");
}
