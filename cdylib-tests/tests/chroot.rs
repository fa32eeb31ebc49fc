//! `chroot(2)` inside a view (emulated: a new innermost view rooted at the directory), and
//! `kmview chroot` / `kmview-chroot` (`chroot DIR CMD`'s command line). The oracle is the
//! kernel's own `chroot`, run as root natively; the view's runs are an unprivileged user's, for
//! whom the kernel's `chroot` would be `EPERM`: only the emulation can make them pass.

use kmview_cdylib_tests::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `cmd` as the unprivileged user.
fn unprivileged(cmd: &[&str]) -> Command {
    assert!(is_root(), "these tests compare the kernel's chroot (as root) with the view's (as another user)");
    let mut c = Command::new("setpriv");
    c.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "--"]).args(cmd);
    c.env_remove("KMVIEW_LIB").current_dir("/");
    c
}

/// The launcher, its front end and the library, where the unprivileged user may run them.
fn binaries(s: &Scratch) -> PathBuf {
    let bin = s.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["kmview", "libkmview.so", "kmview-chroot", "kmview-fakechroot", "kmview-fakeroot"] {
        let from = if name == "libkmview.so" { library().to_path_buf() } else { launcher().with_file_name(name) };
        std::fs::copy(&from, bin.join(name)).unwrap();
    }
    bin
}

/// Does in-process what a chroot'ed program sees, one line each: the root's listing, a file by
/// its absolute name, through an absolute symlink, `..` at the root, relative paths, a chroot
/// inside the chroot (relative, then `..` at its root), and the errors for what is not a
/// directory.
const PROBE: &str = r#"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void ls(const char *p) {
    char *names[64]; int n = 0;
    DIR *d = opendir(p);
    if (!d) { printf("ls %s: %s\n", p, strerror(errno)); return; }
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("ls %s:", p);
    for (int i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n");
}
static void cat(const char *p) {
    char buf[256] = {0};
    int fd = open(p, O_RDONLY);
    if (fd < 0) { printf("cat %s: %s\n", p, strerror(errno)); return; }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
    printf("cat %s: %s\n", p, buf);
}
static void same(const char *a, const char *b) {
    struct stat x, y;
    int r = stat(a, &x) == 0 && stat(b, &y) == 0;
    printf("same %s %s: %d\n", a, b, r && x.st_dev == y.st_dev && x.st_ino == y.st_ino);
}
static void cwd(void) {
    char buf[PATH_MAX];
    printf("cwd: %s\n", getcwd(buf, sizeof buf) ? buf : strerror(errno));
}
static void try_chroot(const char *p) { printf("chroot %s: %s\n", p, chroot(p) == 0 ? "ok" : strerror(errno)); }
int main(int argc, char **argv) {
    try_chroot("/nonexistent-kmview");
    try_chroot(argv[2]);
    try_chroot(argv[1]);
    cwd();
    if (chdir("/") != 0) perror("chdir /");
    cwd();
    ls("/");
    cat("/etc/f");
    cat("/sub/abs");
    cat("/sub/rel");
    same("/..", "/");
    same("/sub/../..", "/");
    char buf[PATH_MAX];
    printf("realpath /sub/abs: %s\n", realpath("/sub/abs", buf) ? buf : strerror(errno));
    /* The root's own users and groups (glibc reads them with internal calls). */
    struct passwd *pw = getpwnam("kmtest");
    printf("getpwnam kmtest: %s\n", pw ? pw->pw_dir : "none");
    pw = getpwuid(4242);
    printf("getpwuid 4242: %s\n", pw ? pw->pw_name : "none");
    struct group *gr = getgrnam("kmgroup");
    printf("getgrnam kmgroup: %d %s %s\n", gr ? (int)gr->gr_gid : -1, gr && gr->gr_mem[0] ? gr->gr_mem[0] : "-", gr && gr->gr_mem[0] && gr->gr_mem[1] ? gr->gr_mem[1] : "-");
    gr = getgrgid(4343);
    printf("getgrgid 4343: %s\n", gr ? gr->gr_name : "none");
    printf("getpwnam nosuchuser: %s\n", getpwnam("nosuchuser") ? "found" : "none");
    printf("users:");
    setpwent();
    while ((pw = getpwent())) printf(" %s", pw->pw_name);
    endpwent();
    printf("\n");
    if (chdir("/sub") != 0) perror("chdir /sub");
    cwd();
    cat("../etc/f");
    cat("../../../etc/f");
    /* A chroot inside the chroot, by a relative name. */
    try_chroot("inner");
    cwd();
    if (chdir("/") != 0) perror("chdir / again");
    cwd();
    ls("/");
    cat("/g");
    cat("/abs");
    same("/..", "/");
    ls("/..");
    return 0;
}
"#;

