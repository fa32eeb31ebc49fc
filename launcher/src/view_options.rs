//! From the command line to a view: the mount and mark options in the order given (a later
//! entry covers an earlier one at the same path), each path checked before anything runs.

use crate::Options;
use kmview_api::mounts::private_dir as make_tmp_dir;
use kmview_api::{Entry, StaticPolicy, TraceFormat, View, Walk};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// A built view and the private directories made for its `--tmp` entries.
pub struct Built {
    pub view: View,
    pub tmp_dirs: Vec<PathBuf>,
    /// `--state-save`: the fake root's record, and where to write it in fakeroot's format when
    /// the command ends.
    pub save: Option<(PathBuf, PathBuf)>,
    /// `--deps`: the JSON trace to read, and where to write the document when the command ends.
    pub deps: Option<(PathBuf, PathBuf)>,
    /// `--overlay` upper directories made by default: (DIR, UPPER), named when the command ends.
    pub made_uppers: Vec<(PathBuf, PathBuf)>,
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

/// Where the kernel would mount onto `at` (`kmview_api::mounts::mountpoint`: through a symlink on
/// the way, a directory only over a directory), with a Link entry's path if through a symlink;
/// errors named after `opt`.
fn mountpoint(opt: &str, at: Vec<u8>, source_is_dir: bool, under_root: bool) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    kmview_api::mounts::mountpoint(at, source_is_dir, under_root).map_err(|e| format!("{opt}: {e}"))
}

/// `--overlay DIR[:UPPER]`: DIR shown over itself copy-on-write, its changes in UPPER (made if
/// missing, or a fresh directory), a private scratch directory beside. DIR is a path of the view
/// being built when one of its mounts (a `--root`, a bind) covers it: the overlay's lower tree is
/// then what that mount shows there, and an overlay at the very place of a mount takes its place
/// (its tree copy-on-write: `--root R --overlay /` is the whole root). Else it is the host's.
/// True with the entry when it took a mount's place.
fn overlay_entry(raw: &[u8], built: &mut Built) -> Result<(Entry, bool), String> {
    let opt = "--overlay";
    let (dir, upper) = match split_pair(raw) {
        Some((d, u)) => (d, Some(u)),
        None => (unescape(raw), None),
    };
    let covered = if dir.first() == Some(&b'/') { covering_mount(&built.view, &virtual_path(opt, &dir)?) } else { None };
    let (at, lower, replaced) = match covered {
        Some((i, at, lower)) => (at, lower, built.view.entries[i].clone().into()),
        None => {
            let host = source_path(opt, &dir)?;
            (host.clone(), host, None::<Entry>)
        }
    };
    if !std::fs::metadata(OsString::from_vec(lower.clone())).is_ok_and(|m| m.is_dir()) {
        return Err(format!("{opt}: {}: Not a directory", String::from_utf8_lossy(&dir)));
    }
    if let Some(mount) = &replaced {
        let same_place = |e: &Entry| match (e, mount) {
            (Entry::Root { .. }, Entry::Root { .. }) => at == b"/",
            (Entry::Bind { at: a, .. } | Entry::Tmp { at: a, .. }, _) => *a == at,
            _ => false,
        };
        built.view.entries.retain(|e| !same_place(e));
    }
    let upper = match upper {
        Some(u) => {
            let path = PathBuf::from(OsString::from_vec(u.clone()));
            std::fs::create_dir_all(&path).map_err(|e| format!("{opt}: {}: {e}", path.display()))?;
            source_path(opt, &u)?
        }
        None => {
            let made = make_tmp_dir().map_err(|e| format!("{opt}: cannot make a directory for the changes: {e}"))?;
            built.made_uppers.push((PathBuf::from(OsString::from_vec(dir.clone())), PathBuf::from(OsString::from_vec(made.clone()))));
            made
        }
    };
    let work = kmview_api::mounts::overlay_work(&lower, &upper).map_err(|e| format!("{opt}: {e}"))?;
    built.tmp_dirs.push(PathBuf::from(OsString::from_vec(work.clone())));
    Ok((Entry::Overlay { at, lower, upper, work, walk: Walk::No }, replaced.is_some()))
}

