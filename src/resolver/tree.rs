//! The checks a kernel makes between two names or on a mountpoint: `rename` and `link` across
//! mount boundaries are `EXDEV` (bind mounts of one file system included), a mountpoint cannot
//! be removed or renamed (`EBUSY`). Boundaries are the mounts and the read-only marks (whose
//! kernel equivalent is a read-only bind mount of the path on itself), in the kernel's order.

use super::below::{Below, FileId};
use super::walk::walk_into;
use super::{is_read_only, to_host, virtual_path};
use crate::errno::{Errno, Res};
use crate::path::{parent, Shape, Trail};
use crate::runtime::Runtime;
use crate::sys::PBuf;
use crate::views::{Layer, Op};
use libc::c_int;

/// The canonical virtual path of `path` (from `dirfd`), its last component not followed.
fn virtual_of<B: Below>(b: &B, rt: &Runtime, dirfd: c_int, path: &[u8], out: &mut PBuf) -> Res<()> {
    let shape = virtual_path(b, rt, path, dirfd, out)?;
    if shape.dotdot {
        let mut virt = crate::sys::pool::take()?;
        walk_into(b, rt, out, Shape { dotdot: true, trail: Trail::None }, false, Op::Look, Some(&mut virt))?;
        out.set(virt.as_bytes())?;
    }
    Ok(())
}

/// Which call asks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    Rename,
    /// `link`, its old name followed or not.
    Link {
        follow: bool,
    },
}

/// One name of a rename or link as the kernel looks at it: its directory (everything but the
/// last component, resolved), and the last component itself.
struct Name {
    dir: crate::sys::pool::Buf,
    /// The directory and the last component: the name itself (unless the last is `.` or `..`,
    /// which names no entry of the directory).
    full: Option<crate::sys::pool::Buf>,
    /// The last component is `.` or `..`.
    dots: bool,
    /// The path ends with `/`.
    trailing: bool,
}

fn name_of<B: Below>(b: &B, rt: &Runtime, dirfd: c_int, path: &[u8]) -> Res<Name> {
    if path.is_empty() {
        // AT_EMPTY_PATH: the descriptor's own file.
        let mut full = crate::sys::pool::take()?;
        super::names::of_fd_any(b, rt, dirfd, &mut full)?;
        let dir = crate::sys::pool::copy_of(parent(full.as_bytes()))?;
        return Ok(Name { dir, full: Some(full), dots: false, trailing: false });
    }
    let (dir_part, last, trailing) = split_last(path);
    let mut dir = crate::sys::pool::take()?;
    virtual_of(b, rt, dirfd, dir_part, &mut dir)?;
    let mut canonical = crate::sys::pool::take()?;
    // The directory as the kernel's walk leaves it: links followed.
    if walk_into(b, rt, &mut dir, Shape { dotdot: true, trail: Trail::None }, true, Op::Look, Some(&mut canonical)).is_ok() {
        dir.set(canonical.as_bytes())?;
    } else {
        virtual_of(b, rt, dirfd, dir_part, &mut dir)?;
    }
    let dots = last == b"." || last == b".." || last.is_empty();
    let full = if dots {
        None
    } else {
        let mut f = crate::sys::pool::copy_of(dir.as_bytes())?;
        f.push_component(last)?;
        Some(f)
    };
    Ok(Name { dir, full, dots, trailing })
}

/// `path` as its directory part (`.` for a bare name), its last component and whether a `/`
/// followed it.
fn split_last(path: &[u8]) -> (&[u8], &[u8], bool) {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    let body = &path[..end];
    let (dir, last): (&[u8], &[u8]) = match memchr::memrchr(b'/', body) {
        Some(0) => (b"/", &body[1..]),
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (b".", body),
    };
    (dir, last, end < path.len())
}

