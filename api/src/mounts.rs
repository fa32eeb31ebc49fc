//! Where a mount lands, as the kernel would place it, and the directories a view makes up: one
//! copy, used by the launcher and by [`crate::ViewBuilder`], so that a view built either way has
//! the same mountpoints. `mount --bind` follows a symlink on the way to its mountpoint and
//! refuses a directory over a file; bwrap and proot make up missing parents ("glue"). The view
//! does the same with private directories, which whoever made them removes when the command ends.

use crate::format::{Entry, View};
use std::ffi::OsString;
use std::fmt;
use std::hash::BuildHasher;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

/// Why a mountpoint cannot be used, or a directory could not be made up for one. The messages
/// are the launcher's (it puts the option's name in front).
#[derive(Debug)]
pub enum MountError {
    /// A directory over a non-directory, or a non-directory over a directory (the kernel says
    /// `ENOTDIR`).
    KindMismatch { path: PathBuf, source_is_dir: bool },
    /// The mountpoint exists but could not be resolved.
    Resolve { path: PathBuf, error: std::io::Error },
    /// No private directory could be made for the missing directory `top` above a mountpoint.
    GlueDir { top: Vec<u8>, error: std::io::Error },
    /// Its mode could not be set.
    GlueMode { top: Vec<u8>, error: std::io::Error },
    /// The directories below it could not be made.
    GlueInside { top: Vec<u8>, error: std::io::Error },
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |dir: bool| if dir { "directory" } else { "file" };
        let shown = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        match self {
            MountError::KindMismatch { path, source_is_dir } => write!(
                f,
                "cannot mount a {} over the {} {} (the kernel says: Not a directory)",
                kind(*source_is_dir),
                kind(!*source_is_dir),
                path.display()
            ),
            MountError::Resolve { path, error } => write!(f, "{}: {error}", path.display()),
            MountError::GlueDir { top, error } => write!(f, "cannot make up the directory {} for a mountpoint below it: {error}", shown(top)),
            MountError::GlueMode { top, error } => write!(f, "{}: {error}", shown(top)),
            MountError::GlueInside { top, error } => write!(f, "cannot make up the directories of {}: {error}", shown(top)),
        }
    }
}

impl std::error::Error for MountError {}

/// Where the kernel would mount onto `at`: through a symlink on the way to `at` (mount follows
/// it), and only a directory over a directory or a non-directory over a non-directory
/// (`ENOTDIR` otherwise). A missing `at` stays as it is (the view makes up a missing
/// mountpoint). Under a root, `at` names a place in the root's tree, which the view resolves
/// itself. Also the first symlink on the way, if any: paths through it must be walked to reach
/// the mount, as the kernel's would (a [`Entry::Link`]).
pub fn mountpoint(at: Vec<u8>, source_is_dir: bool, under_root: bool) -> Result<(Vec<u8>, Option<Vec<u8>>), MountError> {
    if under_root {
        return Ok((at, None));
    }
    let path = PathBuf::from(OsString::from_vec(at.clone()));
    let Ok(meta) = std::fs::metadata(&path) else { return Ok((at, None)) };
    if meta.is_dir() != source_is_dir {
        return Err(MountError::KindMismatch { path, source_is_dir });
    }
    let real =
        std::fs::canonicalize(&path).map(|c| c.into_os_string().into_vec()).map_err(|error| MountError::Resolve { path: path.clone(), error })?;
    if real == at {
        return Ok((at, None));
    }
    let link =
        path.ancestors().collect::<Vec<_>>().into_iter().rev().find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()));
    Ok((real, link.map(|l| l.as_os_str().as_bytes().to_vec())))
}

/// A fresh private directory, `kmview-tmp-XXXXXX` in `$TMPDIR` (else `/tmp`), mode 1777 as a
/// fresh tmpfs; its canonical path. Whoever makes it removes it.
/// Whether the canonical absolute path `p` is `m` or lies below it.
pub fn is_under(p: &[u8], m: &[u8]) -> bool {
    m == b"/" || p == m || p.starts_with(m) && p.get(m.len()) == Some(&b'/')
}

/// An overlay's private work directory (made like [`private_dir`], for its owner to remove when
/// the command ends), holding the overlay's change count `gen`, shared by the view's processes:
/// 0 says `upper` is empty (every path is the lower tree's without a probe), 1 that it may hold
/// something. `upper` and `lower` (canonical) must not hold one another.
pub fn overlay_work(lower: &[u8], upper: &[u8]) -> std::io::Result<Vec<u8>> {
    if is_under(upper, lower) || is_under(lower, upper) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the changes' directory {} must lie outside {} (and not hold it)",
                String::from_utf8_lossy(upper),
                String::from_utf8_lossy(lower)
            ),
        ));
    }
    let empty = std::fs::read_dir(OsString::from_vec(upper.to_vec()))?.next().is_none();
    let work = private_dir()?;
    let count: u64 = if empty { 0 } else { 1 };
    if let Err(e) = std::fs::write(PathBuf::from(OsString::from_vec(work.clone())).join("gen"), count.to_ne_bytes()) {
        let _ = std::fs::remove_dir_all(OsString::from_vec(work));
        return Err(e);
    }
    Ok(work)
}

