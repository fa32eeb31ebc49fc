//! A hidden or denied path, and a mount, reached by another name: `/proc/self/fd/N/…`,
//! `/dev/fd/N/…`, `/proc/self/cwd/…`, `/proc/self/root/…`, `/proc/<pid>/…`, a descriptor inherited
//! from outside the view, and (under `--exact`) a symlink outside every mount that leads into a
//! mark or a mount.
//!
//! A kernel cannot express hide or deny, so their expectation is written here: a hidden path
//! behaves exactly as a missing one (`ENOENT`, absent from its parent's listing) by every name;
//! a denied one is `EACCES` by every name (and still listed). Mounts are compared with the kernel
//! (`unshare -rm` with real bind mounts, `chroot` for a root).

use kmview_cdylib_tests::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};

/// `a/secret/key` (to hide or deny), `a/open/f` (the control), `src/sub/g` (a bind source).
fn tree(tag: &str) -> Scratch {
    let s = Scratch::new(tag);
    for d in ["a/secret", "a/open", "src/sub"] {
        std::fs::create_dir_all(s.join(d)).unwrap();
    }
    std::fs::write(s.join("a/secret/key"), "k\n").unwrap();
    std::fs::write(s.join("a/open/f"), "f\n").unwrap();
    std::fs::write(s.join("src/sub/g"), "g\n").unwrap();
    s
}

fn p(path: impl AsRef<Path>) -> String {
    path.as_ref().display().to_string()
}

/// Tries the secret and the control through many names of the directory `A` (argv[1]), with a
/// descriptor on `A` opened here (argv[2] = "open") or inherited (argv[2] = its number), and
/// one on `A`'s parent opened here.
/// One line per (name, operation): `ok …` or the errno's name.
const PROBE: &str = r#"
import ctypes, errno, os, sys
A = sys.argv[1]
fd = os.open(A, os.O_RDONLY | os.O_DIRECTORY) if sys.argv[2] == 'open' else int(sys.argv[2])
up = os.open(os.path.dirname(A), os.O_RDONLY | os.O_DIRECTORY)
os.chdir(A)
pid = os.getpid()
libc = ctypes.CDLL(None, use_errno=True)
libc.realpath.restype = ctypes.c_char_p
def res(f):
    try:
        return 'ok ' + f()
    except OSError as e:
        return errno.errorcode[e.errno]
def read(p):
    with open(p) as h:
        return h.read().strip()
def stat(p):
    os.stat(p)
    return 'stat'
def lst(p):
    return ','.join(sorted(os.listdir(p)))
def realpath(p):
    buf = ctypes.create_string_buffer(4096)
    r = libc.realpath(p.encode(), buf)
    if not r:
        raise OSError(ctypes.get_errno(), 'realpath')
    return 'resolved'
names = [
    ('proc-self-fd', '/proc/self/fd/%d' % fd),
    ('dev-fd', '/dev/fd/%d' % fd),
    ('proc-pid-fd', '/proc/%d/fd/%d' % (pid, fd)),
    ('proc-thread-self-fd', '/proc/thread-self/fd/%d' % fd),
    ('proc-self-fd-dotdot', '/proc/self/fd/%d/open/..' % fd),
    ('proc-self-fd-grandparent', '/proc/self/fd/%d/%s' % (up, os.path.basename(A))),
    ('proc-self-cwd', '/proc/self/cwd'),
    ('proc-pid-cwd', '/proc/%d/cwd' % pid),
    ('proc-self-root', '/proc/self/root' + A),
    ('proc-pid-root', '/proc/%d/root' % pid + A),
]
for label, base in names:
    print(label, 'read', res(lambda: read(base + '/secret/key')))
    print(label, 'stat', res(lambda: stat(base + '/secret')))
    print(label, 'realpath', res(lambda: realpath(base + '/secret/key')))
    print(label, 'list', res(lambda: lst(base)))
    print(label, 'control', res(lambda: read(base + '/open/f')))
def at_read(name):
    g = os.open(name, os.O_RDONLY, dir_fd=fd)
    try:
        return os.read(g, 100).decode().strip()
    finally:
        os.close(g)
print('dirfd read', res(lambda: at_read('secret/key')))
print('dirfd stat', res(lambda: (os.stat('secret', dir_fd=fd), 'stat')[1]))
print('dirfd list', res(lambda: ','.join(sorted(os.listdir(fd)))))
print('dirfd control', res(lambda: at_read('open/f')))
"#;

