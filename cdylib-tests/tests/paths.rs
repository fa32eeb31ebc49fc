//! The resolver against the kernel, on the spelling of paths: names with dots that are not `.`
//! or `..` (`.git`, `..foo`, `...`, `..x`), `..` through binds (inside one, out of a mount's
//! root to its virtual parent, across two binds), `..` through a bind whose source holds a
//! relative symlink leading out of it, `//`, `/./`, trailing `/.` and `/..`.
//!
//! Each test runs one script twice, on two copies of one fixture whose paths have the same
//! length: under `unshare -rm` with real bind mounts, and under kmview with the same binds; the
//! outputs are compared line by line (each copy's directory written as `$F`).

use kmview_cdylib_tests::*;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixture. `host/` is the world the scripts start in (`host/mnt/{a,b,c}` are the
/// mountpoints); `s/src`, `s/other` and `s/lsrc` are mounted on them. `s/lsrc/up` is
/// `../../elsewhere`: from the mountpoint that is `host/elsewhere` ("right-…"), from the source
/// itself `F/elsewhere` ("wrong-…"), so a walk that climbs in the source's terms shows it.
fn fixture(f: &Path) {
    let d = |p: &str| std::fs::create_dir_all(f.join(p)).unwrap();
    let w = |p: &str, s: &str| std::fs::write(f.join(p), format!("{s}\n")).unwrap();
    for p in [
        "host/mnt/a",
        "host/mnt/b",
        "host/mnt/c",
        "host/elsewhere/sub",
        "host/.d",
        "host/...",
        "elsewhere",
        "tools",
        "s/src/sub",
        "s/src/.git/objects",
        "s/src/d/.hidden",
        "s/src/...",
        "s/src/..dir",
        "s/other/ob",
        "s/lsrc/sub",
        "s/lsrc/.git",
        "s/lsrc/...",
        "s/lsrc/d/.hidden",
    ] {
        d(p);
    }
    for (p, s) in [
        ("host/x", "host-x"),
        ("host/..foo", "host-dotdotfoo"),
        ("host/.d/..x", "host-ddx"),
        ("host/.../x", "host-three"),
        ("host/elsewhere/e", "right-e"),
        ("host/elsewhere/sub/g", "right-g"),
        ("elsewhere/e", "wrong-e"),
        ("s/src/f", "src-f"),
        ("s/src/sub/f2", "src-sub-f2"),
        ("s/src/.git/objects/x", "obj"),
        ("s/src/d/.hidden/..x", "dotdotx"),
        ("s/src/..foo", "dotdotfoo"),
        ("s/src/.../x", "threedots"),
        ("s/src/..dir/y", "dotdir"),
        ("s/src/.f", "dotfile"),
        ("s/src/f.", "trail-dot"),
        ("s/src/f..", "trail-dotdot"),
        ("s/other/x", "other-x"),
        ("s/other/ob/o", "other-o"),
        ("s/lsrc/f", "lsrc-f"),
        ("s/lsrc/sub/g", "lsrc-g"),
        ("s/lsrc/.git/x", "l-git"),
        ("s/lsrc/..foo", "l-dotdotfoo"),
        ("s/lsrc/.../x", "l-three"),
        ("s/lsrc/d/.hidden/..x", "l-ddx"),
    ] {
        w(p, s);
    }
    symlink("../../elsewhere", f.join("s/lsrc/up")).unwrap();
    symlink("../f", f.join("s/lsrc/sub/back")).unwrap();
}

const BINDS: &[(&str, &str)] = &[("s/src", "host/mnt/a"), ("s/other", "host/mnt/b"), ("s/lsrc", "host/mnt/c")];

fn prepare(tag: &str) -> (Scratch, PathBuf) {
    let s = Scratch::named(tag);
    let f = s.path().to_path_buf();
    fixture(&f);
    (s, f)
}

fn normalize(out: &[u8], f: &Path) -> String {
    String::from_utf8_lossy(out).replace(&f.display().to_string(), "$F")
}

/// Runs `sh SCRIPT` (with `F` set to the fixture) from `F/host` under the kernel and under
/// kmview; returns (kernel, kmview), normalized.
fn both(name: &str, script: &str, setup: impl Fn(&Path)) -> (String, String) {
    let (_k, fk) = prepare(&format!("paths-k-{name}"));
    let (_v, fv) = prepare(&format!("paths-v-{name}"));
    setup(&fk);
    setup(&fv);
    let body = format!("export LC_ALL=C\nexec 2>&1\np() {{ printf '== %s\\n' \"$*\"; }}\n{script}\n");
    std::fs::write(fk.join("tools/script.sh"), &body).unwrap();
    std::fs::write(fv.join("tools/script.sh"), &body).unwrap();
    let start = |f: &Path| format!("cd '{0}/host' && F='{0}' sh '{0}/tools/script.sh'", f.display());
    let mounts: String = BINDS.iter().map(|(s, d)| format!("mount --bind '{}' '{}' && ", fk.join(s).display(), fk.join(d).display())).collect();
    let kernel = run(Command::new("unshare").args(["-rm", "--propagation", "private", "sh", "-c"]).arg(format!("{mounts}{}", start(&fk))));
    assert!(kernel.status.success() || !kernel.stdout.is_empty(), "{name}: the kernel run failed: {}", stderr(&kernel));
    let mut args = Vec::new();
    for (s, d) in BINDS {
        args.push("-b".to_string());
        args.push(format!("{}:{}", fv.join(s).display(), fv.join(d).display()));
    }
    let ours = run(kmview(&args).args(["--", "sh", "-c", &start(&fv)]));
    (normalize(&kernel.stdout, &fk), normalize(&ours.stdout, &fv))
}

#[track_caller]
fn assert_same(name: &str, kernel: &str, ours: &str) {
    if kernel == ours {
        return;
    }
    let mut diff = String::new();
    let mut shown = 0;
    for (i, (k, o)) in kernel.lines().zip(ours.lines()).enumerate() {
        if k != o && shown < 40 {
            diff += &format!("line {}:\n  kernel: {k}\n  kmview: {o}\n", i + 1);
            shown += 1;
        }
    }
    panic!(
        "{name}: kmview differs from the kernel ({} vs {} lines):\n{diff}\nkernel output:\n{kernel}",
        kernel.lines().count(),
        ours.lines().count()
    );
}

/// Runs and compares a script; `sections` must all appear in the kernel's output, so that the
/// comparison saw the whole script run.
#[track_caller]
fn compare(name: &str, script: &str, sections: &[&str]) {
    let (kernel, ours) = both(name, script, |_| {});
    for s in sections {
        assert!(kernel.contains(&format!("== {s}\n")), "{name}: section {s} missing from the kernel's output:\n{kernel}");
    }
    assert_same(name, &kernel, &ours);
}

#[test]
fn names_with_dots_that_are_not_dot_or_dotdot() {
    compare(
        "dot-names",
        r#"
p stat; stat -c '%n %F %s' mnt/a/.git mnt/a/.git/objects/x mnt/a/d/.hidden/..x mnt/a/..foo mnt/a/.../x mnt/a/..dir/y mnt/a/.f mnt/a/f. mnt/a/f.. mnt/a/d/.hidden/../.hidden/..x mnt/a/... ..foo .../x .d/..x mnt/c/.git/x mnt/c/..foo mnt/c/.../x mnt/c/d/.hidden/..x
p cat; cat mnt/a/.git/objects/x mnt/a/d/.hidden/..x mnt/a/..foo mnt/a/.../x mnt/a/..dir/y mnt/a/.f mnt/a/f. mnt/a/f.. mnt/a/./.git/./objects/x mnt/a/.git/objects/../objects/x ..foo ./..foo .../x .d/..x mnt/c/.git/x mnt/c/..foo mnt/c/.../x mnt/c/d/.hidden/..x mnt/c/.../../.git/x mnt/c/d/.hidden/../../sub/g
p ls; ls -a mnt/a mnt/a/... mnt/a/d/.hidden mnt/a/..dir . ... mnt/c mnt/c/...
p realpath; realpath mnt/a/..foo mnt/a/.../x mnt/a/d/.hidden/..x mnt/a/.git/objects/.. mnt/a/... mnt/a/..dir/../..foo ..foo .../x mnt/c/..foo mnt/c/.../.. mnt/c/d/.hidden/..x
p readlink-f; readlink -f mnt/a/..foo mnt/a/.../.. mnt/a/..dir/.. mnt/a/..missing/.. .../.. mnt/c/... mnt/c/..foo/..
p cd; (cd -P mnt/a/... && pwd -P && cd -P .. && pwd -P); (cd -P mnt/a/d/.hidden && pwd -P && cd -P ../.. && pwd -P)
p cd-relative; (cd -P mnt/a && cat ..foo .../x .git/objects/x ./..foo ...//x && cd -P ..dir && pwd -P); (cd -P ... && pwd -P && cat x); (cd -P mnt/c/... && pwd -P && cat x ../..foo)
p write; mkdir mnt/a/..new mnt/a/.../n2 mnt/c/..new2 && touch mnt/a/..new/..t mnt/c/..t mnt/c/.../t && ls -a mnt/a/..new mnt/c/... && mv mnt/a/..new/..t mnt/a/..new/..u && mv mnt/c/..t mnt/c/..u && ls -a mnt/a/..new mnt/c && rm mnt/a/..new/..u mnt/c/..u mnt/c/.../t && rmdir mnt/a/..new mnt/a/.../n2 mnt/c/..new2 && ls -a mnt/a mnt/c | tr '\n' ' '; echo
"#,
        &["stat", "cat", "ls", "realpath", "readlink-f", "cd", "cd-relative", "write"],
    );
}

#[test]
fn dotdot_through_binds_without_links_out() {
    compare(
        "dotdot-plain",
        r#"
p dotdot-in; cat mnt/a/sub/../f mnt/a/sub/../sub/f2 mnt/a/.../../f mnt/a/..dir/../..foo
p dotdot-out; cat mnt/a/../../x mnt/a/../b/x mnt/a/sub/../../b/ob/o mnt/b/ob/../../a/sub/f2 mnt/a/../../..foo; ls mnt/a/.. mnt/a/sub/../.. mnt/a/../b/..
p stat; stat -c '%n %F' mnt/a/.. mnt/a/sub/.. mnt/a/../b mnt/a/sub/../../b/ob mnt/a/sub/../../..
p realpath; realpath mnt/a/sub/.. mnt/a/.. mnt/a/sub/../../b mnt/a/../b/ob/.. mnt/a/../../x mnt/b/ob/../../a/sub
p readlink-f; readlink -f mnt/a/sub/.. mnt/a/.. mnt/a/../b/./ob mnt/a/missing/.. mnt/a/sub/../../b/ob/o mnt/a/sub/../missing
p cd; (cd -P mnt/a/sub/.. && pwd -P); (cd -P mnt/a/.. && pwd -P); (cd -P mnt/a/../b/ob && pwd -P && cd -P ../.. && pwd -P && cd -P a/sub && cd -P ../../b && pwd -P)
p cd-relative; (cd -P mnt/a && cat ../b/x ./.././b/ob/o && ls .. ../a/../b && stat -c '%n %F' .. ./.. && cd -P .. && pwd -P)
p proc; (cd -P mnt/a/sub && readlink /proc/self/cwd && cd -P .. && readlink /proc/self/cwd && cd -P .. && readlink /proc/self/cwd)
p absolute; cat "$F/host/mnt/a/../b/x" "$F/host/mnt/a/sub/../../b/ob/o" "$F/host/mnt/b/../../x"; ls "$F/host/mnt/a/.." "$F/host/mnt/b/ob/../../a/sub/.."
p write; mkdir mnt/a/sub/../../b/nd && ls mnt/b && rmdir mnt/a/../b/nd && touch mnt/b/ob/../../a/sub/../t && ls mnt/a && rm mnt/a/../a/t && ls mnt/a | tr '\n' ' '; echo
p climb-in; cat "/usr/..$F/host/mnt/a/f" "/usr/lib/../..$F/host/mnt/b/x" "/usr/lib/x86_64-linux-gnu/../../..$F/host/mnt/a/sub/../f"; (cd /usr/lib && cat "../..$F/host/mnt/a/f" && stat -c '%n %F' ../lib/../bin . && cd x86_64-linux-gnu && cat "../../..$F/host/mnt/b/x")
"#,
        &["dotdot-in", "dotdot-out", "stat", "realpath", "readlink-f", "cd", "cd-relative", "proc", "absolute", "write", "climb-in"],
    );
}

#[test]
fn dotdot_through_a_bind_whose_source_has_a_link_leading_out() {
    compare(
        "dotdot-link-out",
        r#"
p cat; cat mnt/c/up/e mnt/c/up/sub/g mnt/c/up/../x mnt/c/up/sub/../e mnt/c/up/../mnt/a/f mnt/c/sub/back mnt/c/sub/../up/e mnt/c/up/../..foo mnt/c/sub/../f mnt/c/up/./sub/./g
p ls; ls mnt/c/up/.. mnt/c/up/../elsewhere mnt/c/up/. mnt/c/sub/.. mnt/c/..
p stat; stat -c '%n %F' mnt/c/sub/back/.. mnt/c/sub/back/ mnt/c/up/./ mnt/c/up/. mnt/c/./up/.. mnt/c//up//sub//.. mnt/c/up/.. mnt/c/up
p realpath; realpath mnt/c/up mnt/c/up/.. mnt/c/up/sub/.. mnt/c/sub/back mnt/c/sub/../up/../x mnt/c/..
p readlink-f; readlink -f mnt/c/up/e mnt/c/up/../x mnt/c/sub/back/.. mnt/c/up/ mnt/c/up/sub/../.. mnt/c/up/../missing
p cd; (cd -P mnt/c/up && pwd -P && cd -P .. && pwd -P); (cd -P mnt/c/up/sub/.. && pwd -P); (cd -P mnt/c/sub && cd -P .. && pwd -P && cd -P .. && pwd -P)
p cd-relative; (cd -P mnt/c && cat up/e ../a/f ./up/../x && cd -P up/.. && pwd -P && cat x)
p absolute; cat "$F/host/mnt/c/up/../x" "$F/host//mnt/c/up/e" "$F/host/mnt/c/up/sub/../../x"; ls "$F/host/mnt/c/up/.."
p write; touch mnt/c/up/../t3 && ls "$F/host/t3"; ls "$F/t3"; rm mnt/c/up/../t3; mkdir mnt/c/up/sub/../nd && ls mnt/c/up; rmdir mnt/c/up/nd
"#,
        &["cat", "ls", "stat", "realpath", "readlink-f", "cd", "cd-relative", "absolute", "write"],
    );
}

#[test]
fn double_slashes_dot_components_and_trailing_dots() {
    compare(
        "slashes",
        r#"
p slashes; cat mnt//a//f mnt/a/./f .//mnt/./a/sub//f2 mnt/a/sub///f2 ./mnt/./a/.; stat -c '%n %F' mnt/a/. mnt/a/.. mnt/a/sub/. mnt/a/sub/.. mnt/a// mnt/a/./ mnt/a/.//. mnt/a/sub/../ mnt//b//ob//
p root; cat //$F/host/mnt/a/f /../..$F/host/mnt/b/x /./$F/host/./mnt/c/./up/./e "$F//host//x"; stat -c '%n %F' /.. /../ //. /./..; ls -d /.. //.. /./
p trailing; realpath $F/host/mnt/a/.. $F/host/mnt/a/sub/.. $F/host/mnt/c/up/.. $F/host/mnt/a/. $F/host/mnt/c/. $F/host/mnt/c/sub/.. $F/host/mnt/a/sub/. $F//host//mnt//a//
p trailing-on-files; stat -c '%n %F' mnt/a/f/ mnt/a/f/. mnt/a/f/.. mnt/a/..foo/ mnt/a/sub/f2/.. mnt/c/f/ mnt/c/sub/back/; cat mnt/a/f/. mnt/a/f/
p readlink-f; readlink -f mnt//a/./sub/ mnt/a/sub/. mnt/a/sub/.. //$F/host/mnt/b/. mnt/a/f/ mnt/a/f/..
p cd; (cd -P mnt//a/./sub/ && pwd -P && cd -P ./../. && pwd -P && cd -P ..// && pwd -P); (cd -P //$F/host/mnt/a/. && pwd -P); (cd -P $F/host/mnt/a/.. && pwd -P)
p ls; ls mnt//a/ mnt/a/./sub/. mnt/a/sub/../.
"#,
        &["slashes", "root", "trailing", "trailing-on-files", "readlink-f", "cd", "ls"],
    );
}

#[test]
fn calls_whose_last_component_is_dot_or_dotdot() {
    // c/dot_last.c: mkdir/rmdir/unlink/rename/link/symlink/creat/mknod (and their *at forms from
    // a descriptor on a mount's root and below it) on names ending in `.` or `..`. The kernel
    // decides these by the last component first (EBUSY for rename, EEXIST for link, ...)
    // before it looks at mounts (EXDEV).
    let args = "mnt/a/sub/.. mnt/a/.. mnt/a/. mnt/a/sub/. mnt/c/up/.. mnt/c/up/. mnt/c/sub/.. mnt/a/../. mnt/b/ob/.. mnt/a/sub/../.. . .. \
                at:mnt/a at:mnt/a/sub at:mnt/c/up at:mnt";
    let (kernel, ours) = both("dot-last", &format!("p probe; \"$F/tools/dot_last\" {args}"), |f| {
        compile_c(&f.join("tools"), "dot_last", include_str!("../c/dot_last.c"), &[]);
    });
    assert!(kernel.contains("== probe\n") && kernel.contains("mknodat mnt:../. "), "the probe did not run through:\n{kernel}");
    assert_same("dot-last", &kernel, &ours);
}

/// Every path of up to four components from a small alphabet, from several directories: lstat
/// (with the link's target, the directory's listing or the file's contents), stat, realpath(3).
/// Directories above the fixture are named but not listed.
const WALK_ALL: &str = r#"
import ctypes, itertools, os, stat as S, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.realpath.restype = ctypes.c_char_p
comps = ['mnt', 'a', 'b', 'c', 'sub', '..', '.', '...', '..foo', 'up', 'x', '', 'e', 'back']
# The directories above the fixture (the temp dir, /) hold other things: not listed.
above = set()
d = os.environ['F']
while d != '/':
    d = os.path.dirname(d)
    st = os.stat(d)
    above.add((st.st_dev, st.st_ino))
def desc(p):
    try:
        st = os.lstat(p)
        if S.S_ISLNK(st.st_mode): k = 'l' + os.readlink(p)
        elif (st.st_dev, st.st_ino) in above: k = 'd(above the fixture)'
        elif S.S_ISDIR(st.st_mode): k = 'd' + ','.join(sorted(os.listdir(p)))
        else: k = 'f' + open(p).read().strip()
    except OSError as e:
        k = 'E' + os.strerror(e.errno)
    try:
        k2 = 'd' if S.S_ISDIR(os.stat(p).st_mode) else 'f'
    except OSError as e:
        k2 = 'E' + os.strerror(e.errno)
    buf = ctypes.create_string_buffer(4096)
    r = libc.realpath(p.encode(), buf)
    return k + ' ' + k2 + ' ' + (r.decode() if r else 'E' + os.strerror(ctypes.get_errno()))
top = os.getcwd()
for start in sys.argv[1:]:
    os.chdir(os.path.join(top, start))
    print('== from', start)
    for n in range(1, 5):
        for t in itertools.product(comps, repeat=n):
            p = '/'.join(t)
            if p:
                print(p, desc(p))
"#;

#[test]
fn every_short_path_from_several_directories() {
    let (kernel, ours) = both("walk-all", "p walk; python3 \"$F/tools/walk_all.py\" . mnt/a/sub mnt/c elsewhere", |f| {
        std::fs::write(f.join("tools/walk_all.py"), WALK_ALL).unwrap();
    });
    assert!(
        kernel.lines().count() > 150_000 && kernel.contains("== from elsewhere\n"),
        "the walk did not run through: {} lines",
        kernel.lines().count()
    );
    assert_same("walk-all", &kernel, &ours);
}
