//! Read-only places (`--ro PATH`, `--ro-bind SRC:DST`) against the kernel's read-only bind mount.
//!
//! Every scenario runs twice, on two fresh copies of one fixture whose paths have the same
//! length: under `unshare -rm` with the read-only place made by the kernel (`mount --bind D D &&
//! mount -o remount,bind,ro D`), and under kmview with the same layout. The outputs (stdout and
//! stderr, exit status, with each copy's directory written as `$F`) are compared, and each tree
//! is snapshotted before and after (every name, type, mode, owner, size, content, inode, link
//! count, mtime, ctime, extended attributes, symlink target): a read-only place must come out of
//! the run unchanged, on both sides. The kernel side is also checked to be what it claims (the
//! writes answered EROFS, the tree unchanged), so that no comparison can pass vacuously.
//!
//! - The tools (`rm -rf`, `find -delete`, `chmod -R`, `chown -R`, Python's `dir_fd` calls and
//!   `shutil.rmtree`, `tar -C`, `cp -r`, `test -w`) work relative to descriptors of directories
//!   under the read-only place: the `*at` calls must be refused as the path calls are.
//! - `c/ro_probe.c` makes every write-ish call of libc on every kind of target (file, directory,
//!   missing name, a name under a file, symlinks, a dangling symlink, a fifo, trailing `/` and
//!   `/.`, the read-only directory itself), five ways (absolute, relative to the working
//!   directory, to a descriptor of the directory, of its parent, of a subdirectory), and through
//!   descriptors opened read-only or `O_PATH` under the place: the kernel's errno, in the
//!   kernel's order (EEXIST, EISDIR, ENOENT, ENOTDIR before EROFS; EROFS for `access(W_OK)` on
//!   a file, a directory or a symlink but not on a fifo).
//!
//! The fixture, `$F`:
//!   P/D/    the read-only place (`--ro $F/P/D`, or `--ro-bind $F/SRC:$F/P/D`): f f2 d/g e/ a/f
//!           a/b/c lf->f ld->d ldang->nowhere fifo; f, d and a/f carry the xattr user.x
//!   P/sib   beside D (read-only only in the layout that marks P)
//!   SRC/    the same tree as P/D, the source of `--ro-bind`
//!   W/w1    writable, outside every read-only place
//!   OTHER/o, MNT/   a writable bind in the same view (`-b $F/OTHER:$F/MNT`)
//!
//! What the oracle implies, and where it is not taken as it is:
//! - `--ro D` is compared with D bound on itself, so D is a mount of its own: `rmdir D` and
//!   `rename D` are EBUSY (a mountpoint), a rename or link between D and a place outside it is
//!   EXDEV, not EROFS (with `--ro P`, D is inside the mount and these are EROFS).
//! - The answers are this kernel's and this C library's (Linux 6.x, glibc 2.36): an O_CREAT with
//!   O_DIRECTORY is EINVAL, `utimensat` with both times UTIME_OMIT succeeds without looking at
//!   the name, glibc's `fchmodat` refuses AT_EMPTY_PATH with EINVAL and `lchmod` of a symlink is
//!   EOPNOTSUPP, `utimensat(fd, NULL, ...)` is EINVAL in glibc. Both sides run the same ones.
//! - A descriptor opened before the view existed keeps the kernel's answer for a descriptor
//!   opened before the mount: it is on the writable mount, writes through it succeed (see
//!   `descriptors_opened_outside_the_view_keep_the_kernels_answer`). One line there is written
//!   as an expectation, not taken from the oracle: `linkat(fd, "", ..., AT_EMPTY_PATH)`, ENOENT
//!   for the mapped root of `unshare -r` (no CAP_DAC_READ_SEARCH over a descriptor opened
//!   outside its namespace), is EROFS for the real root kmview runs as.
//! - The tests run as root (the kernel side as the mapped root of `unshare -r`): both sides see
//!   the files as their owner's, and `chown` to 0:0 is allowed to both.

use kmview_cdylib_tests::*;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PROBE: &str = include_str!("../c/ro_probe.c");

// ---------------------------------------------------------------------------------------------
// Layouts: the read-only place, and what else the view holds.

#[derive(Clone, Copy, Debug)]
enum Layout {
    /// `--ro $F/P/D`; the kernel: `$F/P/D` bound on itself, read-only.
    Ro,
    /// `--ro $F/P` (D's parent); the kernel: `$F/P` bound on itself, read-only.
    RoParent,
    /// `--ro-bind $F/SRC:$F/P/D`; the kernel: `$F/SRC` bound on `$F/P/D`, read-only.
    RoBind,
    /// `--ro $F/P/D -b $F/OTHER:$F/MNT`; the kernel: both mounts.
    RoWithBind,
    /// `--unreal --ro $F/P/D`; the kernel: the read-only mount (`/unreal` is not used here).
    RoWithUnreal,
}

const ALL: [Layout; 5] = [Layout::Ro, Layout::RoParent, Layout::RoBind, Layout::RoWithBind, Layout::RoWithUnreal];

