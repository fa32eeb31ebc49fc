//! The copy-on-write overlay, `kmview --overlay DIR:UPPER -- CMD`, against the kernel's
//! overlayfs: one shell script run twice on one fixture directory `DIR` (a small git repository),
//! once under `unshare -rm` with `mount -t overlay overlay -o userxattr,lowerdir=DIR,upperdir=U,
//! workdir=W DIR` (the kernel allows the lower directory to be the mountpoint itself, so both runs
//! see the very same paths, and no copy of the tree is needed), once under kmview with another
//! upper directory. Then, each compared kernel against kmview:
//!
//! - the script's exit status and stdout;
//! - the merged tree, listed by a program running inside the overlay (a fresh mount / a fresh
//!   `kmview --overlay` over the upper the script left, so kmview must read its own upper back);
//! - the upper directory in the OCI image-layer form (a kernel whiteout, a 0/0 character device,
//!   is `.wh.NAME`; a kernel opaque directory, xattr `user.overlay.opaque` = `y`, holds
//!   `.wh..wh..opq`), with the redundancies that are policy rather than correctness left out
//!   (`normalize_upper` says which);
//! - and `DIR` itself, byte for byte and time for time, unchanged after each run.
//!
//! `KMVIEW_OVERLAY_SELFCHECK=1` runs the kernel a second time instead of kmview (kmview is not
//! even built): every comparison then must hold, which shows the scripts and listings are
//! deterministic, so that a difference with kmview is kmview's.

use kmview_cdylib_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers: the fixture, the lister, the two runners, the comparison.
// ---------------------------------------------------------------------------------------------

/// The fixture's lower tree, made natively by `sh -c FIXTURE tree-dir staging-dir`: a git
/// repository of three commits with nested directories, a Makefile building a tiny C program, an
/// executable script, symlinks (one dangling), a hard link pair, a file with spaces in its name,
/// an empty directory, group-writable entries (for `chmod go-w`), and `dist/extra.tar`, a
/// tarball to unpack over the tree (it replaces files, a symlink by a file, a file by a
/// directory, changes modes, and adds files, directories and a symlink).
const FIXTURE: &str = r#"
set -eu
umask 022
T=$1 S=$2
mkdir -p "$T" && cd "$T"
git init -q .
mkdir -p src/lib docs/guide/deep scripts data empty dist
printf '# fixture\nHello overlay\nsecond line\n' > README.md
printf 'hello\n*.o\n' > .gitignore
printf 'CC = gcc\nCFLAGS = -O1\n\nhello: src/hello.c src/lib/greet.c src/lib/greet.h\n\t$(CC) $(CFLAGS) -Isrc/lib -o $@ src/hello.c src/lib/greet.c\n\nclean:\n\trm -f hello\n\n.PHONY: clean\n' > Makefile
printf '#include "greet.h"\nint main(void) { greet("Hello"); return 0; }\n' > src/hello.c
printf '#include <stdio.h>\n#include "greet.h"\nvoid greet(const char *w) { printf("%%s, overlay\\n", w); }\n' > src/lib/greet.c
printf 'void greet(const char *w);\n' > src/lib/greet.h
git add -A && git commit -q -m 'c1: the program'
printf 'intro\n' > docs/guide/intro.txt
printf 'more\n' > docs/guide/deep/more.txt
printf 'two\n' > docs/guide/deep/two.txt
printf '#!/bin/sh\necho "run: $*"\n' > scripts/run.sh && chmod 755 scripts/run.sh
printf 'linked\n' > data/hard1 && ln data/hard1 data/hard2
printf 'shared\n' > data/group-writable.txt && chmod 664 data/group-writable.txt && chmod 775 scripts
git add -A && git commit -q -m 'c2: docs, scripts, data'
printf 'first note\nsecond note\n' > 'notes with spaces.txt'
ln -s README.md link-to-readme
ln -s ../../README.md src/lib/readme
ln -s ../nowhere docs/dangling
mkdir -p "$S/src/lib" "$S/newdir/sub" "$S/scripts" "$S/docs/guide" "$S/data/hard2"
printf '# fixture\nfrom the tarball\n' > "$S/README.md"
printf 'int extra;\n' > "$S/src/lib/extra.c"
printf 'new file\n' > "$S/newdir/sub/file.txt"
printf '#!/bin/sh\necho tarball\n' > "$S/scripts/run.sh" && chmod 700 "$S/scripts/run.sh"
printf 'no longer a link\n' > "$S/link-to-readme"
printf 'intro from the tarball\n' > "$S/docs/guide/intro.txt" && chmod 700 "$S/docs/guide"
printf 'inside\n' > "$S/data/hard2/inside.txt"
ln -s docs/guide/intro.txt "$S/latest"
tar --owner=0 --group=0 --numeric-owner --mtime=@1500000000 -cf dist/extra.tar -C "$S" \
    README.md src/lib/extra.c newdir scripts/run.sh link-to-readme docs/guide data/hard2 latest
git add -A && git commit -q -m 'c3: notes, links, the tarball'
"#;

/// What every script starts with: `L` is `ls -l` without what is no business of an overlay's
/// (times, a directory's size and link count: file-system bookkeeping; the kernel reports 1 as
/// the link count of every merged directory), `F` is `find` outside `.git`. The fixture's own
/// times are the same in both runs (one fixture), so a script may print them, to the nanosecond.
const PRELUDE: &str = r#"umask 022
L() { ls -lnA --time-style=+ "$@" | awk '$1 != "total" { if ($1 ~ /^d[-r][-w][-xsS]/) { $2 = "-"; $5 = "-" } print }'; }
F() { find . -path ./.git -prune -o -print | sort; }
"#;

/// The lister, `python3 lister.py MODE ROOT`, one tab-separated line per entry of ROOT and
/// below (depth first, names sorted as bytes):
///
/// - `merged`: path, type, mode, size (`-` for a directory: its size is the file system's
///   bookkeeping), content (sha256 of a file, target of a symlink). Run inside the overlay.
/// - `lower`: the same with a directory's size, and the mtime, ctime (nanoseconds) and link
///   count of every entry: `DIR` unchanged means all of it unchanged. Run natively.
/// - `upper` / `upper-kernel`: an upper directory in OCI form, without its root: path, type
///   (`whiteout` for `.wh.NAME`, `opaque` for `.wh..wh..opq`), mode, content, link count and
///   mtime (the last two of files only; the comparison uses the mtime and drops it). Plain
///   `upper` reads the OCI names as they are (kmview's), and an empty regular file is all a
///   whiteout may be; `upper-kernel` converts the kernel's whiteouts (0/0 character devices)
///   and opaque directories (xattr `user.overlay.opaque` = `y`) to them.
///
/// `.git/index` alone has its content replaced by `stat-cache`: it records every tracked
/// file's ctime, mtime, device and inode, which differ between any two runs (the kernel's
/// overlay has its own device and inode numbers, and the runs happen at different times). What
/// it says about the tree, the scripts print with `git status` and `git ls-files -s`.
const LISTER: &str = r#"
import hashlib, os, stat, sys

