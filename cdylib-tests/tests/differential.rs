//! The oracle: one script of many operations, run twice on two copies of one fixture — under
//! kmview with a set of mounts, and under `unshare -rm` with the same mounts made by the kernel —
//! and the outputs compared line by line (with each copy's directory written as `$F`).
//!
//! Layouts the kernel cannot express (hide, deny, a mountpoint missing underneath) are checked
//! against expectations written here, each with the reason.

use kmview_cdylib_tests::*;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mount in a layout: `SRC` and `DST` relative to the fixture (`DST` may also be absolute
/// in root layouts, inside the root).
#[derive(Clone)]
enum M {
    Bind(&'static str, &'static str),
    RoBind(&'static str, &'static str),
    Tmp(&'static str),
}

struct Layout {
    name: &'static str,
    /// Mounts of the first view, in order.
    mounts: Vec<M>,
    /// Mounts of a second, nested view (`kmview … -- kmview …`; the kernel mounts them after).
    nested: Vec<M>,
    /// The directory the script starts in, relative to the fixture.
    cwd: &'static str,
}

/// Names used by the fixture with bytes that are not UTF-8 or need quoting.
const ODD: &[u8] = b"mnt/sp ace/\xff\xfe";

/// The fixture: a world (`host/`) with mountpoints, and the sources mounted on them.
fn fixture(f: &Path) {
    let w = |p: &str, s: &str| std::fs::write(f.join(p), s).unwrap();
    let d = |p: &str| std::fs::create_dir_all(f.join(p)).unwrap();
    for p in ["host/mnt/a", "host/mnt/b", "host/mnt/sp ace", "host/deep/d1/d2", "src/sub", "src/inner", "other/od", "tools"] {
        d(p);
    }
    std::fs::create_dir_all(f.join(std::ffi::OsStr::from_bytes(&[b"host/", ODD].concat()))).unwrap();
    w("host/x", "host-x\n");
    w("host/mnt/a/shadowed", "under the mount\n");
    w("host/mnt/file", "old file\n");
    w("host/deep/d1/d2/leaf", "leaf\n");
    w("src/f", "src-f\n");
    w("src/sub/g", "src-g\n");
    w("src/inner/i", "src-inner\n");
    w("other/o", "other-o\n");
    w("other/od/p", "other-p\n");
    w("file1", "file1 content\n");
    let host = f.join("host");
    symlink("../f", f.join("src/sub/up")).unwrap();
    symlink("/etc/hostname", f.join("src/out")).unwrap();
    symlink(host.join("mnt/a/sub/g"), f.join("src/back")).unwrap();
    symlink("../../x", f.join("src/climb")).unwrap();
    symlink("../b/o", f.join("src/across")).unwrap();
    symlink("mnt/a/f", host.join("link_in")).unwrap();
    symlink(host.join("mnt/a/f"), host.join("abs_in")).unwrap();
    symlink("../mnt/a/sub", host.join("deep/rel_into")).unwrap();
}

const SCRIPT: &str = r#"
exec 2>&1
p() { printf '== %s\n' "$*"; }
L() { ls -la --time-style=+ "$@" | grep -v '^total' | awk '{$2=""; print}'; }
p ls; L . mnt mnt/a mnt/b
p stat; stat -c '%n %F %s %a' mnt/a mnt/a/f mnt/a/sub mnt/a/sub/up mnt/file link_in abs_in 'mnt/sp ace' mnt/a/inner mnt/a/inner/i mnt/b/o
p readlink; readlink mnt/a/sub/up mnt/a/out mnt/a/back mnt/a/climb mnt/a/across link_in abs_in deep/rel_into
p realpath; realpath mnt/a/sub/up mnt/a/back mnt/a/climb mnt/a/across link_in abs_in mnt/a/sub/.. mnt/a/.. deep/rel_into/.. mnt/a/inner/..
p readlink-f; readlink -f mnt/a/out mnt/a/sub/../f deep/rel_into/g mnt/a/missing/x
p cat; cat mnt/a/f mnt/a/sub/up mnt/a/back mnt/a/climb mnt/a/across link_in abs_in mnt/file deep/rel_into/g mnt/a/inner/i
p cd; (cd mnt/a/sub && pwd -P && cd .. && pwd -P && cd .. && pwd -P && cd a/inner && pwd -P && cd ../.. && pwd -P)
p cd-links; (cd deep/rel_into && pwd -P && cd .. && pwd -P); (cd mnt/a/sub/../.. && pwd -P)
p proc; (cd mnt/a/sub && readlink /proc/self/cwd && ls -l /proc/self/cwd | sed 's/.*-> //')
p trailing; stat -c %F mnt/a/f/ mnt/a/sub/ mnt/a/sub/. ; cat mnt/a/sub/up/
p mkdir; mkdir -p mnt/a/new/deep && ls mnt/a/new; mkdir mnt/a/f; mkdir mnt/a/new/deep/
p touch-chmod; touch mnt/a/t && chmod 640 mnt/a/t && stat -c '%a %s' mnt/a/t
p mv-within; mv mnt/a/t mnt/a/t2 && ls mnt/a | tr '\n' ' '; echo
p mv-across; mv mnt/a/t2 mnt/b/t3; ls mnt/b | tr '\n' ' '; echo
p ln; ln -s ../f mnt/a/sub/l2 && readlink mnt/a/sub/l2 && cat mnt/a/sub/l2; ln mnt/a/f mnt/b/hard; ln mnt/a/f mnt/a/hard && stat -c %h mnt/a/f
p rm; rm -r mnt/a/new mnt/a/hard mnt/a/sub/l2 && ls mnt/a | tr '\n' ' '; echo
p busy; rmdir mnt/a; mv mnt/a mnt/c; rm mnt/file; mv mnt/b/o mnt/a/o2; ls mnt/a | tr '\n' ' '; echo
p write-ro; echo w > mnt/a/rofile; mkdir mnt/a/rodir; rm mnt/a/f; chmod 600 mnt/a/f; touch mnt/a/f; ln -s x mnt/a/rolink; rm -f mnt/a/rofile; rmdir mnt/a/rodir 2>/dev/null; rm -f mnt/a/rolink
p odd; ls "$(printf 'mnt/sp ace/\377\376')" | od -c | head -2
p find; find . | LC_ALL=C sort
p atprobe; "$TOOLS/atprobe"
"#;

const ATPROBE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static void r(const char *what, long v) { printf("%s %ld %s\n", what, v, v < 0 ? strerrorname_np(errno) : "-"); }
int main(void) {
    char buf[4096];
    int d = open("mnt/a", O_RDONLY | O_DIRECTORY);
    r("open mnt/a", d < 0 ? -1 : 0);
    int up = openat(d, "..", O_RDONLY | O_DIRECTORY);
    r("openat ..", up < 0 ? -1 : 0);
    struct stat st;
    r("fstatat ../b", fstatat(up, "b", &st, 0));
    r("fstatat ../../x", fstatat(d, "../../x", &st, 0));
    int f = openat(d, "sub/../f", O_RDONLY);
    ssize_t n = f < 0 ? -1 : read(f, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("read sub/../f: %s", n < 0 ? "(none)\n" : buf);
    r("openat f/", openat(d, "f/", O_RDONLY));
    r("openat missing", openat(d, "missing", O_RDONLY));
    r("openat sub/up/", openat(d, "sub/up/", O_RDONLY));
    r("mkdirat m1", mkdirat(d, "m1", 0755));
    r("unlinkat m1", unlinkat(d, "m1", AT_REMOVEDIR));
    r("renameat f -> ../../x2", renameat(d, "f", d, "../../x2"));
    r("linkat f -> ../b/l", linkat(d, "f", d, "../b/l", 0));
    r("faccessat f", faccessat(d, "f", R_OK, 0));
    n = readlinkat(d, "sub/up", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlinkat sub/up %s\n", buf);
    r("symlinkat", symlinkat("t/../with/dots", d, "sl"));
    n = readlinkat(d, "sl", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("readlinkat sl %s\n", buf);
    unlinkat(d, "sl", 0);
    r("fchdir", fchdir(d));
    printf("getcwd %s\n", getcwd(buf, sizeof buf) ? buf : strerrorname_np(errno));
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", up);
    n = readlink(link, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    printf("fd name %s\n", buf);
    r("open ../../x/", open("../../x/", O_RDONLY));
    r("rmdir sub/.", rmdir("sub/."));
    r("rmdir sub/..", rmdir("sub/.."));
    return 0;
}
"#;

/// The mount commands for the kernel (`mount --bind`, then `remount,ro`; a tmpfs for `--tmp`).
fn kernel_mounts(f: &Path, ms: &[M]) -> String {
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let abs = |p: &str| f.join(p).display().to_string();
    ms.iter()
        .map(|m| match m {
            M::Bind(s, d) => format!("mount --bind {} {} && ", q(&abs(s)), q(&abs(d))),
            M::RoBind(s, d) => {
                format!("mount --bind {0} {1} && mount -o remount,bind,ro {1} && ", q(&abs(s)), q(&abs(d)))
            }
            // A fresh empty directory, as kmview's: an empty bind (a tmpfs would differ only in
            // the file system's own directory sizes).
            M::Tmp(d) => {
                format!("mkdir -m 1777 {0} && chmod 1777 {0} && mount --bind {0} {1} && ", q(&abs("fresh-tmp")), q(&abs(d)))
            }
        })
        .collect()
}

/// The same mounts as kmview options.
fn kmview_args(f: &Path, ms: &[M]) -> Vec<String> {
    let esc = |p: PathBuf| p.display().to_string().replace(':', "\\:");
    ms.iter()
        .flat_map(|m| match m {
            M::Bind(s, d) => vec!["-b".into(), format!("{}:{}", esc(f.join(s)), esc(f.join(d)))],
            M::RoBind(s, d) => vec!["--ro-bind".into(), format!("{}:{}", esc(f.join(s)), esc(f.join(d)))],
            M::Tmp(d) => vec!["--tmp".into(), f.join(d).display().to_string()],
        })
        .collect()
}

fn prepare(tag: &str) -> (Scratch, PathBuf) {
    let s = Scratch::named(tag);
    let f = s.path().to_path_buf();
    fixture(&f);
    std::fs::write(f.join("tools/script.sh"), SCRIPT).unwrap();
    compile_c(&f.join("tools"), "atprobe", ATPROBE, &[]);
    (s, f)
}

fn normalize(out: &[u8], f: &Path) -> String {
    String::from_utf8_lossy(out).replace(&f.display().to_string(), "$F")
}

fn run_layout(l: &Layout) {
    // Two fixtures whose paths have the same length (link sizes show in `ls -l`).
    let (_k, fk) = prepare(&format!("diff-k-{}", l.name));
    let (_v, fv) = prepare(&format!("diff-v-{}", l.name));
    let script =
        |f: &Path| format!("cd '{}' && TOOLS='{}' sh '{}'", f.join(l.cwd).display(), f.join("tools").display(), f.join("tools/script.sh").display());

    let kernel = run(Command::new("unshare").args(["-rm", "--propagation", "private", "sh", "-c"]).arg(format!(
        "{}{}{}",
        kernel_mounts(&fk, &l.mounts),
        kernel_mounts(&fk, &l.nested),
        script(&fk)
    )));
    assert!(kernel.status.success(), "{}: the kernel run failed:\n{}{}", l.name, stdout(&kernel), stderr(&kernel));

    let mut cmd = kmview(kmview_args(&fv, &l.mounts));
    cmd.arg("--");
    if !l.nested.is_empty() {
        cmd.arg(launcher()).args(kmview_args(&fv, &l.nested)).arg("--");
    }
    cmd.args(["sh", "-c", &script(&fv)]);
    let ours = run(&mut cmd);
    assert!(ours.status.success(), "{}: the kmview run failed:\n{}{}", l.name, stdout(&ours), stderr(&ours));

    let (want, got) = (normalize(&kernel.stdout, &fk), normalize(&ours.stdout, &fv));
    if want != got {
        let mut diff = String::new();
        for (i, (a, b)) in want.lines().zip(got.lines()).enumerate() {
            if a != b {
                diff.push_str(&format!("line {}:\n  kernel: {a}\n  kmview: {b}\n", i + 1));
            }
        }
        let (wl, gl) = (want.lines().count(), got.lines().count());
        panic!("{}: kmview differs from the kernel ({wl} vs {gl} lines):\n{diff}\nkernel output:\n{want}", l.name);
    }
    // The comparison saw real work: the script's sections and the probe ran.
    assert!(want.contains("== atprobe") && want.contains("fd name"), "{}: the script did not run through:\n{want}", l.name);
}

fn layout(name: &'static str, mounts: Vec<M>, nested: Vec<M>, cwd: &'static str) -> Layout {
    Layout { name, mounts, nested, cwd }
}

#[test]
fn bind_a_directory() {
    run_layout(&layout("bind-dir", vec![M::Bind("src", "host/mnt/a")], vec![], "host"));
}

#[test]
fn bind_two_directories() {
    run_layout(&layout("bind-two", vec![M::Bind("src", "host/mnt/a"), M::Bind("other", "host/mnt/b")], vec![], "host"));
}

#[test]
fn bind_over_a_file() {
    run_layout(&layout("bind-file", vec![M::Bind("src", "host/mnt/a"), M::Bind("file1", "host/mnt/file")], vec![], "host"));
}

#[test]
fn nested_binds_in_one_view() {
    run_layout(&layout("nested-binds", vec![M::Bind("src", "host/mnt/a"), M::Bind("other", "host/mnt/a/inner")], vec![], "host"));
}

#[test]
fn a_bind_inside_a_bind_across_views() {
    // The inner view's source is a path of the outer view: through the first bind.
    run_layout(&layout("bind-in-bind", vec![M::Bind("src", "host/mnt/a")], vec![M::Bind("host/mnt/a/sub", "host/mnt/b")], "host"));
}

#[test]
fn read_only_bind() {
    run_layout(&layout("ro-bind", vec![M::RoBind("src", "host/mnt/a"), M::Bind("other", "host/mnt/b")], vec![], "host"));
}

#[test]
fn a_bind_whose_source_holds_links_out_and_back_in() {
    // src/back is an absolute link into the mountpoint, src/climb and src/across relative ones
    // that climb out of the source: the view resolves them from the mountpoint.
    run_layout(&layout("links-out-and-in", vec![M::Bind("src", "host/mnt/a"), M::Bind("other", "host/mnt/b")], vec![], "host/mnt/a/.."));
}

#[test]
fn relative_links_climbing_across_a_mountpoint() {
    // host/deep/rel_into climbs up and into the mount; the script starts inside the mount.
    run_layout(&layout("climb-across", vec![M::Bind("src", "host/mnt/a")], vec![], "host/deep/.."));
}

#[test]
fn a_private_tmp_directory() {
    run_layout(&layout("tmp", vec![M::Tmp("host/mnt/b"), M::Bind("src", "host/mnt/a")], vec![], "host"));
}

#[test]
fn mounts_at_paths_with_spaces_and_non_utf8_bytes() {
    // Also a bind over the directory that holds the odd names, and the odd names as DST.
    run_layout(&layout("odd-names", vec![M::Bind("src", "host/mnt/a"), M::Bind("other", "host/mnt/sp ace")], vec![], "host"));
}

#[test]
fn a_bind_of_a_subtree_of_another_bind() {
    run_layout(&layout("bind-of-bind", vec![M::Bind("src", "host/mnt/a"), M::Bind("src/sub", "host/mnt/b")], vec![], "host"));
}

#[test]
fn nested_views_with_a_read_only_inner_mount() {
    run_layout(&layout("nested-ro", vec![M::Bind("src", "host/mnt/a")], vec![M::RoBind("other", "host/mnt/a/inner")], "host"));
}