pub fn private_dir() -> std::io::Result<Vec<u8>> {
    let base = std::env::var_os("TMPDIR").filter(|t| !t.is_empty()).map(PathBuf::from).unwrap_or_else(|| "/tmp".into());
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut attempt = 0u32;
    loop {
        // std's randomly keyed hasher as the random source (as mkdtemp's letters: unguessable).
        let mut n = std::collections::hash_map::RandomState::new().hash_one((std::process::id(), attempt, std::time::SystemTime::now()));
        let name: String = (0..6)
            .map(|_| {
                let c = LETTERS[(n % LETTERS.len() as u64) as usize];
                n /= LETTERS.len() as u64;
                c as char
            })
            .collect();
        let dir = base.join(format!("kmview-tmp-{name}"));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777))?;
                return std::fs::canonicalize(dir).map(|c| c.into_os_string().into_vec());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Directories made up to hold mountpoints whose parents do not exist, as proot's "glue" and
/// bwrap (which makes them on its tmpfs) do: for the highest missing directory above each
/// mountpoint, a private directory mounted there (a `tmp` entry) holding the directories down to
/// the mountpoints below it. A missing parent inside another mount of the view is not made up
/// (that would write into its source). Each private directory made is pushed onto `made` (also
/// on an error), for the caller to remove when the command ends.
pub fn add_glue(view: &mut View, made: &mut Vec<PathBuf>) -> Result<(), MountError> {
    let mounts: Vec<Vec<u8>> = view
        .entries
        .iter()
        .filter_map(|e| if let Entry::Bind { at, .. } | Entry::Tmp { at, .. } | Entry::Overlay { at, .. } = e { Some(at.clone()) } else { None })
        .collect();
    let unreal: Vec<Vec<u8>> =
        view.entries.iter().filter_map(|e| if let Entry::Unreal { prefix } = e { Some(prefix.clone()) } else { None }).collect();
    let is_under = |p: &[u8], m: &[u8]| p.starts_with(m) && (p.len() == m.len() || p[m.len()] == b'/');
    let under_a_mount = |p: &[u8]| mounts.iter().chain(&unreal).any(|m| is_under(p, m));
    let exists = |p: &[u8]| std::fs::symlink_metadata(OsString::from_vec(p.to_vec())).is_ok();
    // Glue directories by the place they are mounted at, with the paths to make inside them.
    let mut glue: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    for at in &mounts {
        let Some(parent_end) = at.iter().rposition(|&b| b == b'/').filter(|&i| i > 0) else { continue };
        // The highest ancestor of the mountpoint that is missing and under no mount of the view.
        let mut top = None;
        for (i, _) in at[..parent_end + 1].iter().enumerate().filter(|(i, &b)| b == b'/' && *i > 0) {
            let ancestor = &at[..i];
            if under_a_mount(ancestor) {
                break;
            }
            if !exists(ancestor) {
                top = Some(ancestor.to_vec());
                break;
            }
        }
        let Some(top) = top else { continue };
        let inside = at[top.len()..parent_end].to_vec();
        match glue.iter_mut().find(|(t, _)| *t == top) {
            Some((_, paths)) => paths.push(inside),
            None => glue.push((top, vec![inside])),
        }
    }
    for (top, paths) in glue {
        let dir = private_dir().map_err(|error| MountError::GlueDir { top: top.clone(), error })?;
        let dir_path = PathBuf::from(OsString::from_vec(dir.clone()));
        made.push(dir_path.clone());
        std::fs::set_permissions(&dir_path, std::fs::Permissions::from_mode(0o755))
            .map_err(|error| MountError::GlueMode { top: top.clone(), error })?;
        for inside in paths {
            // `inside` is empty or starts with `/`: the directories from the glue down to the
            // mountpoint's parent (the mountpoint itself is made up by the view).
            let mut full = dir.clone();
            full.extend_from_slice(&inside);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(OsString::from_vec(full))
                .map_err(|error| MountError::GlueInside { top: top.clone(), error })?;
        }
        view.entries.push(Entry::Tmp { at: top, source: dir });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_place_is_taken_once() {
        let mut places = super::Places::default();
        let bind = |at: &[u8]| Entry::Bind { at: at.to_vec(), source: b"/s".to_vec(), read_only: false, walk: crate::Walk::No };
        assert!(places.take(&bind(b"/a"), "-b").is_ok());
        assert_eq!(places.take(&bind(b"/a"), "--tmp"), Err(super::Clash::MountedTwice { path: b"/a".to_vec(), first: "-b" }));
        assert_eq!(places.take(&Entry::Hide { path: b"/a".to_vec() }, "--hide"), Err(super::Clash::SamePath { path: b"/a".to_vec(), first: "-b" }));
        // A read-only mark on a mount is allowed (a read-only bind of it); a second mark is not.
        assert!(places.take(&Entry::ReadOnly { path: b"/a".to_vec() }, "--ro").is_ok());
        assert!(places.take(&Entry::Deny { path: b"/a".to_vec() }, "--deny").is_err());
        assert!(places.take(&Entry::Exact, "--exact").is_ok());
    }

    use super::*;

    #[test]
    fn a_mountpoint_follows_a_symlink_and_refuses_a_directory_over_a_file() {
        let base = std::env::temp_dir().canonicalize().unwrap().join(format!("kmview-api-mounts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("real/d")).unwrap();
        std::fs::write(base.join("file"), "").unwrap();
        std::os::unix::fs::symlink("real", base.join("link")).unwrap();
        let b = |p: &str| base.join(p).into_os_string().into_vec();
        assert_eq!(mountpoint(b("link/d"), true, false).unwrap(), (b("real/d"), Some(b("link"))));
        assert_eq!(mountpoint(b("link/d"), true, true).unwrap(), (b("link/d"), None));
        assert_eq!(mountpoint(b("missing"), false, false).unwrap(), (b("missing"), None));
        let e = mountpoint(b("file"), true, false).unwrap_err();
        assert_eq!(e.to_string(), format!("cannot mount a directory over the file {}/file (the kernel says: Not a directory)", base.display()));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn glue_is_made_for_the_highest_missing_parent_only() {
        let top = format!("/kmview-api-glue-{}", std::process::id());
        let mut view = View {
            entries: vec![Entry::Bind { at: format!("{top}/a/b").into_bytes(), source: b"/".to_vec(), read_only: false, walk: Default::default() }],
        };
        let mut made = Vec::new();
        add_glue(&mut view, &mut made).unwrap();
        assert_eq!(made.len(), 1);
        let Some(Entry::Tmp { at, source }) = view.entries.last() else { panic!("{:?}", view.entries) };
        assert_eq!(at, top.as_bytes());
        assert!(PathBuf::from(OsString::from_vec(source.clone())).join("a").is_dir());
        for d in made {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn private_dirs_are_fresh_and_world_writable_sticky() {
        let (a, b) = (private_dir().unwrap(), private_dir().unwrap());
        assert_ne!(a, b);
        for d in [a, b] {
            let p = PathBuf::from(OsString::from_vec(d));
            assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o1777);
            assert!(p.file_name().unwrap().to_string_lossy().starts_with("kmview-tmp-"));
            std::fs::remove_dir(p).unwrap();
        }
    }
}

/// The places a view being built has taken, as the kernel's mount table and the marks see them:
/// the same place mounted twice, marked twice, or hidden or denied where something is mounted,
/// is refused. `by` names whatever asked (an option, a builder method) in the error.
#[derive(Default)]
pub struct Places<'a> {
    mounted: Vec<(Vec<u8>, &'a str)>,
    marked: Vec<(Vec<u8>, &'a str)>,
}

/// Which earlier entry an entry clashes with.
#[derive(Debug, PartialEq, Eq)]
pub enum Clash<'a> {
    /// The same place mounted twice.
    MountedTwice { path: Vec<u8>, first: &'a str },
    /// A mark where something is already (a mark, or a mount under a hide or deny).
    SamePath { path: Vec<u8>, first: &'a str },
}

impl<'a> Places<'a> {
    /// Takes `entry`'s place (an entry that takes none, a setting, is always fine).
    pub fn take(&mut self, entry: &Entry, by: &'a str) -> Result<(), Clash<'a>> {
        let (place, is_mount) = match entry {
            Entry::Bind { at, .. } | Entry::Tmp { at, .. } | Entry::Overlay { at, .. } => (at.clone(), true),
            Entry::Root { .. } => (b"/".to_vec(), true),
            Entry::Hide { path } | Entry::Deny { path } | Entry::ReadOnly { path } => (path.clone(), false),
            _ => return Ok(()),
        };
        let first_at = |list: &[(Vec<u8>, &'a str)]| list.iter().find(|(p, _)| *p == place).map(|(_, by)| *by);
        if let Some(first) = first_at(&self.mounted).filter(|_| is_mount) {
            return Err(Clash::MountedTwice { path: place, first });
        }
        if let Some(first) = first_at(&self.marked) {
            return Err(Clash::SamePath { path: place, first });
        }
        if matches!(entry, Entry::Hide { .. } | Entry::Deny { .. }) {
            if let Some(first) = first_at(&self.mounted) {
                return Err(Clash::SamePath { path: place, first });
            }
        }
        if is_mount { &mut self.mounted } else { &mut self.marked }.push((place, by));
        Ok(())
    }
}

/// Adds a `link` entry for each symlink a mount was asked on (the mount was made on its
/// target), once.
pub fn add_links(view: &mut View, links: Vec<Vec<u8>>) {
    for path in links {
        if !view.entries.iter().any(|e| matches!(e, Entry::Link { path: p } if *p == path)) {
            view.entries.push(Entry::Link { path });
        }
    }
}