sys.stdout.reconfigure(encoding='utf-8', errors='surrogateescape')
STAT_CACHES = {'.git/index'}
KINDS = {stat.S_IFREG: 'f', stat.S_IFDIR: 'd', stat.S_IFLNK: 'l', stat.S_IFCHR: 'c',
         stat.S_IFBLK: 'b', stat.S_IFIFO: 'p', stat.S_IFSOCK: 's'}

def walk(root):
    out = []
    def rec(rel, path):
        st = os.lstat(path)
        out.append((rel, path, st))
        if stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(path), key=os.fsencode):
                rec(name if rel == '.' else rel + '/' + name, os.path.join(path, name))
    rec('.', root)
    return out

def sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()

def content(rel, path, st):
    if stat.S_ISREG(st.st_mode):
        return 'stat-cache' if rel in STAT_CACHES else sha(path)
    if stat.S_ISLNK(st.st_mode):
        return '-> ' + os.readlink(path)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return 'dev %d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return '-'

def mode(st):
    return '%04o' % stat.S_IMODE(st.st_mode)

def line(*fields):
    print('\t'.join(str(f) for f in fields))

def upper(root, kernel):
    for rel, path, st in walk(root):
        if rel == '.':
            continue
        parent, _, name = rel.rpartition('/')
        at = lambda n: parent + '/' + n if parent else n
        kind = KINDS[stat.S_IFMT(st.st_mode)]
        if kernel and stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            line(at('.wh.' + name), 'whiteout', '-', '-', '-', '-')
        elif not kernel and name.startswith('.wh.'):
            empty = stat.S_ISREG(st.st_mode) and st.st_size == 0
            what = ('opaque' if name == '.wh..wh..opq' else 'whiteout') if empty else 'bad-whiteout-' + kind
            line(rel, what, '-', '-', '-', '-')
        elif kind == 'f':
            line(rel, kind, mode(st), content(rel, path, st), st.st_nlink, st.st_mtime_ns)
        else:
            line(rel, kind, mode(st), content(rel, path, st), '-', '-')
        if kernel and kind == 'd':
            try:
                opaque = os.getxattr(path, 'user.overlay.opaque', follow_symlinks=False)
            except OSError:
                opaque = None
            if opaque == b'y':
                line(rel + '/.wh..wh..opq', 'opaque', '-', '-', '-', '-')

what, root = sys.argv[1], sys.argv[2]
if what == 'merged':
    for rel, path, st in walk(root):
        kind = KINDS[stat.S_IFMT(st.st_mode)]
        line(rel, kind, mode(st), '-' if kind == 'd' else st.st_size, content(rel, path, st))
elif what == 'lower':
    for rel, path, st in walk(root):
        line(rel, KINDS[stat.S_IFMT(st.st_mode)], mode(st), st.st_size, content(rel, path, st),
             st.st_mtime_ns, st.st_ctime_ns, st.st_nlink)
elif what in ('upper', 'upper-kernel'):
    upper(root, what == 'upper-kernel')
else:
    sys.exit('usage: lister.py merged|lower|upper|upper-kernel ROOT')
"#;

/// The kernel's overlay options: user xattrs (an unprivileged mount), no index, no metacopy,
/// redirects neither made nor followed (so `rename(2)` of a lower directory is `EXDEV`, and
/// every copy-up copies the whole file, as kmview's).
const KERNEL_OPTIONS: &str = "userxattr,index=off,metacopy=off,redirect_dir=nofollow";

/// A fresh fixture: the lower tree and, beside it (never inside), the tools, `HOME`, `TMPDIR`
/// and the upper and work directories.
struct Fixture {
    scratch: Scratch,
    tree: PathBuf,
    lister: PathBuf,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let scratch = Scratch::new(&format!("overlay-{tag}"));
        for d in ["tools", "home", "tmp", "stage"] {
            std::fs::create_dir_all(scratch.join(d)).unwrap();
        }
        let f = Fixture { tree: scratch.join("tree"), lister: scratch.join("tools/lister.py"), scratch };
        std::fs::write(&f.lister, LISTER).unwrap();
        ok(run(f.command("sh").arg("-c").arg(FIXTURE).arg("fixture").arg(&f.tree).arg(f.scratch.join("stage"))));
        f
    }

    /// A fixture of one big file of `len` pseudo-random bytes, returned too.
    fn with_big_file(tag: &str, len: usize) -> (Fixture, Vec<u8>) {
        let scratch = Scratch::new(&format!("overlay-{tag}"));
        for d in ["tools", "home", "tmp", "tree"] {
            std::fs::create_dir_all(scratch.join(d)).unwrap();
        }
        let f = Fixture { tree: scratch.join("tree"), lister: scratch.join("tools/lister.py"), scratch };
        std::fs::write(&f.lister, LISTER).unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let data: Vec<u8> = (0..len / 8).flat_map(|_| rng.next().to_le_bytes()).collect();
        std::fs::write(f.tree.join("big"), &data).unwrap();
        (f, data)
    }

    fn dir(&self, name: &str) -> PathBuf {
        let p = self.scratch.join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// A command with the environment every run gets (the same for both sides): C locale, UTC,
    /// `HOME` and `TMPDIR` beside the tree, git without user configuration and with fixed
    /// identities and dates (deterministic commits), one pack thread (deterministic packs), no
    /// automatic gc; stdin closed, started in the tools directory (outside the tree).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.stdin(Stdio::null()).current_dir(self.scratch.join("tools"));
        c.env("LC_ALL", "C").env("TZ", "UTC").env("HOME", self.scratch.join("home")).env("TMPDIR", self.scratch.join("tmp"));
        c.env("PYTHONDONTWRITEBYTECODE", "1").env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
        for (who, name) in [("AUTHOR", "Fixture Author"), ("COMMITTER", "Fixture Committer")] {
            c.env(format!("GIT_{who}_NAME"), name).env(format!("GIT_{who}_EMAIL"), "fixture@example.org");
            c.env(format!("GIT_{who}_DATE"), "2021-03-04T05:06:07Z");
        }
        let config = [("init.defaultBranch", "main"), ("pack.threads", "1"), ("gc.auto", "0"), ("maintenance.auto", "false")];
        c.env("GIT_CONFIG_COUNT", config.len().to_string());
        for (i, (k, v)) in config.iter().enumerate() {
            c.env(format!("GIT_CONFIG_KEY_{i}"), k).env(format!("GIT_CONFIG_VALUE_{i}"), v);
        }
        c
    }

    /// The lister run natively.
    fn list(&self, mode: &str, root: &Path) -> String {
        ok(run(self.command("python3").arg(&self.lister).arg(mode).arg(root)))
    }

    /// The lower tree, every byte and time of it.
    fn lower(&self) -> String {
        self.list("lower", &self.tree)
    }
}

