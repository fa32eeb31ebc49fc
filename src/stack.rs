//! The stack: the views a process lives in (parsed once from `KMVIEW_STACK`), and the resolver
//! that carries a path from the innermost view out to the kernel.
//!
//! Three ways through, from cheapest to exact:
//! - **hot**: a path under no mount of any view, with no `..`, goes to the kernel untouched
//!   (a few comparisons, no copy);
//! - **fast**: a path under a mount is rewritten textually, view by view (mount source + the
//!   rest of the path), and the kernel walks the rest; taken only where the kernel's walk of the
//!   rest is the view's walk (no `..` that leaves or crosses a mount);
//! - **walk**: the exact component-by-component walk in the innermost view's terms (each
//!   prefix translated, each symlink read and resolved in the view). `chdir`, `realpath` and
//!   any `..` that meets a mount go this way.

use crate::path::{self, has_dotdot, normalize_into, trailing};
use crate::sys::PBuf;
use crate::views::{Access, View};
use crate::{cwd, sys};
use libc::c_int;
use std::ffi::CString;
use std::sync::OnceLock;

/// Links followed in one resolution before `ELOOP`, as the kernel.
const MAX_LINKS: u32 = 40;

/// The process's stack, immutable after load.
pub struct Runtime {
    /// Outermost first.
    views: Vec<View>,
    /// The path of every entry of every view (but `/`): a plain path under none of them is hot.
    entry_paths: Vec<Vec<u8>>,
    /// Some view mounts `/`: then no path is hot.
    has_root_mount: bool,
    /// Some view has a mount (not only marks): a symlink outside every mount may lead into one.
    pub has_mounts: bool,
    /// Every directory strictly above a mountpoint (`/` for `/unreal`): a descriptor opened on
    /// one is recorded even on the hot path, since `openat` from it can reach the mount.
    above_mounts: Vec<Vec<u8>>,
    /// `KMVIEW_STACK=…`, as this process received it.
    pub stack_env: CString,
    /// `LD_PRELOAD=…` naming this library alone.
    pub preload_env: CString,
    /// This library's absolute path.
    pub lib_path: Vec<u8>,
    /// What exec does with a program that would leave the view: the innermost view's word.
    pub static_policy: kmview_api::StaticPolicy,
}

static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();

/// The stack, or `None` when the library was loaded without one (then every call passes).
#[inline(always)]
pub fn runtime() -> Option<&'static Runtime> {
    RUNTIME.get_or_init(load).as_ref()
}