/// A small tree to chroot into: `r/etc/f`, `r/sub/abs` → `/etc/f`, `r/sub/rel` → `../etc/f`,
/// `r/sub/inner/g`, `r/sub/inner/abs` → `/g` (from the inner root), and a file `r/file`.
fn tree(s: &Scratch) -> PathBuf {
    let r = s.join("r");
    for d in ["etc", "sub/inner"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("etc/f"), "in the root\n").unwrap();
    std::fs::write(r.join("sub/inner/g"), "in the inner root\n").unwrap();
    std::fs::write(r.join("file"), "a file\n").unwrap();
    // Users and groups the host does not have.
    std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nkmtest:x:4242:4343:KM Test:/home/km:/bin/false\n").unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\nkmgroup:x:4343:kmtest,other\n").unwrap();
    symlink("/etc/f", r.join("sub/abs")).unwrap();
    symlink("../etc/f", r.join("sub/rel")).unwrap();
    symlink("/g", r.join("sub/inner/abs")).unwrap();
    for p in [s.path().to_path_buf(), r.clone()] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    r
}

#[test]
fn a_chroot_in_a_view_is_what_the_kernels_chroot_is() {
    let s = Scratch::new("chroot");
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = tree(&s);
    let probe = compile_c(s.path(), "probe", PROBE, &[]);
    let (root, file) = (r.to_str().unwrap(), r.join("file"));
    let args = [probe.to_str().unwrap(), root, file.to_str().unwrap()];
    // The kernel, as root.
    let native = ok(run(Command::new(args[0]).args(&args[1..]).current_dir("/")));
    assert!(native.contains("cat /etc/f: in the root"), "{native}");
    assert!(native.contains("getgrnam kmgroup: 4343 kmtest other"), "{native}");
    // The same program as another user: the kernel refuses it...
    let refused = ok(run(&mut unprivileged(&args)));
    assert!(refused.contains(&format!("chroot {root}: Operation not permitted")), "{refused}");
    // ...and in a view it is emulated.
    let bin = binaries(&s);
    let km = bin.join("kmview");
    let mut cmd = vec![km.to_str().unwrap(), "--"];
    cmd.extend(args);
    let ours = ok(run(&mut unprivileged(&cmd)));
    assert_eq!(ours, native, "kernel:\n{native}\nview:\n{ours}");
}

#[test]
fn chroot_dir_command_runs_the_roots_programs_as_the_kernels_chroot_does() {
    let s = Scratch::new("chroot-cmd");
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = debian_root();
    let root_s = root.to_str().unwrap();
    let script = "cat /etc/debian_version; ls / | head -3; cd ..; pwd; readlink -f /proc/self/exe >/dev/null; echo $0";
    let native = ok(run(Command::new("chroot").args([root_s, "/bin/sh", "-c", script])));
    let bin = binaries(&s);
    let km = bin.join("kmview");
    let front = bin.join("kmview-chroot");
    let km = km.to_str().unwrap();
    // chroot(2) in a view, by the host's /usr/sbin/chroot; `kmview chroot`; `kmview-chroot`.
    for cmd in [
        vec![km, "--", "chroot", root_s, "/bin/sh", "-c", script],
        vec![km, "chroot", root_s, "/bin/sh", "-c", script],
        vec![front.to_str().unwrap(), root_s, "/bin/sh", "-c", script],
    ] {
        let ours = run(&mut unprivileged(&cmd));
        assert_eq!((stdout(&ours), stderr(&ours)), (native.clone(), String::new()), "{cmd:?}");
    }
    // No command: the shell, interactive (here reading its commands from stdin).
    let o = run(unprivileged(&[km, "chroot", root_s]).env("SHELL", "/bin/sh").stdin(std::process::Stdio::piped()));
    assert!(o.status.success(), "{}", stderr(&o));
    // A bad command line is one line and 125.
    let o = run(&mut unprivileged(&[km, "chroot"]));
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let _ = Path::new(root_s);
}

