//! [`ViewBuilder`]: a view built in code, as `kmview`'s options build one, for tools that run
//! commands in a view themselves (build systems, packagers, test runners). The mountpoints,
//! made-up parents and walk decisions come from the same functions the launcher uses
//! ([`crate::mounts`], [`crate::walks`]), so a view made either way behaves the same.

use crate::error::Error;
use crate::format::{check_mount_path, Entry, ParseError, Stack, StaticPolicy, TraceFormat, View, Walk};
use std::cell::{OnceCell, RefCell};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// A view under construction: mounts and marks in the order given (a later mount covers what
/// an earlier one shows below its place, as a later kernel mount would; one place mounted twice,
/// or hidden or denied where something is mounted, is an [`Error::Conflict`]), then settings
/// (fake root, trace).
///
/// Each method checks what it can at once (a source must exist, a path of the view must be
/// absolute and normal) and keeps the first mistake for [`view`](Self::view),
/// [`env`](Self::env) and [`command`](Self::command) to return, so that calls chain.
///
/// Files the builder makes: a `tmp` directory and directories made up for a mountpoint whose
/// parents are missing are private directories in `$TMPDIR`, **removed when the builder is
/// dropped**: keep it alive until the commands it started have ended. A fake root's record and a
/// trace file are the caller's and stay.
///
/// ```
/// # fn main() -> Result<(), kmview_api::Error> {
/// use kmview_api::{Entry, ViewBuilder};
/// let src = std::env::temp_dir();
/// let b = ViewBuilder::new().bind(&src, "/kmview-doc/build").hide("/kmview-doc/build/.git");
/// let view = b.view()?;
/// assert!(matches!(&view.entries[0], Entry::Bind { at, .. } if at == b"/kmview-doc/build"));
/// // A mountpoint must be a path of the view: absolute and normal.
/// let e = ViewBuilder::new().bind(&src, "build/../x").view().unwrap_err();
/// assert!(e.to_string().contains("build/../x"), "{e}");
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct ViewBuilder {
    /// Mounts and marks in order, with the method that asked for each (for messages).
    entries: Vec<(&'static str, Entry)>,
    /// Settings (exact, static, fake root, traces): written after the mounts, as `kmview` does.
    settings: Vec<Entry>,
    library: Option<PathBuf>,
    /// The first mistake.
    error: Option<Error>,
    /// Private directories made for this builder's views, removed on drop.
    made: RefCell<Vec<PathBuf>>,
    /// The view, once finished (made once: its made-up directories and walks stay the same).
    finished: OnceCell<View>,
    /// The library, once found and checked.
    checked_library: OnceCell<PathBuf>,
}

impl ViewBuilder {
    /// An empty view: nothing changes until entries are added (a program in it still sees the
    /// outer view, if any).
    pub fn new() -> ViewBuilder {
        ViewBuilder::default()
    }

    /// `at` shows `source` (a file or a directory of the view this program runs in; it must
    /// exist): `kmview -b SOURCE:AT`.
    pub fn bind(self, source: impl AsRef<Path>, at: impl AsRef<Path>) -> ViewBuilder {
        self.mount("bind", source.as_ref(), at.as_ref(), false)
    }

    /// The same, read-only: every write under `at` fails with `EROFS` (`kmview --ro-bind`).
    pub fn ro_bind(self, source: impl AsRef<Path>, at: impl AsRef<Path>) -> ViewBuilder {
        self.mount("ro_bind", source.as_ref(), at.as_ref(), true)
    }

    /// `dir` is the view's `/`, the other mounts on top of it; its programs run with its own
    /// loader and libraries (`kmview -r`).
    pub fn root(self, dir: impl AsRef<Path>) -> ViewBuilder {
        self.with(|b| {
            let source = source_path("root", dir.as_ref())?;
            b.entries.push(("root", Entry::Root { source, walk: Walk::No }));
            Ok(())
        })
    }

    /// `path` and everything below it are `ENOENT`, and `path` is gone from its parent's listing.
    pub fn hide(self, path: impl AsRef<Path>) -> ViewBuilder {
        self.mark("hide", path.as_ref(), |path| Entry::Hide { path })
    }

    /// `path` and everything below it are `EACCES`.
    pub fn deny(self, path: impl AsRef<Path>) -> ViewBuilder {
        self.mark("deny", path.as_ref(), |path| Entry::Deny { path })
    }

    /// `path` is a read-only bind mount of itself: every write under it is `EROFS`.
    pub fn ro(self, path: impl AsRef<Path>) -> ViewBuilder {
        self.mark("ro", path.as_ref(), |path| Entry::ReadOnly { path })
    }

    /// A fresh empty directory (mode 1777) at `at`: a private directory made now in `$TMPDIR`,
    /// removed when the builder is dropped.
    pub fn tmp(self, at: impl AsRef<Path>) -> ViewBuilder {
        self.with(|b| {
            let at = view_path("tmp", at.as_ref())?;
            let dir = crate::mounts::private_dir().map_err(|e| Error::File { method: "tmp", path: std::env::temp_dir(), error: Arc::new(e) })?;
            b.made.get_mut().push(PathBuf::from(OsString::from_vec(dir.clone())));
            b.entries.push(("tmp", Entry::Tmp { at, source: dir }));
            Ok(())
        })
    }

    /// `dir` copy-on-write (`kmview --overlay DIR:UPPER`): programs in the view may change it
    /// freely and `dir` itself is never written; the changes land in `upper` (made if missing,
    /// kept), as an OCI layer (`.wh.NAME` for a removed entry, `.wh..wh..opq` in a directory
    /// replaced wholesale; see [`crate::layer`] to read or apply one). Both are paths of the view
    /// this program runs in; the overlay's private work directory is removed when the builder
    /// is dropped.
    ///
    /// ```no_run
    /// let view = kmview_api::ViewBuilder::new().overlay("/src/project", "/tmp/project-changes");
    /// let status = view.command("make")?.arg("-C").arg("/src/project").status()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn overlay(self, dir: impl AsRef<Path>, upper: impl AsRef<Path>) -> ViewBuilder {
        self.with(|b| {
            let lower = source_path("overlay", dir.as_ref())?;
            let file_error = |path: &Path, e: std::io::Error| Error::File { method: "overlay", path: path.to_path_buf(), error: Arc::new(e) };
            std::fs::create_dir_all(upper.as_ref()).map_err(|e| file_error(upper.as_ref(), e))?;
            let upper_path = source_path("overlay", upper.as_ref())?;
            let work = crate::mounts::overlay_work(&lower, &upper_path).map_err(|e| file_error(upper.as_ref(), e))?;
            b.made.get_mut().push(PathBuf::from(OsString::from_vec(work.clone())));
            b.entries.push(("overlay", Entry::Overlay { at: lower.clone(), lower, upper: upper_path, work, walk: Walk::No }));
            Ok(())
        })
    }

    /// The seed's test view: `prefix/X` and `prefix/prefix/X` show `/X` (`kmview --unreal`).
    pub fn unreal(self, prefix: impl AsRef<Path>) -> ViewBuilder {
        self.with(|b| {
            let prefix = view_path("unreal", prefix.as_ref())?;
            if prefix == b"/" {
                return Err(Error::BadViewPath {
                    method: "unreal",
                    path: prefix,
                    why: ParseError { what: "the whole tree (a prefix must be below `/`)", at: 0 },
                });
            }
            b.entries.push(("unreal", Entry::Unreal { prefix }));
            Ok(())
        })
    }

    /// A fake root: processes start as `uid`:`gid`, and the owners, modes and devices they set
    /// are recorded in `state` (made now if missing, kept otherwise: as `kmview --state`), which
    /// every stat in the view reports. The file stays for the caller to keep or remove.
    pub fn fakeroot(self, uid: u32, gid: u32, state: impl AsRef<Path>) -> ViewBuilder {
        self.with(|b| {
            let state = record_file(state.as_ref())?;
            b.settings.retain(|e| !matches!(e, Entry::FakeRoot { .. }));
            b.settings.push(Entry::FakeRoot { uid, gid, state, unknown_is_real: false });
            Ok(())
        })
    }

    /// Every call that crosses the view is written to `file`, one JSON object per line
    /// ([`crate::deps`] reads it). The file is emptied now; every process of every command
    /// started from this builder appends to it.
    pub fn trace(self, file: impl AsRef<Path>) -> ViewBuilder {
        self.traced(TraceFormat::Json, file.as_ref())
    }

    /// The same in fsatrace's `op|path` lines, for tools that read those.
    pub fn trace_fsatrace(self, file: impl AsRef<Path>) -> ViewBuilder {
        self.traced(TraceFormat::Fsatrace, file.as_ref())
    }

    /// Every path is resolved component by component in the view (`kmview --exact`): slower,
    /// exact for symlinks outside every mount that lead into one.
    pub fn exact(self) -> ViewBuilder {
        self.with(|b| {
            b.settings.retain(|e| *e != Entry::Exact);
            b.settings.push(Entry::Exact);
            Ok(())
        })
    }

    /// Complete mode (`kmview --complete[=auto]`): system calls made without libc (Go programs,
    /// inline `syscall` instructions) are trapped and go through the view too. `Auto` traps them
    /// only in programs that need it (Go programs); under either, a static program is refused
    /// unless `static_policy(Allow)` says otherwise.
    pub fn complete(self, mode: crate::CompleteMode) -> ViewBuilder {
        self.with(|b| {
            b.settings.retain(|e| !matches!(e, Entry::Complete { .. }));
            b.settings.push(Entry::Complete { mode });
            Ok(())
        })
    }

    /// What an exec of a static or setuid program (which leaves the view) does (`--static`).
    pub fn static_policy(self, policy: StaticPolicy) -> ViewBuilder {
        self.with(|b| {
            b.settings.retain(|e| !matches!(e, Entry::Static { .. }));
            b.settings.push(Entry::Static { policy });
            Ok(())
        })
    }

    /// Preload this `libkmview.so` instead of the one [`crate::find_library`] finds.
    pub fn library(mut self, lib: impl AsRef<Path>) -> ViewBuilder {
        self.library = Some(lib.as_ref().to_path_buf());
        self.checked_library = OnceCell::new();
        self
    }

    /// The view, finished: mountpoints placed as the kernel would (through a symlink on the
    /// way), directories made up for missing parents, each bind's walk decided from the
    /// symlinks in its source. Made once; later calls return the same view.
    pub fn view(&self) -> Result<View, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if let Some(v) = self.finished.get() {
            return Ok(v.clone());
        }
        let view = self.finish(&outer_stack()?)?;
        Ok(self.finished.get_or_init(|| view).clone())
    }

    /// The whole stack a command of this view runs in: this process's stack (if it runs in a
    /// view) with the view pushed as the innermost one.
    pub fn stack(&self) -> Result<Stack, Error> {
        let view = self.view()?;
        Ok(outer_stack()?.pushed(view))
    }

    /// The environment variables that put a program in the view (`KMVIEW_STACK`, `LD_PRELOAD`,
    /// `KMVIEW_CWD`, `KMVIEW_FDS`; [`crate::view_env`]), for a tool that starts programs itself
    /// or is not written in Rust. `kmview env` prints the same.
    ///
    /// ```
    /// # fn main() -> Result<(), kmview_api::Error> {
    /// let src = std::env::temp_dir();
    /// let b = kmview_api::ViewBuilder::new().bind(&src, "/kmview-doc/src");
    /// match b.env() {
    ///     Ok(vars) => {
    ///         let stack = vars.iter().find(|(k, _)| k == "KMVIEW_STACK").unwrap();
    ///         assert!(stack.1.to_str().unwrap().contains("bind=/kmview-doc/src:"));
    ///     }
    ///     // No libkmview.so built here: `cargo build -p kmview` makes it, KMVIEW_LIB names it.
    ///     Err(kmview_api::Error::LibraryNotFound | kmview_api::Error::NotTheLibrary { .. }) => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn env(&self) -> Result<Vec<(OsString, OsString)>, Error> {
        let stack = self.stack()?;
        Ok(crate::view_env(&stack, &self.checked_library()?))
    }

    /// A [`Command`] that runs `program` inside the view, pushed onto this process's stack.
    ///
    /// `Command` starts `program` from this process, which is not in the new view: the program
    /// itself is found as this process sees files (its later calls, and every program it runs,
    /// go through the view). One that only the view has (under a bind or a root) is started
    /// through one both have: `sh -c 'exec /build/src/tool'`. Likewise the working directory is
    /// this process's unless set: a directory only the view has (`/build/src`) is reached with
    /// the program's own `cd` or `-C`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let status = kmview_api::ViewBuilder::new()
    ///     .bind("project", "/build/src")
    ///     .command("make")?
    ///     .args(["-C", "/build/src"])
    ///     .status()?;
    /// # Ok(()) }
    /// ```
    pub fn command(&self, program: impl AsRef<OsStr>) -> Result<Command, Error> {
        let stack = self.stack()?;
        Ok(crate::command_in(&stack, &self.checked_library()?, program))
    }

    /// Runs `f` unless a mistake was already made, keeping its error; the view is made anew.
    fn with(mut self, f: impl FnOnce(&mut ViewBuilder) -> Result<(), Error>) -> ViewBuilder {
        if self.error.is_none() {
            self.error = f(&mut self).err();
        }
        self.finished = OnceCell::new();
        self
    }

    fn mount(self, method: &'static str, source: &Path, at: &Path, read_only: bool) -> ViewBuilder {
        self.with(|b| {
            let source = source_path(method, source)?;
            let at = view_path(method, at)?;
            b.entries.push((method, Entry::Bind { at, source, read_only, walk: Walk::No }));
            Ok(())
        })
    }

    fn mark(self, method: &'static str, path: &Path, entry: fn(Vec<u8>) -> Entry) -> ViewBuilder {
        self.with(|b| {
            let path = view_path(method, path)?;
            b.entries.push((method, entry(path)));
            Ok(())
        })
    }

    fn traced(self, format: TraceFormat, file: &Path) -> ViewBuilder {
        let method = if format == TraceFormat::Json { "trace" } else { "trace_fsatrace" };
        self.with(|b| {
            let io = |path: &Path, e| Error::File { method, path: path.to_path_buf(), error: Arc::new(e) };
            let path = std::path::absolute(file).map_err(|e| io(file, e))?;
            std::fs::File::create(&path).map_err(|e| io(&path, e))?;
            let file = std::fs::canonicalize(&path).map_err(|e| io(&path, e))?.into_os_string().into_vec();
            b.settings.retain(|e| !matches!(e, Entry::Trace { format: f, .. } if *f == format));
            b.settings.push(Entry::Trace { format, file });
            Ok(())
        })
    }

    /// The view from the entries: what `kmview` does after reading its options.
    fn finish(&self, outer: &Stack) -> Result<View, Error> {
        let under_root = self.entries.iter().any(|(_, e)| matches!(e, Entry::Root { .. }));
        let mut view = View::default();
        let mut links: Vec<Vec<u8>> = Vec::new();
        let mut places = crate::mounts::Places::default();
        for (method, entry) in &self.entries {
            let mut entry = entry.clone();
            if let Entry::Bind { at, source, .. } | Entry::Tmp { at, source } = &mut entry {
                let source_is_dir = std::fs::metadata(OsStr::from_bytes(source)).is_ok_and(|m| m.is_dir());
                let mountpoint = crate::mounts::mountpoint(std::mem::take(at), source_is_dir, under_root);
                let (real, link) = mountpoint.map_err(|e| Error::Mountpoint { method, error: Arc::new(e) })?;
                *at = real;
                links.extend(link);
            }
            places.take(&entry, method).map_err(|clash| match clash {
                crate::mounts::Clash::MountedTwice { path, first } | crate::mounts::Clash::SamePath { path, first } => {
                    Error::Conflict { path, first, second: method }
                }
            })?;
            view.entries.push(entry);
        }
        if !under_root {
            crate::mounts::add_glue(&mut view, &mut self.made.borrow_mut()).map_err(|e| Error::Mountpoint { method: "view", error: Arc::new(e) })?;
        }
        crate::mounts::add_links(&mut view, links);
        crate::walks::decide(&mut view, outer);
        view.entries.extend(self.settings.iter().cloned());
        Ok(view)
    }

    /// The library to preload: found, canonical, and checked to be kmview's of this version.
    fn checked_library(&self) -> Result<PathBuf, Error> {
        if let Some(lib) = self.checked_library.get() {
            return Ok(lib.clone());
        }
        let lib = self.library.clone().or_else(crate::find_library).ok_or(Error::LibraryNotFound)?;
        let not_it = |why: String| Error::NotTheLibrary { path: lib.clone(), why };
        let canonical = std::fs::canonicalize(&lib).map_err(|e| not_it(format!("cannot be read: {e}")))?;
        crate::libcheck::check(&canonical).map_err(not_it)?;
        Ok(self.checked_library.get_or_init(|| canonical).clone())
    }
}

