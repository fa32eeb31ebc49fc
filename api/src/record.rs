//! The layout of the fake root's record file, shared by the launcher (which makes it) and the
//! library (which maps it in every process of the view and reads and writes it lock-free).
//!
//! ```text
//! header   64 bytes: MAGIC (8), VERSION (4), SLOTS (4), RECORDS (4), 0 (4), next record (4), 0…
//! slots    SLOTS × u32: the index of an inode's newest record (0: empty), open addressing
//! records  RECORDS × 64 bytes, index 0 unused; a record never changes once a slot names it
//! ```
//!
//! The file is sparse: only the pages written take room.

use std::io::Write;

/// The first bytes of every record file.
pub const MAGIC: &[u8; 8] = b"kmvrec\0\x01";
/// The layout's version; another one is refused, never overwritten.
pub const VERSION: u32 = 1;
/// Slots of the inode table (a power of two).
pub const SLOTS: u32 = 1 << 19;
/// Records the file has room for.
pub const RECORDS: u32 = 1 << 19;
pub const HEADER_SIZE: usize = 64;
pub const RECORD_SIZE: usize = 64;
/// Where the slots start, and the records.
pub const SLOTS_AT: usize = HEADER_SIZE;
pub const RECORDS_AT: usize = SLOTS_AT + SLOTS as usize * 4;
/// The whole file.
pub const FILE_SIZE: usize = RECORDS_AT + RECORDS as usize * RECORD_SIZE;

/// The header of an empty record.
pub fn header() -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_ne_bytes());
    h[12..16].copy_from_slice(&SLOTS.to_ne_bytes());
    h[16..20].copy_from_slice(&RECORDS.to_ne_bytes());
    // The next free record: 1 (0 means an empty slot).
    h[24..28].copy_from_slice(&1u32.to_ne_bytes());
    h
}

/// Whether `h` (a file's first bytes) is a header of this layout.
pub fn is_header(h: &[u8]) -> bool {
    h.len() >= HEADER_SIZE && h[..HEADER_SIZE - 40] == header()[..HEADER_SIZE - 40]
}

/// Whether the file at `path` is a record this layout can use: why not, if it is not.
pub fn check(path: &std::path::Path) -> Result<(), String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut h = [0u8; HEADER_SIZE];
    if f.read_exact(&mut h).is_err() || !h.starts_with(&MAGIC[..6]) {
        return Err("not a kmview fake root record".into());
    }
    if !is_header(&h) {
        return Err("a fake root record of another format version".into());
    }
    if f.metadata().map_err(|e| e.to_string())?.len() < FILE_SIZE as u64 {
        return Err("a fake root record cut short".into());
    }
    Ok(())
}

/// Makes an empty record file at `path` (which must not exist).
pub fn create(path: &std::path::Path) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(&header())?;
    f.set_len(FILE_SIZE as u64)
}

/// One inode's entry: what was set in the view, and what the inode was when it was set.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub dev: u64,
    pub ino: u64,
    /// The device number a `mknod` gave it (with [`HAS_RDEV`]).
    pub rdev: u64,
    pub uid: u32,
    pub gid: u32,
    /// The whole mode set (type and permission bits; with [`HAS_MODE`] or [`HAS_RDEV`]).
    pub mode: u32,
    pub flags: u32,
    /// The file type the real inode had (`S_IFMT` bits): an inode reused for another type is
    /// not this record's.
    pub kind: u32,
    pub _reserved: [u32; 5],
}

pub const HAS_OWNER: u32 = 1;
pub const HAS_MODE: u32 = 2;
pub const HAS_RDEV: u32 = 4;
/// The inode's last link went: the record is forgotten.
pub const GONE: u32 = 8;

const _: () = assert!(std::mem::size_of::<Record>() == RECORD_SIZE);