const LABELS: &[&str] = &[
    "proc-self-fd",
    "dev-fd",
    "proc-pid-fd",
    "proc-thread-self-fd",
    "proc-self-fd-dotdot",
    "proc-self-fd-grandparent",
    "proc-self-cwd",
    "proc-pid-cwd",
    "proc-self-root",
    "proc-pid-root",
];

/// The probe's expected output: every name of the secret fails with `err`; the parent lists
/// `listing`; the control reads `f`.
fn expected(err: &str, listing: &str) -> String {
    let mut want = String::new();
    for l in LABELS {
        want += &format!("{l} read {err}\n{l} stat {err}\n{l} realpath {err}\n{l} list ok {listing}\n{l} control ok f\n");
    }
    want += &format!("dirfd read {err}\ndirfd stat {err}\ndirfd list ok {listing}\ndirfd control ok f\n");
    want
}

/// Compares line by line, naming every line that differs.
#[track_caller]
fn assert_lines(what: &str, o: &Output, want: &str) {
    let got = stdout(o);
    let mut diff = String::new();
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            diff += &format!("line {}: got `{g}`, want `{w}`\n", i + 1);
        }
    }
    if got.lines().count() != want.lines().count() {
        diff += &format!("{} lines, want {}\n", got.lines().count(), want.lines().count());
    }
    assert!(diff.is_empty(), "{what}:\n{diff}\nstdout:\n{got}\nstderr:\n{}", stderr(o));
}

#[test]
fn a_hidden_path_is_missing_by_every_proc_and_dev_fd_name() {
    let s = tree("hide-names");
    let a = p(s.join("a"));
    // The expectation is what the same probe sees natively where the path is really missing.
    let gone = tree("hide-names-native");
    std::fs::remove_dir_all(gone.join("a/secret")).unwrap();
    let native = run(Command::new("python3").args(["-c", PROBE, &p(gone.join("a")), "open"]));
    assert_lines("natively, with the path really missing", &native, &expected("ENOENT", "open"));
    let o = run(&mut kmview(["--hide", &format!("{a}/secret"), "--", "python3", "-c", PROBE, &a, "open"]));
    assert_lines("--hide, a descriptor opened in the view", &o, &expected("ENOENT", "open"));
    assert!(s.join("a/secret/key").exists());
}

#[test]
fn a_denied_path_is_refused_by_every_proc_and_dev_fd_name() {
    let s = tree("deny-names");
    let a = p(s.join("a"));
    let o = run(&mut kmview(["--deny", &format!("{a}/secret"), "--", "python3", "-c", PROBE, &a, "open"]));
    assert_lines("--deny, a descriptor opened in the view", &o, &expected("EACCES", "open,secret"));
}

/// `/proc/<digits>/` written as `/proc/PID/`, and the scratch directory as `$S`.
fn normalize(out: &str, s: &Path) -> String {
    let out = out.replace(&p(s), "$S");
    let mut norm = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("/proc/") {
        norm += &rest[..i + 6];
        rest = &rest[i + 6..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            norm += "PID";
            rest = &rest[digits..];
        }
    }
    norm + rest
}

#[test]
fn the_shell_cannot_reach_a_hidden_path_through_proc_names() {
    // `exec cat` keeps the shell's pid, so /proc/$$ is the reading process's own.
    let script = |a: &str| {
        format!(
            "exec 2>&1; cd {a} && exec 4<{a}; cat /proc/self/fd/4/secret/key; cat /dev/fd/4/secret/key; \
             cat /proc/self/cwd/secret/key; cat /proc/self/root{a}/secret/key; ls /proc/self/fd/4/; ls /dev/fd/4/; \
             ls /proc/self/cwd/; cat /proc/self/fd/4/open/f; exec cat /proc/$$/cwd/secret/key"
        )
    };
    let enoent = |p: &str| format!("cat: {p}: No such file or directory\n");
    let want = enoent("/proc/self/fd/4/secret/key")
        + &enoent("/dev/fd/4/secret/key")
        + &enoent("/proc/self/cwd/secret/key")
        + &enoent("/proc/self/root$S/a/secret/key")
        + "open\nopen\nopen\nf\n"
        + &enoent("/proc/PID/cwd/secret/key");
    // Natively, where the path is really missing: the expectation.
    let gone = tree("hide-shell-native");
    std::fs::remove_dir_all(gone.join("a/secret")).unwrap();
    let native = run(Command::new("sh").args(["-c", &script(&p(gone.join("a")))]));
    assert_eq!(normalize(&stdout(&native), gone.path()), want, "natively");
    let s = tree("hide-shell");
    let a = p(s.join("a"));
    let o = run(&mut kmview(["--hide", &format!("{a}/secret"), "--", "sh", "-c", &script(&a)]));
    assert_eq!(normalize(&stdout(&o), s.path()), want);
}