/// Where a run happens: the kernel's overlay, or kmview's.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Side {
    Kernel,
    Kmview,
}

impl Side {
    /// The side compared with the kernel: kmview, or the kernel again under
    /// `KMVIEW_OVERLAY_SELFCHECK=1`.
    fn other() -> Side {
        if std::env::var_os("KMVIEW_OVERLAY_SELFCHECK").is_some_and(|v| !v.is_empty() && v != "0") {
            Side::Kernel
        } else {
            Side::Kmview
        }
    }

    /// `ARGV` run with `f.tree` overlaid by `upper` (`work` is the kernel's work directory).
    fn command(self, f: &Fixture, upper: &Path, work: &Path, argv: &[&std::ffi::OsStr]) -> Command {
        let mut c = match self {
            Side::Kernel => {
                let mut c = f.command("unshare");
                c.args(["-rm", "--propagation", "private", "sh", "-c"])
                    .arg(format!(
                        r#"mount -t overlay overlay -o "{KERNEL_OPTIONS},lowerdir=$1,upperdir=$2,workdir=$3" "$1" || exit 200; shift 3; exec "$@""#
                    ))
                    .arg("mount-overlay")
                    .arg(&f.tree)
                    .arg(upper)
                    .arg(work);
                c
            }
            Side::Kmview => {
                let mut c = f.command(launcher());
                // `\:` is a colon of a path, `\\` a backslash.
                let esc = |p: &Path| p.display().to_string().replace('\\', "\\\\").replace(':', "\\:");
                c.args(["--overlay", &format!("{}:{}", esc(&f.tree), esc(upper)), "--"]);
                c
            }
        };
        c.args(argv);
        c
    }
}

/// What one side did: the script's outcome, the merged tree listed inside the overlay
/// afterwards, and the upper directory in OCI form (before `normalize_upper`).
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    merged: String,
    upper: String,
}

/// Runs `script` (after `PRELUDE`, in the tree) on one side, then the lister inside a second
/// overlay of the same upper, then the upper's own listing from outside.
fn run_side(f: &Fixture, side: Side, name: &str, script: &str) -> Outcome {
    let (upper, work) = (f.dir(&format!("{name}-upper")), f.dir(&format!("{name}-work")));
    let body = format!("cd '{}' || exit 99\n{PRELUDE}{script}", f.tree.display());
    let o = run(&mut side.command(f, &upper, &work, &["timeout".as_ref(), "300".as_ref(), "sh".as_ref(), "-c".as_ref(), body.as_ref()]));
    assert_ne!(o.status.code(), Some(200), "{name}: the kernel's overlay mount failed:\n{}", stderr(&o));
    let l = run(&mut side.command(f, &upper, &work, &["python3".as_ref(), f.lister.as_os_str(), "merged".as_ref(), f.tree.as_os_str()]));
    assert!(l.status.success(), "{name} ({side:?}): listing the merged tree failed: {:?}\n{}", l.status, stderr(&l));
    let upper_mode = if side == Side::Kernel { "upper-kernel" } else { "upper" };
    Outcome { status: o.status.code(), stdout: stdout(&o), stderr: stderr(&o), merged: stdout(&l), upper: f.list(upper_mode, &upper) }
}

/// The lines only in `a` (`- `) or only in `b` (`+ `), in order (a longest common subsequence
/// diff), each with its line number in its own text.
fn diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {:>4}: {}\n", j + 1, b[j]);
            j += 1;
        } else {
            out += &format!("- {:>4}: {}\n", i + 1, a[i]);
            i += 1;
        }
    }
    out
}