/// A bind whose source lies in an overlay's lower tree would show that tree writable around
/// the overlay: refused (bind from the overlay's path in a view inside this one instead).
fn refuse_binds_of_lower_trees(view: &View) -> Result<(), String> {
    let under = kmview_api::mounts::is_under;
    for e in &view.entries {
        let Entry::Bind { source, at, .. } = e else { continue };
        for o in &view.entries {
            if let Entry::Overlay { lower, .. } = o {
                if under(source, lower) {
                    return Err(format!(
                        "--bind {}:{}: the source lies in the --overlay tree {}, which only the overlay may show (run the bind in a view inside: kmview --overlay ... -- kmview -b ...)",
                        String::from_utf8_lossy(source),
                        String::from_utf8_lossy(at),
                        String::from_utf8_lossy(lower)
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The mount of `view` that shows the path `dir` (of the view; the last one given at the
/// longest place wins, as a later mount covers an earlier one): its index, `dir`, and the host
/// path behind it.
fn covering_mount(view: &View, dir: &[u8]) -> Option<(usize, Vec<u8>, Vec<u8>)> {
    let under = kmview_api::mounts::is_under;
    let mut best: Option<(usize, &[u8], &[u8])> = None;
    for (i, e) in view.entries.iter().enumerate() {
        let (at, source): (&[u8], &[u8]) = match e {
            Entry::Root { source, .. } => (b"/", source),
            Entry::Bind { at, source, .. } | Entry::Tmp { at, source } => (at, source),
            _ => continue,
        };
        if under(dir, at) && best.is_none_or(|(_, b, _)| at.len() >= b.len()) {
            best = Some((i, at, source));
        }
    }
    let (i, at, source) = best?;
    let rest = if at == b"/" { dir } else { &dir[at.len()..] };
    let mut host = source.to_vec();
    if !rest.is_empty() && rest != b"/" {
        if host == b"/" {
            host.clear();
        }
        host.extend_from_slice(rest);
    }
    Some((i, dir.to_vec(), host))
}

pub fn build(opts: &Options, matches: &clap::ArgMatches) -> Result<Built, String> {
    // Every mount and mark option with its position on the command line.
    let mut ordered: Vec<(usize, &str, &OsString)> = Vec::new();
    for id in ["bind", "ro_bind", "root", "hide", "deny", "ro", "tmp", "overlay"] {
        if let (Some(idx), Some(vals)) = (matches.indices_of(id), matches.get_many::<OsString>(id)) {
            ordered.extend(idx.zip(vals).map(|(i, v)| (i, id, v)));
        }
    }
    // A root first: an overlay of a path in it needs it (`--overlay / --root R` is `--root R
    // --overlay /`); its place is `/`, where no other mount of the command line competes.
    ordered.sort_by_key(|(i, id, _)| (*id != "root", *i));
    let mut built = Built { view: View::default(), tmp_dirs: Vec::new(), save: None, deps: None, made_uppers: Vec::new() };
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
    let mut places = kmview_api::mounts::Places::default();
    for (_, id, value) in ordered {
        let opt = match id {
            "bind" => "--bind",
            "ro_bind" => "--ro-bind",
            "root" => "--root",
            "hide" => "--hide",
            "deny" => "--deny",
            "ro" => "--ro",
            "overlay" => "--overlay",
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
            "overlay" => {
                let (entry, replaced) = overlay_entry(raw, &mut built)?;
                if replaced {
                    // It took that mount's place: not a second mount there.
                    built.view.entries.push(entry);
                    continue;
                }
                entry
            }
            "hide" => Entry::Hide { path: virtual_path(opt, raw)? },
            "deny" => Entry::Deny { path: virtual_path(opt, raw)? },
            _ => Entry::ReadOnly { path: virtual_path(opt, raw)? },
        };
        places.take(&entry, opt).map_err(|clash| match clash {
            kmview_api::mounts::Clash::MountedTwice { path, first } => {
                format!("{opt}: `{}` is mounted twice (also by {first})", String::from_utf8_lossy(&path))
            }
            kmview_api::mounts::Clash::SamePath { path, first } => {
                format!("{opt}: `{}` conflicts with {first} at the same path", String::from_utf8_lossy(&path))
            }
        })?;
        built.view.entries.push(entry);
    }
    refuse_binds_of_lower_trees(&built.view)?;
    if !under_root {
        kmview_api::mounts::add_glue(&mut built.view, &mut built.tmp_dirs).map_err(|e| e.to_string())?;
    }
    kmview_api::mounts::add_links(&mut built.view, links);
    kmview_api::walks::decide(&mut built.view, &kmview_api::current_stack().ok().flatten().unwrap_or_default());
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
    add_traces(opts, &mut built)?;
    if let Some(w) = &opts.complete {
        let mode = kmview_api::CompleteMode::from_name(w.as_bytes()).ok_or_else(|| format!("--complete: `{w}` is not on or auto"))?;
        built.view.entries.push(Entry::Complete { mode });
    }
    if let Some(p) = &opts.static_policy {
        let policy = StaticPolicy::from_name(p.as_bytes()).ok_or_else(|| format!("--static: `{p}` is not warn, deny or allow"))?;
        built.view.entries.push(Entry::Static { policy });
    }
    Ok(built)
}

/// `--trace FILE [--trace-format F]` and `--deps FILE`: the trace entries, each file made
/// absolute and emptied before the command starts (a trace is of this run only).
fn add_traces(opts: &Options, built: &mut Built) -> Result<(), String> {
    let format = match opts.trace_format.as_deref() {
        None | Some("json") => TraceFormat::Json,
        Some("fsatrace") => TraceFormat::Fsatrace,
        Some(other) => return Err(format!("--trace-format: `{other}` is not json or fsatrace")),
    };
    if opts.trace_format.is_some() && opts.trace.is_none() {
        return Err("--trace-format needs --trace FILE".to_string());
    }
    let mut json_trace = None;
    if let Some(file) = &opts.trace {
        let path = empty_file("--trace", file)?;
        if format == TraceFormat::Json {
            json_trace = Some(path.clone());
        }
        built.view.entries.push(Entry::Trace { format, file: path.into_os_string().into_vec() });
    }
    if let Some(out) = &opts.deps {
        // The document is written where the launcher stands: checked now, not after the run.
        let out = empty_file("--deps", out)?;
        let trace = match json_trace {
            Some(t) => t,
            None => {
                let dir = PathBuf::from(OsString::from_vec(make_tmp_dir().map_err(|e| format!("--deps: cannot make a private directory: {e}"))?));
                built.tmp_dirs.push(dir.clone());
                let t = dir.join("trace.jsonl");
                std::fs::File::create(&t).map_err(|e| format!("--deps: {}: {e}", t.display()))?;
                built.view.entries.push(Entry::Trace { format: TraceFormat::Json, file: t.clone().into_os_string().into_vec() });
                t
            }
        };
        built.deps = Some((trace, out));
    }
    Ok(())
}

/// `FILE` made absolute, created or emptied.
fn empty_file(opt: &str, file: &std::ffi::OsStr) -> Result<PathBuf, String> {
    let path = std::path::absolute(file).map_err(|e| format!("{opt} {}: {e}", PathBuf::from(file).display()))?;
    std::fs::File::create(&path).map_err(|e| format!("{opt} {}: {}", path.display(), crate::run::io_reason(&e)))?;
    Ok(path)
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
