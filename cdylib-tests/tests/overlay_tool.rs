//! `kmview overlay diff|apply|discard UPPER`, with the kernel's overlayfs as the oracle: a
//! script changes a tree through a real overlay mount (`unshare -rm`), its upper directory is
//! converted from the kernel's form to the OCI form, and then the diff must list what the
//! script did and `apply` must turn a copy of the lower tree into what the mount showed.

use kmview_cdylib_tests::*;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{lchown, symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every entry under a directory, one sorted line each: path, type, mode, owner, size and
/// sha256 (files), or the target (symlinks). Run inside the namespace for the merged view.
const LISTER: &str = r#"
import hashlib, os, stat, sys
top, out = sys.argv[1], []
for r, ds, fs in os.walk(top):
    for n in ds + fs:
        p = os.path.join(r, n); st = os.lstat(p); rel = os.path.relpath(p, top); m = st.st_mode
        if stat.S_ISLNK(m): out.append(f"{rel} l -> {os.readlink(p)}")
        elif stat.S_ISDIR(m): out.append(f"{rel} d {stat.S_IMODE(m):04o} {st.st_uid}:{st.st_gid}")
        else: out.append(f"{rel} f {stat.S_IMODE(m):04o} {st.st_uid}:{st.st_gid} {st.st_size} "
                         + hashlib.sha256(open(p, 'rb').read()).hexdigest())
print("\n".join(sorted(out)))
"#;

/// The directories of the kernel's upper marked opaque (`user.overlay.opaque` = `y`).
const OPAQUE_DIRS: &str = r#"
import os, sys
top = sys.argv[1]
for r, ds, fs in os.walk(top):
    try: v = os.getxattr(r, "user.overlay.opaque", follow_symlinks=False)
    except OSError: continue
    if v == b"y": print(os.path.relpath(r, top))
"#;

/// What the script does in the mounted overlay: add, modify, chmod, remove a file, remove a
/// directory, remove one and make it again, rename, replace a file by a directory, retarget a
/// symlink, add below an unchanged directory.
const SCRIPT: &str = "set -e
echo added > added.txt
mkdir -p newdir/deeper && echo n > newdir/deeper/f
echo more >> mod.txt
chmod 755 chm.txt
rm rm.txt
rm -r gone
rm -r redo && mkdir redo && echo fresh > redo/new && chmod 700 redo
mv ren_src.txt ren_dst.txt
rm filetodir && mkdir filetodir && echo y > filetodir/y
ln -sfn exe.sh link
echo deeper > sub/inner/new.txt";

const EXPECTED: [&str; 16] = [
    "A added.txt",
    "m chm.txt (0644 -> 0755)",
    "M filetodir/",
    "A filetodir/y",
    "D gone",
    "M link",
    "M mod.txt",
    "A newdir/",
    "A newdir/deeper/",
    "A newdir/deeper/f",
    "R redo/",
    "A redo/new",
    "A ren_dst.txt",
    "D ren_src.txt",
    "D rm.txt",
    "A sub/inner/new.txt",
];

fn put(path: &Path, content: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn lower_tree(dir: &Path) {
    put(&dir.join("a.txt"), "a\n", 0o644);
    put(&dir.join("chm.txt"), "mode only\n", 0o644);
    put(&dir.join("exe.sh"), "#!/bin/sh\necho hi\n", 0o755);
    put(&dir.join("filetodir"), "a file for now\n", 0o644);
    put(&dir.join("gone/x"), "x\n", 0o644);
    put(&dir.join("gone/y/z"), "z\n", 0o600);
    put(&dir.join("mod.txt"), "one\n", 0o644);
    put(&dir.join("redo/old1"), "1\n", 0o644);
    put(&dir.join("redo/old2"), "2\n", 0o644);
    put(&dir.join("ren_src.txt"), "moving\n", 0o640);
    put(&dir.join("rm.txt"), "bye\n", 0o644);
    put(&dir.join("sub/inner/deep.txt"), "deep\n", 0o644);
    put(&dir.join("sub/keep.txt"), "keep\n", 0o644);
    symlink("a.txt", dir.join("link")).unwrap();
}

fn python(script: &Path, arg: &Path) -> String {
    ok(run(Command::new("python3").arg(script).arg(arg)))
}

/// Runs `SCRIPT` in a kernel overlay of `lower` and returns the merged view's listing, taken
/// while mounted; the kernel's upper is left in `s/kupper`.
fn kernel_run(s: &Scratch, lower: &Path, lister: &Path) -> String {
    for d in ["kupper", "work", "merged"] {
        fs::create_dir(s.join(d)).unwrap();
    }
    let (up, work, merged) = (s.join("kupper"), s.join("work"), s.join("merged"));
    let sh = format!(
        "mount -t overlay overlay -o userxattr,metacopy=off,lowerdir={},upperdir={},workdir={} {m} && cd {m} && ( {SCRIPT} ) && cd / && python3 {} {m}",
        lower.display(),
        up.display(),
        work.display(),
        lister.display(),
        m = merged.display()
    );
    ok(run(Command::new("unshare").args(["-rm", "sh", "-c", &sh])))
}

/// The kernel's upper in the OCI form: a character device 0/0 becomes an empty `.wh.NAME`, an
/// opaque directory gets a `.wh..wh..opq`; xattrs are not copied.
fn to_oci(from: &Path, to: &Path, rel: &Path, opaque: &BTreeSet<PathBuf>) {
    fs::create_dir(to).unwrap();
    if opaque.contains(rel) {
        fs::write(to.join(".wh..wh..opq"), "").unwrap();
    }
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst, name) = (e.path(), to.join(e.file_name()), e.file_name());
        let m = fs::symlink_metadata(&src).unwrap();
        let t = m.file_type();
        if t.is_char_device() && m.rdev() == 0 {
            let mut wh = std::ffi::OsString::from(".wh.");
            wh.push(&name);
            fs::write(to.join(wh), "").unwrap();
            continue;
        } else if t.is_dir() {
            to_oci(&src, &dst, &rel.join(&name), opaque);
        } else if t.is_symlink() {
            symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst).unwrap();
        }
        lchown(&dst, Some(m.uid()), Some(m.gid())).unwrap();
        if !t.is_symlink() {
            fs::set_permissions(&dst, fs::Permissions::from_mode(m.mode() & 0o7777)).unwrap();
        }
    }
}