impl Drop for ViewBuilder {
    fn drop(&mut self) {
        for dir in self.made.get_mut().drain(..) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The stack this process runs in (empty outside any view).
fn outer_stack() -> Result<Stack, Error> {
    crate::current_stack().map(Option::unwrap_or_default).map_err(Error::MalformedStack)
}

/// A source: it must exist; canonical (symlinks resolved, through the outer views if any).
fn source_path(method: &'static str, p: &Path) -> Result<Vec<u8>, Error> {
    std::fs::canonicalize(p).map(|c| c.into_os_string().into_vec()).map_err(|e| Error::MissingSource {
        method,
        path: p.to_path_buf(),
        error: Arc::new(e),
    })
}

/// A path of the new view: absolute and normal already (a `..` has no meaning before the view
/// exists, and silently normalizing would hide a caller's mistake).
fn view_path(method: &'static str, p: &Path) -> Result<Vec<u8>, Error> {
    let bytes = p.as_os_str().as_bytes();
    check_mount_path(bytes).map_err(|why| Error::BadViewPath { method, path: bytes.to_vec(), why })?;
    Ok(bytes.to_vec())
}

/// A fake root's record at `p`: made if missing (two builders at once: the first one's
/// stands), checked whole if it exists (never overwritten); its canonical path.
fn record_file(p: &Path) -> Result<Vec<u8>, Error> {
    let io = |e: std::io::Error| Error::Record { path: p.to_path_buf(), error: Arc::new(e) };
    match crate::record::create(p) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(io(e)),
        _ => {}
    }
    crate::record::check(p).map_err(|why| Error::NotARecord { path: p.to_path_buf(), why })?;
    std::fs::canonicalize(p).map(|c| c.into_os_string().into_vec()).map_err(io)
}

#[cfg(test)]
mod tests;
