//! [`apply`]: an upper directory's changes made real in the lower tree.

use super::diff::is_dir;
use super::{check_whiteout, classify, is_kernel_whiteout, sorted_names, Item, Kind, LayerError, Name, OPAQUE_MARKER};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::{File, FileTimes, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// One thing [`apply`] did, as `kmview overlay apply` prints it (`add x`, `replace dir/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// An entry the lower tree did not have.
    Add(PathBuf, Kind),
    /// An entry replaced by the upper's (content, type, or a directory's mode or owner).
    Change(PathBuf, Kind),
    /// An entry a whiteout named, removed (with everything below it).
    Remove(PathBuf),
    /// An opaque directory: the lower one's entries removed before the upper's were copied.
    Replace(PathBuf),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |path: &Path, kind: Option<Kind>| Item { path: path.to_path_buf(), kind, change: super::Change::Added }.shown_path();
        match self {
            Action::Add(p, k) => write!(f, "add {}", shown(p, Some(*k))),
            Action::Change(p, k) => write!(f, "change {}", shown(p, Some(*k))),
            Action::Remove(p) => write!(f, "remove {}", shown(p, None)),
            Action::Replace(p) => write!(f, "replace {}", shown(p, Some(Kind::Dir))),
        }
    }
}

/// What [`apply`] did, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub replaced: usize,
    /// Entries whose owner could not be set (`EPERM`: not root, and not the caller's own).
    pub owners_kept: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} added, {} changed, {} removed, {} replaced", self.added, self.changed, self.removed, self.replaced)?;
        if self.owners_kept > 0 {
            write!(f, "; {} owners left as they were (only root can give files away)", self.owners_kept)?;
        }
        Ok(())
    }
}

/// Makes the changes of `upper` real in `dir`, calling `on_action` for each: added and changed
/// entries are copied (content, mode, owner where permitted, times; symlinks as symlinks; files
/// hard-linked together in `upper` stay linked), whiteouts remove what they name (a directory
/// with everything in it), an opaque directory is emptied before its entries are copied. The
/// `.wh.*` files themselves are never copied, and `dir`'s own mode, owner and times are left,
/// as are a symlink's times (the standard library cannot set them).
///
/// Refused before anything changes ([`LayerError::is_refusal`]): `upper` or `dir` not a
/// directory, a whiteout naming `..`, `.` or nothing, a kernel whiteout (character device 0/0)
/// or another device, fifo or socket. A file is written beside its place and renamed over it,
/// so a reader sees the old or the new content; an I/O error on the way stops with the
/// changes so far made.
///
/// ```
/// use kmview_api::layer::{apply, Action, Kind};
/// # let tmp = std::env::temp_dir().join(format!("kmview-apply-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(tmp.join("upper/cache"))?;
/// # std::fs::create_dir_all(tmp.join("dir/cache"))?;
/// # std::fs::write(tmp.join("dir/cache/stale"), "")?;
/// # std::fs::write(tmp.join("upper/cache/.wh..wh..opq"), "")?;
/// # std::fs::write(tmp.join("upper/cache/fresh"), "new")?;
/// let mut done = Vec::new();
/// let summary = apply(&tmp.join("upper"), &tmp.join("dir"), |a| done.push(a.to_string()))?;
/// assert_eq!(done, ["replace cache/", "add cache/fresh"]);
/// assert_eq!((summary.added, summary.replaced), (1, 1));
/// assert!(!tmp.join("dir/cache/stale").exists());
/// # std::fs::remove_dir_all(&tmp)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply(upper: &Path, dir: &Path, on_action: impl FnMut(&Action)) -> Result<Summary, LayerError> {
    is_dir("UPPER", upper)?;
    is_dir("DIR", dir)?;
    check(upper)?;
    let mut run = Run { summary: Summary::default(), links: HashMap::new(), on_action };
    run.level(upper, dir, Path::new(""), false)?;
    Ok(run.summary)
}