/// One entry of a listing: its path and its other fields.
fn parse(listing: &str) -> BTreeMap<String, Vec<String>> {
    listing
        .lines()
        .map(|l| {
            let mut fields = l.split('\t').map(str::to_string);
            (fields.next().unwrap(), fields.collect())
        })
        .collect()
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

/// The upper listing (`upper` or `upper-kernel` lines) without its redundancies, given the lower
/// listing (`lower` lines); mtimes dropped. Two uppers that differ only in these give the same
/// merged tree over this lower, so which one a tool writes is its policy, not its correctness:
///
/// 1. An opaque marker in a directory the lower does not have as a directory hides nothing
///    (the kernel marks some new directories opaque as an optimization, e.g. one made where a
///    lower file was removed).
/// 2. A whiteout of a name the lower does not have, or below a (kept) opaque directory, hides
///    nothing.
/// 3. A file or symlink identical to the lower's (type, mode, content, and a file's mtime) that
///    no opaque directory above needs: a copy-up with no change (the kernel copies up on a
///    `chmod` to the same mode; a tool may skip that). A `touch`ed copy differs by its mtime
///    and is kept.
/// 4. A directory the lower has with the same mode, not opaque, under no opaque directory, with
///    nothing left below it (bottom up): the kernel copies up a directory when something inside
///    it changes, and keeps it when that change is undone (a temporary file made and removed).
fn normalize_upper(upper: &str, lower: &str) -> String {
    let lower = parse(lower);
    let entries = parse(upper);
    let is_lower_dir = |p: &str| lower.get(p).is_some_and(|f| f[0] == "d");
    // Rule 1: the opaque directories that count.
    let opaque: BTreeSet<&str> =
        entries.iter().filter(|(_, f)| f[0] == "opaque").filter_map(|(p, _)| parent(p)).filter(|dir| is_lower_dir(dir)).collect();
    // Whether `dir` or a directory above it is a counted opaque one.
    let opaque_from = |mut dir: Option<&str>| {
        while let Some(d) = dir {
            if opaque.contains(d) {
                return true;
            }
            dir = parent(d);
        }
        false
    };
    let mut kept: BTreeMap<&str, &Vec<String>> = BTreeMap::new();
    for (path, f) in &entries {
        let keep = match f[0].as_str() {
            "opaque" => parent(path).is_some_and(|d| opaque.contains(d)),
            "whiteout" => {
                // Rule 2.
                let (dir, name) = path.rsplit_once('/').map_or((None, path.as_str()), |(d, n)| (Some(d), n));
                let hidden = dir.map_or(String::new(), |d| format!("{d}/")) + name.strip_prefix(".wh.").unwrap_or(name);
                lower.contains_key(&hidden) && !opaque_from(dir)
            }
            "f" | "l" => {
                // Rule 3: lower fields are kind, mode, size, content, mtime, ctime, nlink;
                // upper fields kind, mode, content, nlink, mtime.
                let same = lower.get(path).is_some_and(|l| l[0] == f[0] && l[1] == f[1] && l[3] == f[2] && (f[0] == "l" || l[4] == f[4]));
                !same || opaque_from(parent(path))
            }
            _ => true,
        };
        if keep {
            kept.insert(path, f);
        }
    }
    // Rule 4, deepest first, so that a directory left empty by it counts as empty above.
    let mut dirs: Vec<&str> = kept.iter().filter(|(_, f)| f[0] == "d").map(|(p, _)| *p).collect();
    dirs.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    for dir in dirs {
        let f = kept[dir];
        let same = lower.get(dir).is_some_and(|l| l[0] == "d" && l[1] == f[1]);
        let below = format!("{dir}/");
        let empty = !kept.keys().any(|p| p.starts_with(&below));
        if same && empty && !opaque_from(Some(dir)) {
            kept.remove(dir);
        }
    }
    kept.iter().map(|(p, f)| format!("{p}\t{}\n", f[..f.len() - 1].join("\t"))).collect()
}

/// Runs `script` in the kernel's overlay and in kmview's (or the kernel's again), and compares
/// everything; panics with every difference, each as a diff of only the differing lines.
fn check(tag: &str, script: &str) {
    let f = Fixture::new(tag);
    let other = Side::other();
    let before = f.lower();
    let kernel = run_side(&f, Side::Kernel, "kernel", script);
    let after_kernel = f.lower();
    assert!(before == after_kernel, "{tag}: the kernel's run changed the lower tree (the oracle is broken):\n{}", diff(&before, &after_kernel));
    // Scripts are written to succeed: a failing one would compare nothing useful.
    assert!(
        kernel.status == Some(0),
        "{tag}: the script fails in the kernel's overlay ({:?}):\nstdout:\n{}\nstderr:\n{}",
        kernel.status,
        kernel.stdout,
        kernel.stderr
    );
    let ours = run_side(&f, other, "other", script);
    let after = f.lower();

    let name = if other == Side::Kmview { "kmview" } else { "kernel again" };
    let mut problems = String::new();
    if before != after {
        problems += &format!("\n== the lower tree changed (- before, + after):\n{}", diff(&before, &after));
    }
    if kernel.status != ours.status {
        problems += &format!("\n== exit status: kernel {:?}, {name} {:?}\n", kernel.status, ours.status);
    }
    if kernel.stdout != ours.stdout {
        problems += &format!("\n== the script's stdout (- kernel, + {name}):\n{}", diff(&kernel.stdout, &ours.stdout));
    }
    if kernel.merged != ours.merged {
        problems += &format!("\n== the merged tree (- kernel, + {name}):\n{}", diff(&kernel.merged, &ours.merged));
    }
    let (ku, ou) = (normalize_upper(&kernel.upper, &before), normalize_upper(&ours.upper, &before));
    if ku != ou {
        problems += &format!("\n== the upper directory, OCI form, normalized (- kernel, + {name}):\n{}", diff(&ku, &ou));
    }
    if !problems.is_empty() {
        panic!(
            "{tag}: {name} differs from the kernel's overlay:\n{problems}\n== stderr, kernel:\n{}\n== stderr, {name}:\n{}",
            kernel.stderr, ours.stderr
        );
    }
    if std::env::var_os("KMVIEW_OVERLAY_SHOW").is_some() {
        eprintln!("== {tag}: stdout\n{}== merged\n{}== upper\n{}== upper, normalized\n{ku}", kernel.stdout, kernel.merged, kernel.upper);
    }
}

/// A small xorshift generator: the big file's bytes and the crash test's delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// The scripts.
// ---------------------------------------------------------------------------------------------

#[test]
fn sed_in_place() {
    // sed writes a temporary file beside the original and renames it over.
    check("sed", "sed -i 's/Hello/Howdy/' src/hello.c && cat src/hello.c\nsed -i 1d 'notes with spaces.txt' docs/guide/deep/two.txt && cat 'notes with spaces.txt'\nF\n");
}

#[test]
fn rm_r_a_directory() {
    check("rm-r", "rm -r docs/guide && ls docs\nrm -r src/lib empty && F\nrm data/hard1 link-to-readme && cat data/hard2\n");
}

#[test]
fn mv_a_directory() {
    // rename(2) of a lower directory is EXDEV in the kernel's overlay; mv then copies and removes.
    check(
        "mv-dir",
        "mv docs manual && ls -R manual\nmv src/lib src/library && mv scripts manual/ && mv empty manual/guide/\nF\nL manual manual/guide\n",
    );
}

#[test]
fn rename_2_of_directories() {
    // The call itself: EXDEV for a directory the lower has (whole, or one copied up because
    // something inside changed), success for one made in the overlay.
    check(
        "rename-dir",
        r#"python3 - <<'EOF'
import os
def rename(a, b):
    try:
        os.rename(a, b)
        print('rename', a, b, 'ok')
    except OSError as e:
        print('rename', a, b, e.strerror)
rename('data', 'data2')
open('docs/guide/new', 'w').close()
rename('docs/guide', 'docs/guide2')
os.makedirs('made/inside')
rename('made', 'docs/made2')
rename('docs/made2/inside', 'inside')
rename('README.md', 'empty/README.md')
EOF
F
"#,
    );
}

#[test]
fn mv_a_file() {
    check(
        "mv-file",
        "mv README.md README.txt && mv 'notes with spaces.txt' docs/guide/ && mv src/hello.c src/lib/\n\
         mv data/hard1 data/hard3 && cat data/hard3 data/hard2 && stat -c '%n %h' data/hard3 data/hard2\n\
         mv link-to-readme docs/ && readlink docs/link-to-readme && F\n",
    );
}

#[test]
fn python_writes_renames_and_deletes() {
    check(
        "python",
        r#"python3 - <<'EOF'
import os
with open('new.txt', 'w') as f: f.write('new\n')
with open('README.md', 'w') as f: f.write('rewritten\n')
os.rename('new.txt', 'src/new.txt')
os.replace('docs/guide/intro.txt', 'docs/guide/deep/more.txt')
os.remove('Makefile')
os.makedirs('a/b/c')
with open('a/b/c/d', 'w') as f: f.write('d\n')
os.rename('a/b', 'docs/b')
os.rmdir('empty')
os.symlink('src/new.txt', 'newlink')
os.unlink('src/lib/readme')
with open('scripts/tmp', 'w') as f: f.write('temporary\n')
os.remove('scripts/tmp')
with open('data/hard1', 'r+') as f: f.seek(2); f.write('NK')
print(sorted(os.listdir('.')), sorted(os.listdir('docs')), open('data/hard2').read(), open('data/hard1').read())
EOF
F
"#,
    );
}

#[test]
fn tar_x_over_the_tree() {
    check(
        "tar",
        "tar xf dist/extra.tar && echo extracted\nF\nL . src/lib scripts docs docs/guide data data/hard2\ncat README.md link-to-readme latest\n",
    );
}

#[test]
fn chmod_recursive() {
    check("chmod", "chmod -R go-w . && L . scripts data\nstat -c '%n %a %y' scripts/run.sh data/group-writable.txt README.md\n");
}

#[test]
fn hard_links_made_in_the_overlay() {
    check(
        "ln",
        "ln README.md README.hard && stat -c '%n %h' README.md README.hard\necho more >> README.hard && cat README.md\n\
         ln src/lib/greet.h docs/greet.h && echo '/* x */' >> src/lib/greet.h && cat docs/greet.h\n\
         ln 'notes with spaces.txt' notes && rm 'notes with spaces.txt' && cat notes\n",
    );
}

#[test]
fn a_lower_hard_link_pair_copied_up() {
    // The kernel's copy-up (without its index) breaks a lower hard link: the other name keeps
    // the lower file.
    check("hard-pair", "echo changed > data/hard1 && cat data/hard1 data/hard2 && stat -c '%n %h' data/hard1 data/hard2\n");
}

#[test]
fn make_builds() {
    check("make", "make && ./hello && make && L .\n");
}

#[test]
fn make_then_make_clean() {
    check("make-clean", "make && ./hello && make clean && L . && git status --porcelain\n");
}

#[test]
fn git_branch_commit_and_gc() {
    check(
        "git",
        "git checkout -q -b x && echo edit >> README.md && git commit -q -am m && git gc -q\n\
         git log --format='%H %s' && git status --porcelain && git ls-files -s && git count-objects -v | grep -v size\n\
         git fsck --no-progress && git checkout -q main && cat README.md && git diff --stat main x\n",
    );
}

#[test]
fn a_directory_removed_and_made_again_is_opaque() {
    check(
        "opaque",
        "rm -r docs/guide && mkdir docs/guide && echo new > docs/guide/new.txt && ls docs/guide\n\
         rm -r src/lib && mkdir -p src/lib/deeper && echo y > src/lib/deeper/y && ls -R src\n\
         rm 'notes with spaces.txt' && mkdir 'notes with spaces.txt' && F\n",
    );
}

/// A lower file mapped shared and written through the mapping: the open for writing copied it
/// up first, so the mapping's writes reach the copy (and only it), as the kernel's overlay.
#[test]
fn mmap_writes_reach_the_copy() {
    check(
        "mmap",
        r#"python3 - <<'PY'
import mmap, os
with open('README.md', 'r+b') as f:
    m = mmap.mmap(f.fileno(), 0)
    m[0:4] = b'MMAP'
    m.flush()
    m.close()
print(open('README.md', 'rb').read()[:12])
PY
"#,
    );
}

#[test]
fn touch_copies_times_up() {
    check(
        "touch",
        "touch -d @1234567890 README.md && stat -c '%n %Y' README.md\n\
         touch -m -d '2001-02-03 04:05:06' src/hello.c && stat -c '%n %Y' src/hello.c\n\
         stat -c '%n %y' scripts/run.sh && chmod 700 scripts/run.sh && stat -c '%n %y %a' scripts/run.sh\n\
         touch docs/guide/intro.txt && test docs/guide/intro.txt -nt Makefile && echo newer\n\
         touch -a -d @1000000000 data/hard1 && stat -c '%n %X %y' data/hard1\n\
         touch brand-new && L . docs/guide\n",
    );
}

#[test]
fn reading_before_and_after_a_change() {
    let read = "cat README.md src/lib/readme link-to-readme 'notes with spaces.txt'; F; L . src src/lib docs/guide data\n";
    check(
        "read",
        &format!(
            "{read}echo changed >> README.md && echo more >> docs/guide/intro.txt && rm docs/guide/deep/two.txt && ln -sf hello.c src/lib/readme\n{read}"
        ),
    );
}

/// kmview's rule for a descriptor opened read-only before a copy-up: it keeps reading the
/// content it was opened on. This machine's kernel (overlayfs stacks its file operations since
/// Linux 4.19) shows such a descriptor the copied-up file instead, so the kernel is no oracle
/// here: the rule is asserted on kmview alone, with a fresh open seeing the change and the lower
/// tree untouched.
#[test]
fn a_descriptor_opened_before_a_copy_up() {
    let f = Fixture::new("old-fd");
    let before = f.lower();
    let o = run_side(
        &f,
        Side::Kmview,
        "kmview",
        r#"python3 - <<'PY'
import os
r = os.open('README.md', os.O_RDONLY)
head = os.read(r, 9)
a = os.open('README.md', os.O_WRONLY | os.O_APPEND)
os.write(a, b'appended\n')
os.close(a)
rest = os.read(r, 1000)
print('old descriptor ends with the append:', rest.endswith(b'appended\n'))
print('new open ends with the append:', open('README.md', 'rb').read().endswith(b'appended\n'))
PY
"#,
    );
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert_eq!(o.stdout, "old descriptor ends with the append: False\nnew open ends with the append: True\n", "{}", o.stderr);
    assert!(f.lower() == before, "the lower tree changed");
}

// ---------------------------------------------------------------------------------------------
// Crash safety.
// ---------------------------------------------------------------------------------------------

/// `echo x >> big` on a 64 MiB lower file, killed (the whole process group, SIGKILL) after a
/// random delay, 50 times, each with a fresh upper directory: the lower tree never changes, and
/// the upper's `big` is either absent or whole: the lower's bytes, with or without the appended
/// "x\n". The rule is about the name `big` only: a copy-up may write a temporary file under
/// another name in the upper and rename it to `big` when complete, and such a temporary file
/// may be left behind by a kill (the kernel keeps its in the work directory).
///
/// The delays are drawn from 0 to 30 ms, or to the length of a run not killed if that is
/// longer: a start alone takes tens of milliseconds (the kernel's run, mount and copy, about
/// 55 ms here), and kills that all land before the copy would test nothing.
#[test]
fn a_copy_up_killed_at_any_moment_leaves_no_partial_file() {
    const LEN: usize = 64 << 20;
    let (f, lower) = Fixture::with_big_file("crash", LEN);
    let side = Side::other();
    let before = f.lower();
    let seed = std::env::var("KMVIEW_OVERLAY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    let mut rng = Rng(seed);
    let script = format!("echo x >> '{}'", f.tree.join("big").display());
    let start = |round: &str| {
        let (upper, work) = (f.dir(&format!("upper-{round}")), f.dir(&format!("work-{round}")));
        let mut cmd = side.command(&f, &upper, &work, &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0).spawn().expect("start the writer");
        (child, upper, work)
    };

    // A run to its end: it works, and how long it takes.
    let t0 = std::time::Instant::now();
    let (child, upper, work) = start("whole");
    let o = child.wait_with_output().unwrap();
    let whole = t0.elapsed();
    assert!(o.status.success(), "{side:?}: the append failed: {:?}\n{}", o.status, stderr(&o));
    let got = std::fs::read(upper.join("big")).unwrap();
    assert!(got.len() == LEN + 2 && got[..LEN] == lower[..] && &got[LEN..] == b"x\n", "{side:?}: the append made {} bytes", got.len());
    assert!(before == f.lower(), "{side:?}: the append changed the lower tree");
    std::fs::remove_dir_all(&upper).unwrap();
    let _ = std::fs::remove_dir_all(&work);
    let window = whole.max(Duration::from_millis(30)).as_micros() as u64;

    let mut outcomes = BTreeMap::new();
    for round in 0..50 {
        let (mut child, upper, work) = start(&round.to_string());
        let delay = Duration::from_micros(rng.next() % (window + 1));
        std::thread::sleep(delay);
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let status = child.wait().unwrap();
        let context = format!("round {round} (seed {seed}, KMVIEW_OVERLAY_SEED to repeat), killed after {delay:?}, {status:?}");

        let now = f.lower();
        assert!(before == now, "{context}: the lower tree changed:\n{}", diff(&before, &now));
        let outcome = match std::fs::symlink_metadata(upper.join("big")) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "absent",
            Err(e) => panic!("{context}: upper/big: {e}"),
            Ok(m) => {
                assert!(m.file_type().is_file(), "{context}: upper/big is not a regular file: {m:?}");
                let got = std::fs::read(upper.join("big")).unwrap();
                let whole = got.len() == LEN && got == lower;
                let appended = got.len() == LEN + 2 && got[..LEN] == lower[..] && &got[LEN..] == b"x\n";
                assert!(whole || appended, "{context}: upper/big is a partial copy: {} bytes (lower: {LEN})", got.len());
                if whole {
                    "copied"
                } else {
                    "appended"
                }
            }
        };
        *outcomes.entry(outcome).or_insert(0) += 1;
        std::fs::remove_dir_all(&upper).unwrap();
        let _ = std::fs::remove_dir_all(&work);
    }
    eprintln!("crash test ({side:?}, seed {seed}, a whole run {whole:?}): {outcomes:?}");
}

// ---------------------------------------------------------------------------------------------
// The harness's own checks.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_comparison_shows_only_differing_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nB\nc\nd\n"), "+    2: B\n-    2: b\n+    4: d\n");
    assert_eq!(diff("same\n", "same\n"), "");
}

