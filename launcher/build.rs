//! Carries `libkmview.so` inside the `kmview` binary, so that `cargo install --path launcher`
//! (which installs binaries only) gives a `kmview` that works with no source tree around: at run
//! time, when no library is found the usual ways, the launcher unpacks this copy into a per-user
//! cache (src/embedded.rs).
//!
//! Writes `$OUT_DIR/embedded_lib.rs`: `LIBRARY`, the library's bytes or `None`, and `KEY`, a hash
//! of them naming the cache directory.
//!
//! When to embed. Cargo can make no cdylib a dependency of a binary on stable (artifact
//! dependencies are unstable), so embedding means a second, nested `cargo build --release -p
//! kmview` (35 s of LTO on two cores, once per change of the library): affordable for an
//! install, not on every edit of the library during development. And cargo tells a build script
//! nothing about being run by `cargo install`, whose `--path` form even builds in the workspace's
//! own `target/release/`, sharing (reusing) the launcher's build with `cargo build --release`.
//! So the decision can only rest on what makes a different build for cargo: with the
//! `embed-lib` feature (on by default: `cargo install --path launcher` needs no flags), the
//! library is embedded
//! - from `KMVIEW_EMBED_LIB=FILE`, when set: that file, nothing built;
//! - else in every release build (`KMVIEW_EMBED=1`: in any build, `cargo install --debug`'s
//!   too; `KMVIEW_EMBED=0`: never).
//!
//! Debug builds (`cargo build`, `cargo test`, the tests' own builds: the workspace puts
//! `libkmview.so` beside the launcher, where it finds it) embed nothing and cost what they did
//! before. A release build of the workspace pays for the nested build when the library changed
//! (measured on two cores: 57 s instead of 41 from scratch, 38 instead of 22 after an edit of
//! src/); it is kept in `target/release/build/kmview-embedded-lib/`, shared by every release build of
//! the launcher in that target directory, `cargo install --path launcher`'s included.

use std::path::{Path, PathBuf};
use std::process::Command;