/// The refusals, checked over the whole upper before the first change.
fn check(dir: &Path) -> Result<(), LayerError> {
    for name in sorted_names(dir)? {
        let path = dir.join(&name);
        match classify(&name) {
            Name::Opaque | Name::Reserved => {}
            Name::Whiteout(target) => check_whiteout(target).map_err(|why| LayerError::BadWhiteout { path, why })?,
            Name::Entry => {
                let m = std::fs::symlink_metadata(&path).map_err(|e| LayerError::io("stat", &path, e))?;
                if is_kernel_whiteout(&m) {
                    return Err(LayerError::KernelWhiteout { path });
                }
                match Kind::of(&m) {
                    Kind::Other => return Err(LayerError::Unsupported { path }),
                    Kind::Dir => check(&path)?,
                    Kind::File | Kind::Symlink => {}
                }
            }
        }
    }
    Ok(())
}

/// The operation whose `EPERM` counts in [`Summary::owners_kept`].
const OWNER: &str = "set the owner of";

struct Run<F> {
    summary: Summary,
    /// The first copy of each upper file with several links, by `(dev, ino)`.
    links: HashMap<(u64, u64), PathBuf>,
    on_action: F,
}

impl<F: FnMut(&Action)> Run<F> {
    fn act(&mut self, a: Action) {
        match a {
            Action::Add(..) => self.summary.added += 1,
            Action::Change(..) => self.summary.changed += 1,
            Action::Remove(_) => self.summary.removed += 1,
            Action::Replace(_) => self.summary.replaced += 1,
        }
        (self.on_action)(&a);
    }

    /// One directory: the opaque marker first (empty the lower one), then whiteouts, then
    /// entries, so that an entry made again after its removal survives. `fresh`: `down` was just
    /// made, nothing to empty.
    fn level(&mut self, up: &Path, down: &Path, rel: &Path, fresh: bool) -> Result<(), LayerError> {
        let names = sorted_names(up)?;
        if !fresh && names.iter().any(|n| n == OPAQUE_MARKER) {
            for n in sorted_names(down)? {
                remove_any(&down.join(n))?;
            }
            self.act(Action::Replace(rel.to_path_buf()));
        }
        for name in &names {
            if let Name::Whiteout(target) = classify(name) {
                let victim = down.join(target);
                if std::fs::symlink_metadata(&victim).is_ok() {
                    remove_any(&victim)?;
                    self.act(Action::Remove(rel.join(target)));
                }
            }
        }
        for name in names.iter().filter(|n| matches!(classify(n), Name::Entry)) {
            self.entry(&up.join(name), &down.join(name), &rel.join(name))?;
        }
        Ok(())
    }

    fn entry(&mut self, src: &Path, dst: &Path, rel: &Path) -> Result<(), LayerError> {
        let m = std::fs::symlink_metadata(src).map_err(|e| LayerError::io("stat", src, e))?;
        let old = std::fs::symlink_metadata(dst).ok();
        let kind = Kind::of(&m);
        let verb = |changed: bool| if changed { Action::Change(rel.to_path_buf(), kind) } else { Action::Add(rel.to_path_buf(), kind) };
        match kind {
            Kind::Dir => {
                let made = !old.as_ref().is_some_and(Metadata::is_dir);
                if made {
                    if old.is_some() {
                        remove_any(dst)?;
                    }
                    std::fs::create_dir(dst).map_err(|e| LayerError::io("make directory", dst, e))?;
                }
                // Reported before its entries, as the diff lists it; a directory kept with its
                // mode and owner is only a parent, not reported.
                let differs = |o: &Metadata| made || o.mode() & 0o7777 != m.mode() & 0o7777 || (o.uid(), o.gid()) != (m.uid(), m.gid());
                if old.as_ref().is_none_or(differs) {
                    self.act(verb(old.is_some()));
                }
                self.level(src, dst, rel, made)?;
                // After the entries: writing them changed the directory's times.
                self.set_dir_meta(dst, &m)?;
            }
            Kind::File => {
                let key = (m.dev(), m.ino());
                if let Some(first) = self.links.get(&key).filter(|_| m.nlink() > 1).cloned() {
                    if old.is_some() {
                        remove_any(dst)?;
                    }
                    std::fs::hard_link(&first, dst).map_err(|e| LayerError::io("link", dst, e))?;
                } else {
                    self.copy_file(src, dst, &m, old.as_ref())?;
                    if m.nlink() > 1 {
                        self.links.insert(key, dst.to_path_buf());
                    }
                }
                self.act(verb(old.is_some()));
            }
            Kind::Symlink => {
                let target = std::fs::read_link(src).map_err(|e| LayerError::io("read link", src, e))?;
                if old.is_some() {
                    remove_any(dst)?;
                }
                std::os::unix::fs::symlink(&target, dst).map_err(|e| LayerError::io("make symlink", dst, e))?;
                let owned = std::os::unix::fs::lchown(dst, Some(m.uid()), Some(m.gid()));
                self.permitted(owned, OWNER, dst)?;
                self.act(verb(old.is_some()));
            }
            Kind::Other => return Err(LayerError::Unsupported { path: src.to_path_buf() }),
        }
        Ok(())
    }

