//! The harness of the integration tests: builds `libkmview.so` and the launcher once, runs
//! real programs under them, compiles small C programs, and makes scratch directories.
//!
//! Every test compares what a program does inside a view with the oracle: the same program
//! run natively on the real path, or the real file's contents.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace's root directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The built artifacts: `(launcher, library)`.
pub fn artifacts() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status =
            Command::new(cargo).args(["build", "-p", "kmview", "-p", "kmview-launcher"]).current_dir(root()).status().expect("run cargo build");
        assert!(status.success(), "cargo build failed");
        let dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target")).join("debug");
        let pair = (dir.join("kmview"), dir.join("libkmview.so"));
        assert!(pair.0.is_file() && pair.1.is_file(), "missing {pair:?}");
        pair
    })
}

pub fn launcher() -> &'static Path {
    &artifacts().0
}

pub fn library() -> &'static Path {
    &artifacts().1
}

/// `kmview ARGS...` as a Command (stdin closed).
pub fn kmview<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(launcher());
    c.args(args).stdin(Stdio::null());
    c
}

/// Runs a command and returns its output, panicking if it could not start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// `sh -c SCRIPT` inside `kmview --unreal`.
pub fn unreal_sh(script: &str) -> Output {
    run(&mut kmview(["--unreal", "--", "sh", "-c", script]))
}

