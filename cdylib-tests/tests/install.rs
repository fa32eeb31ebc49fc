//! `cargo install --path launcher` (issue 15): the installed `kmview`, alone in a fresh root's
//! `bin/` with no library beside it, runs a view from the library it carries, unpacked once into
//! the user's cache, checked at every start, replaced when damaged; an unwritable cache is one
//! line and 125.
//!
//! One install for the whole file (a release build of the launcher and, nested, of the library:
//! a minute or two the first time, seconds when the workspace's target/release is up to date).

use kmview_cdylib_tests::*;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `cargo install --path <tree>/launcher --root ROOT --locked`, offline when every crate is in
/// the local cache; run from outside the tree. Returns ROOT/bin.
fn install(root: &Path, cwd: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let attempt = |offline: bool| {
        let mut c = Command::new(&cargo);
        c.arg("install").arg("--path").arg(kmview_cdylib_tests::root().join("launcher")).arg("--root").arg(root).arg("--locked");
        c.current_dir(cwd).stdin(Stdio::null());
        for v in ["KMVIEW_EMBED", "KMVIEW_EMBED_LIB", "KMVIEW_LIB", "KMVIEW_STACK", "LD_PRELOAD"] {
            c.env_remove(v);
        }
        if offline {
            c.arg("--offline").env("CARGO_NET_OFFLINE", "true");
        }
        run(&mut c)
    };
    let started = std::time::Instant::now();
    let mut o = attempt(true);
    if !o.status.success() && stderr(&o).contains("offline") {
        eprintln!("offline install failed, trying online:\n{}", stderr(&o));
        o = attempt(false);
    }
    assert!(o.status.success(), "cargo install failed:\n{}", stderr(&o));
    eprintln!("cargo install took {:.1} s", started.elapsed().as_secs_f64());
    root.join("bin")
}

struct Installed {
    bin: PathBuf,
    home: PathBuf,
    cwd: PathBuf,
}

impl Installed {
    /// `bin/NAME ARGS` with HOME and XDG_CACHE_HOME in the scratch home (`cache`: None leaves
    /// XDG_CACHE_HOME unset), no KMVIEW_LIB, from a directory outside the source tree.
    fn run(&self, name: &str, cache: Option<&Path>, args: &[&str]) -> Output {
        let mut c = Command::new(self.bin.join(name));
        c.args(args).current_dir(&self.cwd).stdin(Stdio::null()).env("HOME", &self.home);
        for v in ["KMVIEW_LIB", "KMVIEW_STACK", "KMVIEW_CWD", "LD_PRELOAD", "XDG_CACHE_HOME"] {
            c.env_remove(v);
        }
        if let Some(cache) = cache {
            c.env("XDG_CACHE_HOME", cache);
        }
        run(&mut c)
    }
}

fn hostname_file() -> &'static str {
    if Path::new("/etc/hostname").is_file() {
        "/etc/hostname"
    } else {
        "/etc/passwd"
    }
}

