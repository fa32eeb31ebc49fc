//! From the command line to a view: the mount and mark options in the order given (a later
//! entry covers an earlier one at the same path), each path checked before anything runs.

use crate::Options;
use kmview_api::{Entry, StaticPolicy, View, Walk};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// A built view and the private directories made for its `--tmp` entries.
pub struct Built {
    pub view: View,
    pub tmp_dirs: Vec<PathBuf>,
    /// `--state-save`: the fake root's record, and where to write it in fakeroot's format when
    /// the command ends.
    pub save: Option<(PathBuf, PathBuf)>,
}

impl Drop for Built {
    fn drop(&mut self) {
        // Only reached on an error before the command starts, or by the waiting launcher.
        for d in self.tmp_dirs.drain(..) {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Splits `SRC:DST` at the first colon not escaped as `\:`, unescaping both halves (`\:` is a
/// colon, `\\` a backslash, so a path may end with one: `dir\\:DST`).
fn split_pair(arg: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut first = Vec::new();
    let mut i = 0;
    while i < arg.len() {
        match arg[i] {
            b'\\' if matches!(arg.get(i + 1), Some(b':' | b'\\')) => {
                first.push(arg[i + 1]);
                i += 2;
            }
            b':' => return Some((first, unescape(&arg[i + 1..]))),
            b => {
                first.push(b);
                i += 1;
            }
        }
    }
    None
}

fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && matches!(s.get(i + 1), Some(b':' | b'\\')) {
            out.push(s[i + 1]);
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// A destination path in the new view: absolute, made canonical in form (`//`, `.` and a
/// trailing `/` dropped); a `..` is refused, since the view has no parent to resolve it in yet.
fn virtual_path(opt: &str, p: &[u8]) -> Result<Vec<u8>, String> {
    let shown = String::from_utf8_lossy(p);
    if p.first() != Some(&b'/') {
        return Err(format!("{opt}: `{shown}` is not an absolute path"));
    }
    let mut out = Vec::new();
    for comp in p.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
        if comp == b".." {
            return Err(format!("{opt}: `{shown}` has a `..` component"));
        }
        out.push(b'/');
        out.extend_from_slice(comp);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// A source path in the view kmview runs in: it must exist; made canonical (symlinks resolved,
/// through the outer views if there are any).
fn source_path(opt: &str, p: &[u8]) -> Result<Vec<u8>, String> {
    let path = PathBuf::from(OsString::from_vec(p.to_vec()));
    std::fs::canonicalize(&path).map(|c| c.into_os_string().into_vec()).map_err(|e| format!("{opt}: {}: {e}", path.display()))
}

/// Where the kernel would mount onto `at`: through a symlink on the way to `at` (mount follows
/// it), and only a directory over a directory or a non-directory over a non-directory
/// (`ENOTDIR` otherwise). A missing `at` stays as it is (the view makes up a missing
/// mountpoint). Under a `--root`, `at` names a place in the root's tree, which the view resolves
/// itself. Also the first symlink on the way, if any: paths through it must be walked to reach
/// the mount, as the kernel's would.
fn mountpoint(opt: &str, at: Vec<u8>, source_is_dir: bool, under_root: bool) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    if under_root {
        return Ok((at, None));
    }
    let path = PathBuf::from(OsString::from_vec(at.clone()));
    let Ok(meta) = std::fs::metadata(&path) else { return Ok((at, None)) };
    let kind = |dir: bool| if dir { "directory" } else { "file" };
    if meta.is_dir() != source_is_dir {
        return Err(format!(
            "{opt}: cannot mount a {} over the {} {} (the kernel says: Not a directory)",
            kind(source_is_dir),
            kind(meta.is_dir()),
            path.display()
        ));
    }
    let real = std::fs::canonicalize(&path).map(|c| c.into_os_string().into_vec()).map_err(|e| format!("{opt}: {}: {e}", path.display()))?;
    if real == at {
        return Ok((at, None));
    }
    let link =
        path.ancestors().collect::<Vec<_>>().into_iter().rev().find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()));
    Ok((real, link.map(|l| l.as_os_str().as_bytes().to_vec())))
}

pub fn build(opts: &Options, matches: &clap::ArgMatches) -> Result<Built, String> {
    // Every mount and mark option with its position on the command line.
    let mut ordered: Vec<(usize, &str, &OsString)> = Vec::new();
    for id in ["bind", "ro_bind", "root", "hide", "deny", "ro", "tmp"] {
        if let (Some(idx), Some(vals)) = (matches.indices_of(id), matches.get_many::<OsString>(id)) {
            ordered.extend(idx.zip(vals).map(|(i, v)| (i, id, v)));
        }
    }
    ordered.sort_by_key(|(i, _, _)| *i);
    let mut built = Built { view: View::default(), tmp_dirs: Vec::new(), save: None };
    if let Some(prefix) = &opts.unreal {
        let bytes = prefix.as_bytes();
        kmview_api::format::check_mount_path(bytes).map_err(|e| format!("--unreal: {e}"))?;
        if bytes == b"/" {
            return Err("--unreal: the prefix must not be `/`".into());
        }
        built.view.entries.push(Entry::Unreal { prefix: bytes.to_vec() });
    }
    let under_root =
        opts.root_with_host.is_some() || matches.contains_id("root") && matches.get_many::<OsString>("root").is_some_and(|mut v| v.next().is_some());
    if let Some(dir) = &opts.root_with_host {
        root_with_host(&mut built.view, dir.as_bytes())?;
    }
    // Symlinks the mounts were asked on (and made on their targets).
    let mut links: Vec<Vec<u8>> = Vec::new();
    // Mounts by destination, marks by path: the same place twice is a conflict.
    let mut mounted: Vec<(Vec<u8>, &str)> = Vec::new();
    let mut marked: Vec<(Vec<u8>, &str)> = Vec::new();
    for (_, id, value) in ordered {
        let opt = match id {
            "bind" => "--bind",
            "ro_bind" => "--ro-bind",
            "root" => "--root",
            "hide" => "--hide",
            "deny" => "--deny",
            "ro" => "--ro",
            _ => "--tmp",
        };
        let raw = value.as_bytes();
        let entry = match id {
            "bind" | "ro_bind" => {
                // SRC alone is bound at its own (canonical) path, as proot's `-b HOST` is.
                let (src, dst) = match split_pair(raw) {
                    Some(pair) => pair,
                    None => (unescape(raw), source_path(opt, &unescape(raw))?),
                };
                let source = source_path(opt, &src)?;
                let source_is_dir = std::fs::metadata(OsString::from_vec(source.clone())).is_ok_and(|m| m.is_dir());
                let (at, link) = mountpoint(opt, virtual_path(opt, &dst)?, source_is_dir, under_root)?;
                links.extend(link);
                Entry::Bind { at, source, read_only: id == "ro_bind", walk: Walk::No }
            }
            "root" => Entry::Root { source: source_path(opt, raw)?, walk: Walk::No },
            "tmp" => {
                let (at, link) = mountpoint(opt, virtual_path(opt, raw)?, true, under_root)?;
                links.extend(link);
                let dir = make_tmp_dir().map_err(|e| format!("{opt}: cannot make a private directory: {e}"))?;
                built.tmp_dirs.push(PathBuf::from(OsString::from_vec(dir.clone())));
                Entry::Tmp { at, source: dir }
            }
            "hide" => Entry::Hide { path: virtual_path(opt, raw)? },
            "deny" => Entry::Deny { path: virtual_path(opt, raw)? },
            _ => Entry::ReadOnly { path: virtual_path(opt, raw)? },
        };
        let (place, is_mount) = match &entry {
            Entry::Bind { at, .. } | Entry::Tmp { at, .. } => (at.clone(), true),
            Entry::Root { .. } => (b"/".to_vec(), true),
            Entry::Hide { path } | Entry::Deny { path } | Entry::ReadOnly { path } => (path.clone(), false),
            _ => unreachable!("only mount and mark options are ordered"),
        };
        let shown = String::from_utf8_lossy(&place).into_owned();
        if let Some((_, other)) = mounted.iter().find(|(p, _)| *p == place).filter(|_| is_mount) {
            return Err(format!("{opt}: `{shown}` is mounted twice (also by {other})"));
        }
        if let Some((_, other)) = marked.iter().find(|(p, _)| *p == place) {
            return Err(format!("{opt}: `{shown}` conflicts with {other} at the same path"));
        }
        if !is_mount && entry_hides_or_denies(&entry) {
            if let Some((_, other)) = mounted.iter().find(|(p, _)| *p == place) {
                return Err(format!("{opt}: `{shown}` conflicts with {other} at the same path"));
            }
        }
        if is_mount { &mut mounted } else { &mut marked }.push((place, opt));
        built.view.entries.push(entry);
    }
    if !under_root {
        add_glue(&mut built)?;
    }
    for path in links {
        if !built.view.entries.iter().any(|e| matches!(e, Entry::Link { path: p } if *p == path)) {
            built.view.entries.push(Entry::Link { path });
        }
    }
    decide_walks(&mut built.view);
    if opts.exact {
        built.view.entries.push(Entry::Exact);
    }
    let fake = opts.fakeroot || opts.uid.is_some() || opts.gid.is_some() || opts.unknown_is_real;
    if fake || opts.state.is_some() || opts.state_save.is_some() || opts.state_load.is_some() {
        let state = match &opts.state {
            Some(file) => {
                // Loading writes the record without the library's compare-and-swap: only into
                // one no other process can be using yet.
                if opts.state_load.is_some() && std::path::Path::new(file).exists() {
                    return Err(format!(
                        "--state-load: loads only into a new record, and {} exists (it may be in use)",
                        std::path::Path::new(file).display()
                    ));
                }
                state_file(file)?
            }
            None => {
                // The record lives in a private directory of its own, removed when the command ends.
                let dir = make_tmp_dir().map_err(|e| format!("--fakeroot: cannot make a private directory: {e}"))?;
                let dir_path = PathBuf::from(OsString::from_vec(dir.clone()));
                built.tmp_dirs.push(dir_path.clone());
                std::fs::set_permissions(&dir_path, std::os::unix::fs::PermissionsExt::from_mode(0o700)).map_err(|e| format!("--fakeroot: {e}"))?;
                let state = dir_path.join("record");
                kmview_api::record::create(&state).map_err(|e| format!("--fakeroot: {}: {e}", state.display()))?;
                state.into_os_string().into_vec()
            }
        };
        let record = PathBuf::from(OsString::from_vec(state.clone()));
        if let Some(file) = &opts.state_load {
            load_fakeroot_save(&record, std::path::Path::new(file))?;
        }
        if let Some(file) = &opts.state_save {
            built.save = Some((record, PathBuf::from(file)));
        }
        built.view.entries.push(Entry::FakeRoot {
            uid: opts.uid.unwrap_or(0),
            gid: opts.gid.unwrap_or(0),
            state,
            unknown_is_real: opts.unknown_is_real,
        });
    }
    if let Some(p) = &opts.static_policy {
        let policy = StaticPolicy::from_name(p.as_bytes()).ok_or_else(|| format!("--static: `{p}` is not warn, deny or allow"))?;
        built.view.entries.push(Entry::Static { policy });
    }
    Ok(built)
}

/// `--state FILE`: an existing record (checked whole: never discarded or overwritten if it is
/// not one), or a new one; its canonical path.
fn state_file(file: &std::ffi::OsStr) -> Result<Vec<u8>, String> {
    let path = PathBuf::from(file);
    // Two invocations may make it at once: the first one's stands.
    match kmview_api::record::create(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("--state {}: {e}", path.display())),
    }
    kmview_api::record::check(&path).map_err(|e| format!("--state {}: {e}", path.display()))?;
    std::fs::canonicalize(&path).map(|c| c.into_os_string().into_vec()).map_err(|e| format!("--state {}: {e}", path.display()))
}

/// `--state-load FILE`: fakeroot's save format into the record, every line checked first.
fn load_fakeroot_save(record: &std::path::Path, file: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("--state-load {}: {e}", file.display()))?;
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        records.push(kmview_api::record::from_fakeroot_line(line).ok_or_else(|| {
            format!("--state-load {}: line {} is not fakeroot's save format (dev=…,ino=…,mode=…,uid=…,gid=…,nlink=…,rdev=…)", file.display(), i + 1)
        })?);
    }
    kmview_api::record::write_all(record, &records).map_err(|e| format!("--state-load {}: {e}", file.display()))
}

