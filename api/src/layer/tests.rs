//! The layer functions on small trees made in a temporary directory; the kernel's overlayfs is
//! the oracle in `cdylib-tests/tests/overlay_tool.rs`.

use super::*;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("kmview-layer-{}-{n}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(p.join("upper")).unwrap();
        fs::create_dir_all(p.join("lower")).unwrap();
        Tmp(p)
    }
    fn put(&self, rel: &str, content: &str) {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
    fn lines(&self, with_lower: bool) -> Vec<String> {
        let lower = self.0.join("lower");
        diff(&self.0.join("upper"), with_lower.then_some(lower.as_path())).unwrap().iter().map(Item::to_string).collect()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn whiteout_names_must_be_plain_siblings() {
    assert!(check_whiteout(OsStr::new("a")).is_ok());
    for bad in ["", ".", ".."] {
        assert!(check_whiteout(OsStr::new(bad)).is_err(), "{bad:?}");
    }
    assert!(matches!(classify(OsStr::new(".wh..wh.plnk")), Name::Reserved));
    assert!(matches!(classify(OsStr::new(OPAQUE_MARKER)), Name::Opaque));
}

#[test]
fn diff_tells_added_modified_mode_and_parents() {
    let t = Tmp::new("diff");
    t.put("lower/sub/same", "x");
    t.put("lower/sub/mod", "1");
    t.put("lower/exe", "#!");
    t.put("upper/sub/same", "x");
    t.put("upper/sub/mod", "2");
    t.put("upper/sub/new", "n");
    t.put("upper/exe", "#!");
    t.put("upper/a.b", "sorts before a/");
    t.put("upper/a/.wh.c", "");
    fs::set_permissions(t.0.join("upper/exe"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(t.0.join("lower/exe"), fs::Permissions::from_mode(0o644)).unwrap();
    symlink("exe", t.0.join("upper/link")).unwrap();
    assert_eq!(t.lines(true), ["A a.b", "A a/", "D a/c", "m exe (0644 -> 0755)", "A link", "M sub/mod", "A sub/new"]);
    // Without the lower tree: a non-empty directory is a parent, everything else undecidable.
    assert_eq!(t.lines(false), ["C a.b", "D a/c", "C exe", "C link", "C sub/mod", "C sub/new", "C sub/same"]);
}

#[test]
fn apply_refuses_an_escaping_whiteout_and_changes_nothing() {
    let t = Tmp::new("escape");
    t.put("upper/new", "n");
    t.put("upper/d/.wh...", "");
    let err = apply(&t.0.join("upper"), &t.0.join("lower"), |_| {}).unwrap_err();
    assert!(matches!(err, LayerError::BadWhiteout { .. }) && err.is_refusal(), "{err}");
    assert!(!t.0.join("lower/new").exists());
}

#[test]
fn apply_replaces_types_and_keeps_hard_links() {
    let t = Tmp::new("apply");
    t.put("lower/was_dir/x", "x");
    t.put("lower/was_file", "f");
    t.put("upper/was_dir", "now a file");
    t.put("upper/was_file/inside", "now a dir");
    t.put("upper/one", "linked");
    t.put("lower/.one.kmview-apply.0", "DIR's own, not a temporary");
    fs::hard_link(t.0.join("upper/one"), t.0.join("upper/two")).unwrap();
    let mut done = Vec::new();
    let s = apply(&t.0.join("upper"), &t.0.join("lower"), |a| done.push(a.to_string())).unwrap();
    assert_eq!(done, ["add one", "add two", "change was_dir", "change was_file/", "add was_file/inside"]);
    assert_eq!((s.added, s.changed), (3, 2));
    let lower = t.0.join("lower");
    assert_eq!(fs::read_to_string(lower.join("was_dir")).unwrap(), "now a file");
    assert_eq!(fs::read_to_string(lower.join("was_file/inside")).unwrap(), "now a dir");
    assert_eq!(fs::read_to_string(lower.join(".one.kmview-apply.0")).unwrap(), "DIR's own, not a temporary");
    assert!(!lower.join(".one.kmview-apply.1").exists());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(lower.join("one")).unwrap().ino(), fs::metadata(lower.join("two")).unwrap().ino());
}

#[test]
fn json_escapes() {
    let items = [Item { path: "a\"b\n".into(), kind: None, change: Change::Removed }];
    assert_eq!(to_json(&items), "[\n  {\"path\":\"a\\\"b\\n\",\"change\":\"removed\"}\n]\n");
}