/// Whether the start-up (stack, cwd) is done.
static LOADED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn is_loaded() -> bool {
    LOADED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Loads the stack now (the constructor calls this; any hook would on first use).
pub fn init() {
    init_once();
    LOADED.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn init_once() {
    if let Some(rt) = runtime() {
        cwd::init();
        inherit_fds(rt);
        inherit_exe(rt);
    }
}

/// This process's program, in the view's terms (what `/proc/self/exe` names).
static EXE: crate::seqpath::SeqPath = crate::seqpath::SeqPath::new();

/// The virtual path of this process's program, if it was started through a view.
pub fn exe_name(out: &mut PBuf) -> bool {
    EXE.load(out).unwrap_or(false)
}

/// Believes `KMVIEW_EXE` if it names the file the kernel says this process runs.
///
/// A program started through its own loader (a root's) names that loader after `//via:`: the
/// kernel's `/proc/self/exe` is then the loader.
fn inherit_exe(rt: &Runtime) {
    let Some(value) = sys::getenv(b"KMVIEW_EXE\0") else { return };
    let (virt, via) = match memchr::memmem::find(value, b"//via:") {
        Some(i) => (&value[..i], Some(&value[i + 6..])),
        None => (value, None),
    };
    let mut host = PBuf::new();
    let Ok(exe) = PBuf::from_bytes(b"/proc/self/exe") else { return };
    let runs = match via {
        Some(loader) => PBuf::from_bytes(loader).ok(),
        None => translate_canonical(rt, virt, Access::Look, &mut host).ok().map(|_| PBuf::from_bytes(host.as_bytes()).unwrap_or_default()),
    };
    if let Some(runs) = runs {
        if matches!((sys::host_stat(&runs, true), sys::host_stat(&exe, true)), (Ok(a), Ok(b)) if a.0 == b.0 && a.1 == b.1) {
            EXE.store(virt);
        }
    }
}

/// Takes over the names of the descriptors a parent passed through exec (`KMVIEW_FDS`), each
/// only if the descriptor is still what the name says (same device and inode).
fn inherit_fds(rt: &Runtime) {
    let Some(value) = sys::getenv(b"KMVIEW_FDS\0") else { return };
    let Ok(text) = std::str::from_utf8(value) else { return };
    for item in text.split(';') {
        let Some((n, name)) = item.split_once('=') else { continue };
        let (Ok(fd), Ok(virt)) = (n.parse::<c_int>(), kmview_api::format::decode_arg(name)) else { continue };
        let mut host = PBuf::new();
        if virt.first() != Some(&b'/') || translate_canonical(rt, &virt, Access::Look, &mut host).is_err() {
            continue;
        }
        if matches!((sys::host_stat(&host, true), sys::fd_stat(fd)), (Ok(a), Ok(b)) if a.0 == b.0 && a.1 == b.1) {
            crate::fds::record(fd, &virt, rt.routes_relative(&virt));
        }
    }
}

fn load() -> Option<Runtime> {
    let value = crate::sys::getenv(b"KMVIEW_STACK\0")?;
    let stack = match kmview_api::Stack::parse(value) {
        Ok(s) => s,
        Err(e) => {
            sys::write_stderr(&[
                b"kmview: malformed KMVIEW_STACK (",
                e.0.as_bytes(),
                b"): refusing to run outside the view\n",
            ]);
            sys::exit_now(125);
        }
    };
    let views: Vec<View> = stack.views.iter().map(View::from_spec).collect();
    let mut entry_paths: Vec<Vec<u8>> = Vec::new();
    let mut has_root_mount = false;
    for view in &views {
        for m in view.entries() {
            if m.at() == b"/" {
                has_root_mount = true;
            } else if !entry_paths.iter().any(|a| a.as_slice() == m.at()) {
                entry_paths.push(m.at().to_vec());
            }
        }
    }
    let mut above_mounts: Vec<Vec<u8>> = Vec::new();
    for view in &views {
        for m in view.entries() {
            let mut at = m.at();
            while let Some(cut) = memchr::memrchr(b'/', at) {
                at = &at[..cut.max(1)];
                if !above_mounts.iter().any(|a| a.as_slice() == at) {
                    above_mounts.push(at.to_vec());
                }
                if at == b"/" {
                    break;
                }
            }
        }
    }
    let static_policy = stack
        .views
        .iter()
        .rev()
        .flat_map(|v| v.entries.iter().rev())
        .find_map(|e| match e {
            kmview_api::Entry::Static { policy } => Some(*policy),
            _ => None,
        })
        .unwrap_or(kmview_api::StaticPolicy::Warn);
    let has_mounts = views.iter().any(|v| v.mounts().next().is_some());
    let lib_path = sys::own_path();
    let mut stack_env = b"KMVIEW_STACK=".to_vec();
    stack_env.extend_from_slice(value);
    let mut preload_env = b"LD_PRELOAD=".to_vec();
    preload_env.extend_from_slice(&lib_path);
    Some(Runtime {
        views,
        entry_paths,
        has_root_mount,
        has_mounts,
        above_mounts,
        stack_env: CString::new(stack_env).unwrap_or_default(),
        preload_env: CString::new(preload_env).unwrap_or_default(),
        lib_path,
        static_policy,
    })
}

impl Runtime {
    /// The `KMVIEW_STACK` value (after the `=`).
    pub fn stack_value(&self) -> &[u8] {
        &self.stack_env.as_bytes()[b"KMVIEW_STACK=".len()..]
    }

    pub fn views(&self) -> &[View] {
        &self.views
    }

    /// An absolute path the kernel may take as it is: under no mount, and no `..`.
    #[inline(always)]
    pub fn is_hot_absolute(&self, p: &[u8]) -> bool {
        if self.has_root_mount {
            return false;
        }
        // `//`, `/./`, `/../` (and, harmlessly, a hidden name) take the careful way.
        if !crate::sys::scan::is_plain_text(p) {
            return false;
        }
        !self.entry_paths.iter().any(|at| path::is_under(p, at))
    }

    /// Whether an absolute path the kernel takes as it is may be a directory above a mountpoint
    /// (compared as written, trailing slashes aside).
    #[inline(always)]
    pub fn may_be_above_mount(&self, p: &[u8]) -> bool {
        let mut end = p.len();
        while end > 1 && p[end - 1] == b'/' {
            end -= 1;
        }
        self.above_mounts.iter().any(|a| a.len() == end && a.as_slice() == &p[..end])
    }

    /// Whether a path relative to the directory `virt` must go through the view rather than to
    /// the kernel from a descriptor of it: an entry sits below it, or the entry it lies under may
    /// refuse calls (a mark, a read-only bind).
    pub fn routes_relative(&self, virt: &[u8]) -> bool {
        self.views.iter().any(|v| v.has_entry_below(virt) || v.entry_of(virt).is_some_and(|e| e.refuses_some()))
    }

    /// Whether `virt` (canonical) is under no mount of any view and has none below it: then a
    /// relative path without `..` from there reaches no mount.
    pub fn is_plain(&self, virt: &[u8]) -> bool {
        self.views.iter().all(|v| v.entry_of(virt).is_none() && !v.has_entry_below(virt))
    }
}

/// Where a path goes after the views.
pub enum Route {
    /// To the kernel as the caller gave it.
    Native,
    /// To the kernel as the host path now in the buffer.
    Host,
    /// As `Host`, from the textual fast path through a mount whose source is not `/`: exact
    /// unless a symlink below the mount leads out of it, which the kernel then follows on the
    /// host. A call that fails with `ENOENT` is worth retrying through [`exact`].
    Fast,
}

/// Carries `path` (relative paths from the working directory) through every view; a host
/// path, if one differs from the caller's, lands in `host`.
///
/// `follow` says whether a symlink in the last component is followed (as `stat`, not `lstat`).
#[inline(always)]
pub fn route(path: &[u8], follow: bool, access: Access, host: &mut PBuf) -> Result<Route, c_int> {
    let Some(rt) = runtime() else { return Ok(Route::Native) };
    if path.is_empty() {
        return Ok(Route::Native);
    }
    if path[0] == b'/' {
        if rt.is_hot_absolute(path) {
            return Ok(Route::Native);
        }
        return translate(rt, path, follow, access, host);
    }
    if cwd::is_plain() && crate::sys::scan::is_plain_text(path) {
        return Ok(Route::Native);
    }
    let mut abs = PBuf::new();
    cwd::absolute(path, &mut abs)?;
    // A relative path that no view changes resolves the same from the kernel's cwd.
    translate(rt, abs.as_bytes(), follow, access, host)
}

/// The exact walk for `path` (relative from the working directory): what a fast-path call that
/// failed with `ENOENT` retries with. `Ok(false)` if it leads where the fast path did.
pub fn exact(path: &[u8], follow: bool, access: Access, host: &mut PBuf) -> Result<bool, c_int> {
    let Some(rt) = runtime() else { return Ok(false) };
    let mut abs = PBuf::new();
    if path.first() == Some(&b'/') {
        abs.set(path)?;
    } else {
        cwd::absolute(path, &mut abs)?;
    }
    let mut walked = PBuf::new();
    let through_mount = walk(rt, abs.as_bytes(), follow, access, &mut walked, None)?;
    // A walk that met no mount is the kernel's own walk: nothing to retry.
    if !through_mount || walked.as_bytes() == host.as_bytes() {
        return Ok(false);
    }
    host.set(walked.as_bytes())?;
    Ok(true)
}

/// The fast way through every view, falling back to the exact walk where it must.
fn translate(rt: &Runtime, abs: &[u8], follow: bool, access: Access, host: &mut PBuf) -> Result<Route, c_int> {
    if abs.len() >= libc::PATH_MAX as usize {
        return Err(libc::ENAMETOOLONG);
    }
    // Two buffers in turn: a view reads the path from one and writes its rewrite to the other.
    // A path already in normal form is read where it is, and with one view nothing is copied.
    let mut scratch = PBuf::new();
    let clean = path::is_normal(abs);
    if !clean {
        normalize_into(abs, &mut scratch)?;
    }
    // Where the current path is: 0 = `abs` itself, 1 = `scratch`, 2 = `host`.
    let mut at = if clean { 0 } else { 1 };
    let mut guess = false;
    for view in rt.views.iter().rev() {
        let step_result = match at {
            0 => step(view, abs, access, false, host)?,
            1 => step(view, scratch.as_bytes(), access, false, host)?,
            _ => step(view, host.as_bytes(), access, false, &mut scratch)?,
        };
        match step_result {
            Step::Same => {}
            Step::Mapped { exact } => {
                at = if at == 2 { 1 } else { 2 };
                guess |= !exact;
            }
            Step::Walk => {
                walk(rt, abs, follow, access, host, None)?;
                return Ok(Route::Host);
            }
        }
    }
    match at {
        0 => return Ok(Route::Native),
        // Normalized but never rewritten: the kernel takes the caller's own path.
        1 if !guess => return Ok(Route::Native),
        1 => host.set(scratch.as_bytes())?,
        _ => {}
    }
    Ok(if guess { Route::Fast } else { Route::Host })
}

enum Step {
    Same,
    /// Rewritten into the outer view's path. `exact` is false: a symlink created below the
    /// mount since the view was made may lead out of it, or an absolute one into another mount,
    /// and the kernel would follow it on the host; a failure is worth one exact walk.
    Mapped { exact: bool },
    Walk,
}

/// One view's textual rewrite of a normalized absolute path into `out`, after the entry that
/// covers the path (a mark, a read-only bind) agreed to `access`.
///
/// `canonical` says `p` holds no symlink, `.` or `..` (the exact walk's own prefixes): it is
/// then rewritten textually, never sent to the walk.
fn step(view: &View, p: &[u8], access: Access, canonical: bool, out: &mut PBuf) -> Result<Step, c_int> {
    let (entry, mount) = view.lookup(p);
    let Some((m, source)) = mount else {
        if !canonical && has_dotdot(p) && dotdot_meets_entry(view, p)? {
            return Ok(Step::Walk);
        }
        if let Some(e) = entry {
            e.check(access)?;
        }
        return Ok(Step::Same);
    };
    // A mount at `/` keeps the whole path (its `/` is not a prefix to strip).
    let rest = if m.at() == b"/" { p } else { &p[m.at().len()..] };
    if !canonical && m.walks() && path::components(rest).next().is_some() {
        return Ok(Step::Walk);
    }
    if !canonical && has_dotdot(rest) && !(kernel_walk_is_exact(source) && stays_within(rest) && !view.has_entry_below(m.at())) {
        return Ok(Step::Walk);
    }
    if let Some(e) = entry {
        e.check(access)?;
    }
    out.set(source)?;
    if source == b"/" && !rest.is_empty() {
        out.clear();
    }
    out.push_bytes(rest)?;
    let _ = source;
    Ok(Step::Mapped { exact: false })
}

/// Whether the kernel's own walk of the rest of a path below `source` is the view's: a `..` or
/// a symlink in it that climbs above the mount root would reach the source's host parent
/// instead of the mountpoint's virtual parent, except when the source is the root itself.
fn kernel_walk_is_exact(source: &[u8]) -> bool {
    source == b"/"
}

/// Whether the `..` components of `rest` never climb above its start.
fn stays_within(rest: &[u8]) -> bool {
    let mut depth: i32 = 0;
    for comp in path::components(rest) {
        depth += if comp == b".." { -1 } else { 1 };
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Whether collapsing the `..` of `p` textually passes through an entry of `view`.
fn dotdot_meets_entry(view: &View, p: &[u8]) -> Result<bool, c_int> {
    let mut pos = PBuf::from_bytes(b"/")?;
    for comp in path::components(p) {
        if comp == b".." {
            pos.pop_component();
        } else {
            pos.push_component(comp)?;
        }
        if view.entry_of(pos.as_bytes()).is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A canonical virtual path (no symlink, `.` or `..` in it) to the host path behind it.
/// `access` is checked against every entry on the way. True if some mount rewrote it.
pub fn translate_canonical(rt: &Runtime, virt: &[u8], access: Access, host: &mut PBuf) -> Result<bool, c_int> {
    host.set(virt)?;
    let mut next = PBuf::new();
    let mut mapped = false;
    for view in rt.views.iter().rev() {
        if let Step::Mapped { .. } = step(view, host.as_bytes(), access, true, &mut next)? {
            host.set(next.as_bytes())?;
            mapped = true;
        }
    }
    Ok(mapped)
}

/// The exact walk: resolves `abs` component by component in the innermost view, reading each
/// symlink through the views and resolving its target in the view (absolute targets from the
/// view's root). The host path lands in `host`; the canonical virtual path in `virt_out`.
///
/// Every directory passed through is checked as a look (a hidden or denied one stops the walk);
/// the final path is checked against `access`.
///
/// Returns whether any mount was passed through.
pub fn walk(rt: &Runtime, abs: &[u8], follow: bool, access: Access, host: &mut PBuf, virt_out: Option<&mut PBuf>) -> Result<bool, c_int> {
    // A trailing `/` makes a look or a read follow the last symlink (`lstat("link/")` is the
    // target's), in the view; the calls that change a name (`rmdir("link/")` is ENOTDIR) keep
    // it on the host path for the kernel to judge.
    let trail = trailing(abs);
    let follow = follow || (!trail.is_empty() && !access.writes());
    let mut virt = PBuf::from_bytes(b"/")?;
    let mut rest = PBuf::from_bytes(abs)?;
    let mut spliced = PBuf::new();
    let mut target = PBuf::new();
    let mut links = 0;
    let mut pos = 0;
    let mut through_mount = false;
    loop {
        let bytes = rest.as_bytes();
        while pos < bytes.len() && bytes[pos] == b'/' {
            pos += 1;
        }
        if pos == bytes.len() {
            break;
        }
        let end = memchr::memchr(b'/', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let comp_start = pos;
        pos = end;
        let comp = &bytes[comp_start..end];
        if comp == b"." {
            continue;
        }
        if comp == b".." {
            // The kernel goes up only from a directory: `file/..` is ENOTDIR.
            if virt.as_bytes() != b"/" {
                translate_canonical(rt, virt.as_bytes(), Access::Look, host)?;
                match sys::host_stat(host, true) {
                    Ok((_, _, mode)) if mode & libc::S_IFMT != libc::S_IFDIR => return Err(libc::ENOTDIR),
                    Err(e) => return Err(e),
                    Ok(_) => {}
                }
            }
            virt.pop_component();
            continue;
        }
        if comp.len() > 255 {
            return Err(libc::ENAMETOOLONG);
        }
        let is_last = path::components(&bytes[end..]).all(|c| c.is_empty());
        virt.push_component(comp)?;
        if is_last && !follow {
            break;
        }
        through_mount |= translate_canonical(rt, virt.as_bytes(), Access::Look, host)?;
        match sys::readlink(host, &mut target) {
            Ok(()) => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(libc::ELOOP);
                }
                virt.pop_component();
                if target.as_bytes().first() == Some(&b'/') {
                    virt.set(b"/")?;
                }
                spliced.set(target.as_bytes())?;
                spliced.push_byte(b'/')?;
                spliced.push_bytes(&rest.as_bytes()[pos..])?;
                rest.set(spliced.as_bytes())?;
                pos = 0;
            }
            Err(libc::EINVAL) => {}
            Err(_) if is_last => {}
            Err(e) => return Err(e),
        }
    }
    through_mount |= translate_canonical(rt, virt.as_bytes(), access, host)?;
    if !trail.is_empty() && host.as_bytes() != b"/" {
        host.push_bytes(trail)?;
    }
    if let Some(out) = virt_out {
        out.set(virt.as_bytes())?;
    }
    Ok(through_mount)
}

/// The canonical virtual path of `path` (relative from the working directory), following
/// every symlink: what `realpath` and `chdir` need. The host path lands in `host`.
pub fn canonicalize(path: &[u8], virt: &mut PBuf, host: &mut PBuf) -> Result<(), c_int> {
    let Some(rt) = runtime() else {
        return Err(libc::ENOSYS);
    };
    let mut abs = PBuf::new();
    if path.first() == Some(&b'/') {
        abs.set(path)?;
    } else {
        cwd::absolute(path, &mut abs)?;
    }
    walk(rt, abs.as_bytes(), true, Access::Look, host, Some(virt)).map(|_| ())
}

/// How a directory's listing differs in the view from the kernel's.
pub enum Listing<'a> {
    /// A mountpoint: listed even when nothing lies at that name underneath; its host path.
    Add(&'a [u8], &'a PBuf),
    /// A hidden name: never listed.
    Drop(&'a [u8]),
}

/// Calls `f` for each name whose listing the views change in the directory `path` (as given to
/// `opendir`). Stops early if `f` returns false.
pub fn listing_changes(path: &[u8], mut f: impl FnMut(Listing) -> bool) -> Result<(), c_int> {
    let Some(rt) = runtime() else { return Ok(()) };
    let mut dir = PBuf::new();
    let mut host = PBuf::new();
    if has_dotdot(path) || path.first() != Some(&b'/') {
        canonicalize(path, &mut dir, &mut host)?;
    } else {
        normalize_into(path, &mut dir)?;
        let keep = dir.len() - trailing(dir.as_bytes()).len();
        dir.truncate(keep.max(1));
    }
    let mut next = PBuf::new();
    let mut mount_host = PBuf::new();
    for (level, view) in rt.views.iter().enumerate().rev() {
        for m in view.entries() {
            let at = m.at();
            let parent_len = memchr::memrchr(b'/', at).unwrap_or(0).max(1);
            if &at[..parent_len] != dir.as_bytes() || at.len() <= 1 {
                continue;
            }
            let name = &at[parent_len + (parent_len > 1) as usize..];
            let go_on = if m.hides_name() {
                f(Listing::Drop(name))
            } else if let Some(source) = m.source() {
                // The host path of the mountpoint: its source, translated by the views outside.
                let mut src = PBuf::from_bytes(source)?;
                for outer in rt.views[..level].iter().rev() {
                    if let Ok(Step::Mapped { .. }) = step(outer, src.as_bytes(), Access::Look, true, &mut mount_host) {
                        src.set(mount_host.as_bytes())?;
                    }
                }
                f(Listing::Add(name, &src))
            } else {
                true
            };
            if !go_on {
                return Ok(());
            }
        }
        if let Step::Mapped { .. } = step(view, dir.as_bytes(), Access::Look, true, &mut next)? {
            dir.set(next.as_bytes())?;
        }
    }
    Ok(())
}

/// The virtual path of `path` (from `dirfd`), normalized, for the checks that compare two
/// paths' mounts; `None` when it lies in no view (then it is the kernel's business alone).
fn virtual_of(rt: &Runtime, dirfd: c_int, path: &[u8], out: &mut PBuf) -> Option<()> {
    let mut abs = PBuf::new();
    if path.first() == Some(&b'/') {
        abs.set(path).ok()?;
    } else if dirfd == libc::AT_FDCWD {
        cwd::absolute(path, &mut abs).ok()?;
    } else if crate::fds::name(dirfd, &mut abs) {
        abs.push_byte(b'/').ok()?;
        abs.push_bytes(path).ok()?;
    } else {
        // From a descriptor the view does not know: the kernel's business alone.
        return None;
    }
    if has_dotdot(abs.as_bytes()) {
        let mut host = PBuf::new();
        walk(rt, abs.as_bytes(), false, Access::Look, &mut host, Some(out)).ok()?;
    } else {
        normalize_into(abs.as_bytes(), out).ok()?;
        let keep = out.len() - trailing(out.as_bytes()).len();
        out.truncate(keep.max(1));
    }
    Some(())
}

/// For `rename` and `link`: `EXDEV` if the two names' directories lie under different mounts
/// (a kernel refuses to rename across mounts, bind mounts of one file system included), else
/// `EBUSY` if either name is a mountpoint itself. The kernel's order: the mounts first.
pub fn check_same_mount(d1: c_int, p1: &[u8], d2: c_int, p2: &[u8]) -> Result<(), c_int> {
    let Some(rt) = runtime() else { return Ok(()) };
    let (mut a, mut b) = (PBuf::new(), PBuf::new());
    if virtual_of(rt, d1, p1, &mut a).is_none() || virtual_of(rt, d2, p2, &mut b).is_none() {
        return Ok(());
    }
    let (mut pa, mut pb) = (PBuf::from_bytes(a.as_bytes())?, PBuf::from_bytes(b.as_bytes())?);
    pa.pop_component();
    pb.pop_component();
    let mut next = PBuf::new();
    let mut busy = false;
    for view in rt.views.iter().rev() {
        busy |= view.mounts().any(|m| m.at() != b"/" && (m.at() == a.as_bytes() || m.at() == b.as_bytes()));
        let ma = view.mount_of(pa.as_bytes());
        let mb = view.mount_of(pb.as_bytes());
        match (ma, mb) {
            (None, None) => {}
            (Some((x, _)), Some((y, _))) if std::ptr::eq(x as *const _ as *const u8, y as *const _ as *const u8) => {}
            _ => return Err(libc::EXDEV),
        }
        for p in [&mut a, &mut b, &mut pa, &mut pb] {
            if let Step::Mapped { .. } = step(view, p.as_bytes(), Access::Look, true, &mut next)? {
                p.set(next.as_bytes())?;
            }
        }
    }
    if busy {
        return Err(libc::EBUSY);
    }
    Ok(())
}

/// For `rmdir` and `unlink`: `EBUSY` if `path` is a mountpoint of some view.
pub fn check_not_mountpoint(dirfd: c_int, path: &[u8]) -> Result<(), c_int> {
    let Some(rt) = runtime() else { return Ok(()) };
    let mut v = PBuf::new();
    if virtual_of(rt, dirfd, path, &mut v).is_none() {
        return Ok(());
    }
    let mut next = PBuf::new();
    for view in rt.views.iter().rev() {
        if view.mounts().any(|m| m.at() == v.as_bytes()) {
            return Err(libc::EBUSY);
        }
        if let Ok(Step::Mapped { .. }) = step(view, v.as_bytes(), Access::Look, true, &mut next) {
            v.set(next.as_bytes())?;
        }
    }
    Ok(())
}

/// After a successful open of `path` (from `dirfd`): records the new descriptor's virtual path
/// if it lies under a mount or above one. `routed` says the path went through a view.
pub fn note_open(fd: c_int, dirfd: c_int, path: &[u8], routed: bool) {
    let Some(rt) = runtime() else { return };
    if fd < 0 || path.is_empty() {
        return;
    }
    if !routed {
        let quiet = if path[0] == b'/' {
            !rt.may_be_above_mount(path) && !has_dotdot(path)
        } else if dirfd == libc::AT_FDCWD {
            cwd::is_plain() && !has_dotdot(path)
        } else {
            !crate::fds::is_recorded(dirfd)
        };
        if quiet {
            return;
        }
    }
    let mut abs = PBuf::new();
    let built = if path[0] == b'/' {
        abs.set(path)
    } else if dirfd == libc::AT_FDCWD {
        cwd::absolute(path, &mut abs)
    } else if crate::fds::name(dirfd, &mut abs) {
        abs.push_byte(b'/').and_then(|_| abs.push_bytes(path))
    } else {
        return;
    };
    if built.is_err() {
        return;
    }
    let mut virt = PBuf::new();
    let v: &[u8] = if has_dotdot(abs.as_bytes()) {
        let mut host = PBuf::new();
        if walk(rt, abs.as_bytes(), true, Access::Look, &mut host, Some(&mut virt)).is_err() {
            return;
        }
        virt.as_bytes()
    } else if path::is_normal(abs.as_bytes()) && trailing(abs.as_bytes()).is_empty() {
        abs.as_bytes()
    } else if normalize_into(abs.as_bytes(), &mut virt).is_err() {
        return;
    } else {
        let keep = virt.len() - trailing(virt.as_bytes()).len();
        virt.truncate(keep.max(1));
        virt.as_bytes()
    };
    let routes = rt.routes_relative(v);
    if routes || rt.views.iter().any(|view| view.entry_of(v).is_some()) {
        crate::fds::record(fd, v, routes);
    }
}

/// The path to resolve for `rel` from the recorded directory descriptor `dirfd`, when the
/// kernel's own walk from that descriptor would not be the view's: `rel` has a `..`, or the
/// directory has a mountpoint below it. `None`: hand `(dirfd, rel)` to the kernel.
pub fn at_path(dirfd: c_int, rel: &[u8], out: &mut PBuf) -> Option<()> {
    if !crate::fds::is_recorded(dirfd) || rel.is_empty() {
        return None;
    }
    if !has_dotdot(rel) && !crate::fds::routes_relative(dirfd) {
        return None;
    }
    if !crate::fds::name(dirfd, out) {
        return None;
    }
    (out.push_byte(b'/').is_ok() && out.push_bytes(rel).is_ok()).then_some(())
}

/// The canonical virtual name of the recorded descriptor `fd`, checked against what the
/// descriptor really is (a file renamed since it was opened is not named by its old path).
pub fn fd_virtual_name(fd: c_int, virt: &mut PBuf, host: &mut PBuf) -> bool {
    let mut recorded = PBuf::new();
    if !crate::fds::name(fd, &mut recorded) || canonicalize(recorded.as_bytes(), virt, host).is_err() {
        return false;
    }
    matches!((sys::host_stat(host, true), sys::fd_stat(fd)), (Ok(a), Ok(b)) if a.0 == b.0 && a.1 == b.1)
}

/// The virtual name of a path the kernel gave (a working directory renamed under us): view by
/// view from the outermost, through the mount whose source holds it. `hint` (the old virtual
/// name) says which mount to prefer when the path is visible several ways (as in `unreal`);
/// with no mount holding it, the path is its own name.
pub fn reverse(host: &[u8], hint: &[u8], out: &mut PBuf) -> Result<(), c_int> {
    out.set(host)?;
    let Some(rt) = runtime() else { return Ok(()) };
    let mut next = PBuf::new();
    let innermost = rt.views.len().saturating_sub(1);
    for (level, view) in rt.views.iter().enumerate() {
        let cur = out.as_bytes();
        // Mounts whose source holds the path, the longest source first.
        let mut best: Option<(&dyn crate::views::Mount, &[u8])> = None;
        for m in view.mounts() {
            let Some(src) = m.source() else { continue };
            if !path::is_under(cur, src) {
                continue;
            }
            let preferred = level == innermost && path::is_under(hint, m.at());
            let better = match best {
                None => true,
                Some((b, bsrc)) => preferred && !path::is_under(hint, b.at()) || (src.len() > bsrc.len() && !(level == innermost && path::is_under(hint, b.at()))),
            };
            if better {
                best = Some((m, src));
            }
        }
        let Some((m, src)) = best else { continue };
        // The path seen outside any mount is its own name, unless the hint says otherwise.
        let shadowed = view.mount_of(cur).is_some();
        if !shadowed && !(level == innermost && path::is_under(hint, m.at())) {
            continue;
        }
        let rest = if src == b"/" { cur } else { &cur[src.len()..] };
        next.set(m.at())?;
        if !rest.is_empty() && rest != b"/" {
            if next.as_bytes() == b"/" {
                next.clear();
            }
            next.push_bytes(rest)?;
        }
        out.set(next.as_bytes())?;
    }
    Ok(())
}
