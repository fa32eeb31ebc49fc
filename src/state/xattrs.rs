//! The fake root's extended attributes (`security.*`: what `setcap` writes, which the real user
//! may not): by device, inode and name, in the record file's second table, with the same
//! discipline as `owners` (a record never changes once a slot names it; one compare-and-swap
//! publishes a change).

use crate::errno::{Errno, Res};
use crate::sys::shared;
use kmview_api::record::{xfirst_slot, XNAME_MAX, XNEXT_AT, XRECORDS, XRECORDS_AT, XRECORD_SIZE, XSLOTS, XSLOTS_AT, XVALUE_MAX};
use std::sync::atomic::Ordering;

/// The record is a removal: the attribute is gone.
const REMOVED: u32 = 1;
const NAME_AT: usize = 32;
const VALUE_AT: usize = NAME_AT + XNAME_MAX;

fn slot(l: usize, i: u32) -> Option<&'static std::sync::atomic::AtomicU32> {
    shared::word(l, XSLOTS_AT + 4 * i as usize)
}

fn at(n: u32) -> usize {
    XRECORDS_AT + XRECORD_SIZE * n as usize
}

/// The fixed part of record `n`: device, inode, file type, flags, name length, value length.
fn head(l: usize, n: u32) -> Option<(u64, u64, u32, u32, usize, usize)> {
    let mut b = [0u8; NAME_AT];
    shared::read_bytes(l, at(n), &mut b).then_some(())?;
    let u64_at = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let u32_at = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap_or_default());
    let u16_at = |i: usize| u16::from_ne_bytes(b[i..i + 2].try_into().unwrap_or_default()) as usize;
    Some((u64_at(0), u64_at(8), u32_at(16), u32_at(20), u16_at(24).min(XNAME_MAX), u16_at(26).min(XVALUE_MAX)))
}

fn name_is(l: usize, n: u32, len: usize, name: &[u8]) -> bool {
    let mut b = [0u8; XNAME_MAX];
    len == name.len() && shared::read_bytes(l, at(n) + NAME_AT, &mut b[..len]) && &b[..len] == name
}

/// The slot of `name` on `dev`:`ino` (or the empty one it would take) and the record it names.
fn find(l: usize, dev: u64, ino: u64, name: &[u8]) -> Option<(u32, u32)> {
    let mut i = xfirst_slot(dev, ino, name);
    for _ in 0..XSLOTS {
        let n = slot(l, i)?.load(Ordering::Acquire);
        if n == 0 {
            return Some((i, 0));
        }
        let (d, o, _, _, len, _) = head(l, n)?;
        if d == dev && o == ino && name_is(l, n, len, name) {
            return Some((i, n));
        }
        i = (i + 1) & (XSLOTS - 1);
    }
    None
}

/// What a record says of one attribute.
pub enum Found {
    /// Its value, this long (in the caller's buffer).
    Value(usize),
    /// Removed.
    Removed,
    /// Nothing.
    No,
}

/// The value of `name` on the inode (of file type `kind`) in fake root `l`'s record, into `out`.
pub fn get(l: usize, dev: u64, ino: u64, kind: u32, name: &[u8], out: &mut [u8; XVALUE_MAX]) -> Found {
    let Some((_, n)) = find(l, dev, ino, name).filter(|&(_, n)| n != 0) else { return Found::No };
    let Some((_, _, k, flags, _, len)) = head(l, n) else { return Found::No };
    if k != kind {
        return Found::No;
    }
    if flags & REMOVED != 0 {
        return Found::Removed;
    }
    if shared::read_bytes(l, at(n) + VALUE_AT, &mut out[..len]) {
        Found::Value(len)
    } else {
        Found::No
    }
}

/// Sets (`Some`) or removes (`None`) `name` on the inode in fake root `l`'s record.
pub fn put(l: usize, dev: u64, ino: u64, kind: u32, name: &[u8], value: Option<&[u8]>) -> Res<()> {
    let v = value.unwrap_or(b"");
    if name.len() > XNAME_MAX {
        return Err(Errno::ERANGE);
    }
    if v.len() > XVALUE_MAX {
        return Err(Errno::E2BIG);
    }
    let next = shared::word(l, XNEXT_AT).ok_or(Errno::EIO)?;
    let mine = next.fetch_add(1, Ordering::Relaxed);
    if mine == 0 || mine >= XRECORDS {
        return Err(Errno::ENOSPC);
    }
    let mut h = [0u8; NAME_AT];
    h[0..8].copy_from_slice(&dev.to_ne_bytes());
    h[8..16].copy_from_slice(&ino.to_ne_bytes());
    h[16..20].copy_from_slice(&kind.to_ne_bytes());
    h[20..24].copy_from_slice(&(if value.is_some() { 0 } else { REMOVED }).to_ne_bytes());
    h[24..26].copy_from_slice(&(name.len() as u16).to_ne_bytes());
    h[26..28].copy_from_slice(&(v.len() as u16).to_ne_bytes());
    if !(shared::write_bytes(l, at(mine), &h) && shared::write_bytes(l, at(mine) + NAME_AT, name) && shared::write_bytes(l, at(mine) + VALUE_AT, v)) {
        return Err(Errno::EIO);
    }
    loop {
        let (i, old) = find(l, dev, ino, name).ok_or(Errno::ENOSPC)?;
        // Published only now, whole.
        if slot(l, i).ok_or(Errno::EIO)?.compare_exchange(old, mine, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return Ok(());
        }
    }
}