#[test]
fn the_upper_normalization_drops_only_redundancies() {
    let lower = "\
.\td\t0755\t4096\t-\t1\t1\t5
a\td\t0755\t4096\t-\t1\t1\t2
a/f\tf\t0644\t2\tH1\t100\t1\t1
b\td\t0755\t4096\t-\t1\t1\t2
gone\tf\t0644\t2\tH2\t100\t1\t1
";
    let upper = "\
a\td\t0755\t-\t-\t-
a/.wh..wh..opq\topaque\t-\t-\t-\t-
a/f\tf\t0644\tH1\t1\t100
b\td\t0755\t-\t-\t-
b/f\tf\t0644\tH1\t1\t100
c\td\t0755\t-\t-\t-
c/.wh..wh..opq\topaque\t-\t-\t-\t-
.wh.gone\twhiteout\t-\t-\t-\t-
.wh.never\twhiteout\t-\t-\t-\t-
";
    // a is opaque over a lower directory: kept, and its unchanged f with it. b: only a new
    // file. c: new, its marker redundant. .wh.never hides nothing.
    let want = "\
.wh.gone\twhiteout\t-\t-\t-
a\td\t0755\t-\t-
a/.wh..wh..opq\topaque\t-\t-\t-
a/f\tf\t0644\tH1\t1
b\td\t0755\t-\t-
b/f\tf\t0644\tH1\t1
c\td\t0755\t-\t-
";
    assert_eq!(normalize_upper(upper, lower), want);
    // An unchanged copy-up and an untouched directory vanish.
    assert_eq!(normalize_upper("a\td\t0755\t-\t-\t-\na/f\tf\t0644\tH1\t1\t100\n", lower), "");
    // A touched one (another mtime) and a chmodded directory stay.
    assert_eq!(normalize_upper("a\td\t0700\t-\t-\t-\na/f\tf\t0644\tH1\t1\t200\n", lower), "a\td\t0700\t-\t-\na/f\tf\t0644\tH1\t1\n");
}

