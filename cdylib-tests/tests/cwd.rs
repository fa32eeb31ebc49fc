//! The working directory under concurrency: threads moving it between two binds while another
//! asks `getcwd`, and children forked in the middle of a move. A mount namespace always answers
//! with the mount's name (the kernel's run with the same binds is the oracle); so must the view.

use kmview_cdylib_tests::*;
use std::process::Command;

/// Two directories bound at `/kmview-cwd-a` and `/kmview-cwd-b`, each holding a file named
/// after it; the C programs, compiled.
fn fixture(tag: &str) -> (Scratch, [String; 2], String, String) {
    let s = Scratch::new(tag);
    for (d, f) in [("fa", "a"), ("fb", "b")] {
        std::fs::create_dir_all(s.join(d)).unwrap();
        std::fs::write(s.join(d).join(f), f).unwrap();
    }
    let race = compile_c(s.path(), "chdir_race", include_str!("../c/chdir_race.c"), &["-pthread"]).display().to_string();
    let fork = compile_c(s.path(), "fork_chdir", include_str!("../c/fork_chdir.c"), &["-pthread"]).display().to_string();
    let binds = [format!("{}:/kmview-cwd-a", s.join("fa").display()), format!("{}:/kmview-cwd-b", s.join("fb").display())];
    (s, binds, race, fork)
}

/// Runs `cmd` in the view, and under the kernel with the same binds made on mountpoints of a
/// tmpfs mounted over `/mnt` in a private mount namespace (so nothing is made on the host).
fn both(binds: &[String; 2], cmd: &[&str]) -> (String, String) {
    let mut kernel_script = String::from("mount -t tmpfs none /mnt && ");
    let mut ours_args = Vec::new();
    for b in binds {
        let (src, dst) = b.split_once(':').unwrap();
        let dst = dst.replace("/kmview-cwd-", "/mnt/kmview-cwd-");
        kernel_script += &format!("mkdir {dst} && mount --bind {src} {dst} && ");
        ours_args.push("-b".to_string());
        ours_args.push(format!("{src}:{dst}"));
    }
    let cmd_mnt: Vec<String> = cmd.iter().map(|a| a.replace("/kmview-cwd-", "/mnt/kmview-cwd-")).collect();
    kernel_script += "exec \"$@\"";
    let kernel = run(Command::new("unshare").args(["-rm", "--propagation", "private", "sh", "-c", &kernel_script, "sh"]).args(&cmd_mnt));
    ours_args.push("--".to_string());
    ours_args.extend(cmd_mnt);
    let ours = run(&mut kmview(&ours_args));
    (stdout(&kernel), format!("{}{}", stdout(&ours), stderr(&ours)))
}

#[test]
fn getcwd_names_the_mount_while_two_threads_move_between_binds() {
    let (_s, binds, race, _) = fixture("cwd-race");
    let (kernel, ours) = both(&binds, &[&race, "/kmview-cwd-a", "/kmview-cwd-b", "3"]);
    assert!(kernel.starts_with("ok "), "the kernel's run: {kernel}");
    assert!(ours.starts_with("ok "), "in the view: {ours}");
}

#[test]
fn a_child_forked_in_the_middle_of_a_chdir_sees_a_working_directory_it_can_use() {
    let (_s, binds, _, fork) = fixture("cwd-fork");
    let (kernel, ours) = both(&binds, &[&fork, "/kmview-cwd-a", "/kmview-cwd-b", "2000"]);
    assert_eq!(kernel, "ok\n", "the kernel's run");
    assert_eq!(ours, "ok\n");
}

/// The parent of the working directory renamed under it: relative paths still reach the
/// directory, and getcwd (and get_current_dir_name, with a `PWD` that no longer exists) names
/// it where it is now, as under the kernel.
#[test]
fn a_working_directory_whose_parent_is_renamed_stays_usable() {
    let s = Scratch::new("cwd-rename");
    std::fs::create_dir_all(s.join("x/y")).unwrap();
    std::fs::write(s.join("x/y/file"), "in y\n").unwrap();
    let c = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    (void)argc;
    char from[4096], to[4096], buf[4096];
    snprintf(from, sizeof from, "%s/x", argv[1]);
    snprintf(to, sizeof to, "%s/z", argv[1]);
    if (chdir(argv[2]) != 0 || rename(from, to) != 0) { perror("setup"); return 2; }
    FILE *f = fopen("file", "r");
    printf("fopen %s\n", f && fgets(buf, sizeof buf, f) ? buf : "failed\n");
    printf("getcwd %s\n", getcwd(buf, sizeof buf));
    printf("get_current_dir_name %s\n", get_current_dir_name());
    return 0;
}
"#;
    let bin = compile_c(s.path(), "renamed", c, &[]);
    let dir = s.path().display().to_string();
    let y = format!("{dir}/x/y");
    let oracle = run(Command::new("unshare")
        .args(["-rm", "--propagation", "private", "sh", "-c"])
        .arg(format!("mount --bind {dir} {dir} && PWD={y} exec \"$0\" {dir} {y}"))
        .arg(&bin));
    let kernel = stdout(&oracle);
    std::fs::rename(s.join("z"), s.join("x")).unwrap();
    assert!(kernel.contains("fopen in y"), "the kernel's run: {kernel}");
    let ours = run(kmview(["-b", &format!("{dir}:{dir}"), "--"]).arg(&bin).arg(&dir).arg(&y).env("PWD", &y));
    assert_eq!(stdout(&ours), kernel, "{}", stderr(&ours));
}