/// Runs `kmview ARGS -- COMMAND…` from a shell that opened `dir` on descriptor 3 first: a
/// descriptor the view never saw opened.
fn with_fd3_from_outside(dir: &str, args: &[String], command: &[&str]) -> Output {
    run(Command::new("sh")
        .arg("-c")
        .arg(format!("exec 3<'{dir}' && exec \"$@\""))
        .arg("sh")
        .arg(launcher())
        .args(args)
        .arg("--")
        .args(command)
        .stdin(std::process::Stdio::null()))
}

#[test]
fn a_descriptor_inherited_from_outside_the_view_does_not_reach_a_hidden_path() {
    let s = tree("hide-inherited");
    let a = p(s.join("a"));
    let args = vec!["--hide".to_string(), format!("{a}/secret")];
    let o = with_fd3_from_outside(
        &a,
        &args,
        &["sh", "-c", "exec 2>&1; cat /proc/self/fd/3/secret/key; cat /dev/fd/3/secret/key; ls /proc/self/fd/3/; cat /dev/fd/3/open/f"],
    );
    assert_eq!(
        stdout(&o),
        "cat: /proc/self/fd/3/secret/key: No such file or directory\ncat: /dev/fd/3/secret/key: No such file or directory\nopen\nf\n"
    );
    let o = with_fd3_from_outside(&a, &args, &["python3", "-c", PROBE, &a, "3"]);
    assert_lines("--hide, descriptor 3 inherited from outside", &o, &expected("ENOENT", "open"));
}

#[test]
fn a_descriptor_inherited_from_outside_the_view_does_not_reach_a_denied_path() {
    let s = tree("deny-inherited");
    let a = p(s.join("a"));
    let args = vec!["--deny".to_string(), format!("{a}/secret")];
    let o =
        with_fd3_from_outside(&a, &args, &["sh", "-c", "exec 2>&1; cat /proc/self/fd/3/secret/key; cat /dev/fd/3/secret/key; cat /dev/fd/3/open/f"]);
    assert_eq!(stdout(&o), "cat: /proc/self/fd/3/secret/key: Permission denied\ncat: /dev/fd/3/secret/key: Permission denied\nf\n");
    let o = with_fd3_from_outside(&a, &args, &["python3", "-c", PROBE, &a, "3"]);
    assert_lines("--deny, descriptor 3 inherited from outside", &o, &expected("EACCES", "open,secret"));
}

/// Runs `script` (read-only) under the kernel with `mounts` (shell commands) made in a user
/// namespace, and under kmview with `args`; returns both outputs, stderr folded in.
fn kernel_and_kmview(mounts: &str, args: &[String], script: &str) -> (String, String) {
    let kernel = run(Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("{mounts} exec sh -c '{}'", script.replace('\'', "'\\''"))));
    assert!(stdout(&kernel).len() > 0, "the kernel run printed nothing: {}", stderr(&kernel));
    let ours = run(kmview(args).args(["--", "sh", "-c", script]));
    (stdout(&kernel), stdout(&ours))
}

#[track_caller]
fn assert_same(what: &str, kernel: &str, ours: &str) {
    if kernel != ours {
        let mut diff = String::new();
        for (i, (k, o)) in kernel.lines().zip(ours.lines()).enumerate() {
            if k != o {
                diff += &format!("line {}:\n  kernel: {k}\n  kmview: {o}\n", i + 1);
            }
        }
        panic!(
            "{what}: kmview differs from the kernel ({} vs {} lines):\n{diff}\nkernel:\n{kernel}\nkmview:\n{ours}",
            kernel.lines().count(),
            ours.lines().count()
        );
    }
}

