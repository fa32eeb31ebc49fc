//! Naming back: a path the kernel gave (getcwd, the target of `/proc/self/fd/N`) named in the
//! innermost view. View by view from the outermost, each view's mounts asked (`Layer::map_back`)
//! whether they show it, and the best one taken: where several show the same path (`unreal`
//! shows `/` twice), `hint` (a name this process used for it) says which; a path no mount of a
//! view takes over keeps its own name there.

use crate::errno::{Errno, Res};
use crate::path::is_under;
use crate::runtime::Runtime;
use crate::sys::PBuf;
use crate::views::{Entry, Layer};

pub fn name(rt: &Runtime, host: &[u8], hint: &[u8], out: &mut PBuf) -> Res<()> {
    name_in(rt.views, host, hint, out)
}

/// [`name`] through `views` only (outermost first): the name in the innermost of them.
pub fn name_in(views: &[crate::views::View], host: &[u8], hint: &[u8], out: &mut PBuf) -> Res<()> {
    out.set(host)?;
    let mut next = crate::sys::pool::take()?;
    let mut level_hint = crate::sys::pool::take()?;
    for (level, view) in views.iter().enumerate() {
        // The hint in this view's terms: the innermost view's name, mapped out through the
        // views inside this one.
        let hinted = !hint.is_empty() && super::to_host_in(&views[level + 1..], hint, crate::views::Op::Look, &mut level_hint).is_ok();
        let h = level_hint.as_bytes();
        let prefers = |m: &Entry| hinted && is_under(h, m.at());
        let cur = out.as_bytes();
        // The mounts whose source holds the path: the hinted one, else the longest source.
        let mut best: Option<&Entry> = None;
        for m in view.entries.iter().filter(|e| e.is_mount()) {
            let Some(src) = m.source() else { continue };
            if !is_under(cur, src) {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => {
                    let bsrc = b.source().unwrap_or(b"");
                    (prefers(m) && !prefers(b)) || (src.len() > bsrc.len() && !prefers(b))
                }
            };
            if better {
                best = Some(m);
            }
        }
        let Some(m) = best else {
            // Under a root, a path outside it has no name here (as the kernel's "unreachable").
            if view.mount_of(cur).is_some_and(|m| m.at() == b"/") {
                return Err(Errno::ENOENT);
            }
            continue;
        };
        // A path no mount of this view takes over is visible under its own name, unless the
        // hint says this process knew it by the mount's.
        let shadowed = view.mount_of(cur).is_some();
        if !shadowed && !prefers(m) {
            continue;
        }
        if m.map_back(cur, &mut next)? {
            out.set(next.as_bytes())?;
        }
    }
    Ok(())
}

/// One line of `/proc/<pid>/maps` (or `smaps`) with its path (the sixth field, a host path)
/// named in the view, into `out`; a line without a path, or with a path the view does not
/// reach (as a kernel's chroot shows it: the whole path), as it is.
pub fn maps_line(rt: &Runtime, line: &[u8], out: &mut PBuf) -> Res<()> {
    // Five fields, each followed by spaces, then the path.
    let mut at = 0;
    for _ in 0..5 {
        let Some(sp) = memchr::memchr(b' ', &line[at..]) else { return out.set(line) };
        at += sp;
        while line.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    let path = &line[at..];
    if path.first() != Some(&b'/') {
        return out.set(line);
    }
    let (file, deleted) = match path.strip_suffix(b" (deleted)") {
        Some(f) => (f, &b" (deleted)"[..]),
        None => (path, &b""[..]),
    };
    let mut named = crate::sys::pool::take()?;
    if name(rt, file, b"", &mut named).is_err() {
        return out.set(line);
    }
    out.set(&line[..at])?;
    out.push_bytes(named.as_bytes())?;
    out.push_bytes(deleted)
}
