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

/// A Debian 12 minbase root made by `debootstrap` (once, kept under `target/`), for the
/// `--root` tests. Panics if it cannot be made: the tests that need it must not pass without it.
pub fn debian_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target")).join("kmview-roots/bookworm");
        if dir.join("etc/os-release").exists() && dir.join(".complete").exists() {
            return dir;
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let o = run(Command::new("debootstrap").args(["--variant=minbase", "bookworm"]).arg(&dir).arg("http://deb.debian.org/debian"));
        assert!(o.status.success(), "debootstrap failed (is it installed? .ci/run installs it):\n{}\n{}", stdout(&o), stderr(&o));
        std::fs::write(dir.join(".complete"), b"").unwrap();
        dir
    })
}
