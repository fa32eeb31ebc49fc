//! The unreal view with real programs: what they print through `/unreal` must be what they
//! print natively on the real path.

use kmview_cdylib_tests::*;

#[test]
fn cat_through_unreal_prints_the_real_file() {
    let want = std::fs::read("/etc/passwd").unwrap();
    let o = run(&mut kmview(["--unreal", "--", "cat", "/unreal/etc/passwd"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(o.stdout, want);
    let o = run(&mut kmview(["--unreal", "--", "cat", "/unreal/unreal/etc/passwd"]));
    assert_eq!(o.stdout, want);
}

#[test]
fn a_third_level_is_enoent_in_one_view() {
    let o = unreal_sh("cat /unreal/unreal/unreal/etc/passwd; echo rc=$?");
    assert_eq!(stdout(&o), "rc=1\n");
    assert!(stderr(&o).contains("No such file or directory"), "{}", stderr(&o));
}

#[test]
fn nested_views_serve_four_levels_and_refuse_a_fifth() {
    let k = launcher().to_str().unwrap().to_owned();
    let want = std::fs::read_to_string("/etc/hostname").unwrap();
    let o = run(&mut kmview([
        "--unreal",
        "--",
        &k,
        "--unreal",
        "--",
        "sh",
        "-c",
        "cat /unreal/unreal/unreal/etc/hostname /unreal/unreal/unreal/unreal/etc/hostname; \
         cat /unreal/unreal/unreal/unreal/unreal/etc/hostname 2>/dev/null; echo rc=$?",
    ]));
    assert_eq!(stdout(&o), format!("{want}{want}rc=1\n"));
}

#[test]
fn a_stat_loop_outside_unreal_and_through_it_agree_with_native() {
    let s = Scratch::new("stat");
    std::fs::write(s.join("f"), b"12345").unwrap();
    std::os::unix::fs::symlink("f", s.join("l")).unwrap();
    std::fs::create_dir(s.join("d")).unwrap();
    let fmt = "stat -c '%n %s %i %F %h' f l d; stat -L -c '%s %F' l";
    let native = ok(native_sh(&format!("cd {} && {fmt}", s.path().display())));
    let inside = ok(unreal_sh(&format!("cd {} && {fmt}", s.unreal())));
    let outside = ok(unreal_sh(&format!("cd {} && {fmt}", s.path().display())));
    assert_eq!(inside, native);
    assert_eq!(outside, native);
}

#[test]
fn ls_and_find_list_the_same_tree() {
    let s = Scratch::new("find");
    for d in ["a", "a/b", "c"] {
        std::fs::create_dir(s.join(d)).unwrap();
    }
    for f in ["a/1", "a/b/2", "c/3", "top"] {
        std::fs::write(s.join(f), f).unwrap();
    }
    std::os::unix::fs::symlink("../a", s.join("c/up")).unwrap();
    let native =
        ok(native_sh(&format!("cd {0} && find . | sort && ls -la --time-style=+ a | tail -n +2 && find {0} -type f | sort", s.path().display())));
    let inside = ok(unreal_sh(&format!("cd {0} && find . | sort && ls -la --time-style=+ a | tail -n +2 && find {0} -type f | sort", s.unreal())));
    let native_prefixed = native.replace(&s.path().display().to_string(), &s.unreal());
    assert_eq!(inside, native_prefixed);
}

#[test]
fn the_mountpoint_appears_in_its_parents_listing() {
    let root: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir("/").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        if !v.iter().any(|n| n == "unreal") {
            v.push("unreal".into());
        }
        v.sort();
        v
    };
    let o = ok(unreal_sh("ls -A / | sort"));
    assert_eq!(o.lines().collect::<Vec<_>>(), root);
    // /unreal is the root again, and holds the second mountpoint.
    let o = ok(unreal_sh("ls -A /unreal | sort"));
    assert_eq!(o.lines().collect::<Vec<_>>(), root);
    let o = ok(unreal_sh("stat -c %F /unreal /unreal/unreal"));
    assert_eq!(o, "directory\ndirectory\n");
}

#[test]
fn cd_into_the_view_and_pwd_answer_in_its_terms() {
    let o = ok(unreal_sh("cd /unreal/etc && pwd -P && pwd && /bin/pwd -P && readlink /proc/self/cwd && cd .. && pwd -P"));
    assert_eq!(o, "/unreal/etc\n/unreal/etc\n/unreal/etc\n/unreal/etc\n/unreal\n");
    // `..` from the second level's root reaches the first level, not the host root.
    let o = ok(unreal_sh("cd /unreal/unreal && cd .. && pwd -P && cd /unreal/unreal/etc/../.. && pwd -P"));
    assert_eq!(o, "/unreal\n/unreal\n");
}

#[test]
fn symlinks_resolve_in_the_view() {
    let s = Scratch::new("links");
    std::fs::create_dir(s.join("real")).unwrap();
    std::fs::write(s.join("real/x"), b"x").unwrap();
    std::os::unix::fs::symlink("real", s.join("rel")).unwrap();
    std::os::unix::fs::symlink(s.join("real"), s.join("abs")).unwrap();
    let script = "cd rel && pwd -P && realpath ../rel/x && cd ../abs && pwd -P && readlink ../rel ../abs && readlink -f ../abs/x";
    let native = ok(native_sh(&format!("cd {} && {script}", s.path().display())));
    let inside = ok(unreal_sh(&format!("cd {} && {script}", s.unreal())));
    let p = s.path().display().to_string();
    let u = s.unreal();
    // The link's stored text is never translated; a relative link stays in the view, an
    // absolute one resolves from the view's root (the host's, in the unreal view).
    let want = format!("{u}/real\n{u}/real/x\n{p}/real\nreal\n{p}/real\n{p}/real/x\n");
    assert_eq!(native, format!("{p}/real\n{p}/real/x\n{p}/real\nreal\n{p}/real\n{p}/real/x\n"));
    assert_eq!(inside, want);
}

#[test]
fn python_lives_in_the_view() {
    let s = Scratch::new("py");
    std::fs::write(s.join("data"), b"hello").unwrap();
    let code = format!(
        "import os\n\
         d = '{u}'\n\
         print(sorted(os.listdir(d)))\n\
         print(open(d + '/data').read())\n\
         st = os.stat(d + '/data'); print(st.st_size, st.st_ino == os.stat('{p}/data').st_ino)\n\
         os.chdir(d); print(os.getcwd())\n\
         print(os.path.realpath('data'))\n\
         with open('new', 'w') as f: f.write('w')\n\
         print(os.path.exists('{p}/new'))\n",
        u = s.unreal(),
        p = s.path().display()
    );
    let o = ok(run(&mut kmview(["--unreal", "--", "python3", "-c", &code])));
    assert_eq!(o, format!("['data']\nhello\n5 True\n{u}\n{u}/data\nTrue\n", u = s.unreal()));
}

#[test]
fn errno_through_the_view_matches_native() {
    let s = Scratch::new("errno");
    std::fs::write(s.join("file"), b"").unwrap();
    let script = "for p in missing file/x file/ . file/../file; do stat \"$p\" >/dev/null 2>/tmp/kmview-errno-$$ ; echo \"$p $? $(sed 's/.*: //' /tmp/kmview-errno-$$)\"; done; rm -f /tmp/kmview-errno-$$";
    let native = ok(native_sh(&format!("cd {} && {script}", s.path().display())));
    let inside = ok(unreal_sh(&format!("cd {} && {script}", s.unreal())));
    assert_eq!(inside, native);
    assert!(native.contains("Not a directory"), "{native}");
}