fn lines(o: &str) -> Vec<&str> {
    o.lines().collect()
}

/// Runs a kmview that must fail with `code`, and returns its stderr.
#[track_caller]
fn fails(o: Output, code: i32) -> String {
    assert_eq!(o.status.code(), Some(code), "stdout:\n{}\nstderr:\n{}", stdout(&o), stderr(&o));
    stderr(&o)
}

#[test]
fn diff_and_apply_match_the_kernels_overlay() {
    let s = Scratch::new("overlay-tool");
    let (lister, opaque_dirs) = (s.join("list.py"), s.join("opaque.py"));
    fs::write(&lister, LISTER).unwrap();
    fs::write(&opaque_dirs, OPAQUE_DIRS).unwrap();
    let lower = s.join("lower");
    lower_tree(&lower);
    let merged = kernel_run(&s, &lower, &lister);
    assert!(merged.contains("\nredo/new f 0644 ") && merged.contains("\nren_dst.txt f 0640 ") && !merged.contains("gone"), "{merged}");

    let opaque: BTreeSet<PathBuf> = python(&opaque_dirs, &s.join("kupper")).lines().map(PathBuf::from).collect();
    assert_eq!(opaque, BTreeSet::from([PathBuf::from("filetodir"), PathBuf::from("redo")]), "the kernel's opaque directories");
    let upper = s.join("upper");
    to_oci(&s.join("kupper"), &upper, Path::new(""), &opaque);

    // The kernel's own form is refused, not misread.
    let e = fails(run(kmview(["overlay", "diff"]).arg(s.join("kupper")).arg(&lower)), 1);
    assert!(e.contains("character device 0/0"), "{e}");

    let out = ok(run(kmview(["overlay", "diff"]).arg(&upper).arg(&lower)));
    for want in EXPECTED {
        assert!(lines(&out).contains(&want), "missing `{want}` in the diff:\n{out}");
    }
    assert_eq!(lines(&out), EXPECTED, "the diff, exactly");

    // Without DIR: only C, and A below an opaque directory.
    let out = ok(run(kmview(["overlay", "diff"]).arg(&upper)));
    assert!(lines(&out).contains(&"C mod.txt") && lines(&out).contains(&"R redo/") && lines(&out).contains(&"A redo/new"), "{out}");
    assert!(lines(&out).contains(&"D gone") && !lines(&out).iter().any(|l| l.starts_with("C sub/ ") || *l == "C sub/"), "{out}");

    // --json parses, and says the same.
    let json = ok(run(kmview(["overlay", "diff", "--json"]).arg(&upper).arg(&lower)));
    let json_file = s.join("diff.json");
    fs::write(&json_file, &json).unwrap();
    let reread = ok(run(Command::new("python3").args(["-c", "import json,sys; [print(o['change'], o['path'], o.get('kind', '-'), o.get('from', ''), o.get('to', '')) for o in json.load(open(sys.argv[1]))]"]).arg(&json_file)));
    let reread = lines(&reread);
    assert_eq!(reread.len(), EXPECTED.len(), "{json}");
    assert!(reread.contains(&"mode chm.txt file 0644 0755") && reread.contains(&"replaced redo dir  "), "{reread:?}");
    assert!(reread.contains(&"removed gone -  ") && reread.contains(&"added newdir/deeper/f file  "), "{reread:?}");

    // apply makes a copy of DIR what the mount showed.
    let copy = s.join("copy");
    ok(run(Command::new("cp").arg("-a").arg(&lower).arg(&copy)));
    let out = ok(run(kmview(["overlay", "apply"]).arg(&upper).arg(&copy)));
    for want in
        ["add added.txt", "change mod.txt", "remove gone", "replace redo/", "add redo/new", "remove ren_src.txt", "change filetodir/", "change link"]
    {
        assert!(lines(&out).contains(&want), "missing `{want}` in apply's output:\n{out}");
    }
    assert!(out.lines().last().unwrap().contains("removed, 1 replaced"), "{out}");
    assert!(!out.contains(".wh."), "{out}");
    assert_eq!(python(&lister, &copy), merged, "the applied copy and the kernel's merged view");

    // discard removes it.
    let out = ok(run(kmview(["overlay", "discard"]).arg(&upper)));
    assert!(out.starts_with("removed ") && !upper.exists(), "{out}");
}