/// `sh -c SCRIPT` natively.
pub fn native_sh(script: &str) -> Output {
    run(Command::new("sh").args(["-c", script]).stdin(Stdio::null()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {:?}\nstdout:\n{}\nstderr:\n{}", o.status, stdout(&o), stderr(&o));
    stdout(&o)
}

/// A scratch directory, removed on drop. Its path is canonical (no symlink in it).
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = std::env::temp_dir().canonicalize().unwrap();
        let p = base.join(format!("kmview-test-{}-{}-{tag}", std::process::id(), n));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    /// A scratch directory with exactly this name (under the temp dir, with the process id):
    /// for two fixtures whose paths must have the same length.
    pub fn named(name: &str) -> Scratch {
        let base = std::env::temp_dir().canonicalize().unwrap();
        let p = base.join(format!("kmview-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }

    /// The same directory seen through `/unreal`.
    pub fn unreal(&self) -> String {
        format!("/unreal{}", self.0.display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compiles a C program (extra `gcc` flags allowed) into `dir`, returning the binary's path.
pub fn compile_c(dir: &Path, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let bin = dir.join(name);
    let o = run(Command::new("gcc").args(["-O1", "-Wall", "-o"]).arg(&bin).arg(&src).args(flags));
    assert!(o.status.success(), "gcc failed for {name}:\n{}", stderr(&o));
    bin
}

/// A root for the `--root` tests: a Debian 12 minbase root made by `debootstrap` (once, kept
/// under `target/`), or, where `debootstrap` or its mirror is missing (or `KMVIEW_TEST_ROOT=host`
/// asks for it), one built from copies of this machine's own files (`host_root`): still a real
/// root, with its own loader, libraries, shell, tools and package database. Panics if neither
/// can be made: the tests that need it must not pass without it.
pub fn debian_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let roots = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target")).join("kmview-roots");
        let forced_host = std::env::var_os("KMVIEW_TEST_ROOT").is_some_and(|v| v == "host");
        let dir = roots.join("bookworm");
        if !forced_host {
            if dir.join("etc/os-release").exists() && dir.join(".complete").exists() {
                return dir;
            }
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            // A mirror that does not answer must not hold the tests up for long.
            match Command::new("timeout")
                .args(["600", "debootstrap", "--variant=minbase", "bookworm"])
                .arg(&dir)
                .arg("http://deb.debian.org/debian")
                .output()
            {
                Ok(o) if o.status.success() => {
                    std::fs::write(dir.join(".complete"), b"").unwrap();
                    return dir;
                }
                Ok(o) => eprintln!("debootstrap failed; the root tests use a root copied from this machine:\n{}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => eprintln!("debootstrap cannot run ({e}); the root tests use a root copied from this machine"),
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        let host = roots.join("host-copy");
        if !host.join(".complete").exists() {
            let _ = std::fs::remove_dir_all(&host);
            host_root(&host);
            std::fs::write(host.join(".complete"), b"").unwrap();
        }
        host
    })
}

/// The programs a host-copied root holds (with what they need to run).
const HOST_ROOT_PROGRAMS: &[&str] = &[
    "sh",
    "dash",
    "bash",
    "ls",
    "cat",
    "grep",
    "awk",
    "mawk",
    "sed",
    "head",
    "tail",
    "sort",
    "uniq",
    "wc",
    "tr",
    "cut",
    "readlink",
    "realpath",
    "stat",
    "find",
    "env",
    "id",
    "echo",
    "printf",
    "test",
    "true",
    "false",
    "mkdir",
    "rm",
    "rmdir",
    "touch",
    "ln",
    "mv",
    "cp",
    "chmod",
    "pwd",
    "dirname",
    "basename",
    "dpkg",
    "dpkg-query",
];

/// Builds a root at `dir` from copies (new inodes: the root's files are not the host's) of this
/// machine's programs above, the libraries and loader they load, the links on the way to them
/// (`/bin`, `/lib64`, `/etc/alternatives/…`), a few files of `/etc` and the package database.
fn host_root(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for d in ["tmp", "proc", "dev", "root", "var/lib", "etc/apt", "etc/ld.so.conf.d"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::set_permissions(dir.join("tmp"), std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    let mut wanted: Vec<PathBuf> = Vec::new();
    for name in HOST_ROOT_PROGRAMS {
        if let Some(p) = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().map(|d| Path::new(d).join(name)).find(|p| p.exists()) {
            wanted.push(p);
        }
    }
    let programs = wanted.clone();
    for prog in &programs {
        let o = Command::new("ldd").arg(prog).output().expect("run ldd");
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            // "libx.so => /path (addr)" or "/lib64/ld-linux-x86-64.so.2 (addr)"
            let path = line.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
            if path.starts_with('/') {
                wanted.push(PathBuf::from(path));
            }
        }
    }
    // The top-level links of a merged /usr (or the directories, where they are not links).
    for top in ["/bin", "/sbin", "/lib", "/lib64"] {
        wanted.push(PathBuf::from(top));
    }
    wanted.push(PathBuf::from("/bin/sh"));
    for etc in ["/etc/os-release", "/etc/debian_version", "/etc/hostname", "/etc/passwd", "/etc/group", "/etc/ld.so.conf", "/var/lib/dpkg/status"] {
        wanted.push(PathBuf::from(etc));
    }
    for p in wanted {
        copy_into_root(dir, &p, 0);
    }
    for d in ["/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/var/lib/dpkg/triggers"] {
        std::fs::create_dir_all(dir.join(d.trim_start_matches('/'))).unwrap();
    }
    for f in ["/var/lib/dpkg/available", "/var/lib/dpkg/diversions", "/var/lib/dpkg/statoverride"] {
        let _ = std::fs::write(dir.join(f.trim_start_matches('/')), b"");
    }
}

/// Copies `path` of this machine into the root at the same path: each symlink on the way (its
/// directories' and its own) as a symlink, then what it leads to.
fn copy_into_root(dir: &Path, path: &Path, depth: u32) {
    if depth > 16 {
        return;
    }
    // The directories on the way first: `/bin` may be a link to `usr/bin`.
    let mut so_far = PathBuf::from("/");
    let comps: Vec<_> = path.components().skip(1).collect();
    for (i, c) in comps.iter().enumerate() {
        so_far.push(c);
        let inside = dir.join(so_far.strip_prefix("/").unwrap());
        let Ok(meta) = std::fs::symlink_metadata(&so_far) else { return };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&so_far).unwrap();
            if std::fs::symlink_metadata(&inside).is_err() {
                if let Some(parent) = inside.parent() {
                    std::fs::create_dir_all(parent).unwrap();
                }
                std::os::unix::fs::symlink(&target, &inside).unwrap();
            }
            let resolved = if target.is_absolute() { target } else { so_far.parent().unwrap().join(target) };
            let rest: PathBuf = comps[i + 1..].iter().collect();
            copy_into_root(dir, &normalize_lexically(&resolved.join(rest)), depth + 1);
            return;
        }
        if i + 1 < comps.len() {
            if !meta.is_dir() {
                return;
            }
            std::fs::create_dir_all(&inside).unwrap();
        } else if meta.is_dir() {
            std::fs::create_dir_all(&inside).unwrap();
        } else if std::fs::symlink_metadata(&inside).is_err() {
            std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
            std::fs::copy(&so_far, &inside).unwrap();
        }
    }
}

fn normalize_lexically(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// The unprivileged user the tests run a subject as when they run as root (`nobody`).
pub const NOBODY: u32 = 65534;

/// Whether the tests run as root (then a subject of a fake root, chroot or permission test runs
/// as [`NOBODY`]).
pub fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Directories an unprivileged user can work in: `work/` (theirs when the tests run as root)
/// and `bin/` holding copies of the launcher, the library beside it, and `extra` (a program
/// and the name to copy it as).
pub struct UserDirs {
    pub scratch: Scratch,
    pub work: PathBuf,
    pub bin: PathBuf,
}

pub fn user_dirs(tag: &str, extra: &[(&Path, &str)]) -> UserDirs {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new(tag);
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let work = scratch.join("work");
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(launcher(), bin.join("kmview")).unwrap();
    std::fs::copy(library(), bin.join("libkmview.so")).unwrap();
    for (program, name) in extra {
        std::fs::copy(program, bin.join(name)).unwrap();
    }
    if is_root() {
        std::os::unix::fs::chown(&work, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    UserDirs { scratch, work, bin }
}