/// The canonical name in the innermost view of `path` (from `dirfd`, not empty), its directory
/// walked as the kernel walks it (links followed, `..` taken) and its last component not
/// followed; its directory must exist. False when the last component is `.` or `..`.
pub fn canonical_name<B: Below>(b: &B, rt: &Runtime, dirfd: c_int, path: &[u8], out: &mut PBuf) -> Res<bool> {
    let (dir_part, last, _) = split_last(path);
    if last.is_empty() || last == b"." || last == b".." {
        return Ok(false);
    }
    let mut host = crate::sys::pool::take()?;
    virtual_of(b, rt, dirfd, dir_part, &mut host)?;
    walk_into(b, rt, &mut host, Shape { dotdot: true, trail: Trail::None }, true, Op::Look, Some(out))?;
    out.push_component(last)?;
    Ok(true)
}

/// The name itself, or its directory when the last component is `.` or `..`.
fn object(n: &Name) -> &[u8] {
    n.full.as_ref().map_or(n.dir.as_bytes(), |f| f.as_bytes())
}

/// What the views say of a pair of names, before anything is looked up.
#[derive(Default)]
struct Verdicts {
    /// Their directories (or, for a link, the old file and the new directory) lie under
    /// different boundaries in some view.
    cross: bool,
    /// One of the names is a mountpoint (or a read-only mark's path).
    busy: bool,
}

fn verdicts(rt: &Runtime, x: &Name, y: &Name, pair: Pair) -> Res<Verdicts> {
    let mut v = Verdicts::default();
    let (mut xd, mut xf, mut yd, mut yf) = (
        crate::sys::pool::copy_of(x.dir.as_bytes())?,
        crate::sys::pool::copy_of(object(x))?,
        crate::sys::pool::copy_of(y.dir.as_bytes())?,
        crate::sys::pool::copy_of(object(y))?,
    );
    for view in rt.views.iter().rev() {
        let is_mountpoint = |n: &Name, f: &PBuf| !n.dots && view.entries.iter().any(|e| e.is_boundary() && e.at() != b"/" && e.at() == f.as_bytes());
        v.busy |= is_mountpoint(x, &xf) || is_mountpoint(y, &yf);
        // A rename moves a name between two directories; a link puts the old file itself (a
        // mount's root, if it is one) into the new directory.
        let from = if matches!(pair, Pair::Link { .. }) { xf.as_bytes() } else { xd.as_bytes() };
        if !crate::views::same_entry(view.boundary_of(from), view.boundary_of(yd.as_bytes())) {
            v.cross = true;
            return Ok(v);
        }
        for p in [&mut xd, &mut xf, &mut yd, &mut yf] {
            if let Some(m) = view.mount_of(p.as_bytes()) {
                m.map_out(p)?;
            }
        }
    }
    Ok(v)
}

/// What lies at a canonical virtual path: `Err` from its lookup (`ENOENT`…).
fn look<B: Below>(b: &B, rt: &Runtime, virt: &[u8], follow: bool, host: &mut PBuf) -> Res<FileId> {
    to_host(rt, virt, Op::Look, host)?;
    b.stat(libc::AT_FDCWD, host, follow)
}

/// A directory a name is made, removed or renamed in: it must be one.
fn look_dir<B: Below>(b: &B, rt: &Runtime, virt: &[u8], host: &mut PBuf) -> Res<()> {
    if !look(b, rt, virt, true, host)?.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(())
}

