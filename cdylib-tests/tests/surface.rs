//! The libc surface as a whole: every entry of `libc-surface.txt` (a copy of the list of entry
//! points a view must see through) is exported by the library; executables the library cannot
//! follow are caught at exec; the descriptor table holds under threads; `/proc/self/exe` names
//! the program in the view's terms.

use kmview_cdylib_tests::*;
use std::process::Command;

#[test]
fn every_surface_entry_is_exported() {
    let list = std::fs::read_to_string(root().join("cdylib-tests/libc-surface.txt")).unwrap();
    let wanted: Vec<&str> =
        list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert!(wanted.len() > 200, "the list has {} entries", wanted.len());
    let o = ok(run(Command::new("nm").args(["-D", "--defined-only"]).arg(library())));
    let exported: std::collections::BTreeSet<&str> =
        o.lines().filter_map(|l| l.split_whitespace().nth(2)).map(|n| n.split('@').next().unwrap()).collect();
    let missing: Vec<&&str> = wanted.iter().filter(|n| !exported.contains(**n)).collect();
    assert!(missing.is_empty(), "not exported by libkmview.so: {missing:?}");
}

const STATIC_PROBE: &str = r#"
#include <stdio.h>
int main(void) {
    FILE *f = fopen("/unreal/etc/hostname", "r");
    puts(f ? "in the view" : "outside the view");
    return 0;
}
"#;