// ---------------------------------------------------------------------------------------------
// With the fake root in the same view.
// ---------------------------------------------------------------------------------------------

/// Run as an unprivileged user (as root, a real chown would work and prove nothing): what the
/// fake root records of a lower file (an owner by chown, a setuid mode by chmod) holds for the
/// file once a write copies it up, and tar sees it; the lower tree keeps its real owners and
/// modes, and upper's copies have the safe modes the fake root puts on disk.
#[test]
fn fake_root_records_move_with_a_copy_up() {
    let s = Scratch::new("overlay-fakeroot");
    let (low, up) = (s.join("low"), s.join("up"));
    std::fs::create_dir_all(low.join("d")).unwrap();
    std::fs::create_dir_all(&up).unwrap();
    std::fs::write(low.join("d/f"), "data\n").unwrap();
    std::fs::write(low.join("d/g"), "g\n").unwrap();
    let own = Command::new("chown").args(["-R", "65534:65534"]).arg(s.path()).status().unwrap();
    assert!(own.success());
    let before = ok(Command::new("sh").arg("-c").arg(format!("cd '{}' && ls -ln d && cat d/f d/g", low.display())).output().unwrap());
    let script = format!(
        "cd '{}/d' && chown 123:456 f && echo more >> f && chmod 4755 g && echo x >> g && stat -c '%n %u:%g %a' f g && tar cf - f g | tar tvf - | awk '{{print $1, $2}}'",
        low.display()
    );
    let o = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(launcher())
        .arg("-0")
        .arg("--overlay")
        .arg(format!("{}:{}", low.display(), up.display()))
        .args(["--", "sh", "-c", &script]));
    assert_eq!(ok(o), "f 123:456 644\ng 0:0 4755\n-rw-r--r-- 123/456\n-rwsr-xr-x root/root\n", "the recorded owner and mode hold after the copy-up");
    let after = ok(Command::new("sh").arg("-c").arg(format!("cd '{}' && ls -ln d && cat d/f d/g", low.display())).output().unwrap());
    assert_eq!(before, after, "the lower tree changed");
    let upper = ok(Command::new("stat").args(["-c", "%n %u %a"]).arg(up.join("d/f")).arg(up.join("d/g")).output().unwrap());
    assert_eq!(
        upper,
        format!("{} 65534 644\n{} 65534 755\n", up.join("d/f").display(), up.join("d/g").display()),
        "upper's copies: the real user, safe modes"
    );
}

