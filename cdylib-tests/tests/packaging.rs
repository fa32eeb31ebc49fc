//! `packaging/deb/build.sh`: the .deb it builds from the release artifacts holds the files at
//! Debian's places, with Debian's modes and control fields, and the extracted package runs a view.

use kmview_cdylib_tests::*;
use std::path::Path;
use std::process::Command;

fn output(program: &str, args: &[&str]) -> String {
    ok(run(Command::new(program).args(args))).trim().to_string()
}

/// The multiarch triplet, found the way the script finds it.
fn multiarch() -> String {
    match Command::new("dpkg-architecture").arg("-qDEB_HOST_MULTIARCH").output() {
        Ok(o) if o.status.success() => stdout(&o).trim().to_string(),
        _ => output("gcc", &["-print-multiarch"]),
    }
}

#[test]
fn deb_package_holds_a_working_kmview() {
    let out = Scratch::new("deb");
    // --build: cargo build --release (a no-op when up to date), so what is packaged is this tree.
    let built = ok(run(Command::new(root().join("packaging/deb/build.sh")).arg("--build").arg(out.path())));
    let deb = Path::new(built.trim());
    let arch = output("dpkg", &["--print-architecture"]);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(deb, out.join(format!("kmview_{version}_{arch}.deb")));
    let deb = deb.to_str().unwrap();

    // The files (not the directories), their modes and owners: every command of the launcher
    // crate (its [[bin]] tables), the library, the documentation.
    let cargo_toml = std::fs::read_to_string(root().join("launcher/Cargo.toml")).unwrap();
    let mut after_bin = false;
    let mut commands = Vec::new();
    for line in cargo_toml.lines() {
        if let (true, Some(name)) = (after_bin, line.strip_prefix("name = \"").and_then(|n| n.strip_suffix('"'))) {
            commands.push(format!("./usr/bin/{name}"));
        }
        after_bin = line == "[[bin]]" || (after_bin && !line.is_empty());
    }
    for c in ["kmview", "kmview-fakeroot", "kmview-proot"] {
        assert!(commands.contains(&format!("./usr/bin/{c}")), "{c} is not a [[bin]] of launcher/Cargo.toml: {commands:?}");
    }
    let lib = format!("./usr/lib/{}/kmview/libkmview.so", multiarch());
    let mut want: Vec<(&str, &str)> = commands.iter().map(|c| ("-rwxr-xr-x", c.as_str())).collect();
    want.extend([
        ("-rw-r--r--", lib.as_str()),
        ("-rw-r--r--", "./usr/share/man/man1/kmview.1.gz"),
        ("-rw-r--r--", "./usr/share/man/man1/kmview-fakeroot.1.gz"),
        ("-rw-r--r--", "./usr/share/man/man1/kmview-proot.1.gz"),
        ("-rw-r--r--", "./usr/share/bash-completion/completions/kmview"),
        ("-rw-r--r--", "./usr/share/zsh/vendor-completions/_kmview"),
        ("-rw-r--r--", "./usr/share/fish/vendor_completions.d/kmview.fish"),
        ("-rw-r--r--", "./usr/share/doc/kmview/copyright"),
    ]);
    want.sort_by_key(|w| w.1);
    let list = output("dpkg-deb", &["-c", deb]);
    let mut got: Vec<(&str, &str)> = Vec::new();
    for line in list.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[1], "root/root", "{line}");
        match f[0].chars().next() {
            Some('-') => got.push((f[0], f[5])),
            Some('d') => assert_eq!(f[0], "drwxr-xr-x", "{line}"),
            _ => panic!("neither a file nor a directory: {line}"),
        }
    }
    got.sort_by_key(|g| g.1);
    assert_eq!(got, want, "dpkg-deb -c:\n{list}");

    let field = |name: &str| output("dpkg-deb", &["-f", deb, name]);
    assert_eq!(field("Package"), "kmview");
    assert_eq!(field("Version"), version);
    assert_eq!(field("Architecture"), arch);
    let depends = field("Depends");
    assert!(depends == "libc6" || depends.starts_with("libc6 (>= 2."), "Depends: {depends}");
    assert!(!field("Maintainer").is_empty() && !field("Description").is_empty());

    // Extracted, it is the same documentation as doc/ and a kmview that works.
    let x = Scratch::new("deb-x");
    ok(run(Command::new("dpkg-deb").args(["-x", deb]).arg(x.path())));
    let man = ok(run(Command::new("gzip").arg("-dc").arg(x.join("usr/share/man/man1/kmview.1.gz"))));
    assert_eq!(man.as_bytes(), std::fs::read(root().join("doc/man/kmview.1")).unwrap());
    assert_eq!(
        std::fs::read(x.join("usr/share/bash-completion/completions/kmview")).unwrap(),
        std::fs::read(root().join("doc/completions/kmview.bash")).unwrap()
    );

    // Installed, kmview finds the library in Debian's multiarch directory by itself.
    let printed = ok(run(Command::new(x.join("usr/bin/kmview")).arg("--print-lib").env_remove("KMVIEW_LIB")));
    assert_eq!(Path::new(printed.trim()), x.join(&lib).canonicalize().unwrap());

    let file = ["/etc/hostname", "/etc/passwd"].into_iter().find(|f| Path::new(f).is_file()).unwrap();
    let inside = ok(run(Command::new(x.join("usr/bin/kmview"))
        .env("KMVIEW_LIB", x.join(&lib))
        .args(["--unreal", "--", "cat", &format!("/unreal{file}")])
        .stdin(std::process::Stdio::null())));
    assert_eq!(inside.as_bytes(), std::fs::read(file).unwrap());
    // A front end finds the kmview installed beside it.
    std::fs::write(out.join("marker"), b"seen through a bind\n").unwrap();
    let bound = ok(run(Command::new(x.join("usr/bin/kmview-proot"))
        .env("KMVIEW_LIB", x.join(&lib))
        .arg("-b")
        .arg(format!("{}:/kmview-deb-test", out.path().display()))
        .args(["--", "cat", "/kmview-deb-test/marker"])
        .stdin(std::process::Stdio::null())));
    assert_eq!(bound, "seen through a bind\n");
}