/// `--state-save FILE`: the record in fakeroot's save format.
pub fn save_fakeroot(record: &std::path::Path, file: &std::path::Path) -> Result<(), String> {
    let records = kmview_api::record::read_all(record).map_err(|e| format!("--state-save: reading the record: {e}"))?;
    let text: String = records.iter().map(|r| kmview_api::record::fakeroot_line(r) + "\n").collect();
    std::fs::write(file, text).map_err(|e| format!("--state-save {}: {e}", file.display()))
}

/// The host paths `-R` binds on the root, as proot's `-R` does (those the host has).
const HOST_PATHS: [&str; 15] = [
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/hosts.equiv",
    "/etc/netgroup",
    "/etc/networks",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/resolv.conf",
    "/etc/localtime",
    "/dev",
    "/sys",
    "/proc",
    "/tmp",
    "/run",
];

/// `-R DIR`: DIR as the view's `/`, then the host's usual paths bound at their own places (and
/// `$HOME`); the command line's own mounts come after them and cover them.
fn root_with_host(view: &mut View, dir: &[u8]) -> Result<(), String> {
    view.entries.push(Entry::Root { source: source_path("-R", dir)?, walk: Walk::No });
    let home = std::env::var_os("HOME").map(|h| h.into_vec()).unwrap_or_default();
    for p in HOST_PATHS.iter().map(|p| p.as_bytes().to_vec()).chain(std::iter::once(home).filter(|h| h.len() > 1)) {
        // The host's file, wherever a symlink of its leads (resolv.conf, localtime).
        let Ok(source) = std::fs::canonicalize(OsString::from_vec(p.clone())) else { continue };
        let at = virtual_path("-R", &p)?;
        view.entries.push(Entry::Bind { at, source: source.into_os_string().into_vec(), read_only: false, walk: Walk::No });
    }
    Ok(())
}

