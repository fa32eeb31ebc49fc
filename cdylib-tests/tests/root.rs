//! `--root` with a real distribution root (Debian 12 minbase, made by debootstrap): the root's
//! own files, its own dynamic loader and libraries, its package manager, and the same script
//! as under a kernel `chroot` in a user namespace.

use kmview_cdylib_tests::*;
use std::process::Command;

fn in_root(script: &str) -> std::process::Output {
    let r = debian_root().display().to_string();
    run(&mut kmview(["-r", &r, "-b", "/proc:/proc", "--", "sh", "-c", script]))
}

#[test]
fn the_root_shows_its_own_files() {
    let r = debian_root();
    let o = ok(in_root("cat /etc/os-release; ls /; id -u"));
    let mut want = std::fs::read_to_string(r.join("etc/os-release")).unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(r).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| !n.starts_with('.')).collect();
    names.sort();
    want.push_str(&(names.join("\n") + "\n0\n"));
    assert_eq!(o, want);
    assert!(o.contains("bookworm"), "{o}");
}

/// The inode of the root's own file at `inside` (a path in the root), as `/proc/*/maps` prints
/// it: what shows that a mapping is the root's file, now that maps names it as the root does.
fn root_inode(inside: &str) -> String {
    use std::os::unix::fs::MetadataExt;
    let host = debian_root().join(inside.trim_start_matches('/'));
    let root_ino = std::fs::metadata(&host).unwrap().ino();
    let host_ino = std::fs::metadata(inside).map(|m| m.ino()).unwrap_or(0);
    assert_ne!(root_ino, host_ino, "{inside}: the root's and the host's are the same file");
    root_ino.to_string()
}

#[test]
fn programs_run_with_the_roots_own_loader_and_libraries() {
    let o = ok(in_root("grep -E 'ld-linux|libc\\.so' /proc/self/maps | awk '{print $5, $6}' | sort -u; readlink /proc/self/exe"));
    let lines: Vec<&str> = o.lines().collect();
    assert!(lines.len() >= 3, "{o}");
    // Every loader and libc mapping is the root's file (its inode), named as the root names it.
    for l in &lines[..lines.len() - 1] {
        let (ino, path) = l.split_once(' ').unwrap();
        assert!(path.starts_with("/usr/lib/") || path.starts_with("/lib"), "{l}\n{o}");
        assert_eq!(ino, root_inode(path), "mapped from outside the root: {l}\n{o}");
    }
    // And the program is named in the root's terms.
    assert_eq!(lines[lines.len() - 1], "/usr/bin/readlink");
}

#[test]
fn the_package_manager_lists_the_roots_packages() {
    let status = std::fs::read_to_string(debian_root().join("var/lib/dpkg/status")).unwrap();
    let installed = status.matches("Status: install ok installed").count();
    let o = ok(in_root("dpkg -l | grep -c '^ii'; dpkg -s dash | grep -c 'Status: install ok installed'"));
    assert_eq!(o, format!("{installed}\n1\n"));
    assert!(installed > 50, "{installed}");
}

const ROOT_SCRIPT: &str = r#"
exec 2>&1
p() { printf '== %s\n' "$*"; }
p links; ls -la --time-style=+ /lib64 /bin /etc/alternatives | grep -v '^total' | awk '{$2=""; print}' | head -40
p readlink-f; readlink -f /lib64/ld-linux-x86-64.so.2 /bin/sh /etc/alternatives/awk /usr/bin/awk /etc/os-release
p realpath; realpath /usr/lib/../bin/.. /bin/../etc /lib/x86_64-linux-gnu/../../bin
p cd; cd /usr/lib/../bin && pwd -P; cd / && cd .. && pwd -P; cd /bin && cd .. && pwd -P
p stat; stat -c '%n %F %s' / /bin /usr/bin/dash /etc/debian_version /lib64/ld-linux-x86-64.so.2
p cat; cat /etc/debian_version /etc/hostname 2>&1 | head -3
p find; find /etc -maxdepth 1 | LC_ALL=C sort | head -60
p dotdot; ls /../../etc/apt | LC_ALL=C sort
p proc; readlink /proc/self/root; cd /var/lib && readlink /proc/self/cwd
p exec; /usr/bin/env sh -c 'echo $0'; awk 'BEGIN { print "awk ok" }'
"#;

