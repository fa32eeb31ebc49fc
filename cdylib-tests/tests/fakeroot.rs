//! The fake root (`-0`): the same packaging scripts under Debian's fakeroot (the oracle where it
//! is right) and under `kmview -0` print the same; where fakeroot is wrong (a reused inode, an
//! identity lost with `env -i`), the kernel is the oracle. Every subject runs as an unprivileged
//! user (these tests run as root, whose real rights would prove nothing), in a directory of its
//! own, with copies of the launcher and library it can read.

use kmview_cdylib_tests::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A work directory the unprivileged user owns, and the launcher (with the library beside it)
/// where that user can run it.
struct Fixture {
    s: Scratch,
    work: PathBuf,
    km: PathBuf,
}

fn fixture(tag: &str) -> Fixture {
    let d = user_dirs(tag, &[(&launcher().with_file_name("kmview-fakeroot"), "kmview-fakeroot")]);
    Fixture { km: d.bin.join("kmview"), work: d.work, s: d.scratch }
}

/// `cmd` as the unprivileged user (when these tests run as root), in `dir`.
fn unprivileged(dir: &Path, cmd: &[&str]) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "--"]).args(cmd);
        c
    } else {
        let mut c = Command::new(cmd[0]);
        c.args(&cmd[1..]);
        c
    };
    c.current_dir(dir).env("HOME", dir).env_remove("KMVIEW_LIB");
    c
}

/// Runs `script` under Debian's fakeroot and under `kmview -0`, each in a fresh directory.
fn both(tag: &str, script: &str) -> (String, String) {
    let a = fixture(&format!("{tag}-fakeroot"));
    let oracle = run(&mut unprivileged(&a.work, &["fakeroot", "--", "sh", "-c", script]));
    assert!(oracle.status.success(), "fakeroot's run failed: {}{}", stdout(&oracle), stderr(&oracle));
    let b = fixture(&format!("{tag}-kmview"));
    let ours = run(&mut unprivileged(&b.work, &[b.km.to_str().unwrap(), "-0", "--", "sh", "-c", script]));
    (stdout(&oracle), format!("{}{}", stdout(&ours), stderr(&ours)))
}

#[test]
fn packaging_scripts_print_what_fakeroot_prints() {
    let script = r#"set -e; umask 022
mkdir -p pkg/usr/bin pkg/dev pkg/etc pkg/DEBIAN
printf 'Package: kmtest\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' > pkg/DEBIAN/control
echo tool > pkg/usr/bin/tool; echo conf > pkg/etc/conf
chown -R 0:0 pkg; chown 42:43 pkg/etc/conf; chown 7 pkg/usr
chmod 4755 pkg/usr/bin/tool; chmod 1777 pkg/etc
mknod pkg/dev/null c 1 3; mknod pkg/dev/sda b 8 0; mkfifo pkg/dev/fifo
install -o 0 -g 0 -m 2711 pkg/etc/conf pkg/usr/bin/inst
id -u; id -g; id -un
ls -ln pkg/usr/bin pkg/dev pkg/etc | awk '{print $1, $3, $4, $NF}'
find pkg | sort | xargs stat -c '%n %A %u %g %t:%T'
find pkg -printf '%u %g %m %p\n' | sort
tar --numeric-owner -cf pkg.tar pkg; tar --numeric-owner -tvf pkg.tar | awk '{print $1, $2, $3, $NF}'
cp -a pkg copy; find copy | sort | xargs stat -c '%n %A %u %g %t:%T'
find pkg | sort | cpio -o -H newc 2>/dev/null > pkg.cpio; cpio -itv --numeric-uid-gid < pkg.cpio 2>/dev/null | awk '{print $1, $3, $4, $NF}'
mkdir out; cd out; cpio -idm < ../pkg.cpio 2>/dev/null; find pkg | sort | xargs stat -c '%n %A %u %g %t:%T'; cd ..
rsync -a pkg/ rcopy/; find rcopy | sort | xargs stat -c '%n %A %u %g %t:%T'
rm -rf pkg/dev; dpkg-deb --build pkg pkg.deb >/dev/null; dpkg-deb -c pkg.deb | awk '{print $1, $2, $NF}'
"#;
    let (oracle, ours) = both("packaging", script);
    assert!(oracle.contains("pkg/usr/bin/tool -rwsr-xr-x 0 0"), "fakeroot's run: {oracle}");
    assert_eq!(ours, oracle);
}

