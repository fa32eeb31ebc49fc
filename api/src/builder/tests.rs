//! The builder without the library: what each method checks, the view it makes, the files it
//! makes and removes. Running a command in the view is tested in `cdylib-tests/tests/examples.rs`.

use super::*;
use std::path::Path;

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().canonicalize().unwrap().join(format!("kmview-api-builder-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
    fn bytes(&self, p: &str) -> Vec<u8> {
        self.join(p).into_os_string().into_vec()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn methods_make_the_entries_in_order_with_canonical_sources() {
    let s = Scratch::new("entries");
    std::fs::create_dir(s.join("src")).unwrap();
    std::os::unix::fs::symlink("src", s.join("via-link")).unwrap();
    let view = ViewBuilder::new()
        .bind(s.join("via-link"), "/kmview-b/src")
        .ro_bind(s.join("src"), "/kmview-b/ro")
        .hide("/kmview-b/src/.git")
        .view()
        .unwrap();
    let (src, ro) = (s.bytes("src"), b"/kmview-b/ro".to_vec());
    let made_up = view.entries.iter().find_map(|e| if let Entry::Tmp { at, .. } = e { Some(at.clone()) } else { None });
    assert_eq!(made_up.as_deref(), Some(&b"/kmview-b"[..]), "a missing parent is made up: {:?}", view.entries);
    assert_eq!(
        view.entries[..3],
        [
            Entry::Bind { at: b"/kmview-b/src".to_vec(), source: src.clone(), read_only: false, walk: Walk::No },
            Entry::Bind { at: ro, source: src, read_only: true, walk: Walk::No },
            Entry::Hide { path: b"/kmview-b/src/.git".to_vec() },
        ]
    );
}

#[test]
fn a_missing_source_is_named_and_the_first_mistake_is_kept() {
    let e = ViewBuilder::new().bind("/no/such/kmview-src", "/x").hide("relative").view().unwrap_err();
    assert!(matches!(&e, Error::MissingSource { method: "bind", path, .. } if path == Path::new("/no/such/kmview-src")), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("/no/such/kmview-src") && msg.contains("No such file"), "{msg}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn paths_of_the_view_must_be_absolute_and_normal() {
    for bad in ["relative", "/a/../b", "/a/", "/a//b", "/a/.", ""] {
        let e = ViewBuilder::new().deny(bad).view().unwrap_err();
        assert!(matches!(&e, Error::BadViewPath { method: "deny", path, .. } if path == bad.as_bytes()), "{bad}: {e:?}");
        assert!(e.to_string().contains("absolute and normal"), "{e}");
    }
    assert!(matches!(ViewBuilder::new().unreal("/").view(), Err(Error::BadViewPath { method: "unreal", .. })));
    assert!(ViewBuilder::new().ro("/").hide("/a b/c:d").view().is_ok());
}

#[test]
fn a_place_mounted_twice_or_hidden_where_mounted_conflicts() {
    let tmp = std::env::temp_dir();
    let e = ViewBuilder::new().bind(&tmp, "/kmview-c").tmp("/kmview-c").view().unwrap_err();
    assert!(matches!(&e, Error::Conflict { first: "bind", second: "tmp", .. }), "{e:?}");
    assert!(e.to_string().contains("/kmview-c"), "{e}");
    assert!(matches!(ViewBuilder::new().bind(&tmp, "/kmview-c").hide("/kmview-c").view(), Err(Error::Conflict { .. })));
    // A read-only mark on a mount is what --ro over a bind means: allowed.
    assert!(ViewBuilder::new().bind(&tmp, "/kmview-c").ro("/kmview-c").view().is_ok());
}

#[test]
fn private_directories_live_as_long_as_the_builder() {
    let b = ViewBuilder::new().tmp("/kmview-t/scratch");
    let view = b.view().unwrap();
    assert_eq!(view, b.view().unwrap(), "the view is made once");
    let dirs: Vec<PathBuf> = view
        .entries
        .iter()
        .filter_map(|e| if let Entry::Tmp { source, .. } = e { Some(PathBuf::from(OsString::from_vec(source.clone()))) } else { None })
        .collect();
    assert_eq!(dirs.len(), 2, "the tmp directory and the one made up for /kmview-t: {:?}", view.entries);
    assert!(dirs.iter().all(|d| d.is_dir()));
    drop(b);
    assert!(dirs.iter().all(|d| !d.exists()), "left behind: {dirs:?}");
}

#[test]
fn a_source_with_a_link_leading_out_is_walked() {
    let s = Scratch::new("walk");
    std::fs::create_dir(s.join("src")).unwrap();
    std::os::unix::fs::symlink("../../outside", s.join("src/l")).unwrap();
    let view = ViewBuilder::new().bind(s.join("src"), "/tmp").view().unwrap();
    assert!(matches!(view.entries[0], Entry::Bind { walk: Walk::All, .. }), "{:?}", view.entries);
}

#[test]
fn a_mountpoint_through_a_symlink_lands_on_its_target_and_the_link_is_walked() {
    let s = Scratch::new("mountpoint");
    std::fs::create_dir_all(s.join("real/m")).unwrap();
    std::os::unix::fs::symlink("real", s.join("link")).unwrap();
    let view = ViewBuilder::new().bind("/etc", s.join("link/m")).view().unwrap();
    assert!(matches!(&view.entries[0], Entry::Bind { at, .. } if *at == s.bytes("real/m")), "{:?}", view.entries);
    assert!(view.entries.contains(&Entry::Link { path: s.bytes("link") }), "{:?}", view.entries);
    let e = ViewBuilder::new().bind("/etc/hostname", s.join("real")).view().unwrap_err();
    assert!(e.to_string().contains("cannot mount a file over the directory"), "{e}");
}

#[test]
fn a_fake_root_record_is_made_kept_and_never_overwritten() {
    let s = Scratch::new("record");
    let state = s.join("state");
    let view = ViewBuilder::new().fakeroot(0, 0, &state).view().unwrap();
    assert_eq!(view.entries, [Entry::FakeRoot { uid: 0, gid: 0, state: s.bytes("state"), unknown_is_real: false }]);
    assert!(crate::record::check(&state).is_ok());
    // Again: the same record is used.
    assert!(ViewBuilder::new().fakeroot(5, 6, &state).view().is_ok());
    std::fs::write(s.join("notes"), "mine\n").unwrap();
    let e = ViewBuilder::new().fakeroot(0, 0, s.join("notes")).view().unwrap_err();
    assert!(matches!(e, Error::NotARecord { .. }), "{e:?}");
    assert_eq!(std::fs::read_to_string(s.join("notes")).unwrap(), "mine\n");
    let e = ViewBuilder::new().fakeroot(0, 0, "/no/such/dir/state").view().unwrap_err();
    assert!(matches!(e, Error::Record { .. }) && e.to_string().contains("/no/such/dir/state"), "{e}");
}

#[test]
fn a_trace_file_is_made_absolute_and_emptied() {
    let s = Scratch::new("trace");
    std::fs::write(s.join("t.jsonl"), "old\n").unwrap();
    let view = ViewBuilder::new().trace(s.join("t.jsonl")).trace_fsatrace(s.join("t.fsa")).trace(s.join("t.jsonl")).view().unwrap();
    assert_eq!(
        view.entries,
        [
            Entry::Trace { format: TraceFormat::Fsatrace, file: s.bytes("t.fsa") },
            Entry::Trace { format: TraceFormat::Json, file: s.bytes("t.jsonl") },
        ]
    );
    assert_eq!(std::fs::read(s.join("t.jsonl")).unwrap(), b"");
    let e = ViewBuilder::new().trace("/no/such/dir/t").view().unwrap_err();
    assert!(matches!(e, Error::File { method: "trace", .. }), "{e:?}");
}

#[test]
fn a_file_that_is_not_the_library_is_refused() {
    let b = ViewBuilder::new().library("/etc/hostname");
    let e = b.env().unwrap_err();
    assert!(matches!(&e, Error::NotTheLibrary { path, .. } if path == Path::new("/etc/hostname")), "{e:?}");
    assert!(e.to_string().contains("refusing"), "{e}");
    let e = ViewBuilder::new().library("/no/such/libkmview.so").command("true").unwrap_err();
    assert!(e.to_string().contains("cannot be read"), "{e}");
    let msg = Error::LibraryNotFound.to_string();
    assert!(msg.contains("KMVIEW_LIB") && msg.contains("cargo build"), "{msg}");
}

/// The environment is the process's: the case runs in a child of this test binary, alone.
#[test]
fn a_malformed_outer_stack_is_reported() {
    if std::env::var_os("KMVIEW_API_TEST_CHILD").is_some() {
        let e = ViewBuilder::new().hide("/x").stack().unwrap_err();
        assert!(matches!(e, Error::MalformedStack(_)), "{e:?}");
        assert!(e.to_string().contains("KMVIEW_STACK"), "{e}");
        return;
    }
    let o = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "builder::tests::a_malformed_outer_stack_is_reported", "--test-threads=1"])
        .env("KMVIEW_API_TEST_CHILD", "1")
        .env("KMVIEW_STACK", "garbage")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("1 passed"), "{out}{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn complete_mode_is_a_setting_once() {
    let view = ViewBuilder::new().complete(crate::CompleteMode::On).hide("/h").complete(crate::CompleteMode::Auto).view().unwrap();
    assert_eq!(view.entries, [Entry::Hide { path: b"/h".to_vec() }, Entry::Complete { mode: crate::CompleteMode::Auto }]);
}

#[test]
fn settings_come_after_the_mounts_once_each() {
    let view = ViewBuilder::new().exact().static_policy(StaticPolicy::Deny).hide("/h").exact().static_policy(StaticPolicy::Allow).view().unwrap();
    assert_eq!(view.entries, [Entry::Hide { path: b"/h".to_vec() }, Entry::Exact, Entry::Static { policy: StaticPolicy::Allow }]);
}