#[test]
fn a_descriptor_on_a_mountpoint_names_the_mount_and_its_virtual_parent() {
    // host/mnt holds a file of its own (shadowed by the bind); host/sib is the mount's sibling.
    let s = tree("bind-names");
    for d in ["host/mnt", "host/sib"] {
        std::fs::create_dir_all(s.join(d)).unwrap();
    }
    std::fs::write(s.join("host/mnt/shadowed"), "under the mount\n").unwrap();
    let (src, host, mnt) = (p(s.join("src")), p(s.join("host")), p(s.join("host/mnt")));
    let script = format!(
        "exec 2>&1; exec 4<{mnt}; \
         echo == fd; ls /proc/self/fd/4/; ls /dev/fd/4/sub; readlink /proc/self/fd/4; \
         echo == fd-dotdot; ls /proc/self/fd/4/..; ls /dev/fd/4/sub/..; ls /dev/fd/4/sub/../..; \
         stat -c %i /proc/self/fd/4/.. /proc/self/fd/4/sub/../..; readlink -f /proc/self/fd/4/..; \
         echo == cwd; cd {mnt} && ls /proc/self/cwd/..; cd sub && ls /proc/self/cwd/../..; stat -c %i /proc/self/cwd/../..; \
         echo == python; python3 -c 'import os; d = os.open(\"{mnt}\", os.O_RDONLY); print(sorted(os.listdir(\"/proc/self/fd/%d/..\" % d)), os.stat(\"/proc/self/fd/%d/..\" % d).st_ino, sorted(os.listdir(\"/proc/%d/fd/%d\" % (os.getpid(), d))))'"
    );
    let (kernel, ours) = kernel_and_kmview(&format!("mount --bind {src} {mnt} &&"), &["-b".into(), format!("{src}:{mnt}")], &script);
    // The kernel's own answer names the view's tree: the host's directory, not the source's parent.
    let host_ino = std::fs::metadata(&host).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap();
    assert!(kernel.contains(&format!("{host_ino}\n")) && kernel.contains("mnt\nsib\n"), "{kernel}");
    assert_same("a descriptor on a mountpoint", &kernel, &ours);
}

#[test]
fn a_root_is_what_proc_self_root_and_descriptors_on_it_show() {
    let s = Scratch::new("root-names");
    let r = s.join("R");
    for d in ["usr", "lib", "lib64", "bin", "proc", "etc/deep"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("ROOT_MARKER"), "marker\n").unwrap();
    let r = p(r);
    let script = "exec 2>&1; \
        echo == root; ls /proc/self/root/; cat /proc/self/root/ROOT_MARKER; readlink /proc/self/root; ls /proc/self/root/etc/deep/../..; \
        echo == fd-on-root; exec 5</; ls /proc/self/fd/5/; ls /proc/self/fd/5/etc/..; cat /proc/self/fd/5/ROOT_MARKER; \
        echo == fd-dotdot; exec 6</usr; ls /proc/self/fd/6/..; ls /proc/self/fd/6/../..; exec 7</etc/deep; ls /proc/self/fd/7/../..; \
        echo == cwd; cd /usr && ls /proc/self/cwd/..; cd /etc/deep && ls /proc/self/cwd/../..; cat /proc/self/cwd/../../ROOT_MARKER; \
        echo == pid; exec ls /proc/$$/root/";
    let mut mounts = String::new();
    let mut args = vec!["-r".to_string(), r.clone()];
    for d in ["usr", "lib", "lib64", "bin", "proc"] {
        mounts += &format!("mount --bind /{d} {r}/{d} && ");
        args.extend(["-b".to_string(), format!("/{d}:/{d}")]);
    }
    let kernel = run(Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("{mounts} exec chroot {r} /bin/sh -c '{script}'")));
    let ours = run(kmview(&args).args(["-w", "/", "--", "/bin/sh", "-c", script]));
    let kernel = stdout(&kernel);
    assert!(kernel.contains("ROOT_MARKER\nbin\netc\nlib\nlib64\nproc\nusr\n") && kernel.contains("marker\n"), "the kernel run: {kernel}");
    assert_same("-r: /proc/self/root, descriptors on / and /usr, cwd", &kernel, &stdout(&ours));
}

// ---- Symlinks outside every mount that lead into a mark or a mount ----

