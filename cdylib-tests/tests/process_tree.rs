//! Children stay in the view: fork, vfork, posix_spawn, system, popen, exec of programs and
//! `#!` scripts by paths inside the view, cleared and custom environments.

use kmview_cdylib_tests::*;

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").unwrap()
}

const SPAWNERS: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;

static void reap(pid_t p) { int st; waitpid(p, &st, 0); }

int main(int argc, char **argv) {
    const char *what = argv[1];
    char *cat[] = {"cat", "/unreal/etc/hostname", NULL};
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(what, "fork")) {
        pid_t p = fork();
        if (p == 0) { execv("/unreal/bin/cat", cat); _exit(99); }
        reap(p);
    } else if (!strcmp(what, "vfork")) {
        pid_t p = vfork();
        if (p == 0) { execve("/unreal/bin/cat", cat, environ); _exit(99); }
        reap(p);
    } else if (!strcmp(what, "posix_spawn")) {
        pid_t p;
        int r = posix_spawn(&p, "/unreal/bin/cat", NULL, NULL, cat, environ);
        if (r) { printf("posix_spawn: %s\n", strerror(r)); return 1; }
        reap(p);
    } else if (!strcmp(what, "posix_spawn_empty_env")) {
        pid_t p;
        char *env[] = {NULL};
        char *sh[] = {"sh", "-c", "cat /unreal/etc/hostname", NULL};
        int r = posix_spawn(&p, "/unreal/bin/sh", NULL, NULL, sh, env);
        if (r) { printf("posix_spawn: %s\n", strerror(r)); return 1; }
        reap(p);
    } else if (!strcmp(what, "system")) {
        return system("cat /unreal/etc/hostname") != 0;
    } else if (!strcmp(what, "system_after_clearenv")) {
        clearenv();
        setenv("PATH", "/usr/bin:/bin", 1);
        return system("cat /unreal/etc/hostname") != 0;
    } else if (!strcmp(what, "popen")) {
        FILE *f = popen("cat /unreal/etc/hostname", "r");
        char buf[256]; size_t n = fread(buf, 1, sizeof buf, f);
        fwrite(buf, 1, n, stdout);
        return pclose(f) != 0;
    } else if (!strcmp(what, "execle")) {
        char *env[] = {"FOO=bar", NULL};
        execle("/unreal/bin/sh", "sh", "-c", "cat /unreal/etc/hostname; echo FOO=$FOO", (char *)NULL, env);
        printf("execle: %s\n", strerror(errno));
    } else if (!strcmp(what, "exec_errno")) {
        execl(argv[2], argv[2], (char *)NULL);
        printf("%s\n", strerrorname_np(errno));
    }
    return 0;
}
"#;

fn spawner(s: &Scratch) -> String {
    compile_c(s.path(), "spawners", SPAWNERS, &[]).display().to_string()
}

#[test]
fn every_way_of_starting_a_child_keeps_it_in_the_view() {
    let s = Scratch::new("spawn");
    let bin = spawner(&s);
    for how in ["fork", "vfork", "posix_spawn", "posix_spawn_empty_env", "system", "system_after_clearenv", "popen"] {
        let o = run(&mut kmview(["--unreal", "--", &bin, how]));
        assert_eq!(stdout(&o), hostname(), "{how}: {}", stderr(&o));
        assert!(o.status.success(), "{how}: {}", stderr(&o));
    }
    let o = ok(run(&mut kmview(["--unreal", "--", &bin, "execle"])));
    assert_eq!(o, format!("{}FOO=bar\n", hostname()));
}

#[test]
fn scripts_inside_the_view_run_with_their_interpreter_from_the_view() {
    let s = Scratch::new("script");
    let script = s.join("script");
    std::fs::write(&script, "#!/unreal/bin/sh -e\necho \"$0\"\ncase $- in *e*) echo errexit;; esac\ncd \"$(dirname \"$0\")\" && pwd -P\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let virt = format!("{}/script", s.unreal());
    let o = ok(run(&mut kmview(["--unreal", "--", &virt])));
    // The interpreter gets the script's virtual path, its option as one argument, and the
    // script's own cd lands in the view.
    assert_eq!(o, format!("{virt}\nerrexit\n{}\n", s.unreal()));
    // From a shell, a Python subprocess and env -i, too.
    let o = ok(unreal_sh(&format!("{virt} | head -1")));
    assert_eq!(o, format!("{virt}\n"));
    let py = format!("import subprocess; print(subprocess.run(['{virt}'], capture_output=True, env={{}}).stdout.decode(), end='')");
    let o = ok(run(&mut kmview(["--unreal", "--", "python3", "-c", &py])));
    assert_eq!(o.lines().next(), Some(virt.as_str()));
    let o = ok(run(&mut kmview(["--unreal", "--", "env", "-i", &virt])));
    assert_eq!(o.lines().next(), Some(virt.as_str()));
}

#[test]
fn a_missing_interpreter_gives_the_kernels_errno() {
    let s = Scratch::new("nointerp");
    let bin = spawner(&s);
    let script = s.join("script");
    std::fs::write(&script, "#!/unreal/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let native_script = s.join("native");
    std::fs::write(&native_script, "#!/no/such/interpreter\n").unwrap();
    std::fs::set_permissions(&native_script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let native = ok(run(std::process::Command::new(&bin).args(["exec_errno", native_script.to_str().unwrap()])));
    let inside = ok(run(&mut kmview(["--unreal", "--", &bin, "exec_errno", &format!("{}/script", s.unreal())])));
    assert_eq!(native, "ENOENT\n");
    assert_eq!(inside, native);
    // A script without execute permission: EACCES, as the kernel says for the real one.
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&native_script, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let native = ok(run(std::process::Command::new(&bin).args(["exec_errno", native_script.to_str().unwrap()])));
    let inside = ok(run(&mut kmview(["--unreal", "--", &bin, "exec_errno", &format!("{}/script", s.unreal())])));
    assert_eq!(native, "EACCES\n");
    assert_eq!(inside, native);
}

#[test]
fn pipelines_and_env_i_stay_in_the_view() {
    let native = ok(native_sh("cat /etc/passwd | wc -l; env -i /bin/sh -c 'cat /etc/hostname'"));
    let inside = ok(unreal_sh("cat /unreal/etc/passwd | wc -l; env -i /bin/sh -c 'cat /unreal/unreal/etc/hostname'"));
    assert_eq!(inside, native);
}

#[test]
fn a_child_inherits_the_virtual_cwd_even_through_a_cleared_environment() {
    let o = ok(unreal_sh("cd /unreal/usr/share && env -i /bin/pwd -P && python3 -c 'import os; os.system(\"pwd -P\")'"));
    assert_eq!(o, "/unreal/usr/share\n/unreal/usr/share\n");
}