#[test]
fn the_disk_keeps_safe_modes_and_the_real_owner() {
    let f = fixture("safe-modes");
    let script = "touch f; mkdir d; chmod 4777 f; chmod 2777 d; chown 0:0 f; mknod dev c 1 3; stat -c '%a %u %F' f d dev";
    let o = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", "sh", "-c", script]));
    assert_eq!(stdout(&o), "4777 0 regular empty file\n2777 0 directory\n644 0 character special file\n", "{}", stderr(&o));
    // Outside the view: the real user's files, nobody else can write them, no set-id bits.
    let real = |name: &str| std::fs::metadata(f.work.join(name)).unwrap();
    for name in ["f", "d", "dev"] {
        let m = real(name);
        assert_eq!(m.permissions().mode() & 0o7022, 0, "{name}: {:o}", m.permissions().mode());
        if is_root() {
            assert_eq!(std::os::unix::fs::MetadataExt::uid(&m), NOBODY, "{name}");
        }
    }
    assert!(real("dev").is_file(), "a device is an empty regular file on disk");
}

/// The record forgets an inode with its last link (removed by its last name, or replaced by a
/// rename), so the next file the file system gives that inode (ext4 and tmpfs reuse it at
/// once) does not show a deleted file's owner or mode.
#[test]
fn a_reused_inode_does_not_inherit_a_deleted_files_owner() {
    let f = fixture("inode-reuse");
    // Removed by its last name (after a second one went), or replaced by a rename.
    let script = "for i in 1 2 3 4 5 6 7 8; do touch a; chown 42:42 a; chmod 4700 a; ln a a2; rm a; stat -c '%u %a' a2; rm a2; touch b; stat -c '%u %a' b; rm b; done; \
                  for i in 1 2 3 4 5 6 7 8; do touch a c; chown 43:43 a; mv c a; stat -c '%u %a' a; rm a; touch b; stat -c '%u %a' b; rm b; done";
    let o = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", "sh", "-c", &format!("({script}) | sort | uniq -c")]));
    assert_eq!(stdout(&o), "     24 0 644\n      8 42 4700\n", "{}", stderr(&o));
}

/// The identity after `setgid`/`setuid` in the view, inherited across exec (through `popen`'s
/// shell and `env -i` too), under the kernel's rules: the kernel running the same program as real root is the
/// oracle.
#[test]
fn set_id_calls_change_the_fake_identity_as_the_kernel_would() {
    let f = fixture("identity");
    let c = r#"
#include <grp.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    uid_t r, e, s;
    gid_t g = 5;
    printf("%d %d %d %d\n", (int)getuid(), (int)geteuid(), (int)getgid(), getgroups(0, NULL));
    if (setgroups(1, &g) != 0 || setresgid(100, 100, 100) != 0 || setreuid(1000, 1001) != 0) { perror("set"); return 1; }
    getresuid(&r, &e, &s);
    printf("%d %d %d %d\n", (int)r, (int)e, (int)s, (int)getegid());
    printf("%s\n", setuid(0) == 0 ? "regained" : "refused");
    printf("%s\n", seteuid(1000) == 0 ? "seteuid to real" : "refused");
    fflush(stdout);
    FILE *p = popen("id -u; id -g", "r");
    char line[64];
    while (p && fgets(line, sizeof line, p)) printf("popen: %s", line);
    if (p) pclose(p);
    fflush(stdout);
    execl("/usr/bin/env", "env", "-i", "/bin/sh", "-c", "id -u; id -g; id -G", NULL);
    return 2;
}
"#;
    let bin = compile_c(f.s.path(), "ids", c, &[]);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ours = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", bin.to_str().unwrap()]));
    if is_root() {
        // The kernel, with real root: the same answers (the number of groups aside, which is
        // the real root's own).
        let kernel = run(Command::new(&bin).current_dir(&f.work));
        let tail = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(tail(&stdout(&ours)), tail(&stdout(&kernel)), "{}", stderr(&ours));
    }
    assert_eq!(
        stdout(&ours),
        "0 0 0 1\n1000 1001 1001 100\nrefused\nseteuid to real\npopen: 1000\npopen: 100\n1000\n100\n100 5\n",
        "{}",
        stderr(&ours)
    );
}

