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

use crate::path::{self, has_dotdot, is_under, normalize_into, trailing};
use crate::sys::PBuf;
use crate::views::View;
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
    /// The first component of every mount of every view: a path whose first component is not
    /// among them (and that has no `..`) is under no mount.
    first_components: Vec<path::FirstComponent>,
    /// Some view mounts `/`: then no path is hot.
    has_root_mount: bool,
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

/// Loads the stack now (the constructor calls this; any hook would on first use).
pub fn init() {
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
fn inherit_exe(rt: &Runtime) {
    let Some(virt) = sys::getenv(b"KMVIEW_EXE\0") else { return };
    let mut host = PBuf::new();
    let Ok(exe) = PBuf::from_bytes(b"/proc/self/exe") else { return };
    if translate_canonical(rt, virt, &mut host).is_ok()
        && matches!((sys::host_stat(&host, true), sys::host_stat(&exe, true)), (Ok(a), Ok(b)) if a.0 == b.0 && a.1 == b.1)
    {
        EXE.store(virt);
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
        if virt.first() != Some(&b'/') || translate_canonical(rt, &virt, &mut host).is_err() {
            continue;
        }
        if matches!((sys::host_stat(&host, true), sys::fd_stat(fd)), (Ok(a), Ok(b)) if a.0 == b.0 && a.1 == b.1) {
            let above = rt.views.iter().any(|v| v.has_mount_below(&virt));
            crate::fds::record(fd, &virt, above);
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
    let mut first_components: Vec<path::FirstComponent> = Vec::new();
    let mut has_root_mount = false;
    for view in &views {
        for m in view.mounts() {
            match path::components(m.at()).next() {
                Some(first) if !first_components.iter().any(|c| c.as_bytes() == first) => {
                    first_components.push(path::FirstComponent::new(first))
                }
                Some(_) => {}
                None => has_root_mount = true,
            }
        }
    }
    let mut above_mounts: Vec<Vec<u8>> = Vec::new();
    for view in &views {
        for m in view.mounts() {
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
    let lib_path = sys::own_path();
    let mut stack_env = b"KMVIEW_STACK=".to_vec();
    stack_env.extend_from_slice(value);
    let mut preload_env = b"LD_PRELOAD=".to_vec();
    preload_env.extend_from_slice(&lib_path);
    Some(Runtime {
        views,
        first_components,
        has_root_mount,
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
        match p.get(1) {
            None => return true,
            // `//x`, `/./x`, `/../x` and (rarely, harmlessly) `/.name`: normalized first.
            Some(b'/') | Some(b'.') => return false,
            Some(_) => {}
        }
        for c in &self.first_components {
            if c.starts(p) {
                return false;
            }
        }
        !has_dotdot(p)
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

    /// Whether `virt` (canonical) is under no mount of any view and has none below it: then a
    /// relative path without `..` from there reaches no mount.
    pub fn is_plain(&self, virt: &[u8]) -> bool {
        self.views.iter().all(|v| v.mount_of(virt).is_none() && !v.has_mount_below(virt))
    }
}

/// Where a path goes after the views.
pub enum Route {
    /// To the kernel as the caller gave it.
    Native,
    /// To the kernel as the host path now in the buffer.
    Host,
}

/// Carries `path` (relative paths from the working directory) through every view; a host
/// path, if one differs from the caller's, lands in `host`.
///
/// `follow` says whether a symlink in the last component is followed (as `stat`, not `lstat`).
#[inline(always)]
pub fn route(path: &[u8], follow: bool, host: &mut PBuf) -> Result<Route, c_int> {
    let Some(rt) = runtime() else { return Ok(Route::Native) };
    if path.is_empty() {
        return Ok(Route::Native);
    }
    if path[0] == b'/' {
        if rt.is_hot_absolute(path) {
            return Ok(Route::Native);
        }
        return translate(rt, path, follow, host);
    }
    if cwd::is_plain() && !has_dotdot(path) {
        return Ok(Route::Native);
    }
    let mut abs = PBuf::new();
    cwd::absolute(path, &mut abs)?;
    match translate(rt, abs.as_bytes(), follow, host)? {
        // A relative path that no view changes resolves the same from the kernel's cwd.
        Route::Native => Ok(Route::Native),
        Route::Host => Ok(Route::Host),
    }
}

/// The fast way through every view, falling back to the exact walk where it must.
fn translate(rt: &Runtime, abs: &[u8], follow: bool, host: &mut PBuf) -> Result<Route, c_int> {
    if abs.len() >= libc::PATH_MAX as usize {
        return Err(libc::ENAMETOOLONG);
    }
    let mut cur = PBuf::new();
    normalize_into(abs, &mut cur)?;
    let mut mapped = false;
    for view in rt.views.iter().rev() {
        match step(view, cur.as_bytes(), host)? {
            Step::Same => {}
            Step::Mapped => {
                cur.set(host.as_bytes())?;
                mapped = true;
            }
            Step::Walk => {
                walk(rt, abs, follow, host, None)?;
                return Ok(Route::Host);
            }
        }
    }
    if !mapped {
        return Ok(Route::Native);
    }
    Ok(Route::Host)
}

enum Step {
    Same,
    Mapped,
    Walk,
}

/// One view's textual rewrite of a normalized absolute path into `out`.
fn step(view: &View, p: &[u8], out: &mut PBuf) -> Result<Step, c_int> {
    let Some(m) = view.mount_of(p) else {
        if has_dotdot(p) && dotdot_meets_mount(view, p)? {
            return Ok(Step::Walk);
        }
        return Ok(Step::Same);
    };
    let rest = &p[m.at().len()..];
    if has_dotdot(rest) && !(kernel_walk_is_exact(m.source()) && stays_within(rest) && !view.has_mount_below(m.at())) {
        return Ok(Step::Walk);
    }
    out.set(m.source())?;
    if m.source() == b"/" && !rest.is_empty() {
        out.clear();
    }
    out.push_bytes(rest)?;
    Ok(Step::Mapped)
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

/// Whether collapsing the `..` of `p` textually passes through a mount of `view`.
fn dotdot_meets_mount(view: &View, p: &[u8]) -> Result<bool, c_int> {
    let mut pos = PBuf::from_bytes(b"/")?;
    for comp in path::components(p) {
        if comp == b".." {
            pos.pop_component();
        } else {
            pos.push_component(comp)?;
        }
        if view.mount_of(pos.as_bytes()).is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A canonical virtual path (no symlink, `.` or `..` in it) to the host path behind it.
pub fn translate_canonical(rt: &Runtime, virt: &[u8], host: &mut PBuf) -> Result<(), c_int> {
    host.set(virt)?;
    let mut next = PBuf::new();
    for view in rt.views.iter().rev() {
        if let Step::Mapped = step(view, host.as_bytes(), &mut next)? {
            host.set(next.as_bytes())?;
        }
    }
    Ok(())
}

/// The exact walk: resolves `abs` component by component in the innermost view, reading each
/// symlink through the views and resolving its target in the view (absolute targets from the
/// view's root). The host path lands in `host`; the canonical virtual path in `virt_out`.
pub fn walk(rt: &Runtime, abs: &[u8], follow: bool, host: &mut PBuf, virt_out: Option<&mut PBuf>) -> Result<(), c_int> {
    let trail = trailing(abs);
    let follow = follow || !trail.is_empty();
    let mut virt = PBuf::from_bytes(b"/")?;
    let mut rest = PBuf::from_bytes(abs)?;
    let mut spliced = PBuf::new();
    let mut target = PBuf::new();
    let mut links = 0;
    let mut pos = 0;
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
        translate_canonical(rt, virt.as_bytes(), host)?;
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
    translate_canonical(rt, virt.as_bytes(), host)?;
    if !trail.is_empty() && host.as_bytes() != b"/" {
        host.push_bytes(trail)?;
    }
    if let Some(out) = virt_out {
        out.set(virt.as_bytes())?;
    }
    Ok(())
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
    walk(rt, abs.as_bytes(), true, host, Some(virt))
}

/// Calls `f(name, host_path)` for each mountpoint of any view whose parent is the directory
/// `path` (as given to `opendir`), once per name: the entries a listing must show even when
/// nothing lies at those names underneath. Stops early if `f` returns false.
pub fn mountpoints_in(path: &[u8], mut f: impl FnMut(&[u8], &PBuf) -> bool) -> Result<(), c_int> {
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
        for m in view.mounts() {
            let at = m.at();
            let parent_len = memchr::memrchr(b'/', at).unwrap_or(0).max(1);
            if &at[..parent_len] == dir.as_bytes() && at.len() > 1 {
                let name = &at[parent_len + (parent_len > 1) as usize..];
                // The host path of the mountpoint: its source, translated by the views outside.
                let mut src = PBuf::from_bytes(m.source())?;
                for outer in rt.views[..level].iter().rev() {
                    if let Step::Mapped = step(outer, src.as_bytes(), &mut mount_host)? {
                        src.set(mount_host.as_bytes())?;
                    }
                }
                if !f(name, &src) {
                    return Ok(());
                }
            }
        }
        if let Step::Mapped = step(view, dir.as_bytes(), &mut next)? {
            dir.set(next.as_bytes())?;
        }
    }
    Ok(())
}

/// True if `virt` (canonical) is under some mount of the innermost view or any view.
pub fn is_under_any_mount(virt: &[u8]) -> bool {
    runtime().is_some_and(|rt| rt.views.iter().any(|v| v.mounts().any(|m| is_under(virt, m.at()))))
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
    if has_dotdot(abs.as_bytes()) {
        let mut host = PBuf::new();
        if walk(rt, abs.as_bytes(), true, &mut host, Some(&mut virt)).is_err() {
            return;
        }
    } else if normalize_into(abs.as_bytes(), &mut virt).is_err() {
        return;
    } else {
        let keep = virt.len() - trailing(virt.as_bytes()).len();
        virt.truncate(keep.max(1));
    }
    let v = virt.as_bytes();
    let under = rt.views.iter().any(|view| view.mount_of(v).is_some());
    let above = rt.views.iter().any(|view| view.has_mount_below(v));
    if under || above {
        crate::fds::record(fd, v, above);
    }
}

/// The path to resolve for `rel` from the recorded directory descriptor `dirfd`, when the
/// kernel's own walk from that descriptor would not be the view's: `rel` has a `..`, or the
/// directory has a mountpoint below it. `None`: hand `(dirfd, rel)` to the kernel.
pub fn at_path(dirfd: c_int, rel: &[u8], out: &mut PBuf) -> Option<()> {
    if !crate::fds::is_recorded(dirfd) || rel.is_empty() {
        return None;
    }
    if !has_dotdot(rel) && !crate::fds::is_above_mount(dirfd) {
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