fn entry_hides_or_denies(e: &Entry) -> bool {
    matches!(e, Entry::Hide { .. } | Entry::Deny { .. })
}

/// A fresh private directory for `--tmp`, in `$TMPDIR` (else `/tmp`), canonical.
fn make_tmp_dir() -> std::io::Result<Vec<u8>> {
    let base = std::env::var_os("TMPDIR").filter(|t| !t.is_empty()).unwrap_or_else(|| "/tmp".into());
    let mut template = PathBuf::from(base).join("kmview-tmp-XXXXXX").into_os_string().into_vec();
    template.push(0);
    // SAFETY: template is a NUL-terminated, writable buffer ending in XXXXXX.
    let p = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    if p.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    template.pop();
    let dir = PathBuf::from(OsString::from_vec(template));
    // As a fresh tmpfs: writable by all, sticky.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o1777))?;
    std::fs::canonicalize(dir).map(|c| c.into_os_string().into_vec())
}

/// Directories made up to hold mountpoints whose parents do not exist, as proot's "glue" and
/// bwrap (which makes them on its tmpfs) do: for the highest missing directory above each
/// mountpoint, a private directory mounted there (a `tmp` entry, removed at the end) holding the
/// directories down to the mountpoints below it. A missing parent inside another mount of the
/// view is not made up (that would write into its source).
fn add_glue(built: &mut Built) -> Result<(), String> {
    let mounts: Vec<Vec<u8>> = built
        .view
        .entries
        .iter()
        .filter_map(|e| if let Entry::Bind { at, .. } | Entry::Tmp { at, .. } = e { Some(at.clone()) } else { None })
        .collect();
    let unreal: Vec<Vec<u8>> =
        built.view.entries.iter().filter_map(|e| if let Entry::Unreal { prefix } = e { Some(prefix.clone()) } else { None }).collect();
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
        let shown = String::from_utf8_lossy(&top).into_owned();
        let dir = make_tmp_dir().map_err(|e| format!("cannot make up the directory {shown} for a mountpoint below it: {e}"))?;
        let dir_path = PathBuf::from(OsString::from_vec(dir.clone()));
        built.tmp_dirs.push(dir_path.clone());
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&dir_path, mode).map_err(|e| format!("{shown}: {e}"))?;
        for inside in paths {
            // `inside` is empty or starts with `/`: the directories from the glue down to the
            // mountpoint's parent (the mountpoint itself is made up by the view).
            let mut full = dir.clone();
            full.extend_from_slice(&inside);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(OsString::from_vec(full))
                .map_err(|e| format!("cannot make up the directories of {shown}: {e}"))?;
        }
        built.view.entries.push(Entry::Tmp { at: top, source: dir });
    }
    Ok(())
}

/// Entries looked at in one bind source before it is taken to need the exact walk.
const SCAN_LIMIT: usize = 200_000;

/// Marks each bind (and root) whose source holds a symlink that leads out of it, which the
/// kernel would follow on the host: paths below it are then resolved component by component.
fn decide_walks(view: &mut View) {
    let has_root = view.entries.iter().any(|e| matches!(e, Entry::Root { .. }));
    let outer = kmview_api::current_stack().ok().flatten().unwrap_or_default();
    let places: Vec<Vec<u8>> = view
        .entries
        .iter()
        .chain(outer.views.iter().flat_map(|v| v.entries.iter()))
        .filter_map(|e| match e {
            Entry::Bind { at, .. } | Entry::Tmp { at, .. } => Some(at.clone()),
            Entry::Hide { path } | Entry::Deny { path } | Entry::ReadOnly { path } | Entry::Link { path } => Some(path.clone()),
            Entry::Unreal { prefix } => Some(prefix.clone()),
            Entry::Root { .. } => Some(b"/".to_vec()),
            Entry::Static { .. } | Entry::Exact | Entry::FakeRoot { .. } => None,
        })
        .collect();
    for e in &mut view.entries {
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