#[test]
fn the_root_behaves_as_a_kernel_chroot() {
    let r = debian_root().display().to_string();
    let s = Scratch::new("root-script");
    let script = s.join("script.sh");
    std::fs::write(&script, ROOT_SCRIPT).unwrap();
    // The script reaches both runs through the root's /tmp, under the same name.
    let inside = format!("/tmp/kmview-root-script-{}.sh", std::process::id());
    std::fs::copy(&script, debian_root().join(inside.trim_start_matches('/'))).unwrap();
    let kernel =
        run(Command::new("unshare").args(["-rm", "sh", "-c"]).arg(format!("mount --bind /proc {r}/proc && exec chroot {r} /bin/sh {inside}")));
    let ours = run(&mut kmview(["-r", &r, "-b", "/proc:/proc", "-w", "/", "--", "/bin/sh", &inside]));
    let _ = std::fs::remove_file(debian_root().join(inside.trim_start_matches('/')));
    assert!(kernel.status.success(), "kernel run: {}", stderr(&kernel));
    let (want, got) = (stdout(&kernel), stdout(&ours));
    assert!(want.contains("== exec") && want.contains("awk ok"), "{want}");
    if want != got {
        let diff: Vec<String> = want.lines().zip(got.lines()).filter(|(a, b)| a != b).map(|(a, b)| format!("  kernel: {a}\n  kmview: {b}")).collect();
        panic!("kmview -r differs from chroot:\n{}\n\nkernel:\n{want}\nkmview:\n{got}\nstderr: {}", diff.join("\n"), stderr(&ours));
    }
}

const SYSTEM_PROBE: &str = r#"
#include <stdlib.h>
int main(void) {
    /* The shell system() starts must be the root's, mapping the root's libc. */
    int r = system("grep -m1 'libc.so' /proc/$$/maps | awk '{print $5}'; exit 3");
    return WEXITSTATUS(r) == 3 ? 0 : 1;
}
"#;