/// The flow fakechroot exists for: `fakechroot fakeroot debootstrap --variant=fakechroot`,
/// here `kmview-fakechroot kmview-fakeroot debootstrap ...`, as an unprivileged user, from the
/// Debian mirror (the packages the test root's own debootstrap fetched are reused); then the
/// root it made, entered with the kernel's chroot as root and with `kmview chroot` as the user.
#[test]
fn debootstrap_fakechroot_variant_builds_a_root_as_a_user() {
    let root = debian_root();
    if !root.ends_with("bookworm") {
        // debian_root() fell back to a copy of this machine: no Debian mirror answers here, and
        // debootstrap has nothing to fetch its packages from. Said, not hidden.
        eprintln!("SKIPPED: no Debian mirror reachable, debootstrap --variant=fakechroot cannot run here");
        return;
    }
    let s = Scratch::new("fakechroot");
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = binaries(&s);
    let (target, cache) = (s.join("target"), s.join("cache"));
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&target).unwrap();
    for deb in std::fs::read_dir(root.join("var/cache/apt/archives")).unwrap().flatten() {
        if deb.path().extension().is_some_and(|e| e == "deb") {
            std::fs::copy(deb.path(), cache.join(deb.file_name())).unwrap();
        }
    }
    ok(run(Command::new("chown").args(["-R", &format!("{NOBODY}:{NOBODY}")]).arg(&target).arg(&cache)));
    let (t, c) = (target.to_str().unwrap(), format!("--cache-dir={}", cache.display()));
    let o = run(unprivileged(&[
        bin.join("kmview-fakechroot").to_str().unwrap(),
        bin.join("kmview-fakeroot").to_str().unwrap(),
        "timeout",
        "1200",
        "debootstrap",
        "--variant=fakechroot",
        &c,
        "bookworm",
        t,
        "http://deb.debian.org/debian",
    ])
    .env("HOME", s.path()));
    let log = std::fs::read_to_string(target.join("debootstrap/debootstrap.log")).unwrap_or_default();
    assert!(o.status.success() && stdout(&o).contains("Base system installed successfully"), "{}{}\n{log}", stdout(&o), stderr(&o));
    // The root it made, as the kernel's chroot sees it and as a view's.
    let script = "cat /etc/debian_version; dpkg-query -W -f='${Status}\\n' | sort | uniq -c; getent group crontab | cut -d: -f1; ls /usr/bin | wc -l";
    let native = ok(run(Command::new("chroot").args([t, "/bin/sh", "-c", script])));
    assert!(native.contains("install ok installed") && native.contains("crontab"), "{native}");
    let ours = run(&mut unprivileged(&[bin.join("kmview").to_str().unwrap(), "chroot", t, "/bin/sh", "-c", script]));
    assert_eq!((stdout(&ours), stderr(&ours)), (native, String::new()));
}

/// The way out the kernel leaves root: chroot into a subdirectory without entering it, walk `..`
/// up from the working directory (outside the new root), `chroot(".")` there.
const ESCAPE: &str = r#"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static int has(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) found |= strcmp(e->d_name, name) == 0;
    if (d) closedir(d);
    return found;
}
int main(int argc, char **argv) {
    char buf[PATH_MAX];
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    printf("chroot: %d\n", chroot(argv[1]));
    /* A descriptor opened before the chroot, on a directory outside the new root. */
    printf("openat(outside fd, etc/f): %d\n", openat(dir, "etc/f", O_RDONLY) >= 0);
    printf("getcwd: %s\n", getcwd(buf, sizeof buf) ? buf : strerror(errno));
    printf("/etc/f from the root: %d\n", access("/etc/f", 0));
    int ups = 0;
    while (ups < 40 && chdir("..") == 0) ups++;
    printf("chdir ..: %d times\n", ups);
    printf("the real / around: %d\n", has(".", "proc") && has(".", "usr"));
    printf("chroot .: %d\n", chroot("."));
    printf("getcwd: %s\n", getcwd(buf, sizeof buf) ? buf : strerror(errno));
    printf("/usr/bin/env: %d, /etc/f: %d\n", access("/usr/bin/env", 0), access("/etc/f", 0));
    /* Out of the chroot, not out of the views around it. */
    printf("secret: %d\n", access(argv[2], 0));
    return 0;
}
"#;

#[test]
fn an_escape_from_a_chroot_goes_where_the_kernels_goes() {
    let s = Scratch::new("chroot-escape");
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = tree(&s);
    let sub = r.join("sub");
    std::fs::write(r.join("secret"), "secret\n").unwrap();
    let secret = r.join("secret");
    let probe = compile_c(s.path(), "escape", ESCAPE, &[]);
    let args = [probe.to_str().unwrap(), sub.to_str().unwrap(), secret.to_str().unwrap()];
    // From inside the tree (its `r`), so that the working directory is outside `r/sub`.
    let native = ok(run(Command::new(args[0]).args(&args[1..]).current_dir(&r)));
    assert!(native.contains("the real / around: 1"), "{native}");
    let bin = binaries(&s);
    let km = bin.join("kmview");
    let mut cmd = vec![km.to_str().unwrap(), "--"];
    cmd.extend(args);
    let ours = ok(run(unprivileged(&cmd).current_dir(&r)));
    assert_eq!(ours, native, "kernel:\n{native}\nview:\n{ours}");
    // The same escape in a view that hides a file: the chroot is left, the hide is not.
    let mut cmd = vec![km.to_str().unwrap(), "--hide", secret.to_str().unwrap(), "--"];
    cmd.extend(args);
    let hidden = ok(run(unprivileged(&cmd).current_dir(&r)));
    assert_eq!(hidden, native.replace("secret: 0", "secret: -1"), "kernel (no hide):\n{native}\nview with --hide:\n{hidden}");
}