/// Many processes recording at once lose nothing: each of 8 writers chowns its own files, all
/// of them also chown one shared file, and every record is there at the end.
#[test]
fn concurrent_writers_lose_no_record() {
    let f = fixture("concurrent");
    let script = "for w in 1 2 3 4 5 6 7 8; do (for i in $(seq 1 40); do touch f$w-$i; chown $w$i f$w-$i; chown $w shared 2>/dev/null || touch shared; done) & done; wait; \
                  for w in 1 2 3 4 5 6 7 8; do for i in $(seq 1 40); do [ \"$(stat -c %u f$w-$i)\" = \"$w$i\" ] || echo lost f$w-$i; done; done; echo checked";
    let o = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", "sh", "-c", script]));
    assert_eq!(stdout(&o), "checked\n", "{}", stderr(&o));
}

/// A record that cannot be used stops the program (it never runs as a root nobody records).
#[test]
fn a_record_that_cannot_be_used_stops_the_program() {
    let s = Scratch::new("bad-record");
    std::fs::write(s.join("short"), b"not a record").unwrap();
    for state in [s.join("missing"), s.join("short")] {
        let stack = format!("kmview1;fakeroot=0:0:{}", state.display());
        let o = run(Command::new("true").env("KMVIEW_STACK", &stack).env("LD_PRELOAD", library()));
        assert_eq!(o.status.code(), Some(125), "{stack}");
        assert!(stderr(&o).contains("record") && stderr(&o).contains(&state.display().to_string()), "{}", stderr(&o));
    }
}

/// `--uid`/`--gid` start the command as another fake identity; `-u` shows a file nobody chowned
/// as its real owner (as fakeroot's `-u`).
#[test]
fn another_identity_and_unknown_is_real() {
    let f = fixture("uid-gid");
    let km = f.km.to_str().unwrap();
    let o = run(&mut unprivileged(
        &f.work,
        &[km, "--uid", "1000", "--gid", "100", "--", "sh", "-c", "id -u; id -g; touch f; chown 5:6 f; stat -c '%u %g' f"],
    ));
    assert_eq!(stdout(&o), "1000\n100\n5 6\n", "{}", stderr(&o));
    let o = run(&mut unprivileged(&f.work, &[km, "-0", "-u", "--", "sh", "-c", "touch g h; chown 0:0 h; stat -c '%u %g' g h"]));
    let real = if is_root() { NOBODY } else { unsafe { libc::getuid() } };
    assert_eq!(stdout(&o), format!("{real} {real}\n0 0\n"), "{}", stderr(&o));
}

/// `--state FILE`: two invocations naming the same file share the record live, and a later one
/// finds it; a file that is not a record stops the launcher (125, naming it) and is left as it was.
#[test]
fn a_state_file_is_shared_live_and_kept() {
    let f = fixture("state");
    let km = f.km.to_str().unwrap();
    let state = f.work.join("state.rec");
    let state_arg = format!("--state={}", state.display());
    let wait_for = |name: &str| format!("i=0; while [ ! -e {name} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done");
    let a = format!("touch f; chown 42 f; touch ready; {}; stat -c %u g", wait_for("go"));
    let b = format!("{}; touch g; chown 43 g; stat -c %u f; touch go", wait_for("ready"));
    let first = unprivileged(&f.work, &[km, &state_arg, "--", "sh", "-c", &a]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let second = run(&mut unprivileged(&f.work, &[km, &state_arg, "--", "sh", "-c", &b]));
    let first = first.wait_with_output().unwrap();
    assert_eq!((stdout(&first), stdout(&second)), ("43\n".to_string(), "42\n".to_string()), "{}", stderr(&second));
    let later = run(&mut unprivileged(&f.work, &[km, &state_arg, "--", "stat", "-c", "%u", "f", "g"]));
    assert_eq!(stdout(&later), "42\n43\n", "{}", stderr(&later));
    // Not a record: refused, untouched.
    let bad = f.work.join("not-a-record");
    std::fs::write(&bad, "dev=fe00,ino=1,mode=100644,uid=0,gid=0,nlink=1,rdev=0\n").unwrap();
    let o = run(&mut unprivileged(&f.work, &[km, &format!("--state={}", bad.display()), "--", "true"]));
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains(&bad.display().to_string()) && stderr(&o).lines().count() == 1, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "dev=fe00,ino=1,mode=100644,uid=0,gid=0,nlink=1,rdev=0\n");
    // A record cut short, and one of another format version: refused the same way, untouched.
    let whole = std::fs::read(&state).unwrap();
    let short = f.work.join("short.rec");
    std::fs::write(&short, &whole[..4096]).unwrap();
    let mut other = whole.clone();
    other[8] ^= 0x7f;
    let other_path = f.work.join("other.rec");
    std::fs::write(&other_path, &other).unwrap();
    for (p, why) in [(&short, "cut short"), (&other_path, "another format version")] {
        let before = std::fs::read(p).unwrap();
        let o = run(&mut unprivileged(&f.work, &[km, &format!("--state={}", p.display()), "--", "true"]));
        assert_eq!(o.status.code(), Some(125));
        assert!(stderr(&o).contains(&p.display().to_string()) && stderr(&o).contains(why), "{}", stderr(&o));
        assert!(std::fs::read(p).unwrap() == before, "{} was changed", p.display());
    }
}