fn var(name: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// FNV-1a, 64 bits: names the cache directory of this library (the launcher compares the cached
/// file's bytes with its own copy anyway; the hash only keeps two libraries apart).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The variables cargo sets for a build script (or that a user's environment may hold) that would
/// make the nested build something else than `cargo build --release -p kmview` in the tree: another
/// target or build directory (with the outer build's locks held: a deadlock), the outer build's
/// own flags or profile settings, a linting wrapper. The user's own `RUSTFLAGS`, `RUSTC`,
/// `RUSTC_WRAPPER`, `CARGO_HOME` and the jobserver stay: the library is built as the launcher is.
fn cleared(name: &str) -> bool {
    matches!(
        name,
        "CARGO_TARGET_DIR"
            | "CARGO_BUILD_TARGET_DIR"
            | "CARGO_BUILD_BUILD_DIR"
            | "CARGO_BUILD_TARGET"
            | "CARGO_ENCODED_RUSTFLAGS"
            | "CARGO_ENCODED_RUSTDOCFLAGS"
            | "RUSTC_WORKSPACE_WRAPPER"
            | "CARGO_PRIMARY_PACKAGE"
    ) || name.starts_with("CARGO_PROFILE_")
        || name.starts_with("__CARGO")
}

/// Builds the library with the workspace's release profile, for this build's target, into
/// `kmview-embedded-lib/` beside this build script's own directory (`$OUT_DIR/lib-target` if
/// `OUT_DIR` is not where cargo usually puts it); returns its path.
fn build_library(root: &Path, out: &Path) -> PathBuf {
    for p in ["src", "build", "build.rs", "api/src", "api/Cargo.toml", "Cargo.toml", "Cargo.lock", ".cargo/config.toml", "tools/link-libkmview"] {
        // (A path that does not exist would rerun this script at every build.)
        if root.join(p).exists() {
            println!("cargo:rerun-if-changed={}", root.join(p).display());
        }
    }
    let target = std::env::var("TARGET").expect("TARGET");
    // OUT_DIR is <build dir>/<profile>/build/kmview-launcher-<hash>/out.
    let build = out.parent().and_then(Path::parent).filter(|b| b.file_name().is_some_and(|n| n == "build"));
    let dir = build.map(|b| b.join("kmview-embedded-lib")).unwrap_or_else(|| out.join("lib-target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // From the tree's root, so that its .cargo/config.toml (the library's linker) applies.
    cmd.current_dir(root)
        .args(["build", "--release", "--locked", "-p", "kmview", "--target", &target, "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&dir);
    if var("CARGO_NET_OFFLINE").is_some_and(|v| v != "false") {
        cmd.arg("--offline");
    }
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(cleared) {
            cmd.env_remove(&name);
        }
    }
    // The build directory is the target directory (a `build.build-dir` of the user's, shared
    // with the outer build, would wait on its lock forever). Debug info stripped: the library
    // is 1.3 MB instead of 6, in the binary and in every user's cache; its symbols stay.
    cmd.env("CARGO_BUILD_BUILD_DIR", &dir).env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run cargo to build libkmview.so: {e}"));
    if !output.status.success() {
        panic!(
            "building libkmview.so to embed it failed ({:?}):\n{}\n{}\n(set KMVIEW_EMBED_LIB to a built libkmview.so, or KMVIEW_EMBED=0 to embed none)",
            cmd,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    dir.join(&target).join("release").join("libkmview.so")
}

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("the launcher's parent directory").to_path_buf();
    let generated = out.join("embedded_lib.rs");
    println!("cargo:rerun-if-changed=build.rs");

    let feature = std::env::var_os("CARGO_FEATURE_EMBED_LIB").is_some();
    let given = var("KMVIEW_EMBED_LIB");
    let forced = var("KMVIEW_EMBED");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let has_source = root.join("src/lib.rs").is_file() && root.join("Cargo.lock").is_file();

    let library: Option<PathBuf> = if !feature {
        None
    } else if let Some(file) = given {
        // (Relative, it would be relative to launcher/, to cargo and to this script alike.)
        assert!(Path::new(&file).is_absolute(), "KMVIEW_EMBED_LIB={file}: an absolute path, please");
        println!("cargo:rerun-if-changed={file}");
        Some(PathBuf::from(file))
    } else {
        let wanted = match forced.as_deref() {
            Some("0" | "false") => false,
            Some(_) => true,
            None => release,
        };
        if wanted && !has_source {
            println!(
                "cargo:warning=kmview: no libkmview.so embedded: the library's source is not at {} (set KMVIEW_EMBED_LIB to a built libkmview.so)",
                root.display()
            );
        }
        (wanted && has_source).then(|| build_library(&root, &out))
    };

    let text = match library {
        None => "/// Generated by launcher/build.rs: no library embedded.\npub static LIBRARY: Option<&[u8]> = None;\npub const KEY: &str = \"\";\n"
            .to_string(),
        Some(file) => {
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let version = format!("kmview {}", std::env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION"));
            if !bytes.starts_with(b"\x7fELF") || !contains(&bytes, b"kmview_library_version") || !contains(&bytes, version.as_bytes()) {
                panic!("{} is not kmview's library of version {version}: not embedded", file.display());
            }
            // A copy beside the generated file: the bytes and their hash stay one pair.
            std::fs::write(out.join("libkmview.so"), &bytes).expect("copy the library into OUT_DIR");
            format!(
                "/// Generated by launcher/build.rs from {}.\npub static LIBRARY: Option<&[u8]> = Some(include_bytes!(concat!(env!(\"OUT_DIR\"), \"/libkmview.so\")));\npub const KEY: &str = \"{:016x}\";\n",
                file.display().to_string().replace(['\n', '\r'], "?"),
                fnv1a64(&bytes)
            )
        }
    };
    if std::fs::read_to_string(&generated).ok().as_deref() != Some(&text) {
        std::fs::write(&generated, text).expect("write embedded_lib.rs");
    }
}