const POPEN_PROBE: &str = r#"
#include <stdio.h>
#include <sys/wait.h>
int main(void) {
    /* The shell popen starts must be the root's, mapping the root's libc; quotes survive. */
    FILE *f = popen("grep -m1 'libc.so' /proc/$$/maps | awk '{print $5}'; echo \"it's\"; exit 3", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        fputs(line, stdout);
    int r = f ? pclose(f) : -1;
    return r != -1 && WEXITSTATUS(r) == 3 ? 0 : 1;
}
"#;

#[test]
fn popen_runs_the_roots_own_shell() {
    let r = debian_root();
    let s = Scratch::new("root-popen");
    compile_c(s.path(), "popen_probe", POPEN_PROBE, &[]);
    let o = ok(run(&mut kmview([
        "-r",
        &r.display().to_string(),
        "-b",
        "/proc:/proc",
        "-b",
        &format!("{}:/probe", s.path().display()),
        "--",
        "/probe/popen_probe",
    ])));
    let mut lines = o.lines();
    assert_eq!(lines.next(), Some(root_inode("/usr/lib/x86_64-linux-gnu/libc.so.6").as_str()), "the shell mapped another libc: {o}");
    assert_eq!(lines.next(), Some("it's"), "{o}");
}

/// A program whose library lives in a directory only the root's `ld.so.conf.d` names runs
/// through the root's own loader (which is given that directory, as `ldconfig` would have put it
/// in the root's cache); without the configuration file it does not find its library.
#[test]
fn the_roots_ld_so_conf_directories_are_searched() {
    let r = debian_root();
    let s = Scratch::new("root-ldconf");
    let tag = format!("kmview-ldconf-{}", std::process::id());
    let lib_dir = r.join("opt").join(&tag);
    std::fs::create_dir_all(&lib_dir).unwrap();
    std::fs::write(s.join("lib.c"), "const char *kmview_conf_probe(void) { return \"from the conf dir\"; }\n").unwrap();
    let so = lib_dir.join("libkmconf.so");
    let o = run(Command::new("gcc").args(["-shared", "-fPIC", "-o"]).arg(&so).arg(s.join("lib.c")));
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(
        s.join("main.c"),
        "#include <stdio.h>\nconst char *kmview_conf_probe(void);\nint main(void) { puts(kmview_conf_probe()); return 0; }\n",
    )
    .unwrap();
    let prog = lib_dir.join("prog");
    let o = run(Command::new("gcc").arg("-o").arg(&prog).arg(s.join("main.c")).arg(format!("-L{}", lib_dir.display())).arg("-lkmconf"));
    assert!(o.status.success(), "{}", stderr(&o));
    let conf = r.join("etc/ld.so.conf.d").join(format!("{tag}.conf"));
    let inside = format!("/opt/{tag}/prog");
    let root = r.display().to_string();
    let without = run(&mut kmview(["-r", &root, "--", &inside]));
    std::fs::write(&conf, format!("# a test's library\n/opt/{tag}\n")).unwrap();
    let with = run(&mut kmview(["-r", &root, "--", &inside]));
    let _ = std::fs::remove_file(&conf);
    let _ = std::fs::remove_dir_all(&lib_dir);
    assert!(!without.status.success(), "found without the conf file: {}", stdout(&without));
    assert_eq!(stdout(&with), "from the conf dir\n", "{}", stderr(&with));
}

/// `/proc/self/maps` names the root's files as the root names them (as a chroot shows them), not
/// by their host paths; `/proc/self/comm` is the program's name, not its loader's; and
/// `/proc`'s own `..` lead where they lead in `/proc`.
#[test]
fn proc_under_a_root_names_what_the_root_names() {
    let r = debian_root();
    let root = r.display().to_string();
    let script = "grep -m1 'libc.so' /proc/self/maps | awk '{print $6}'; cat /proc/self/comm; readlink /proc/1/../self/exe; \
        exec 3</etc 4</etc/passwd; ls /proc/$$/fd/3/ | grep -x passwd; cat /proc/$$/fd/3/../etc/hostname >/dev/null && echo dotdot-ok; \
        ls /proc/self/cwd/ | grep -x etc; ls /proc/$$/fd/4/ 2>&1 | grep -o 'Not a directory'";
    let o = ok(run(&mut kmview(["-r", &root, "-b", "/proc:/proc", "-w", "/", "--", "/bin/sh", "-c", script])));
    assert_eq!(o, "/usr/lib/x86_64-linux-gnu/libc.so.6\ncat\n/usr/bin/readlink\npasswd\ndotdot-ok\netc\nNot a directory\n");
}

#[test]
fn system_runs_the_roots_own_shell() {
    let r = debian_root();
    let s = Scratch::new("root-system");
    let bin = compile_c(s.path(), "system_probe", SYSTEM_PROBE, &[]);
    // The probe itself lives outside the root: reach it through a bind.
    let o = ok(run(&mut kmview([
        "-r",
        &r.display().to_string(),
        "-b",
        "/proc:/proc",
        "-b",
        &format!("{}:/probe", s.path().display()),
        "--",
        "/probe/system_probe",
    ])));
    assert_eq!(o.trim_end(), root_inode("/usr/lib/x86_64-linux-gnu/libc.so.6"), "the shell mapped another libc");
    let _ = bin;
}

/// `-R DIR` (proot's `-R`): the root's own programs, with the host's usual paths bound on it:
/// `/etc/passwd` and `/etc/resolv.conf` are the host's, `/proc`, `/dev`, `/tmp` and `$HOME` work.
#[test]
fn root_with_host_paths_binds_the_usual_ones() {
    let r = debian_root();
    let home = Scratch::new("root-home");
    std::fs::write(home.join("marker"), "home\n").unwrap();
    let script = "head -1 /etc/passwd; [ \"$(readlink /proc/self/exe)\" = \"$(command -v readlink)\" ] && echo proc; test -c /dev/null && echo dev; ls /tmp >/dev/null && echo tmp; cat \"$HOME/marker\"";
    let o = run(kmview(["-R", &r.display().to_string(), "--", "sh", "-c", script]).env("HOME", home.path()));
    let host_first = std::fs::read_to_string("/etc/passwd").unwrap().lines().next().unwrap().to_string();
    assert_eq!(stdout(&o), format!("{host_first}\nproc\ndev\ntmp\nhome\n"), "{}", stderr(&o));
    let o = run(&mut kmview(["-R", "/", "-r", "/", "--", "true"]));
    assert_eq!(o.status.code(), Some(125), "-R and -r together");
}

/// Another process's `/proc/PID/cwd` and `/proc/PID/exe` name paths in the view, as in a chroot
/// (the kernel's text is a host path under the root).
#[test]
fn another_processs_links_are_named_in_the_view() {
    let r = debian_root();
    let script = "cd /etc; sh -c 'readlink /proc/$PPID/cwd; e=$(readlink /proc/$PPID/exe); test -e \"$e\" && echo \"${e%%/*}exe in the view\"'";
    let o = run(&mut kmview(["-r", &r.display().to_string(), "-b", "/proc:/proc", "--", "sh", "-c", script]));
    assert_eq!(stdout(&o), "/etc\nexe in the view\n", "{}", stderr(&o));
}