/// For `rename` and `link` (`flags`: renameat2's): what the views add to the kernel's answer
/// (`EXDEV` across boundaries, `EROFS` on a read-only mount, `EBUSY` for a mountpoint), in the
/// kernel's order among its own checks (`do_renameat2`, `do_linkat`). `Ok`: the call may go to
/// the kernel, which will answer the rest itself.
pub fn pair<B: Below>(b: &B, rt: &Runtime, one: (c_int, &[u8]), two: (c_int, &[u8]), pair: Pair, flags: c_int) -> Res<()> {
    // A name the view refuses (hidden, denied) is reported by the call's own routing.
    let (Ok(x), Ok(y)) = (name_of(b, rt, one.0, one.1), name_of(b, rt, two.0, two.1)) else {
        return Ok(());
    };
    let v = verdicts(rt, &x, &y, pair)?;
    let ro = is_read_only(rt, y.dir.as_bytes()) || (pair == Pair::Rename && is_read_only(rt, x.dir.as_bytes()));
    let busy = v.busy && pair == Pair::Rename;
    if !v.cross && !ro && !busy {
        return Ok(());
    }
    let mut host = crate::sys::pool::take()?;
    match pair {
        Pair::Rename => {
            look_dir(b, rt, x.dir.as_bytes(), &mut host)?;
            look_dir(b, rt, y.dir.as_bytes(), &mut host)?;
            if v.cross {
                return Err(Errno::EXDEV);
            }
            if x.dots {
                return Err(Errno::EBUSY);
            }
            if y.dots {
                return Err(if flags & libc::RENAME_NOREPLACE as c_int != 0 { Errno::EEXIST } else { Errno::EBUSY });
            }
            if ro {
                return Err(Errno::EROFS);
            }
            // A mountpoint: the kernel looks at both names' types before it says EBUSY.
            let old = look(b, rt, object(&x), false, &mut host)?;
            if let Ok(new) = look(b, rt, object(&y), false, &mut host) {
                if flags & libc::RENAME_NOREPLACE as c_int != 0 {
                    return Err(Errno::EEXIST);
                }
                if !old.is_dir() && new.is_dir() {
                    return Err(Errno::EISDIR);
                }
                if old.is_dir() && !new.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
            }
            Err(Errno::EBUSY)
        }
        Pair::Link { follow } => {
            let old = if one.1.is_empty() { b.fstat(one.0)? } else { look(b, rt, object(&x), follow || x.trailing, &mut host)? };
            if x.trailing && !old.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            look_dir(b, rt, y.dir.as_bytes(), &mut host)?;
            if y.dots {
                return Err(Errno::EEXIST);
            }
            match look(b, rt, object(&y), false, &mut host) {
                Ok(_) => return Err(Errno::EEXIST),
                Err(Errno::ENOENT) if y.trailing => return Err(Errno::ENOENT),
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
            if ro {
                return Err(Errno::EROFS);
            }
            if v.cross {
                return Err(Errno::EXDEV);
            }
            Ok(())
        }
    }
}

/// For `rmdir` and `unlink` (`dir`: rmdir): `EBUSY` if `path` is a mountpoint (or a
/// read-only mark's path) of some view, after the kernel's own checks (a directory given to
/// unlink is `EISDIR`, a file given to rmdir `ENOTDIR`) and unless its parent is read-only
/// (then `EROFS` comes first).
pub fn not_mountpoint<B: Below>(b: &B, rt: &Runtime, dirfd: c_int, path: &[u8], dir: bool) -> Res<()> {
    let mut v = crate::sys::pool::take()?;
    if virtual_of(b, rt, dirfd, path, &mut v).is_err() || v.as_bytes() == b"/" {
        return Ok(());
    }
    let parent_ro = is_read_only(rt, parent(v.as_bytes()));
    let virt = crate::sys::pool::copy_of(v.as_bytes())?;
    for view in rt.views.iter().rev() {
        if view.entries.iter().any(|e| e.is_boundary() && e.at() == v.as_bytes()) {
            if parent_ro {
                return Ok(());
            }
            let mut host = crate::sys::pool::take()?;
            return match look(b, rt, virt.as_bytes(), false, &mut host) {
                Ok(id) if id.is_dir() != dir => Ok(()),
                _ => Err(Errno::EBUSY),
            };
        }
        if let Some(m) = view.mount_of(v.as_bytes()) {
            m.map_out(&mut v)?;
        }
    }
    Ok(())
}