fn q(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

fn ro_bind_self(p: &Path) -> String {
    format!("mount --bind {0} {0} && mount -o remount,bind,ro {0} && ", q(p))
}

impl Layout {
    fn kmview_args(self, f: &Path) -> Vec<String> {
        let s = |p: &str| f.join(p).display().to_string();
        match self {
            Layout::Ro => vec!["--ro".into(), s("P/D")],
            Layout::RoParent => vec!["--ro".into(), s("P")],
            Layout::RoBind => vec!["--ro-bind".into(), format!("{}:{}", s("SRC"), s("P/D"))],
            Layout::RoWithBind => vec!["--ro".into(), s("P/D"), "-b".into(), format!("{}:{}", s("OTHER"), s("MNT"))],
            Layout::RoWithUnreal => vec!["--unreal".into(), "--ro".into(), s("P/D")],
        }
    }

    fn kernel_mounts(self, f: &Path) -> String {
        match self {
            Layout::Ro | Layout::RoWithUnreal => ro_bind_self(&f.join("P/D")),
            Layout::RoParent => ro_bind_self(&f.join("P")),
            Layout::RoBind => {
                format!("mount --bind {0} {1} && mount -o remount,bind,ro {1} && ", q(&f.join("SRC")), q(&f.join("P/D")))
            }
            Layout::RoWithBind => {
                format!("{}mount --bind {} {} && ", ro_bind_self(&f.join("P/D")), q(&f.join("OTHER")), q(&f.join("MNT")))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture.

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) {
    let name = CString::new(name).unwrap();
    let r = unsafe { libc::lsetxattr(cpath(p).as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    assert_eq!(r, 0, "setxattr {}: {} (the fixture needs user xattrs under the temp dir)", p.display(), std::io::Error::last_os_error());
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The tree of a read-only place (and of the `--ro-bind` source).
fn populate(d: &Path) {
    for (dir, mode) in [("", 0o755), ("d", 0o755), ("e", 0o755), ("a", 0o755), ("a/b", 0o750)] {
        std::fs::create_dir_all(d.join(dir)).unwrap();
        chmod(&d.join(dir), mode);
    }
    for (file, body, mode) in
        [("f", "file f\n", 0o644), ("f2", "file f2\n", 0o640), ("d/g", "g\n", 0o644), ("a/f", "a/f\n", 0o600), ("a/b/c", "c\n", 0o644)]
    {
        std::fs::write(d.join(file), body).unwrap();
        chmod(&d.join(file), mode);
    }
    symlink("f", d.join("lf")).unwrap();
    symlink("d", d.join("ld")).unwrap();
    symlink("nowhere", d.join("ldang")).unwrap();
    assert_eq!(unsafe { libc::mkfifo(cpath(&d.join("fifo")).as_ptr(), 0o644) }, 0);
    chmod(&d.join("fifo"), 0o644);
    set_xattr(&d.join("f"), "user.x", b"1");
    set_xattr(&d.join("d"), "user.x", b"1");
    set_xattr(&d.join("a/f"), "user.x", b"2");
}

fn fixture(f: &Path) {
    populate(&f.join("P/D"));
    populate(&f.join("SRC"));
    std::fs::write(f.join("P/sib"), "sib\n").unwrap();
    std::fs::create_dir_all(f.join("W")).unwrap();
    std::fs::write(f.join("W/w1"), "w1\n").unwrap();
    std::fs::create_dir_all(f.join("OTHER")).unwrap();
    std::fs::write(f.join("OTHER/o"), "o\n").unwrap();
    std::fs::create_dir_all(f.join("MNT")).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Snapshots.

/// Each name under the root (`.` for the root) → field → value.
type Snap = BTreeMap<String, BTreeMap<&'static str, String>>;

fn xattrs(p: &Path) -> String {
    let cp = cpath(p);
    let mut list = vec![0u8; 65536];
    let n = unsafe { libc::llistxattr(cp.as_ptr(), list.as_mut_ptr().cast(), list.len()) };
    if n < 0 {
        return format!("llistxattr: {}", std::io::Error::last_os_error());
    }
    let mut names: Vec<&[u8]> = list[..n as usize].split(|&b| b == 0).filter(|s| !s.is_empty()).collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let cname = CString::new(name).unwrap();
        let mut value = vec![0u8; 65536];
        let m = unsafe { libc::lgetxattr(cp.as_ptr(), cname.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        let v = if m < 0 {
            format!("<{}>", std::io::Error::last_os_error())
        } else {
            String::from_utf8_lossy(&value[..m as usize]).escape_debug().to_string()
        };
        out.push(format!("{}={v}", String::from_utf8_lossy(name)));
    }
    out.join(",")
}

fn snapshot(root: &Path) -> Snap {
    fn walk(root: &Path, p: &Path, snap: &mut Snap) {
        let md = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("lstat {}: {e}", p.display()));
        let rel = p.strip_prefix(root).unwrap();
        let rel = if rel.as_os_str().is_empty() { ".".to_string() } else { rel.display().to_string() };
        let ft = md.file_type();
        let kind = if ft.is_dir() {
            "dir"
        } else if ft.is_symlink() {
            "symlink"
        } else if ft.is_fifo() {
            "fifo"
        } else if ft.is_file() {
            "file"
        } else {
            "other"
        };
        let mut e = BTreeMap::new();
        e.insert("type", kind.to_string());
        e.insert("mode", format!("{:o}", md.mode() & 0o7777));
        e.insert("owner", format!("{}:{}", md.uid(), md.gid()));
        e.insert("size", md.size().to_string());
        e.insert("ino", md.ino().to_string());
        e.insert("nlink", md.nlink().to_string());
        e.insert("mtime", format!("{}.{:09}", md.mtime(), md.mtime_nsec()));
        e.insert("ctime", format!("{}.{:09}", md.ctime(), md.ctime_nsec()));
        e.insert("xattrs", xattrs(p));
        if ft.is_symlink() {
            e.insert("target", std::fs::read_link(p).unwrap().display().to_string());
        }
        if ft.is_file() {
            e.insert("content", String::from_utf8_lossy(&std::fs::read(p).unwrap()).escape_debug().to_string());
        }
        snap.insert(rel, e);
        if ft.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(p).unwrap().map(|d| d.unwrap().path()).collect();
            names.sort();
            for n in names {
                walk(root, &n, snap);
            }
        }
    }
    let mut snap = Snap::new();
    walk(root, root, &mut snap);
    snap
}

/// The changes from `a` to `b`, one line each. With `values`, a changed field shows both values;
/// without, the fields whose values cannot be the same in two runs (times, inode numbers) show
/// only that they changed, so that two runs' changes can be compared.
fn changes(a: &Snap, b: &Snap, values: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (name, ea) in a {
        match b.get(name) {
            None => out.push(format!("{name}: removed (was {})", ea["type"])),
            Some(eb) => {
                for (field, va) in ea {
                    let vb = eb.get(field).map(String::as_str).unwrap_or("(none)");
                    if va != vb {
                        if values || !matches!(*field, "mtime" | "ctime" | "ino") {
                            out.push(format!("{name}: {field} {va} -> {vb}"));
                        } else {
                            out.push(format!("{name}: {field} changed"));
                        }
                    }
                }
            }
        }
    }
    for (name, eb) in b {
        if !a.contains_key(name) {
            out.push(format!("{name}: added ({}{})", eb["type"], eb.get("content").map(|c| format!(" {c:?}")).unwrap_or_default()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Running a scenario on both sides.

struct Side {
    /// stdout and stderr, with the fixture written as `$F` and the tools directory as `$T`.
    out: String,
    changes: Vec<String>,
    comparable_changes: Vec<String>,
}

struct Pair {
    kernel: Side,
    kmview: Side,
}

/// stdout, then stderr (the launcher's own; the script's is merged into its stdout), then the
/// exit status, with the fixture written as `$F` and the tools directory as `$T`.
fn normalize(o: &Output, f: &Path, tools: &Path) -> String {
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    match (o.status.code(), std::os::unix::process::ExitStatusExt::signal(&o.status)) {
        (Some(c), _) => s.push_str(&format!("[exit {c}]\n")),
        (None, sig) => s.push_str(&format!("[killed by signal {sig:?}]\n")),
    }
    s.replace(&f.display().to_string(), "$F").replace(&tools.display().to_string(), "$T")
}

/// How a scenario is run: `script(F, T)` is an `sh` script run in `$F` (its stderr merged into
/// its stdout, so that the order of the lines is kept), with the read-only
/// place made before it (`Inside`), or made after the script's own prelude (`Outside`: the
/// prelude opens descriptors before the read-only place exists, then runs the command in it).
enum Shape<'a> {
    Inside(&'a dyn Fn(&Path, &Path) -> String),
    Outside { prelude: &'a dyn Fn(&Path) -> String, command: &'a dyn Fn(&Path, &Path) -> String },
}

fn run_pair(layout: Layout, tag: &str, tools: &Path, shape: &Shape) -> Pair {
    // Two fixtures whose paths have the same length (error messages name them).
    let sk = Scratch::named(&format!("ro-k-{tag}"));
    let sv = Scratch::named(&format!("ro-v-{tag}"));
    let (fk, fv) = (sk.path(), sv.path());
    fixture(fk);
    fixture(fv);
    let (bk, bv) = (snapshot(fk), snapshot(fv));

    let sh = |script: String| {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script).env("LC_ALL", "C").stdin(Stdio::null());
        c
    };
    let unshare = "unshare -rm --propagation private sh -c";
    let (kernel, ours) = match shape {
        Shape::Inside(script) => {
            let k = run(Command::new("unshare")
                .args(["-rm", "--propagation", "private", "sh", "-c"])
                .arg(format!("{}cd {} && exec 2>&1 && {}", layout.kernel_mounts(fk), q(fk), script(fk, tools)))
                .env("LC_ALL", "C")
                .stdin(Stdio::null()));
            let mut c = kmview(layout.kmview_args(fv));
            c.args(["--", "sh", "-c"]).arg(format!("cd {} && exec 2>&1 && {}", q(fv), script(fv, tools))).env("LC_ALL", "C");
            (k, run(&mut c))
        }
        Shape::Outside { prelude, command } => {
            let inner = |f: &Path| format!("cd {} && exec 2>&1 && {}", q(f), command(f, tools)).replace('\'', "'\\''");
            let k =
                run(&mut sh(format!("cd {} && {} {unshare} '{}{}'", q(fk), prelude(fk), layout.kernel_mounts(fk).replace('\'', "'\\''"), inner(fk))));
            let args: Vec<String> = layout.kmview_args(fv).iter().map(|a| q(Path::new(a))).collect();
            let v = run(&mut sh(format!("cd {} && {} {} {} -- sh -c '{}'", q(fv), prelude(fv), q(launcher()), args.join(" "), inner(fv))));
            (k, v)
        }
    };
    let (ak, av) = (snapshot(fk), snapshot(fv));
    let side = |o: &Output, f: &Path, b: &Snap, a: &Snap| Side {
        out: normalize(o, f, tools),
        changes: changes(b, a, true),
        comparable_changes: changes(b, a, false),
    };
    Pair { kernel: side(&kernel, fk, &bk, &ak), kmview: side(&ours, fv, &bv, &av) }
}

/// A failing scenario's report, collected so that one test shows every layout that fails.
#[derive(Default)]
struct Report(Vec<String>);

impl Report {
    fn add(&mut self, what: String) {
        self.0.push(what);
    }

    #[track_caller]
    fn finish(self, test: &str) {
        if !self.0.is_empty() {
            panic!("{test}: {} failing scenario(s)\n\n{}", self.0.len(), self.0.join("\n\n"));
        }
    }
}

/// The kernel's side must be sane: the tree unchanged and every `must` line present. A failure
/// here is the oracle's (or the fixture's), not kmview's: it panics at once.
#[track_caller]
fn check_kernel(what: &str, p: &Pair, must: &[&str]) {
    assert!(
        p.kernel.changes.is_empty(),
        "{what}: the kernel's read-only mount let the tree change (the oracle is broken):\n{}\noutput:\n{}",
        p.kernel.changes.join("\n"),
        p.kernel.out
    );
    for m in must {
        assert!(p.kernel.out.contains(m), "{what}: the kernel's output lacks `{m}` (the oracle is not what this test assumes):\n{}", p.kernel.out);
    }
}

/// Compares line by line, in order (tools' output).
fn diff_lines(want: &str, got: &str) -> Option<String> {
    if want == got {
        return None;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut d = String::new();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied().unwrap_or("(no line)"), g.get(i).copied().unwrap_or("(no line)"));
        if a != b {
            d.push_str(&format!("  line {}:\n    kernel: {a}\n    kmview: {b}\n", i + 1));
        }
    }
    Some(format!("{d}  kernel output:\n{}", indent(want)))
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Tools that work relative to descriptors of directories under the read-only place.

const DIRFD_PY: &str = r#"
import errno, os, shutil, sys
D = sys.argv[1]
def t(name, f):
    try:
        r = f()
        print(name, "OK" if r is None else r)
    except OSError as e:
        print(name, errno.errorcode[e.errno])
fd = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
t("unlink", lambda: os.unlink("f", dir_fd=fd))
t("unlink-deep", lambda: os.unlink("a/f", dir_fd=fd))
t("unlink-link", lambda: os.unlink("lf", dir_fd=fd))
t("rmdir", lambda: os.rmdir("e", dir_fd=fd))
t("rename", lambda: os.rename("f", "g", src_dir_fd=fd, dst_dir_fd=fd))
t("replace", lambda: os.replace("f2", "f", src_dir_fd=fd, dst_dir_fd=fd))
t("mkdir", lambda: os.mkdir("n", dir_fd=fd))
t("open-creat", lambda: os.close(os.open("new", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)))
t("open-trunc", lambda: os.close(os.open("f", os.O_WRONLY | os.O_TRUNC, dir_fd=fd)))
t("open-append", lambda: os.close(os.open("f", os.O_WRONLY | os.O_APPEND, dir_fd=fd)))
t("symlink", lambda: os.symlink("x", "l", dir_fd=fd))
t("link", lambda: os.link("f", "h", src_dir_fd=fd, dst_dir_fd=fd))
t("chmod", lambda: os.chmod("f", 0o600, dir_fd=fd))
t("chmod-nofollow", lambda: os.chmod("d", 0o700, dir_fd=fd, follow_symlinks=False))
t("chown", lambda: os.chown("f", 0, 0, dir_fd=fd))
t("utime", lambda: os.utime("f", dir_fd=fd))
t("mkfifo", lambda: os.mkfifo("p", dir_fd=fd))
t("mknod", lambda: os.mknod("q", dir_fd=fd))
t("access-w", lambda: os.access("f", os.W_OK, dir_fd=fd))
sub = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
t("unlink-sub", lambda: os.unlink("f", dir_fd=sub))
t("rmdir-sub", lambda: os.rmdir("b/../b", dir_fd=sub))
t("rename-up", lambda: os.rename("f", "../moved", src_dir_fd=sub, dst_dir_fd=sub))
ff = os.open("f", os.O_RDONLY, dir_fd=fd)
t("fchmod", lambda: os.chmod(ff, 0o600))
t("fchown", lambda: os.chown(ff, 0, 0))
t("futime", lambda: os.utime(ff))
t("fsetxattr", lambda: os.setxattr(ff, "user.x", b"v"))
t("fremovexattr", lambda: os.removexattr(ff, "user.x"))
t("ftruncate", lambda: os.truncate(ff, 0))
try:
    shutil.rmtree(D)
    print("rmtree OK")
except OSError as e:
    print("rmtree", errno.errorcode[e.errno], str(e.filename).replace(D, "$D"))
"#;

/// Runs `command` (an `sh` command line, in `$F`, `$T` the tools directory) on every layout;
/// the kernel's output must hold each of `must`.
fn tool_test(report: &mut Report, test: &str, command: &str, must: &[&str], tools: &Path) {
    for layout in ALL {
        let script = |f: &Path, t: &Path| format!("{}; echo \"rc=$?\"", command.replace("$T", &q(t)).replace("$F", &q(f)));
        let tag = format!("{test}-{layout:?}");
        let p = run_pair(layout, &tag, tools, &Shape::Inside(&script));
        let what = format!("{test} {layout:?}");
        check_kernel(&what, &p, must);
        let mut problems = String::new();
        if !p.kmview.changes.is_empty() {
            problems.push_str(&format!("  the tree changed under kmview:\n{}", indent(&p.kmview.changes.join("\n"))));
        }
        if let Some(d) = diff_lines(&p.kernel.out, &p.kmview.out) {
            problems.push_str(&format!("  the output differs from the kernel's:\n{d}"));
        }
        if !problems.is_empty() {
            report.add(format!("[{what}] `{command}` with kmview {}:\n{problems}", layout.kmview_args(Path::new("$F")).join(" ")));
        }
    }
}

fn tools_dir(tag: &str) -> Scratch {
    let t = Scratch::new(&format!("ro-tools-{tag}"));
    std::fs::write(t.join("dirfd.py"), DIRFD_PY).unwrap();
    // What `tar -x` and `cp -r` write over the place: the same names with new contents, and
    // new names.
    let st = t.join("stage");
    for d in ["a/b", "newdir"] {
        std::fs::create_dir_all(st.join(d)).unwrap();
    }
    for (p, body) in [("f", "overwritten f\n"), ("a/f", "overwritten a/f\n"), ("a/b/c", "overwritten c\n"), ("newdir/n", "new\n"), ("new", "new\n")] {
        std::fs::write(st.join(p), body).unwrap();
    }
    symlink("new", st.join("newlink")).unwrap();
    let o = run(Command::new("tar").arg("-cf").arg(t.join("x.tar")).arg("-C").arg(&st).arg("."));
    assert!(o.status.success(), "tar -c: {}", stderr(&o));
    t
}

// Each tool is run on the place named by an absolute path and by a relative one: the two reach
// the directory's descriptor differently.

#[test]
fn rm_rf_of_a_read_only_tree_removes_nothing() {
    // The issue's report: `rm -rf` said EROFS for D, and D's contents were gone.
    let mut r = Report::default();
    let t = tools_dir("rm");
    let must = ["Read-only file system", "rc=1"];
    tool_test(&mut r, "rm-rf-absolute", "rm -rf \"$PWD/P/D\"", &must, t.path());
    tool_test(&mut r, "rm-rf-relative", "rm -rf P/D", &must, t.path());
    tool_test(&mut r, "rm-rf-below", "rm -rf \"$PWD/P/D/a\" P/D/d", &must, t.path());
    tool_test(&mut r, "rm-rf-from-inside", "cd P/D && rm -rf ./*", &must, t.path());
    r.finish("rm_rf_of_a_read_only_tree_removes_nothing");
}

#[test]
fn find_delete_in_a_read_only_tree_removes_nothing() {
    let mut r = Report::default();
    let t = tools_dir("find");
    let must = ["Read-only file system", "rc=1"];
    tool_test(&mut r, "find-delete-absolute", "find \"$PWD/P/D\" -delete", &must, t.path());
    tool_test(&mut r, "find-delete-relative", "find P/D -delete", &must, t.path());
    r.finish("find_delete_in_a_read_only_tree_removes_nothing");
}

#[test]
fn chmod_and_chown_recursive_change_nothing() {
    // chown to the owner the files already have still changes their ctime: the snapshot sees it.
    let mut r = Report::default();
    let t = tools_dir("chmod");
    let must = ["Read-only file system", "rc=1"];
    tool_test(&mut r, "chmod-R-absolute", "chmod -R 700 \"$PWD/P/D\"", &must, t.path());
    tool_test(&mut r, "chmod-R-relative", "chmod -R 700 P/D", &must, t.path());
    tool_test(&mut r, "chown-R-absolute", "chown -R 0:0 \"$PWD/P/D\"", &must, t.path());
    tool_test(&mut r, "chown-R-relative", "chown -R 0:0 P/D", &must, t.path());
    r.finish("chmod_and_chown_recursive_change_nothing");
}

#[test]
fn python_dir_fd_calls_and_rmtree_change_nothing() {
    let mut r = Report::default();
    let t = tools_dir("python");
    let must = ["unlink EROFS", "open-creat EROFS", "fchmod EROFS", "fsetxattr EROFS", "access-w False", "rmtree EROFS", "rc=0"];
    tool_test(&mut r, "python-dir-fd-absolute", "/usr/bin/python3 $T/dirfd.py \"$PWD/P/D\"", &must, t.path());
    tool_test(&mut r, "python-dir-fd-relative", "/usr/bin/python3 $T/dirfd.py P/D", &must, t.path());
    r.finish("python_dir_fd_calls_and_rmtree_change_nothing");
}

#[test]
fn tar_extracting_into_a_read_only_tree_overwrites_nothing() {
    // The kernel's order shows here: an existing name is EEXIST (tar's O_EXCL create), which
    // tar reports after its unlink is refused.
    let mut r = Report::default();
    let t = tools_dir("tar");
    let must = ["Cannot open: Read-only file system", "Cannot open: File exists", "rc=2"];
    tool_test(&mut r, "tar-x-absolute", "tar -C \"$PWD/P/D\" -xf $T/x.tar", &must, t.path());
    tool_test(&mut r, "tar-x-relative", "tar -C P/D -xf $T/x.tar", &must, t.path());
    let must = ["Cannot unlink: Read-only file system", "rc=2"];
    tool_test(&mut r, "tar-x-unlink-first-absolute", "tar -U -C \"$PWD/P/D\" -xf $T/x.tar", &must, t.path());
    let must = ["Cannot open: Read-only file system", "rc=2"];
    tool_test(&mut r, "tar-x-overwrite-absolute", "tar --overwrite -C \"$PWD/P/D\" -xf $T/x.tar", &must, t.path());
    r.finish("tar_extracting_into_a_read_only_tree_overwrites_nothing");
}

#[test]
fn cp_and_test_w_see_a_read_only_tree() {
    let mut r = Report::default();
    let t = tools_dir("cp");
    tool_test(&mut r, "cp-r", "cp -r $T/stage/. \"$PWD/P/D/\"", &["Read-only file system", "rc=1"], t.path());
    // `test -w`: not writable for a file, a directory, a symlink; a fifo stays writable on a
    // read-only mount; a missing name is not writable either.
    tool_test(
        &mut r,
        "test-w",
        "for n in f d e lf ld ldang fifo missing a/b/c; do if test -w P/D/$n; then echo \"$n writable\"; else echo \"$n not writable\"; fi; done",
        &["f not writable", "d not writable", "fifo writable", "rc=0"],
        t.path(),
    );
    r.finish("cp_and_test_w_see_a_read_only_tree");
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. Every write-ish call, on every kind of target, every way: the C probe.

fn probe_tools(tag: &str) -> (Scratch, PathBuf) {
    let t = Scratch::new(&format!("ro-probe-{tag}"));
    let bin = compile_c(t.path(), "ro_probe", PROBE, &[]);
    (t, bin)
}

/// `CALL WAY TARGET` → the rest of the line.
fn keyed(out: &str) -> BTreeMap<&str, &str> {
    out.lines().map(|l| l.split_once(" -> ").unwrap_or((l, ""))).collect()
}

/// The probe's lines that differ, grouped by `CALL WAY`.
fn diff_keyed(want: &str, got: &str) -> Option<String> {
    let (w, g) = (keyed(want), keyed(got));
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut n = 0;
    for key in w.keys().chain(g.keys().filter(|k| !w.contains_key(*k))) {
        let (a, b) = (w.get(key).copied().unwrap_or("(no line)"), g.get(key).copied().unwrap_or("(no line)"));
        if a != b {
            n += 1;
            let mut parts = key.splitn(3, ' ');
            let (call, way, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            groups.entry(format!("{call} {way}")).or_default().push(format!("{target}: kernel {a}, kmview {b}"));
        }
    }
    if n == 0 {
        return None;
    }
    let mut s = format!("  {n} line(s) differ (kernel's answer first):\n");
    for (g, items) in &groups {
        let shown: Vec<&str> = items.iter().take(6).map(String::as_str).collect();
        let more = if items.len() > 6 { format!("; … {} more", items.len() - 6) } else { String::new() };
        s.push_str(&format!("    {g}: {}{more}\n", shown.join("; ")));
    }
    Some(s)
}

/// The ways of the probe's `matrix` part (each run alone on a fresh fixture, so that a write
/// that gets through under one way does not change what the others see), then its descriptor
/// calls.
const PARTS: [&str; 6] = ["abs", "cwd", "dirfd", "parent", "sub", "fds"];

/// Lines the kernel must print for each part: plain writes are EROFS, a read is fine, a fifo
/// stays writable for `access`, the kernel's order puts EEXIST/EISDIR/ENOENT/ENOTDIR first.
fn kernel_must(part: &str) -> Vec<String> {
    let at = matches!(part, "dirfd" | "parent" | "sub");
    let (open, mkdir, unlink, access) = if at { ("openat", "mkdirat", "unlinkat", "faccessat") } else { ("open", "mkdir", "unlink", "access") };
    if part == "fds" {
        return [
            "fchmod fd-rdonly-abs f -> -1 EROFS",
            "fchown fd-rdonly-dirfd f -> -1 EROFS",
            "futimens fd-rdonly-abs d -> -1 EROFS",
            "fsetxattr fd-rdonly-abs f -> -1 EROFS",
            "fremovexattr fd-rdonly-dirfd d -> -1 EROFS",
            "ftruncate fd-rdonly-abs f -> -1 EINVAL",
            "fchownat-empty fd-rdonly-abs f -> -1 EROFS",
            "linkat-empty fd-rdonly-abs f -> -1 EROFS",
            "faccessat-empty-w fd-rdonly-abs fifo -> 0 OK",
            "done\n[exit 0]",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
    }
    vec![
        format!("{open}-wronly {part} f -> -1 EROFS"),
        format!("{open}-wronly {part} d -> -1 EISDIR"),
        format!("{open}-wronly {part} missing -> -1 ENOENT"),
        format!("{open}-creat-excl {part} f -> -1 EEXIST"),
        format!("{open}-creat {part} f/x -> -1 ENOTDIR"),
        format!("{open}-rdonly {part} f -> 0 OK"),
        format!("{mkdir} {part} missing -> -1 EROFS"),
        format!("{mkdir} {part} d -> -1 EEXIST"),
        format!("{unlink} {part} f -> -1 EROFS"),
        format!("{access}-w {part} f -> -1 EROFS"),
        format!("{access}-w {part} fifo -> 0 OK"),
        format!("{access}-w {part} missing -> -1 ENOENT"),
        "done\n[exit 0]".to_string(),
    ]
}

fn probe_test(test: &str, layouts: &[Layout]) {
    let (t, bin) = probe_tools(test);
    let mut report = Report::default();
    for &layout in layouts {
        for part in PARTS {
            let script = |f: &Path, _: &Path| {
                let (d, w) = (f.join("P/D"), f.join("W"));
                if part == "fds" {
                    format!("{} descriptors {} {}", q(&bin), q(&d), q(&w))
                } else {
                    format!("{} matrix {} {} {part}", q(&bin), q(&d), q(&w))
                }
            };
            let p = run_pair(layout, &format!("{test}-{layout:?}-{part}"), t.path(), &Shape::Inside(&script));
            let what = format!("{test} {layout:?} {part}");
            let must = kernel_must(part);
            check_kernel(&what, &p, &must.iter().map(String::as_str).collect::<Vec<_>>());
            let mut problems = String::new();
            if !p.kmview.changes.is_empty() {
                problems.push_str(&format!("  the tree changed under kmview:\n{}", indent(&p.kmview.changes.join("\n"))));
            }
            if let Some(d) = diff_keyed(&p.kernel.out, &p.kmview.out) {
                problems.push_str(&d);
            }
            if !problems.is_empty() {
                report.add(format!("[{what}] with kmview {}:\n{problems}", layout.kmview_args(Path::new("$F")).join(" ")));
            }
        }
    }
    report.finish(test);
}

#[test]
fn every_write_call_under_ro() {
    probe_test("probe-ro", &[Layout::Ro]);
}

#[test]
fn every_write_call_under_ro_bind() {
    probe_test("probe-ro-bind", &[Layout::RoBind]);
}

#[test]
fn every_write_call_under_a_read_only_parent() {
    probe_test("probe-ro-parent", &[Layout::RoParent]);
}

#[test]
fn every_write_call_under_ro_with_other_mounts_in_the_view() {
    probe_test("probe-ro-others", &[Layout::RoWithBind, Layout::RoWithUnreal]);
}

// ---------------------------------------------------------------------------------------------
// Descriptors handed down across exec.

/// The descriptors the shell opens, numbered 3 to 6, and the probe's `fds` command on them.
fn open_fds(f: &Path) -> String {
    let d = f.join("P/D");
    format!("exec 3<{} 4<{} 5<{} 6<{};", q(&d.join("f")), q(&d.join("d")), q(&d.join("e")), q(&d.join("lf")))
}

fn fds_command(bin: &Path) -> impl Fn(&Path, &Path) -> String + '_ {
    move |f: &Path, _: &Path| format!("{} fds {} {} 3 4 5 6", q(bin), q(&f.join("P/D")), q(&f.join("W")))
}

#[test]
fn descriptors_opened_inside_the_view_and_inherited_stay_read_only() {
    // A shell in the view opens the files read-only, then runs the probe: its descriptors were
    // opened through the read-only place, so every write through them is refused, as the
    // kernel refuses it for a descriptor opened through a read-only mount.
    let (t, bin) = probe_tools("inherit-in");
    let command = fds_command(&bin);
    let script = |f: &Path, tt: &Path| format!("{} {}", open_fds(f), command(f, tt));
    let mut report = Report::default();
    for layout in [Layout::Ro, Layout::RoBind, Layout::RoParent] {
        let p = run_pair(layout, &format!("inherit-in-{layout:?}"), t.path(), &Shape::Inside(&script));
        let what = format!("inherited-inside {layout:?}");
        check_kernel(
            &what,
            &p,
            &["fchmod inherited-3 3 -> -1 EROFS", "fsetxattr inherited-4 4 -> -1 EROFS", "unlinkat-in inherited-4 4 -> -1 EROFS", "done\n[exit 0]"],
        );
        let mut problems = String::new();
        if !p.kmview.changes.is_empty() {
            problems.push_str(&format!("  the tree changed under kmview:\n{}", indent(&p.kmview.changes.join("\n"))));
        }
        if let Some(d) = diff_keyed(&p.kernel.out, &p.kmview.out) {
            problems.push_str(&d);
        }
        if !problems.is_empty() {
            report.add(format!("[{what}] with kmview {}:\n{problems}", layout.kmview_args(Path::new("$F")).join(" ")));
        }
    }
    report.finish("descriptors_opened_inside_the_view_and_inherited_stay_read_only");
}

#[test]
fn descriptors_opened_outside_the_view_keep_the_kernels_answer() {
    // `sh -c 'exec 3<D/f; kmview --ro D -- probe'`: the descriptors were opened before the view
    // existed. The kernel's answer for a descriptor opened before the read-only mount was made:
    // it still refers to the writable mount it was opened through. fchmod, fchown, futimens,
    // fsetxattr and fremovexattr through it succeed and change the file, and so do chmod,
    // truncate and an open for writing of /proc/self/fd/N; a name made relative to such a
    // descriptor of a directory (mkdirat(4, "n4"), unlinkat(4, "g")) is on that writable mount
    // too. A new name made in D through a descriptor the probe opened inside (linkat to D/n3)
    // stays EROFS. kmview must give the same answers and make the same changes (compared
    // without the times and inode numbers).
    let (t, bin) = probe_tools("inherit-out");
    let command = fds_command(&bin);
    let mut report = Report::default();
    for layout in [Layout::Ro, Layout::RoParent] {
        let p = run_pair(layout, &format!("inherit-out-{layout:?}"), t.path(), &Shape::Outside { prelude: &open_fds, command: &command });
        let what = format!("inherited-outside {layout:?}");
        for must in [
            "fchmod inherited-3 3 -> 0 OK",
            "fsetxattr inherited-4 4 -> 0 OK",
            "unlinkat-in inherited-4 4 -> 0 OK",
            "linkat-proc inherited-3 3 -> -1 EROFS",
            "done\n[exit 0]",
        ] {
            assert!(
                p.kernel.out.contains(must),
                "{what}: the kernel's output lacks `{must}` (the oracle is not what this test assumes):\n{}",
                p.kernel.out
            );
        }
        assert!(
            p.kernel.comparable_changes.iter().any(|c| c == "P/D/f: mode 644 -> 600"),
            "{what}: the kernel's run did not change P/D/f:\n{}",
            p.kernel.changes.join("\n")
        );
        // The oracle's own limit: linkat(fd, "", ..., AT_EMPTY_PATH) of a descriptor opened with
        // other credentials needs CAP_DAC_READ_SEARCH in the opener's user namespace, which the
        // mapped root of `unshare -r` lacks for a descriptor opened outside it: ENOENT. A real
        // root (kmview's side) has it, and the new name (D/n3, through a descriptor of D opened
        // inside the view) is on the read-only place: EROFS.
        let root = unsafe { libc::geteuid() } == 0;
        let kernel_out: String = p
            .kernel
            .out
            .lines()
            .map(|l| match l.split_once(" -> ") {
                Some((key, "-1 ENOENT")) if root && key.starts_with("linkat-empty") => {
                    format!("{key} -> -1 EROFS\n")
                }
                _ => format!("{l}\n"),
            })
            .collect();
        let mut problems = String::new();
        if p.kernel.comparable_changes != p.kmview.comparable_changes {
            problems.push_str(&format!(
                "  the changes differ:\n  kernel:\n{}  kmview:\n{}",
                indent(&p.kernel.comparable_changes.join("\n")),
                indent(&p.kmview.comparable_changes.join("\n"))
            ));
        }
        if let Some(d) = diff_keyed(&kernel_out, &p.kmview.out) {
            problems.push_str(&d);
        }
        if !problems.is_empty() {
            report.add(format!("[{what}] with kmview {}:\n{problems}", layout.kmview_args(Path::new("$F")).join(" ")));
        }
    }
    report.finish("descriptors_opened_outside_the_view_keep_the_kernels_answer");
}
