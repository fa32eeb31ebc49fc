//! A process's identity under a fake root: what `getuid` & co. answer and `set*id` change, as
//! the kernel keeps it (real, effective, saved and file-system ids, supplementary groups), with
//! the kernel's rules for who may change what. Read at load from `KMVIEW_IDS` (what the parent
//! was when it ran exec), else the fake root's starting identity; handed on at exec.

use crate::errno::{Errno, Res};
use kmview_api::env::{Ids, MAX_GROUPS};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// [real, effective, saved, file-system].
static UIDS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
static GIDS: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];
static GROUPS: [AtomicU32; MAX_GROUPS] = [const { AtomicU32::new(0) }; MAX_GROUPS];
static NGROUPS: AtomicUsize = AtomicUsize::new(0);

pub const REAL: usize = 0;
pub const EFFECTIVE: usize = 1;
pub const SAVED: usize = 2;
pub const FS: usize = 3;

/// Sets the whole identity (at load).
pub fn set(ids: &Ids) {
    for i in 0..4 {
        UIDS[i].store(ids.uids[i], Ordering::Relaxed);
        GIDS[i].store(ids.gids[i], Ordering::Relaxed);
    }
    set_groups(ids.groups());
}

/// The whole identity (for exec).
pub fn get() -> Ids {
    let mut ids = Ids::of(0, 0);
    for i in 0..4 {
        ids.uids[i] = UIDS[i].load(Ordering::Relaxed);
        ids.gids[i] = GIDS[i].load(Ordering::Relaxed);
    }
    ids.ngroups = NGROUPS.load(Ordering::Relaxed).min(MAX_GROUPS);
    for (i, g) in ids.groups[..ids.ngroups].iter_mut().enumerate() {
        *g = GROUPS[i].load(Ordering::Relaxed);
    }
    ids
}

pub fn uid(which: usize) -> u32 {
    UIDS[which].load(Ordering::Relaxed)
}

pub fn gid(which: usize) -> u32 {
    GIDS[which].load(Ordering::Relaxed)
}

/// The supplementary groups into `out`; how many there are.
pub fn groups(out: &mut [u32]) -> usize {
    let n = NGROUPS.load(Ordering::Relaxed).min(MAX_GROUPS);
    for (i, g) in out.iter_mut().take(n).enumerate() {
        *g = GROUPS[i].load(Ordering::Relaxed);
    }
    n
}

fn privileged() -> bool {
    uid(EFFECTIVE) == 0
}

pub fn set_groups(list: &[u32]) {
    let n = list.len().min(MAX_GROUPS);
    for (i, g) in list[..n].iter().enumerate() {
        GROUPS[i].store(*g, Ordering::Relaxed);
    }
    NGROUPS.store(n, Ordering::Relaxed);
}

/// `setgroups`: only with a fake effective uid of 0.
pub fn setgroups(list: &[u32]) -> Res<()> {
    if !privileged() {
        return Err(Errno::EPERM);
    }
    if list.len() > MAX_GROUPS {
        return Err(Errno::EINVAL);
    }
    set_groups(list);
    Ok(())
}

/// One id of a `setres*id` call: -1 keeps the current one.
const KEEP: u32 = u32::MAX;

/// `setresuid`/`setresgid` on `ids` with the kernel's rule: unprivileged, each new id must be
/// one of the current real, effective or saved ones. The file-system id follows the effective.
fn setres(ids: &[AtomicU32; 4], r: u32, e: u32, s: u32) -> Res<()> {
    let cur = [ids[REAL].load(Ordering::Relaxed), ids[EFFECTIVE].load(Ordering::Relaxed), ids[SAVED].load(Ordering::Relaxed)];
    if !privileged() && [r, e, s].iter().any(|&x| x != KEEP && !cur.contains(&x)) {
        return Err(Errno::EPERM);
    }
    for (i, v) in [(REAL, r), (EFFECTIVE, e), (SAVED, s)] {
        if v != KEEP {
            ids[i].store(v, Ordering::Relaxed);
        }
    }
    ids[FS].store(ids[EFFECTIVE].load(Ordering::Relaxed), Ordering::Relaxed);
    Ok(())
}