#[test]
fn exact_a_link_outside_every_mount_into_a_hidden_path_is_missing() {
    let s = tree("exact-hide");
    let a = p(s.join("a"));
    symlink(format!("{a}/secret"), s.join("lnk")).unwrap();
    symlink("a/secret/key", s.join("rel")).unwrap();
    symlink(format!("{a}/open"), s.join("ctl")).unwrap();
    let script = "exec 2>&1; cat lnk/key; ls lnk/; cat rel; stat -L -c %F lnk; readlink lnk >/dev/null && echo link-itself-ok; cat ctl/f";
    let want = "cat: lnk/key: No such file or directory\n\
         ls: cannot access 'lnk/': No such file or directory\n\
         cat: rel: No such file or directory\n\
         stat: cannot statx 'lnk': No such file or directory\n\
         link-itself-ok\nf\n";
    // Natively, with the secret really missing (the same links, now dangling).
    std::fs::rename(s.join("a/secret"), s.join("moved")).unwrap();
    let native = run(Command::new("sh").args(["-c", script]).current_dir(s.path()));
    assert_eq!(stdout(&native), want, "natively");
    std::fs::rename(s.join("moved"), s.join("a/secret")).unwrap();
    let o = run(&mut kmview(["--exact", "--hide", &format!("{a}/secret"), "-w", &p(s.path()), "--", "sh", "-c", script]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), want);
}

#[test]
fn exact_a_link_outside_every_mount_into_a_denied_path_is_refused() {
    let s = tree("exact-deny");
    let a = p(s.join("a"));
    symlink(format!("{a}/secret"), s.join("lnk")).unwrap();
    symlink("a/secret/key", s.join("rel")).unwrap();
    let o = run(&mut kmview([
        "--exact",
        "--deny",
        &format!("{a}/secret"),
        "-w",
        &p(s.path()),
        "--",
        "sh",
        "-c",
        "exec 2>&1; cat lnk/key; cat rel; ls lnk/; echo done",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "cat: lnk/key: Permission denied\ncat: rel: Permission denied\nls: cannot access 'lnk/': Permission denied\ndone\n");
}

/// A mount at `host/mnt` over a directory that has files of its own, and links outside every
/// mount pointing at it: absolute, relative, to the directory and to a file that also exists
/// on the host underneath.
fn links_into_a_mount(tag: &str) -> (Scratch, String, String) {
    let s = tree(tag);
    std::fs::create_dir_all(s.join("host/mnt/sub")).unwrap();
    std::fs::write(s.join("host/mnt/f"), "host f\n").unwrap();
    std::fs::write(s.join("host/mnt/sub/g"), "host g\n").unwrap();
    std::fs::write(s.join("src/f"), "src f\n").unwrap();
    std::fs::write(s.join("src/only"), "src only\n").unwrap();
    let mnt = p(s.join("host/mnt"));
    symlink(format!("{mnt}/f"), s.join("host/abs_f")).unwrap();
    symlink("mnt/f", s.join("host/rel_f")).unwrap();
    symlink(&mnt, s.join("host/dir")).unwrap();
    symlink("mnt/sub", s.join("host/rel_sub")).unwrap();
    symlink(format!("{mnt}/only"), s.join("host/abs_only")).unwrap();
    symlink("../../host/mnt/sub/g", s.join("a/open/up_g")).unwrap();
    let src = p(s.join("src"));
    (s, src, mnt)
}

const LINKS_SCRIPT: &str = "exec 2>&1; cat abs_f rel_f dir/f rel_sub/g abs_only ../a/open/up_g; ls dir/ rel_sub; \
    readlink -f abs_f dir rel_sub/g; stat -L -c '%n %s' abs_f rel_f rel_sub/g; (cd -P dir && pwd && ls)";

#[test]
fn exact_a_link_outside_every_mount_into_a_mount_finds_the_mount() {
    let (s, src, mnt) = links_into_a_mount("exact-bind");
    let host = p(s.join("host"));
    let kernel = run(Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount --bind {src} {mnt} && cd {host} && sh -c \"$0\""))
        .arg(LINKS_SCRIPT));
    let kernel = stdout(&kernel);
    assert!(kernel.starts_with("src f\nsrc f\nsrc f\ng\nsrc only\ng\n"), "the kernel run: {kernel}");
    let ours = run(&mut kmview(["--exact", "-b", &format!("{src}:{mnt}"), "-w", &host, "--", "sh", "-c", LINKS_SCRIPT]));
    assert_same("--exact: links outside every mount into it", &kernel, &stdout(&ours));
}

