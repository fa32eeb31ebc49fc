//! The fake root's record: the owner, mode and device number set on each inode in the view,
//! by device and inode, in a file every process of the view maps (`sys::shared`). Lock-free
//! and crash-safe: a record never changes once a slot names it; an update writes a new record
//! and swings the inode's slot to it with one compare-and-swap. A process killed at any moment
//! leaves at worst a record no slot names.

use crate::errno::{Errno, Res};
use crate::sys::shared;
use kmview_api::record::{first_slot, Record, GONE, NEXT_AT, RECORDS, RECORDS_AT, RECORD_SIZE, SLOTS, SLOTS_AT};
use std::sync::atomic::Ordering;

fn slot(l: usize, i: u32) -> Option<&'static std::sync::atomic::AtomicU32> {
    shared::word(l, SLOTS_AT + 4 * i as usize)
}

fn record(l: usize, n: u32) -> Option<Record> {
    shared::read(l, RECORDS_AT + RECORD_SIZE * n as usize)
}

/// The slot that names `dev`:`ino`, or the empty one where it would go, and the record named.
fn find(l: usize, dev: u64, ino: u64) -> Option<(u32, u32, Option<Record>)> {
    let mut i = first_slot(dev, ino);
    for _ in 0..SLOTS {
        let n = slot(l, i)?.load(Ordering::Acquire);
        if n == 0 {
            return Some((i, 0, None));
        }
        let r = record(l, n)?;
        if r.dev == dev && r.ino == ino {
            return Some((i, n, Some(r)));
        }
        i = (i + 1) & (SLOTS - 1);
    }
    None
}

/// What fake root `l` set on `dev`:`ino`, if anything (and not forgotten).
pub fn get(l: usize, dev: u64, ino: u64) -> Option<Record> {
    find(l, dev, ino).and_then(|(_, _, r)| r).filter(|r| r.flags & GONE == 0)
}

/// Sets what `change` makes of the inode's record in fake root `l`'s (a fresh one if it has none, or had one for
/// an inode of another `kind` or one forgotten).
pub fn update(l: usize, dev: u64, ino: u64, kind: u32, change: impl Fn(&mut Record)) -> Res<()> {
    let next = shared::word(l, NEXT_AT).ok_or(Errno::EIO)?;
    let mut mine = 0;
    loop {
        let (i, old, current) = find(l, dev, ino).ok_or(Errno::ENOSPC)?;
        let mut r = match current {
            Some(r) if r.kind == kind && r.flags & GONE == 0 => r,
            _ => Record { dev, ino, kind, ..Record::default() },
        };
        change(&mut r);
        if mine == 0 {
            mine = next.fetch_add(1, Ordering::Relaxed);
            if mine == 0 || mine >= RECORDS {
                return Err(Errno::ENOSPC);
            }
        }
        if !shared::write(l, RECORDS_AT + RECORD_SIZE * mine as usize, r) {
            return Err(Errno::EIO);
        }
        // Published only now: a reader that sees the slot sees the whole record.
        if slot(l, i).ok_or(Errno::EIO)?.compare_exchange(old, mine, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return Ok(());
        }
        // Another process changed this inode (or took the empty slot) meanwhile: again, on
        // top of what it wrote, reusing the record no slot names yet.
    }
}

/// The inode's last link is gone: its record no longer applies (the inode may be reused).
pub fn forget(l: usize, dev: u64, ino: u64) {
    if get(l, dev, ino).is_some() {
        let _ = update(l, dev, ino, 0, |r| r.flags = GONE);
    }
}
