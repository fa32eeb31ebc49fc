//! The fake root's record file, mapped shared by every process of the view: its words as
//! atomics and its records as plain values, every access bounds-checked. What the bytes mean
//! is `state::owners`'s business; the layout is `kmview_api::record`'s.

use kmview_api::record::{is_header, Record, FILE_SIZE, HEADER_SIZE, RECORD_SIZE};
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// At most this many fake roots in one stack (each nested `-0` has a record of its own).
pub const MAX_LAYERS: usize = 4;

/// The mapping of each fake root's record, outermost first (null until [`map`] succeeded);
/// never unmapped.
static BASES: [AtomicPtr<u8>; MAX_LAYERS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_LAYERS];

/// Maps the record file at `path` (opened read-write) as layer `layer`, checking its size and
/// header. At load, before any hook needs it.
pub fn map(layer: usize, path: &super::PBuf) -> Result<(), &'static str> {
    if layer >= MAX_LAYERS {
        return Err("more fake roots nested than kmview keeps records of");
    }
    // The kernel's path; the descriptor is closed below, the mapping stays.
    let fd = super::raw::openat(libc::AT_FDCWD, path, libc::O_RDWR | libc::O_CLOEXEC).map_err(|_| "cannot open the fake root's record")?;
    let st = super::raw::fstat(fd);
    let p = match st {
        // SAFETY: a shared mapping of the whole file, which is at least that long.
        Ok(st) if st.st_size as usize >= FILE_SIZE => unsafe {
            libc::mmap(std::ptr::null_mut(), FILE_SIZE, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        },
        _ => libc::MAP_FAILED,
    };
    super::raw::close(fd);
    if p == libc::MAP_FAILED {
        return Err("the fake root's record is not a record file (too short, or cannot be mapped)");
    }
    // SAFETY: the first HEADER_SIZE bytes of the mapping.
    if !is_header(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), HEADER_SIZE) }) {
        return Err("the fake root's record is of another format or version");
    }
    BASES[layer].store(p.cast(), Ordering::Release);
    Ok(())
}

fn at(layer: usize, offset: usize, size: usize) -> Option<*mut u8> {
    let base = BASES.get(layer)?.load(Ordering::Acquire);
    (!base.is_null() && offset % 4 == 0 && offset.checked_add(size)? <= FILE_SIZE).then(|| {
        // SAFETY: inside the mapping (checked above).
        unsafe { base.add(offset) }
    })
}

/// The 32-bit word at `offset` (a multiple of 4), shared with every process of the view.
pub fn word(layer: usize, offset: usize) -> Option<&'static AtomicU32> {
    // SAFETY: aligned, inside a mapping that is never unmapped; only ever accessed atomically.
    at(layer, offset, 4).map(|p| unsafe { &*p.cast::<AtomicU32>() })
}

/// Copies the bytes at `offset` into `out` (an attribute record no process changes any more).
pub fn read_bytes(layer: usize, offset: usize, out: &mut [u8]) -> bool {
    // SAFETY: inside the mapping; plain bytes.
    at(layer, offset, out.len()).map(|p| unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) }).is_some()
}

/// Writes `bytes` at `offset` (an attribute record no slot names yet).
pub fn write_bytes(layer: usize, offset: usize, bytes: &[u8]) -> bool {
    // SAFETY: inside the mapping.
    at(layer, offset, bytes.len()).map(|p| unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) }).is_some()
}

/// A copy of the record at `offset` (written before any slot named it, never changed since).
pub fn read(layer: usize, offset: usize) -> Option<Record> {
    // SAFETY: inside the mapping; every bit pattern is a valid Record (integers only).
    at(layer, offset, RECORD_SIZE).map(|p| unsafe { std::ptr::read_volatile(p.cast::<Record>()) })
}

/// Writes the record at `offset` (one no slot names yet: no other process reads it).
pub fn write(layer: usize, offset: usize, r: Record) -> bool {
    // SAFETY: inside the mapping, aligned to 8 (records start at a multiple of 64).
    at(layer, offset, RECORD_SIZE).map(|p| unsafe { std::ptr::write_volatile(p.cast::<Record>(), r) }).is_some()
}