#[test]
fn default_mode_a_link_into_a_mount_at_a_name_missing_on_the_host_finds_the_mount() {
    // What the fast mode does promise (the ENOENT retry): where the host has nothing at the
    // link's target, the mount's file is found, as the kernel finds it.
    let s = tree("default-bind");
    std::fs::create_dir_all(s.join("host/mnt")).unwrap();
    std::fs::write(s.join("src/only"), "src only\n").unwrap();
    let (src, mnt, host) = (p(s.join("src")), p(s.join("host/mnt")), p(s.join("host")));
    symlink(format!("{mnt}/only"), s.join("host/abs_only")).unwrap();
    symlink("mnt/only", s.join("host/rel_only")).unwrap();
    symlink(format!("{mnt}/sub/g"), s.join("host/abs_g")).unwrap();
    symlink("mnt/sub", s.join("host/rel_sub")).unwrap();
    // And programs run through such links (the exec hook's own look).
    std::fs::write(s.join("src/run.sh"), "#!/bin/sh\necho ran \"$0\"\n").unwrap();
    std::fs::set_permissions(s.join("src/run.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    symlink(format!("{mnt}/run.sh"), s.join("host/abs_run")).unwrap();
    symlink("mnt/run.sh", s.join("host/rel_run")).unwrap();
    let script = "exec 2>&1; cat abs_only rel_only abs_g rel_sub/g; ls rel_sub; stat -L -c '%n %s %F' abs_only rel_sub abs_g; readlink -f abs_only rel_sub/g; ./abs_run; ./rel_run; PATH=.:$PATH abs_run";
    let kernel = run(Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount --bind {src} {mnt} && cd {host} && sh -c \"$0\""))
        .arg(script));
    let kernel = stdout(&kernel);
    assert!(kernel.starts_with("src only\nsrc only\ng\ng\ng\n"), "the kernel run: {kernel}");
    let ours = run(&mut kmview(["-b", &format!("{src}:{mnt}"), "-w", &host, "--", "sh", "-c", script]));
    assert_same("default mode: links into a mount where the host has nothing", &kernel, &stdout(&ours));
}

/// `syscall(SYS_getdents64, …)` (no libc stream in between) lists as the view does: a hidden
/// name is absent, a mountpoint missing on the host is there — the listing a directory with the
/// hidden name removed and the mountpoint made would give.
#[test]
fn raw_getdents64_through_syscall_lists_as_the_view_does() {
    const LS: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(int argc, char **argv) {
    int fd = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (fd < 0) { perror("open"); return 1; }
    /* a small buffer: the listing takes several calls */
    char buf[56] __attribute__((aligned(8)));
    char *names[256]; int n = 0; long r;
    while ((r = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long i = 0; i < r;) {
            unsigned short len = *(unsigned short *)(buf + i + 16);
            char *name = buf + i + 19;
            if (strcmp(name, ".") && strcmp(name, "..") && n < 256) names[n++] = strdup(name);
            i += len;
        }
    if (r < 0) { perror("getdents64"); return 1; }
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) printf("%s\n", names[i]);
    return 0;
}
"#;
    let s = tree("raw-getdents");
    for i in 0..12 {
        std::fs::write(s.join(format!("a/file-with-a-longer-name-{i:02}")), "x").unwrap();
    }
    let ls = compile_c(s.path(), "ls_raw", LS, &[]);
    let a = p(s.join("a"));
    let ours = run(kmview(["--hide", &format!("{a}/secret"), "-b", &format!("{}:{a}/mnt", p(s.join("src"))), "--"]).arg(&ls).arg(&a));
    assert!(ours.status.success(), "{}", stderr(&ours));
    // The oracle: the same directory with the hidden name gone and the mountpoint made.
    std::fs::remove_dir_all(s.join("a/secret")).unwrap();
    std::fs::create_dir(s.join("a/mnt")).unwrap();
    let native = run(Command::new(&ls).arg(&a));
    assert!(native.status.success(), "{}", stderr(&native));
    assert_eq!(stdout(&ours), stdout(&native), "syscall(SYS_getdents64) under --hide and a bind, and the directory as it would be");
    assert!(stdout(&native).contains("mnt\n") && !stdout(&native).contains("secret"));
}