/// fakeroot's save format both ways: saved by `fakeroot -s`, loaded by `--state-load`; saved by
/// `--state-save`, loaded by `fakeroot -i`: each shows the other's owners, modes and devices.
#[test]
fn fakeroot_save_files_move_both_ways() {
    let f = fixture("save-load");
    let km = f.km.to_str().unwrap();
    let show = "stat -c '%n %u %g %a %F %t:%T' a b c";
    let make = "touch a b; chown 42:43 a; chmod 4755 b; mknod c c 1 3";
    let from_fakeroot = f.work.join("from-fakeroot");
    let from_kmview = f.work.join("from-kmview");
    let (a, b) = (f.work.join("a"), f.work.join("b"));
    for d in [&a, &b] {
        std::fs::create_dir(d).unwrap();
        if is_root() {
            std::os::unix::fs::chown(d, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
    // fakeroot saves, kmview loads.
    let s = from_fakeroot.to_str().unwrap();
    let made = run(&mut unprivileged(&a, &["fakeroot", "-s", s, "--", "sh", "-c", &format!("{make}; {show}")]));
    assert!(made.status.success(), "{}", stderr(&made));
    let ours = run(&mut unprivileged(&a, &[km, &format!("--state-load={s}"), "--", "sh", "-c", show]));
    assert_eq!(stdout(&ours), stdout(&made), "{}", stderr(&ours));
    assert!(stdout(&made).contains("c 0 0 644 character special file 1:3"), "{}", stdout(&made));
    // kmview saves, fakeroot loads.
    let s = from_kmview.to_str().unwrap();
    let made = run(&mut unprivileged(&b, &[km, &format!("--state-save={s}"), "--", "sh", "-c", &format!("{make}; {show}")]));
    assert!(made.status.success(), "{}", stderr(&made));
    let theirs = run(&mut unprivileged(&b, &["fakeroot", "-i", s, "--", "sh", "-c", show]));
    assert_eq!(stdout(&theirs), stdout(&made), "{}", stderr(&theirs));
    // A line that is not the format: 125, naming the file and the line.
    std::fs::write(f.work.join("bad-save"), "dev=fe00,ino=1\n").unwrap();
    let o = run(&mut unprivileged(&f.work, &[km, "--state-load=bad-save", "--", "true"]));
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("bad-save: line 1"), "{}", stderr(&o));
}

/// `kmview-fakeroot` takes fakeroot's command line: `-s`/`-i`/`-u`, `-l`/`--faked` noted and
/// ignored, `-b` ignored, fakeroot-ng's `-p`; it sets `FAKEROOTKEY`.
#[test]
fn the_front_end_takes_fakeroots_command_line() {
    let f = fixture("front");
    let front = f.km.with_file_name("kmview-fakeroot");
    let front = front.to_str().unwrap();
    let o = run(&mut unprivileged(
        &f.work,
        &[
            front,
            "-l",
            "/x.so",
            "--faked",
            "/faked",
            "-b",
            "3",
            "-u",
            "-p",
            "st",
            "--",
            "sh",
            "-c",
            "echo $FAKEROOTKEY; id -u; touch f; stat -c %u f; chown 7 f",
        ],
    ));
    let real = if is_root() { NOBODY } else { unsafe { libc::getuid() } };
    assert_eq!(stdout(&o), format!("kmview\n0\n{real}\n"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().filter(|l| l.contains("note:")).count(), 2, "{}", stderr(&o));
    // -p kept the record: a later run sees the chown.
    let o = run(&mut unprivileged(&f.work, &[front, "-p", "st", "stat", "-c", "%u", "f"]));
    assert_eq!(stdout(&o), "7\n", "{}", stderr(&o));
    let o = run(&mut unprivileged(&f.work, &[front, "--frob"]));
    assert_eq!(o.status.code(), Some(125));
}

/// A small Debian package (debhelper; a program installed setuid root, a directory owned by a
/// system uid) built with `dpkg-buildpackage -r"kmview-fakeroot"` and with `-rfakeroot`: the
/// same file list, owners and modes.
#[test]
fn dpkg_buildpackage_with_kmview_fakeroot_makes_what_fakeroot_makes() {
    let control = "Source: kmtest\nSection: misc\nPriority: optional\nMaintainer: Test <test@example.com>\n\
                   Build-Depends: debhelper-compat (= 13)\nStandards-Version: 4.6.2\n\n\
                   Package: kmtest\nArchitecture: all\nDescription: kmview test package\n built by the kmview tests\n";
    let changelog = "kmtest (1.0) unstable; urgency=medium\n\n  * Test.\n\n -- Test <test@example.com>  Wed, 02 Dec 2026 12:00:00 +0000\n";
    // debhelper: dh_fixperms makes everything root's and drops set-id bits; the package then
    // gives its program setuid root and a directory to a system user, as such packages do.
    let rules = "#!/usr/bin/make -f\n%:\n\tdh $@\noverride_dh_auto_install:\n\
                 \tinstall -D -m 755 tool debian/kmtest/usr/bin/tool\n\tinstall -d -m 750 debian/kmtest/var/lib/kmtest/data\n\
                 override_dh_fixperms:\n\tdh_fixperms\n\tchmod 4755 debian/kmtest/usr/bin/tool\n\
                 \tchown 101:102 debian/kmtest/var/lib/kmtest/data\n";
    let mut lists = Vec::new();
    for rootcmd in ["fakeroot", "kmview-fakeroot"] {
        let f = fixture(&format!("dpkg-{rootcmd}"));
        let src = f.work.join("kmtest");
        std::fs::create_dir_all(src.join("debian/source")).unwrap();
        std::fs::write(src.join("debian/control"), control).unwrap();
        std::fs::write(src.join("debian/changelog"), changelog).unwrap();
        std::fs::write(src.join("debian/rules"), rules).unwrap();
        std::fs::write(src.join("debian/source/format"), "3.0 (native)\n").unwrap();
        std::fs::write(src.join("tool"), "#!/bin/sh\necho tool\n").unwrap();
        std::fs::set_permissions(src.join("debian/rules"), std::fs::Permissions::from_mode(0o755)).unwrap();
        if is_root() {
            let o = run(Command::new("chown").args(["-R", &format!("{NOBODY}:{NOBODY}")]).arg(&src));
            assert!(o.status.success());
        }
        let path = format!("{}:{}", f.km.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
        let o = run(unprivileged(&src, &["dpkg-buildpackage", "-b", "-us", "-uc", &format!("-r{rootcmd}")]).env("PATH", &path));
        assert!(o.status.success(), "dpkg-buildpackage -r{rootcmd}:\n{}{}", stdout(&o), stderr(&o));
        let deb = f.work.join("kmtest_1.0_all.deb");
        let o = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
        let list: Vec<String> = stdout(&o)
            .lines()
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                format!("{} {} {}", w[0], w[1], w[w.len() - 1])
            })
            .collect();
        lists.push(list.join("\n"));
    }
    assert!(lists[0].contains("-rwsr-xr-x root/root ./usr/bin/tool"), "fakeroot's package: {}", lists[0]);
    assert!(lists[0].lines().any(|l| l.ends_with("./var/lib/kmtest/data/") && !l.contains("root/root")), "fakeroot's package: {}", lists[0]);
    assert_eq!(lists[1], lists[0]);
}

/// Nested: `-0` inside `-0` (Debian's fakeroot refuses it), an inner `-0` over an outer bind, an
/// outer `-0` seen through an inner view's mount.
#[test]
fn fake_roots_nest_with_other_views() {
    let f = fixture("nested");
    let km = f.km.to_str().unwrap();
    std::fs::create_dir(f.work.join("src")).unwrap();
    if is_root() {
        std::os::unix::fs::chown(f.work.join("src"), Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let bind = format!("{}:/mnt/kmview-fr", f.work.join("src").display());
    let inner = format!("{km} -0 -- sh -c 'id -u; touch a; chown 42 a; stat -c %u a'");
    let o = run(&mut unprivileged(&f.work, &[km, "-0", "--", "sh", "-c", &inner]));
    assert_eq!(stdout(&o), "0\n42\n", "{}", stderr(&o));
    // The onion: what the outer fake root recorded shows through the inner one (modes, devices;
    // an owner too with the inner `-u`), what the inner one records stays its own.
    let inner = |u: &str| format!("{km} -0 {u} -- sh -c \"stat -c '%n %u %a %F' f g d; chown 43 f; stat -c '%n %u %a' f\"");
    let outer = format!("touch f g; chmod 4755 f; mknod d c 1 3; chown 42 g; {}; {}; stat -c '%n %u %a' f g", inner(""), inner("-u"));
    let o = run(&mut unprivileged(&f.work, &[km, "-0", "--", "sh", "-c", &outer]));
    let once = "f 0 4755 regular empty file\ng 0 644 regular empty file\nd 0 644 character special file\nf 43 4755\n";
    let once_u = "f 0 4755 regular empty file\ng 42 644 regular empty file\nd 0 644 character special file\nf 43 4755\n";
    assert_eq!(stdout(&o), format!("{once}{once_u}f 0 4755\ng 42 644\n"), "{}", stderr(&o));
    let inner = format!("{km} -0 -- sh -c 'touch /mnt/kmview-fr/b; chown 43:44 /mnt/kmview-fr/b; stat -c \"%u %g\" /mnt/kmview-fr/b'");
    let o = run(&mut unprivileged(&f.work, &[km, "-b", &bind, "--", "sh", "-c", &inner]));
    assert_eq!(stdout(&o), "43 44\n", "{}", stderr(&o));
    let inner = format!("{km} -b {bind} -- sh -c 'id -u; stat -c %u /mnt/kmview-fr/c'");
    let o = run(&mut unprivileged(&f.work, &[km, "-0", "--", "sh", "-c", &format!("touch src/c; chown 45 src/c; {inner}")]));
    assert_eq!(stdout(&o), "0\n45\n", "{}", stderr(&o));
}

/// Writers killed with SIGKILL at any moment leave the record consistent: every file shows the
/// last owner a finished chown gave it, or the one a killed call was giving it.
#[test]
fn writers_killed_mid_update_leave_the_record_consistent() {
    let f = fixture("kill-9");
    let c = r#"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int start = atoi(argv[1]);
    char name[16], line[32];
    for (int i = start; ; i++) {
        snprintf(name, sizeof name, "f%d", i % 8);
        if (chown(name, i, i) != 0) return 1;
        int n = snprintf(line, sizeof line, "%s %d\n", name, i);
        if (write(1, line, n) != n) return 1;
    }
}
"#;
    let bin = compile_c(f.s.path(), "chowner", &c.replace("#include <string.h>", "#include <string.h>\n#include <stdlib.h>"), &[]);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let km = f.km.to_str().unwrap();
    let state = format!("--state={}", f.work.join("rec").display());
    for i in 0..8 {
        let p = f.work.join(format!("f{i}"));
        std::fs::write(&p, "").unwrap();
        if is_root() {
            std::os::unix::fs::chown(&p, Some(NOBODY), Some(NOBODY)).unwrap();
        }
    }
    let mut last = [None::<u32>; 8];
    let mut next_start = 1000u32;
    for round in 0..12 {
        let child = unprivileged(&f.work, &[km, &state, "--", bin.to_str().unwrap(), &next_start.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20 + 7 * round));
        // The writer is the launcher's child (or the launcher itself): kill the whole group of it.
        let _ = Command::new("pkill").args(["-KILL", "-f", bin.to_str().unwrap()]).status();
        let out = child.wait_with_output().unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((name, v)) = line.split_once(' ') {
                if let (Some(k), Ok(v)) = (name.strip_prefix('f').and_then(|k| k.parse::<usize>().ok()), v.parse::<u32>()) {
                    last[k] = Some(v);
                }
            }
        }
        next_start += 1_000_000;
    }
    assert!(last.iter().all(|l| l.is_some()), "some writer never finished a chown: {last:?}");
    let o = run(&mut unprivileged(&f.work, &[km, &state, "--", "stat", "-c", "%n %u %g", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"]));
    for (k, line) in stdout(&o).lines().enumerate() {
        let w: Vec<u32> = line.split_whitespace().skip(1).map(|x| x.parse().unwrap()).collect();
        let l = last[k].unwrap();
        // The last finished chown, or one in flight when its writer was killed (a later value of
        // the same file, owner and group set together).
        assert!(w[0] == w[1] && w[0] >= l && w[0] % 8 == k as u32 % 8 && w[0] - l < 8 * 2_000_000, "f{k}: {line}, last finished {l}");
    }
}

/// A recorded device shows its type in a directory listing too (`d_type`), so `find -type c`
/// finds it (Debian's fakeroot leaves the regular file's type there: its `find` finds nothing).
#[test]
fn a_listing_shows_recorded_devices_as_devices() {
    let f = fixture("d-type");
    let script = "mknod c c 1 3; mknod b b 8 0; touch r; find . -type c; find . -type b; find . -type f";
    let o = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", "sh", "-c", script]));
    assert_eq!(stdout(&o), "./c\n./b\n./r\n", "{}", stderr(&o));
}

/// A file renamed outside the view keeps its record (it is the same inode); one removed outside
/// and its inode reused for a directory does not lend it its owner.
#[test]
fn files_changed_outside_the_view_heal() {
    let f = fixture("outside");
    let km = f.km.to_str().unwrap();
    let state = format!("--state={}", f.work.join("rec").display());
    let o = run(&mut unprivileged(&f.work, &[km, &state, "--", "sh", "-c", "touch a b; chown 42:42 a b; chmod 4711 b"]));
    assert!(o.status.success(), "{}", stderr(&o));
    // Outside: a renamed, b removed and the names reused.
    let o = run(&mut unprivileged(&f.work, &["sh", "-c", "mv a a2; rm b; for i in 1 2 3 4 5 6 7 8; do mkdir d$i; done"]));
    assert!(o.status.success());
    let o =
        run(&mut unprivileged(&f.work, &[km, &state, "--", "sh", "-c", "stat -c '%n %u %a' a2; stat -c '%u %a' d1 d2 d3 d4 d5 d6 d7 d8 | sort -u"]));
    assert_eq!(stdout(&o), "a2 42 644\n0 755\n", "{}", stderr(&o));
}

/// Threads of one process and forked children chowning and statting the same files at once:
/// no record lost, each file shows one of the owners written to it last.
#[test]
fn threads_and_children_record_at_once() {
    let f = fixture("threads");
    let c = r#"
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
static int base;
static void *work(void *arg) {
    long t = (long)arg;
    char name[32];
    struct stat st;
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "f%ld-%d", t, i % 20);
        if (chown(name, base + t * 1000 + i, 7) != 0 || stat(name, &st) != 0 || st.st_uid != (uid_t)(base + t * 1000 + i)) { printf("lost %s\n", name); return NULL; }
        stat("shared", &st);
        chown("shared", base + t, 7);
    }
    return NULL;
}
int main(void) {
    pthread_t th[8];
    for (int p = 0; p < 2; p++) {
        if (fork() == 0) {
            base = (p + 1) * 100000;
            for (long t = 0; t < 8; t++) pthread_create(&th[t], NULL, work, (void *)(t + 10 * p));
            for (int t = 0; t < 8; t++) pthread_join(th[t], NULL);
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {}
    puts("done");
    return 0;
}
"#;
    let bin = compile_c(f.s.path(), "threads", c, &["-pthread"]);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = format!(
        "for t in 0 1 2 3 4 5 6 7 10 11 12 13 14 15 16 17; do for i in $(seq 0 19); do touch f$t-$i; done; done; touch shared; {}",
        bin.display()
    );
    let o = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", "sh", "-c", &script]));
    assert_eq!(stdout(&o), "done\n", "{}", stderr(&o));
}

/// `security.*` attributes, which the real user may not set, are kept by the view: `setcap`
/// (which first raises its own capabilities with `capset`), `getcap`, `cp -a`, listing and
/// removal print what they print under Debian's fakeroot.
#[test]
fn capabilities_and_security_attributes_are_kept() {
    let script = "touch g; /usr/sbin/setcap cap_net_raw+ep g; echo rc=$?; /usr/sbin/getcap g; cp -a g h; /usr/sbin/getcap h; \
                  python3 -c 'import os; print(os.listxattr(\"g\"), os.getxattr(\"g\", \"security.capability\").hex())'; \
                  /usr/sbin/setcap -r g; /usr/sbin/getcap g; python3 -c 'import os; print(os.listxattr(\"g\"))'";
    let (oracle, ours) = both("setcap", script);
    assert!(oracle.contains("g cap_net_raw=ep"), "fakeroot's run: {oracle}");
    assert_eq!(ours, oracle);
}

/// The review's cases: an inner `-0 --uid` starts as its own identity, not the outer process's;
/// an inner `-0` whose record lives in an outer view's `--tmp` directory runs;
/// a removed kept attribute of an inner view hides the outer one's; a chmod that fails records
/// nothing; errno is untouched by a swallowed EPERM.
#[test]
fn nested_identities_records_and_failures() {
    let f = fixture("review");
    let km = f.km.to_str().unwrap();
    let o = run(&mut unprivileged(&f.work, &[km, "-0", "--", km, "-0", "--uid", "1000", "--", "id", "-u"]));
    assert_eq!(stdout(&o), "1000\n", "{}", stderr(&o));
    let o = run(&mut unprivileged(
        &f.work,
        &[
            km,
            "--tmp",
            "/var/tmp",
            "--",
            "env",
            "TMPDIR=/var/tmp",
            km,
            "-0",
            "--",
            "sh",
            "-c",
            "touch /var/tmp/x; chown 5 /var/tmp/x; stat -c %u /var/tmp/x",
        ],
    ));
    assert_eq!(stdout(&o), "5\n", "{}", stderr(&o));
    let inner = format!("{km} -0 -- sh -c '/usr/sbin/setcap -r g; /usr/sbin/getcap g; echo inner-done'");
    let o = run(&mut unprivileged(
        &f.work,
        &[km, "-0", "--", "sh", "-c", &format!("touch g; /usr/sbin/setcap cap_net_raw+ep g; {inner}; /usr/sbin/getcap g")],
    ));
    assert_eq!(stdout(&o), "inner-done\ng cap_net_raw=ep\n", "{}", stderr(&o));
    let o = run(&mut unprivileged(
        &f.work,
        &[
            km,
            "-0",
            "--",
            "sh",
            "-c",
            "chmod 4755 /no/such 2>/dev/null; touch h; chmod 4755 /etc/passwd 2>/dev/null; stat -c %a /etc/passwd; chmod 4700 h; stat -c %a h",
        ],
    ));
    assert_eq!(stdout(&o), "4755\n4700\n", "{}", stderr(&o));
}

/// glibc's own walkers stat internally: `nftw` callbacks and `fts_read`'s `fts_statp` still show
/// the record (Debian's fakeroot gets `fts` right and `nftw` wrong).
#[test]
fn glibc_walkers_see_the_record() {
    let f = fixture("walkers");
    let c = r#"
#define _XOPEN_SOURCE 700
#include <fts.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
static int cb(const char *p, const struct stat *sb, int flag, struct FTW *f) { (void)flag; (void)f; if (strstr(p, "/a")) printf("nftw %s %d %o\n", p, (int)sb->st_uid, (unsigned)sb->st_mode); return 0; }
int main(void) {
    nftw(".", cb, 8, FTW_PHYS);
    char *roots[] = {".", NULL};
    FTS *t = fts_open(roots, FTS_PHYSICAL, NULL);
    FTSENT *e;
    while ((e = fts_read(t))) if (!strcmp(e->fts_name, "a")) printf("fts %s %d %o\n", e->fts_path, (int)e->fts_statp->st_uid, (unsigned)e->fts_statp->st_mode);
    fts_close(t);
    return 0;
}
"#;
    let bin = compile_c(f.s.path(), "walkers", c, &[]);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = format!("rm -f a; touch a; chown 42 a; chmod 4755 a; {}", bin.display());
    // fakeroot is right for fts, not for nftw (its callback shows the real owner).
    let oracle = run(&mut unprivileged(&f.work, &["fakeroot", "--", "sh", "-c", &script]));
    let fts_line = stdout(&oracle).lines().find(|l| l.starts_with("fts ")).map(str::to_owned);
    assert_eq!(fts_line.as_deref(), Some("fts ./a 42 104755"), "fakeroot's run: {}", stdout(&oracle));
    let ours = run(&mut unprivileged(&f.work, &[f.km.to_str().unwrap(), "-0", "--", "sh", "-c", &script]));
    assert_eq!(stdout(&ours), "nftw ./a 42 104755\nfts ./a 42 104755\n", "{}", stderr(&ours));
}