// ---------------------------------------------------------------------------------------------
// A real flow: a package installed into an overlay over a root.
// ---------------------------------------------------------------------------------------------

/// `dpkg -i` of a small .deb, run by an unprivileged user under the fake root, in a Debian root
/// made copy-on-write (`--root R --overlay /`): the package installs and runs, the root is not
/// changed by a byte (paths, sizes, modes, owners), and `kmview overlay diff` of the changes
/// lists exactly the package's files and dpkg's own records of them.
#[test]
fn dpkg_install_into_an_overlay_over_a_root() {
    let root = debian_root();
    let s = Scratch::new("overlay-dpkg");
    let (pkg, input, up) = (s.join("pkg"), s.join("in"), s.join("up"));
    for d in ["DEBIAN", "usr/bin", "usr/share/hello-ov"] {
        std::fs::create_dir_all(pkg.join(d)).unwrap();
    }
    std::fs::create_dir_all(&input).unwrap();
    std::fs::create_dir_all(&up).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        "Package: hello-ov\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: a test\n",
    )
    .unwrap();
    std::fs::write(pkg.join("usr/bin/hello-ov"), "#!/bin/sh\necho hello from the overlay\n").unwrap();
    std::fs::write(pkg.join("usr/share/hello-ov/README"), "read me\n").unwrap();
    ok(Command::new("chmod").arg("755").arg(pkg.join("usr/bin/hello-ov")).output().unwrap());
    ok(Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&pkg).arg(input.join("hello-ov.deb")).output().unwrap());
    ok(Command::new("chown").args(["-R", "65534:65534"]).arg(s.path()).output().unwrap());
    let listing = format!("cd '{}' && find . -xdev -printf '%p %y %s %m %U %G\\n' | sort | sha256sum", root.display());
    let before = ok(Command::new("sh").arg("-c").arg(&listing).output().unwrap());
    let o = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(launcher())
        .arg("--root")
        .arg(root)
        .arg("-b")
        .arg(format!("{}:/in", input.display()))
        .arg("--overlay")
        .arg(format!("/:{}", up.display()))
        .arg("-0")
        .args(["--", "sh", "-c", "dpkg -i /in/hello-ov.deb >/dev/null && hello-ov && dpkg -s hello-ov | grep Status"]));
    assert_eq!(ok(o), "hello from the overlay\nStatus: install ok installed\n");
    assert_eq!(ok(Command::new("sh").arg("-c").arg(&listing).output().unwrap()), before, "the root changed");
    let diff = ok(Command::new(launcher()).args(["overlay", "diff"]).arg(&up).arg(root).output().unwrap());
    let lines: Vec<&str> = diff.lines().collect();
    for want in
        ["A usr/bin/hello-ov", "A usr/share/hello-ov/", "A usr/share/hello-ov/README", "A var/lib/dpkg/info/hello-ov.list", "M var/lib/dpkg/status"]
    {
        assert!(lines.contains(&want), "`{want}` missing from the diff:\n{diff}");
    }
    let dpkg_own = |l: &str| l[2..].starts_with("var/lib/dpkg/") || l[2..].starts_with("var/log/dpkg.log");
    // A directory copied up by an unprivileged user is theirs on disk (the kernel's chown is
    // refused; the fake root shows the lower owner): `overlay diff` says so, for the directories
    // that hold the changes and nothing else.
    let copied_dir = |l: &str| {
        l.starts_with("o ")
            && l.ends_with("/ (0:0 -> 65534:65534)")
            && ["usr/", "usr/bin/", "usr/share/", "var/", "var/lib/", "var/log/"].iter().any(|d| l[2..].starts_with(&format!("{d} ")))
    };
    let stray: Vec<&&str> = lines.iter().filter(|l| !l[2..].contains("hello-ov") && !dpkg_own(l) && !copied_dir(l)).collect();
    assert!(stray.is_empty(), "the diff lists more than the package and dpkg's records: {stray:?}\n{diff}");
}

// ---------------------------------------------------------------------------------------------
// Overlays with other mounts, and in nested views.
// ---------------------------------------------------------------------------------------------

/// An overlay of a bind's mountpoint (in the view inside the bind's), and an overlay over an
/// overlay (the inner one's lower tree is the outer one's merged tree): each view's changes
/// land in its own upper, nothing below is written.
#[test]
fn overlays_in_nested_views() {
    let s = Scratch::new("overlay-nested");
    let (src, up, up2) = (s.join("src"), s.join("up"), s.join("up2"));
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::create_dir_all(&up).unwrap();
    std::fs::create_dir_all(&up2).unwrap();
    std::fs::write(src.join("a/f"), "one\n").unwrap();
    let k = launcher().display().to_string();
    let script = "cd /mnt/w && echo two >> a/f && cat a/f && rm a/f && echo new > a/g && mkdir b && ls -a a && ls";
    let o = run(Command::new(launcher())
        .arg("-b")
        .arg(format!("{}:/mnt/w", src.display()))
        .args(["--", &k, "--overlay"])
        .arg(format!("/mnt/w:{}", up.display()))
        .args(["--", "sh", "-c", script]));
    assert_eq!(ok(o), "one\ntwo\n.\n..\ng\na\nb\n");
    assert_eq!(std::fs::read_to_string(src.join("a/f")).unwrap(), "one\n", "the bind's source was written");
    let listed = |d: &Path| ok(Command::new("sh").arg("-c").arg(format!("cd '{}' && find . | sort", d.display())).output().unwrap());
    assert_eq!(listed(&up), ".\n./a\n./a/.wh.f\n./a/g\n./b\n");
    // An overlay over that overlay: the inner changes land in up2 only.
    let dir = src.display().to_string();
    let o = run(Command::new(launcher())
        .arg("--overlay")
        .arg(format!("{dir}:{}", up.display()))
        .args(["--", &k, "--overlay"])
        .arg(format!("{dir}:{}", up2.display()))
        .args(["--", "sh", "-c", &format!("cd '{dir}' && cat a/g && echo more >> a/g && rm -r b && ls")]));
    assert_eq!(ok(o), "new\na\n");
    assert_eq!(listed(&up), ".\n./a\n./a/.wh.f\n./a/g\n./b\n", "the outer upper changed");
    assert_eq!(listed(&up2), ".\n./.wh.b\n./a\n./a/g\n");
    assert_eq!(std::fs::read_to_string(up2.join("a/g")).unwrap(), "new\nmore\n");
    assert_eq!(std::fs::read_to_string(up.join("a/g")).unwrap(), "new\n");
}

