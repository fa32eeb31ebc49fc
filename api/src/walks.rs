//! Which paths below each bind (and root) of a view the library must resolve component by
//! component, decided by looking at the symlinks in the source on the host: one copy, used by
//! the launcher and by [`crate::ViewBuilder`], so that a view built either way walks the same
//! paths. A symlink the kernel would follow on the host to a place the view changes (outside
//! the source, or onto a mount or mark) makes the fast way wrong; these functions find them.

use crate::format::{Entry, Stack, View, Walk};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// Entries looked at in one bind source before it is taken to need the exact walk.
pub const SCAN_LIMIT: usize = 200_000;

/// Marks each bind (and root) of `view` whose source holds a symlink that leads out of it, which
/// the kernel would follow on the host: paths below it are then resolved component by component.
/// `outer` is the stack the view will be pushed onto (its mounts and marks count as places too).
/// Reads the sources' trees (at most [`SCAN_LIMIT`] entries each: a larger one is walked whole).
pub fn decide(view: &mut View, outer: &Stack) {
    let has_root = view.entries.iter().any(|e| matches!(e, Entry::Root { .. }));
    let places: Vec<Vec<u8>> = view
        .entries
        .iter()
        .chain(outer.views.iter().flat_map(|v| v.entries.iter()))
        .filter_map(|e| match e {
            Entry::Bind { at, .. } | Entry::Tmp { at, .. } | Entry::Overlay { at, .. } => Some(at.clone()),
            Entry::Hide { path } | Entry::Deny { path } | Entry::ReadOnly { path } | Entry::Link { path } => Some(path.clone()),
            Entry::Unreal { prefix } => Some(prefix.clone()),
            Entry::Root { .. } | Entry::Chroot { .. } => Some(b"/".to_vec()),
            Entry::Static { .. } | Entry::Exact | Entry::Complete { .. } | Entry::FakeRoot { .. } | Entry::Trace { .. } => None,
        })
        .collect();
    for e in &mut view.entries {
        if let Entry::Overlay { lower, walk, .. } = e {
            *walk = if has_links(&PathBuf::from(OsString::from_vec(lower.clone()))) { Walk::All } else { Walk::No };
            continue;
        }
        let (at, source, walk) = match e {
            Entry::Bind { at, source, walk, .. } => (at.clone(), source.clone(), walk),
            Entry::Root { source, walk } => (b"/".to_vec(), source.clone(), walk),
            _ => continue,
        };
        if source != b"/" {
            // Places strictly below this mount, and every place outside it.
            let others: Vec<Vec<u8>> = places.iter().filter(|p| **p != at).cloned().collect();
            *walk = leads_out(&PathBuf::from(OsString::from_vec(source)), &at, has_root, &others);
        }
    }
}

/// Which paths below a mount of the tree at `source` (shown at `at`) the kernel would resolve
/// differently from the view: all of them if a symlink's target leads out (a relative one that
/// climbs above the source or reaches a place some view mounts or marks, an absolute one under a
/// root view or naming such a place); those with `..` if a relative one lands shallower than it
/// sits (a `..` after it climbs further than the path says).
fn leads_out(source: &std::path::Path, at: &[u8], has_root: bool, places: &[Vec<u8>]) -> Walk {
    let mut found = Walk::No;
    let mut dirs: Vec<(PathBuf, Vec<u8>)> = vec![(source.to_path_buf(), Vec::new())];
    let mut seen = 0;
    while let Some((dir, rel)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > SCAN_LIMIT {
                return Walk::All;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let mut child = rel.clone();
            child.push(b'/');
            child.extend_from_slice(entry.file_name().as_bytes());
            if kind.is_dir() {
                dirs.push((entry.path(), child));
                continue;
            }
            if !kind.is_symlink() {
                continue;
            }
            let Ok(target) = std::fs::read_link(entry.path()) else {
                continue;
            };
            let t = target.as_os_str().as_bytes();
            let out = if t.first() == Some(&b'/') {
                has_root || places.iter().any(|p| under_or_above(t, p))
            } else {
                let depth = rel.iter().filter(|&&b| b == b'/').count() as i64;
                if lands_higher(t, depth) {
                    found = Walk::DotDot;
                }
                climbs_out(t, depth) || {
                    let mut v = at.to_vec();
                    if v == b"/" {
                        v.clear();
                    }
                    v.extend_from_slice(&rel);
                    lexical_join(&mut v, t);
                    places.iter().any(|p| under_or_above(&v, p))
                }
            };
            if out {
                return Walk::All;
            }
        }
    }
    found
}

/// Whether the tree at `source` holds a symlink (or is larger than [`SCAN_LIMIT`] entries): an
/// overlay's lower tree then has each lower path checked for one before the kernel walks it,
/// as a link's target may have changed in upper.
fn has_links(source: &std::path::Path) -> bool {
    let mut dirs = vec![source.to_path_buf()];
    let mut seen = 0;
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > SCAN_LIMIT {
                return true;
            }
            match entry.file_type() {
                Ok(k) if k.is_symlink() => return true,
                Ok(k) if k.is_dir() => dirs.push(entry.path()),
                _ => {}
            }
        }
    }
    false
}