pub fn setresuid(r: u32, e: u32, s: u32) -> Res<()> {
    setres(&UIDS, r, e, s)
}

pub fn setresgid(r: u32, e: u32, s: u32) -> Res<()> {
    setres(&GIDS, r, e, s)
}

/// `setreuid`/`setregid`: the saved id becomes the new effective one when the real one is set,
/// or the effective one is set to something other than the old real id.
fn setre(ids: &[AtomicU32; 4], r: u32, e: u32) -> Res<()> {
    let old_real = ids[REAL].load(Ordering::Relaxed);
    let cur = [old_real, ids[EFFECTIVE].load(Ordering::Relaxed), ids[SAVED].load(Ordering::Relaxed)];
    if !privileged() && ((r != KEEP && r != cur[0] && r != cur[1]) || (e != KEEP && !cur.contains(&e))) {
        return Err(Errno::EPERM);
    }
    let new_e = if e != KEEP { e } else { cur[1] };
    let s = if r != KEEP || (e != KEEP && e != old_real) { new_e } else { KEEP };
    setres_unchecked(ids, r, e, s);
    Ok(())
}

fn setres_unchecked(ids: &[AtomicU32; 4], r: u32, e: u32, s: u32) {
    for (i, v) in [(REAL, r), (EFFECTIVE, e), (SAVED, s)] {
        if v != KEEP {
            ids[i].store(v, Ordering::Relaxed);
        }
    }
    ids[FS].store(ids[EFFECTIVE].load(Ordering::Relaxed), Ordering::Relaxed);
}

pub fn setreuid(r: u32, e: u32) -> Res<()> {
    setre(&UIDS, r, e)
}

pub fn setregid(r: u32, e: u32) -> Res<()> {
    setre(&GIDS, r, e)
}

/// `setuid`/`setgid`: privileged, all three ids; else the effective one, to the real or saved.
fn set_one(ids: &[AtomicU32; 4], v: u32) -> Res<()> {
    if v == KEEP {
        return Err(Errno::EINVAL);
    }
    if privileged() {
        setres_unchecked(ids, v, v, v);
        return Ok(());
    }
    if v != ids[REAL].load(Ordering::Relaxed) && v != ids[SAVED].load(Ordering::Relaxed) {
        return Err(Errno::EPERM);
    }
    setres_unchecked(ids, KEEP, v, KEEP);
    Ok(())
}

pub fn setuid(u: u32) -> Res<()> {
    set_one(&UIDS, u)
}

pub fn setgid(g: u32) -> Res<()> {
    set_one(&GIDS, g)
}

/// `seteuid`/`setegid`: the effective id only, with the unprivileged rule.
pub fn seteuid(u: u32) -> Res<()> {
    if u == KEEP {
        return Err(Errno::EINVAL);
    }
    setres(&UIDS, KEEP, u, KEEP)
}

pub fn setegid(g: u32) -> Res<()> {
    if g == KEEP {
        return Err(Errno::EINVAL);
    }
    setres(&GIDS, KEEP, g, KEEP)
}

/// `setfsuid`/`setfsgid`: the previous file-system id; changed if privileged or one of the
/// current ids.
fn setfs(ids: &[AtomicU32; 4], v: u32) -> u32 {
    let old = ids[FS].load(Ordering::Relaxed);
    let cur = [ids[REAL].load(Ordering::Relaxed), ids[EFFECTIVE].load(Ordering::Relaxed), ids[SAVED].load(Ordering::Relaxed), old];
    if v != KEEP && (privileged() || cur.contains(&v)) {
        ids[FS].store(v, Ordering::Relaxed);
    }
    old
}

pub fn setfsuid(u: u32) -> u32 {
    setfs(&UIDS, u)
}

pub fn setfsgid(g: u32) -> u32 {
    setfs(&GIDS, g)
}