/// The embedding API's overlay: a build tool makes the view in code, runs a command that
/// changes the tree, and reads the layer back with `kmview_api::layer`.
#[test]
fn the_api_builds_an_overlay() {
    let s = Scratch::new("overlay-api");
    let (dir, up) = (s.join("tree"), s.join("changes"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/a.c"), "int a;\n").unwrap();
    std::fs::write(dir.join("old.txt"), "old\n").unwrap();
    let view = kmview_api::ViewBuilder::new().overlay(&dir, &up).library(library());
    let status =
        view.command("sh").unwrap().arg("-c").arg("echo built > out.o && rm old.txt && echo b >> src/a.c").current_dir(&dir).status().unwrap();
    assert!(status.success());
    drop(view);
    assert!(!dir.join("out.o").exists() && dir.join("old.txt").exists(), "the tree was written");
    assert_eq!(std::fs::read_to_string(dir.join("src/a.c")).unwrap(), "int a;\n");
    let diff = ok(Command::new(launcher()).args(["overlay", "diff"]).arg(&up).arg(&dir).output().unwrap());
    assert_eq!(diff, "D old.txt\nA out.o\nM src/a.c\n");
}

/// Two overlays in one view, and an overlay at a bind's mountpoint in the same view (it takes
/// the bind's place: the bind's source copy-on-write): each tree's changes in its own upper.
#[test]
fn several_overlays_and_an_overlay_of_a_bind_in_one_view() {
    let s = Scratch::new("overlay-several");
    for d in ["one", "two", "src", "up1", "up2", "up3"] {
        std::fs::create_dir_all(s.join(d)).unwrap();
    }
    for d in ["one", "two", "src"] {
        std::fs::write(s.join(d).join("f"), format!("{d}\n")).unwrap();
    }
    let p = |d: &str| s.join(d).display().to_string();
    let o = run(Command::new(launcher())
        .args(["--overlay", &format!("{}:{}", p("one"), p("up1"))])
        .args(["--overlay", &format!("{}:{}", p("two"), p("up2"))])
        .args(["-b", &format!("{}:/mnt/b", p("src"))])
        .args(["--overlay", &format!("/mnt/b:{}", p("up3"))])
        .args([
            "--",
            "sh",
            "-c",
            &format!("echo 1 >> '{}/f' && rm '{}/f' && echo 3 >> /mnt/b/f && cat '{}/f' /mnt/b/f && ls '{}'", p("one"), p("two"), p("one"), p("two")),
        ]));
    assert_eq!(ok(o), "one\n1\nsrc\n3\n");
    for d in ["one", "two", "src"] {
        assert_eq!(std::fs::read_to_string(s.join(d).join("f")).unwrap(), format!("{d}\n"), "{d} was written");
    }
    assert_eq!(std::fs::read_to_string(s.join("up1/f")).unwrap(), "one\n1\n");
    assert!(s.join("up2/.wh.f").exists() && !s.join("up2/f").exists());
    assert_eq!(std::fs::read_to_string(s.join("up3/f")).unwrap(), "src\n3\n");
}

/// The lower tree is written by no name and no call form: a symlink from outside the overlay
/// into it, `..` in a rename's names, the working directory changed through
/// `/proc/self/cwd` or an empty path (`AT_EMPTY_PATH`), a descriptor opened read-only (fchmod,
/// a hard link to it by `AT_EMPTY_PATH` or `/proc/self/fd/N`), a name made over a lower one
/// (`mkdir`, `ln`, `mv -n`): each change lands in upper or is refused, and the lower tree's
/// listing (with sizes, modes and times) is what it was.
#[test]
fn the_lower_tree_is_written_by_no_name() {
    let s = Scratch::new("overlay-no-name");
    let (low, up, link) = (s.join("low"), s.join("up"), s.join("into"));
    std::fs::create_dir_all(low.join("d")).unwrap();
    std::fs::create_dir_all(&up).unwrap();
    std::fs::write(low.join("f"), "f\n").unwrap();
    std::fs::write(low.join("b"), "b\n").unwrap();
    std::fs::write(low.join("c"), "c\n").unwrap();
    std::os::unix::fs::symlink(&low, &link).unwrap();
    let listing = format!("cd '{}' && find . -printf '%p %y %s %m %T@ %C@\\n' | sort", low.display());
    let before = ok(Command::new("sh").arg("-c").arg(&listing).output().unwrap());
    let (l, i) = (low.display().to_string(), link.display().to_string());
    let script = format!(
        r#"echo x > '{i}/new'; echo "through a link: $?"
cd '{l}/d' && chmod 777 /proc/self/cwd 2>/dev/null; echo "cwd by /proc: $?"
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_EMPTY_PATH = -100, 0x1000
r = libc.fchownat(AT_FDCWD, b"", -1, os.getgid(), AT_EMPTY_PATH)
print("cwd by an empty path:", r, ctypes.get_errno() if r else 0)
fd = os.open("{l}/b", os.O_RDONLY)
try:
    os.fchmod(fd, 0o777)
    print("fchmod: 0")
except OSError as e:
    print("fchmod:", e.errno)
r = libc.linkat(fd, b"", AT_FDCWD, b"{l}/b-link", AT_EMPTY_PATH)
print("link by an empty path:", r, ctypes.get_errno() if r else 0)
r = libc.linkat(AT_FDCWD, ("/proc/self/fd/%d" % fd).encode(), AT_FDCWD, b"{l}/b-link2", 0x400)
print("link by /proc/self/fd:", r, ctypes.get_errno() if r else 0)
PY
cd '{l}'
mkdir d 2>/dev/null; echo "mkdir over lower: $?"
ln f b 2>/dev/null; echo "ln over lower: $?"
mv -n f b; cat b
mv '{l}/../low/f' '{l}/g'; echo "mv with ..: $?"
exec 3<c; echo more >> c
python3 -c 'import os
try:
    os.fchmod(3, 0o777); print("an inherited descriptor on a file since copied up: 0")
except OSError as e:
    print("an inherited descriptor on a file since copied up:", e.errno)'
ls
"#
    );
    let o = run(Command::new(launcher()).arg("--overlay").arg(format!("{l}:{}", up.display())).args(["--", "sh", "-c", &script]));
    assert_eq!(
        ok(o),
        "through a link: 0\ncwd by /proc: 1\ncwd by an empty path: -1 30\nfchmod: 30\nlink by an empty path: -1 18\nlink by /proc/self/fd: -1 18\n\
         mkdir over lower: 1\nln over lower: 1\nb\nmv with ..: 0\nan inherited descriptor on a file since copied up: 30\nb\nc\nd\ng\nnew\n"
    );
    assert_eq!(ok(Command::new("sh").arg("-c").arg(&listing).output().unwrap()), before, "the lower tree changed");
    assert_eq!(std::fs::read_to_string(up.join("new")).unwrap(), "x\n");
    assert_eq!(std::fs::read_to_string(up.join("g")).unwrap(), "f\n");
}