#[test]
fn static_and_setuid_executables_are_caught_at_exec() {
    let s = Scratch::new("static");
    let stat = compile_c(s.path(), "probe_static", STATIC_PROBE, &["-static"]);
    let dynamic = compile_c(s.path(), "probe_dynamic", STATIC_PROBE, &[]);
    let stat = stat.to_str().unwrap();
    // The dynamic one lives in the view; the static one cannot.
    assert_eq!(ok(run(&mut kmview(["--unreal", "--", dynamic.to_str().unwrap()]))), "in the view\n");
    // Default: warn, naming the file, and run it.
    let o = run(&mut kmview(["--unreal", "--", "sh", "-c", &format!("{stat}; echo rc=$?")]));
    assert_eq!(stdout(&o), "outside the view\nrc=0\n");
    assert!(stderr(&o).contains(stat) && stderr(&o).contains("statically linked"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // deny: EACCES, as the shell reports it (126), and the program does not run.
    let o = run(&mut kmview(["--unreal", "--static=deny", "--", "sh", "-c", &format!("{stat}; echo rc=$?")]));
    assert_eq!(stdout(&o), "rc=126\n", "{}", stderr(&o));
    // allow: silent.
    let o = run(&mut kmview(["--unreal", "--static=allow", "--", stat]));
    assert_eq!((stdout(&o).as_str(), stderr(&o).as_str()), ("outside the view\n", ""));
    // A copy of the dynamic program setuid to another user leaves the view too (the kernel
    // drops LD_PRELOAD when the program changes the caller's identity)...
    let suid = s.join("probe_suid");
    std::fs::copy(&dynamic, &suid).unwrap();
    std::os::unix::fs::chown(&suid, Some(65534), None).unwrap();
    std::fs::set_permissions(&suid, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    let o = run(&mut kmview(["--unreal", "--static=deny", "--", "sh", "-c", &format!("{}; echo rc=$?", suid.display())]));
    assert_eq!(stdout(&o), "rc=126\n");
    assert!(stderr(&o).contains("setuid"), "{}", stderr(&o));
    // ...but one setuid to the caller (this test runs as root: a setuid-root program) keeps it,
    // as the kernel's own run shows.
    let own = s.join("probe_suid_own");
    std::fs::copy(&dynamic, &own).unwrap();
    std::fs::set_permissions(&own, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    if unsafe { libc::getuid() } == 0 {
        let o = run(&mut kmview(["--unreal", "--static=deny", "--"]).arg(&own));
        assert_eq!((stdout(&o).as_str(), stderr(&o).as_str()), ("in the view\n", ""));
    }
    // A dynamic loader run directly loads the preload itself (ldd does this): not static.
    let o = run(&mut kmview([
        "--unreal",
        "--static=deny",
        "--",
        "sh",
        "-c",
        "ldd /bin/true >/dev/null && /lib64/ld-linux-x86-64.so.2 /bin/echo loader-ok",
    ]));
    assert_eq!((stdout(&o).as_str(), stderr(&o).as_str()), ("loader-ok\n", ""));
    // A bad policy is the launcher's own error, named.
    let o = run(&mut kmview(["--unreal", "--static=maybe", "--", "true"]));
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("--static"), "{}", stderr(&o));
}

#[test]
fn a_32_bit_child_gets_one_clear_line_not_the_loaders_noise() {
    let s = Scratch::new("m32");
    // Built with gcc-multilib (.ci/run installs it): a dynamic 32-bit program, whose loader would
    // refuse the 64-bit preload with "wrong ELF class".
    let m32 = compile_c(s.path(), "probe_m32", STATIC_PROBE, &["-m32"]);
    let m32 = m32.to_str().unwrap();
    let o = run(&mut kmview(["--unreal", "--", "sh", "-c", &format!("{m32}; echo rc=$?")]));
    assert_eq!(stdout(&o), "outside the view\nrc=0\n", "{}", stderr(&o));
    assert!(!stderr(&o).contains("ELF class") && !stderr(&o).contains("ld.so"), "the loader spoke: {}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains(m32) && stderr(&o).contains("32-bit"), "{}", stderr(&o));
    // As --static says: refused, or run silently.
    let o = run(&mut kmview(["--unreal", "--static=deny", "--", "sh", "-c", &format!("{m32}; echo rc=$?")]));
    assert_eq!(stdout(&o), "rc=126\n", "{}", stderr(&o));
    let o = run(&mut kmview(["--unreal", "--static=allow", "--", "sh", "-c", m32]));
    assert_eq!((stdout(&o).as_str(), stderr(&o).as_str()), ("outside the view\n", ""));
}

const THREADS: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static const char *base;
static int bad;
static void *work(void *arg) {
    long id = (long)arg;
    char dir[4200], link[64], got[4200];
    snprintf(dir, sizeof dir, "%s/d%ld", base, id);
    for (int i = 0; i < 2000; i++) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        close(fd);
        snprintf(link, sizeof link, "/proc/self/fd/%d", dup_fd);
        ssize_t n = readlink(link, got, sizeof got - 1);
        got[n < 0 ? 0 : n] = 0;
        int f = openat(dup_fd, "../f", O_RDONLY);
        if (strcmp(got, dir) != 0 || f < 0) { __atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED); if (bad < 5) fprintf(stderr, "thread %ld: %s vs %s, openat %d\n", id, got, dir, f); }
        if (f >= 0) close(f);
        close(dup_fd);
    }
    return NULL;
}
int main(int argc, char **argv) {
    base = argv[1];
    pthread_t t[8];
    for (long i = 0; i < 8; i++) pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    printf("bad=%d\n", bad);
    return 0;
}
"#;

#[test]
fn eight_threads_get_consistent_descriptor_names() {
    let s = Scratch::new("threads");
    std::fs::write(s.join("f"), b"x").unwrap();
    for i in 0..8 {
        std::fs::create_dir(s.join(format!("d{i}"))).unwrap();
    }
    let bin = compile_c(s.path(), "threads", THREADS, &["-pthread"]);
    let o = run(&mut kmview(["--unreal", "--", bin.to_str().unwrap(), &s.unreal()]));
    assert_eq!(stdout(&o), "bad=0\n", "{}", stderr(&o));
}

#[test]
fn proc_self_exe_names_the_program_in_the_view() {
    let o = ok(run(&mut kmview(["--unreal", "--", "/unreal/bin/readlink", "/proc/self/exe"])));
    let native = std::fs::canonicalize("/bin/readlink").unwrap();
    assert_eq!(o, format!("/unreal{}\n", native.display()));
    // A program started by a path outside the view keeps the kernel's answer.
    let o = ok(run(&mut kmview(["--unreal", "--", "/bin/readlink", "/proc/self/exe"])));
    assert_eq!(o, format!("{}\n", native.display()));
}