#[test]
fn mode_and_owner_only_changes() {
    let s = Scratch::new("overlay-owner");
    let (lower, upper) = (s.join("lower"), s.join("upper"));
    put(&lower.join("d/f"), "same\n", 0o644);
    put(&upper.join("d/f"), "same\n", 0o600);
    lchown(upper.join("d/f"), Some(1000), Some(1000)).unwrap();
    put(&lower.join("g"), "same\n", 0o644);
    put(&upper.join("g"), "same\n", 0o644);
    lchown(upper.join("g"), Some(1000), Some(1000)).unwrap();
    let out = ok(run(kmview(["overlay", "diff"]).arg(&upper).arg(&lower)));
    assert_eq!(lines(&out), ["m d/f (0644 -> 0600)", "o d/f (0:0 -> 1000:1000)", "o g (0:0 -> 1000:1000)"]);
    ok(run(kmview(["overlay", "apply"]).arg(&upper).arg(&lower)));
    let m = fs::metadata(lower.join("d/f")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o600, 1000, 1000));
    let out = ok(run(kmview(["overlay", "diff"]).arg(&upper).arg(&lower)));
    assert_eq!(out, "", "applied: nothing left to show");
}

#[test]
fn refusals_change_nothing() {
    let s = Scratch::new("overlay-refuse");
    let (lower, upper) = (s.join("lower"), s.join("upper"));
    put(&lower.join("keep"), "k\n", 0o644);
    put(&upper.join("new"), "n\n", 0o644);
    put(&upper.join("d/.wh..."), "", 0o644);
    let lister = s.join("list.py");
    fs::write(&lister, LISTER).unwrap();
    let before = python(&lister, &s.join("."));

    let e = fails(run(kmview(["overlay", "apply"]).arg(&upper).arg(&lower)), 1);
    assert!(e.contains(".wh...") && e.contains("escape"), "{e}");
    let e = fails(run(kmview(["overlay", "apply"]).arg(upper.join("new")).arg(&lower)), 1);
    assert!(e.contains("not a directory"), "{e}");
    let e = fails(run(&mut kmview(["overlay", "discard", "/"])), 1);
    assert!(e.contains("root directory"), "{e}");
    let e = fails(run(kmview(["overlay", "discard"]).arg(upper.join("new"))), 1);
    assert!(e.contains("not a directory"), "{e}");
    let e = fails(run(kmview(["overlay", "discard"]).arg(&lower).env("HOME", &lower)), 1);
    assert!(e.contains("home directory"), "{e}");
    assert_eq!(python(&lister, &s.join(".")), before, "a refusal changed something");

    let e = fails(run(kmview(["overlay", "diff", "--nope"]).arg(&upper)), 125);
    assert!(e.contains("--nope"), "{e}");
    let e = fails(run(kmview(["overlay", "apply"]).arg(&upper)), 125);
    assert!(e.contains("<DIR>"), "{e}");
    fails(run(&mut kmview(["overlay"])), 125);
    fails(run(&mut kmview(["overlay", "merge", "x"])), 125);
}