/// `base` (absolute) joined with the relative `target`, `..` taken textually.
fn lexical_join(base: &mut Vec<u8>, target: &[u8]) {
    for comp in target.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
        if comp == b".." {
            let cut = base.iter().rposition(|&b| b == b'/').unwrap_or(0);
            base.truncate(cut);
        } else {
            base.push(b'/');
            base.extend_from_slice(comp);
        }
    }
    if base.is_empty() {
        base.push(b'/');
    }
}

/// Whether a relative link target, read in a directory `depth` levels below the source, climbs
/// above the source.
fn climbs_out(target: &[u8], depth: i64) -> bool {
    let mut d = depth;
    for comp in target.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
        d += if comp == b".." { -1 } else { 1 };
        if d < 0 {
            return true;
        }
    }
    false
}

/// Whether a relative link target, read in a directory `depth` levels below the source, leads
/// to a place less deep than the link itself (`depth + 1`).
fn lands_higher(target: &[u8], depth: i64) -> bool {
    let mut d = depth;
    for comp in target.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
        d += if comp == b".." { -1 } else { 1 };
    }
    d < depth + 1
}

/// Whether the absolute path `t` is `place`, below it, or above it (then a walk through it can
/// meet the place).
fn under_or_above(t: &[u8], place: &[u8]) -> bool {
    let is_under = |a: &[u8], b: &[u8]| b == b"/" || (a.starts_with(b) && (a.len() == b.len() || a[b.len()] == b'/'));
    let t = if t.len() > 1 { t.strip_suffix(b"/").unwrap_or(t) } else { t };
    is_under(t, place) || is_under(place, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    /// A scratch tree, removed on drop.
    struct Tree(PathBuf);
    impl Tree {
        fn new(tag: &str) -> Tree {
            let p = std::env::temp_dir().join(format!("kmview-api-walks-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(p.join("src/sub")).unwrap();
            std::fs::write(p.join("src/file"), "f").unwrap();
            Tree(p.canonicalize().unwrap())
        }
        fn src(&self) -> PathBuf {
            self.0.join("src")
        }
    }
    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn walk_of(source: &Path, at: &[u8], has_root: bool, places: &[&[u8]]) -> Walk {
        let places: Vec<Vec<u8>> = places.iter().map(|p| p.to_vec()).collect();
        leads_out(source, at, has_root, &places)
    }

    #[test]
    fn relative_targets_are_counted_by_depth() {
        assert!(climbs_out(b"../x", 0));
        assert!(!climbs_out(b"../x", 1));
        assert!(climbs_out(b"a/../../..", 1));
        assert!(lands_higher(b"../x", 1));
        assert!(!lands_higher(b"x", 0));
        assert!(!lands_higher(b"./x/y", 0));
    }

    #[test]
    fn a_source_without_links_needs_no_walk() {
        let t = Tree::new("plain");
        assert_eq!(walk_of(&t.src(), b"/build", false, &[b"/other"]), Walk::No);
    }

    #[test]
    fn a_link_climbing_out_of_the_source_walks_everything() {
        let t = Tree::new("out");
        symlink("../../elsewhere", t.src().join("sub/l")).unwrap();
        assert_eq!(walk_of(&t.src(), b"/build", false, &[]), Walk::All);
    }

    #[test]
    fn a_link_landing_higher_inside_the_source_walks_dotdot_paths() {
        let t = Tree::new("dot");
        symlink("../file", t.src().join("sub/l")).unwrap();
        assert_eq!(walk_of(&t.src(), b"/build", false, &[]), Walk::DotDot);
    }

    #[test]
    fn absolute_links_walk_when_they_meet_a_place_or_a_root() {
        let t = Tree::new("abs");
        symlink("/usr/lib/x", t.src().join("l")).unwrap();
        assert_eq!(walk_of(&t.src(), b"/build", false, &[b"/opt"]), Walk::No);
        assert_eq!(walk_of(&t.src(), b"/build", false, &[b"/usr/lib"]), Walk::All);
        assert_eq!(walk_of(&t.src(), b"/build", false, &[b"/usr/lib/x/y"]), Walk::All);
        assert_eq!(walk_of(&t.src(), b"/build", true, &[]), Walk::All);
    }

    #[test]
    fn decide_sets_each_binds_walk_and_counts_the_outer_stacks_places() {
        let t = Tree::new("decide");
        symlink("/hidden-outside/x", t.src().join("l")).unwrap();
        let src = t.src().into_os_string().into_vec();
        let bind = |at: &[u8]| Entry::Bind { at: at.to_vec(), source: src.clone(), read_only: false, walk: Walk::No };
        let mut view = View { entries: vec![bind(b"/a")] };
        decide(&mut view, &Stack::default());
        assert_eq!(view.entries[0], bind(b"/a"));
        let outer = Stack { views: vec![View { entries: vec![Entry::Hide { path: b"/hidden-outside".to_vec() }] }] };
        decide(&mut view, &outer);
        assert!(matches!(view.entries[0], Entry::Bind { walk: Walk::All, .. }), "{:?}", view.entries[0]);
    }
}