    /// Copies into a temporary name beside `dst`, with owner, mode and times, then renames it
    /// over `dst` (a directory there is removed first: rename cannot replace one with a file).
    fn copy_file(&mut self, src: &Path, dst: &Path, m: &Metadata, old: Option<&Metadata>) -> Result<(), LayerError> {
        let mut from = File::open(src).map_err(|e| LayerError::io("open", src, e))?;
        let (tmp, mut to) = create_beside(dst)?;
        std::io::copy(&mut from, &mut to).map_err(|e| LayerError::io("copy into", &tmp, e))?;
        // Owner before mode: a chown clears the set-id bits.
        let owned = std::os::unix::fs::fchown(&to, Some(m.uid()), Some(m.gid()));
        self.permitted(owned, OWNER, &tmp)?;
        to.set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(|e| LayerError::io("set the mode of", &tmp, e))?;
        to.set_times(times(m)).map_err(|e| LayerError::io("set the times of", &tmp, e))?;
        drop(to);
        if old.is_some_and(Metadata::is_dir) {
            remove_any(dst)?;
        }
        std::fs::rename(&tmp, dst).map_err(|e| LayerError::io("rename into place", dst, e))
    }

    fn set_dir_meta(&mut self, dst: &Path, m: &Metadata) -> Result<(), LayerError> {
        let owned = std::os::unix::fs::lchown(dst, Some(m.uid()), Some(m.gid()));
        self.permitted(owned, OWNER, dst)?;
        // Times through a descriptor (std sets times on open files only), before a mode that
        // might not let this process open it.
        let timed = File::open(dst).and_then(|f| f.set_times(times(m)));
        self.permitted(timed, "set the times of", dst)?;
        std::fs::set_permissions(dst, std::fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(|e| LayerError::io("set the mode of", dst, e))
    }

    /// An owner (or a directory's times) that only root could set is left, and counted: what
    /// `cp -p` does for a user. The rest of the directory's metadata is still set.
    fn permitted(&mut self, r: std::io::Result<()>, op: &'static str, path: &Path) -> Result<(), LayerError> {
        match r {
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                self.summary.owners_kept += usize::from(op == OWNER);
                Ok(())
            }
            r => r.map_err(|e| LayerError::io(op, path, e)),
        }
    }
}

/// A new file `.NAME.kmview-apply.N` beside `dst`: `create_new`, so that a file of DIR that
/// happens to have that name is never overwritten.
fn create_beside(dst: &Path) -> Result<(PathBuf, File), LayerError> {
    for n in 0.. {
        let mut name = OsString::from(".");
        name.push(dst.file_name().unwrap_or_default());
        name.push(format!(".kmview-apply.{n}"));
        let tmp = dst.with_file_name(name);
        match File::options().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(LayerError::io("create", &tmp, e)),
        }
    }
    unreachable!("a free temporary name")
}

fn times(m: &Metadata) -> FileTimes {
    let mut t = FileTimes::new();
    if let Ok(a) = m.accessed() {
        t = t.set_accessed(a);
    }
    if let Ok(w) = m.modified() {
        t = t.set_modified(w);
    }
    t
}

/// Removes a file, symlink (not what it points to) or directory with everything in it.
fn remove_any(p: &Path) -> Result<(), LayerError> {
    let m = std::fs::symlink_metadata(p).map_err(|e| LayerError::io("stat", p, e))?;
    let r = if m.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) };
    r.map_err(|e| LayerError::io("remove", p, e))
}