/// The one library under `cache/kmview/`, in a directory named by 16 hex digits.
fn cached(cache: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(cache.join("kmview")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let key = dirs[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(key.len() == 16 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    let files: Vec<_> = std::fs::read_dir(&dirs[0]).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["libkmview.so"], "only the library, no temporary file left");
    dirs[0].join("libkmview.so")
}

#[test]
fn cargo_install_gives_a_kmview_that_carries_its_library() {
    let s = Scratch::new("install");
    let cwd = s.join("elsewhere");
    let home = s.join("home");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let bin = install(&s.join("root"), &cwd);
    let mut names: Vec<String> = std::fs::read_dir(&bin).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert!(names.contains(&"kmview".to_string()) && names.iter().all(|n| n.starts_with("kmview")), "{names:?}");
    assert!(!s.join("root/lib").exists());
    let k = Installed { bin, home: home.clone(), cwd };
    let cache = home.join("cache");
    let want = std::fs::read(hostname_file()).unwrap();
    let args = ["--unreal", "--", "cat"];
    let unreal = format!("/unreal{}", hostname_file());
    let cat = |cache: Option<&Path>| {
        let mut a = args.to_vec();
        a.push(&unreal);
        let started = std::time::Instant::now();
        let o = k.run("kmview", cache, &a);
        assert!(o.status.success(), "{:?}: {}", o.status, stderr(&o));
        assert_eq!(o.stdout, want);
        started.elapsed()
    };

    // The first run unpacks the library; --print-lib names it; it is kmview's, of this version.
    let first = cat(Some(&cache));
    let lib = cached(&cache);
    let printed = ok(k.run("kmview", Some(&cache), &["--print-lib"]));
    assert_eq!(Path::new(printed.trim()), lib.canonicalize().unwrap());
    kmview_api::libcheck::check(&lib).unwrap();
    let meta = std::fs::metadata(&lib).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    let original = std::fs::read(&lib).unwrap();

    // The next ones use it as it is: not rewritten.
    let again = cat(Some(&cache));
    let meta2 = std::fs::metadata(&lib).unwrap();
    assert_eq!((meta.ino(), meta.mtime(), meta.mtime_nsec()), (meta2.ino(), meta2.mtime(), meta2.mtime_nsec()));
    eprintln!("first run {first:?} (unpacking), next {again:?}");

    // A changed byte, then a truncated file: seen, and replaced by a whole new file.
    let f = std::fs::OpenOptions::new().write(true).open(&lib).unwrap();
    let mid = original.len() as u64 / 2;
    f.write_all_at(&[original[mid as usize] ^ 0xff], mid).unwrap();
    drop(f);
    cat(Some(&cache));
    assert_eq!(cached(&cache), lib);
    assert!(std::fs::read(&lib).unwrap() == original, "the damaged library was not replaced");
    assert_ne!(std::fs::metadata(&lib).unwrap().ino(), meta.ino(), "replaced in place, not renamed");
    std::fs::OpenOptions::new().write(true).open(&lib).unwrap().set_len(mid).unwrap();
    cat(Some(&cache));
    assert!(std::fs::read(&lib).unwrap() == original, "the truncated library was not replaced");

    // Without XDG_CACHE_HOME: $HOME/.cache. The front ends find the kmview beside them.
    cat(None);
    assert_eq!(std::fs::read(cached(&home.join(".cache"))).unwrap(), original);
    let o = k.run("kmview-fakeroot", None, &["--", "id", "-u"]);
    assert_eq!(ok(o).trim(), "0");

    // A cache that cannot be written: 125, one line naming the directory and the ways out.
    let file = s.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let mut unwritable = vec![file.clone()];
    // SAFETY: geteuid has no preconditions. (root writes into a 0555 directory anyway.)
    if unsafe { libc::geteuid() } != 0 {
        let ro = s.join("read-only");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        unwritable.push(ro);
    }
    for place in &unwritable {
        for args in [&["--unreal", "--", "true"][..], &["--print-lib"]] {
            let o = k.run("kmview", Some(place), args);
            assert_eq!(o.status.code(), Some(125), "{place:?} {args:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.starts_with("kmview: cannot unpack its libkmview.so into "), "{err}");
            assert!(err.contains(&place.join("kmview").display().to_string()), "{err}");
            assert!(err.contains("XDG_CACHE_HOME") && err.contains("KMVIEW_LIB"), "{err}");
            assert!(o.stdout.is_empty());
        }
    }
    let ro = s.join("read-only");
    if ro.exists() {
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    // KMVIEW_LIB still wins over the embedded library.
    let mut c = Command::new(k.bin.join("kmview"));
    c.arg("--print-lib").env("KMVIEW_LIB", &lib).env("XDG_CACHE_HOME", &file).current_dir(&k.cwd);
    assert_eq!(ok(run(&mut c)).trim(), lib.canonicalize().unwrap().to_str().unwrap());
}
