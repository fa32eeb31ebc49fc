//! The layout of the fake root's record file, shared by the launcher (which makes it) and the
//! library (which maps it in every process of the view and reads and writes it lock-free).
//!
//! ```text
//! header   64 bytes: MAGIC (8), VERSION (4), SLOTS (4), RECORDS (4), 0 (4), next record (4), 0…
//! slots    SLOTS × u32: the index of an inode's newest record (0: empty), open addressing
//! records  RECORDS × 64 bytes, index 0 unused; a record never changes once a slot names it
//! xslots   XSLOTS × u32: the same for extended attributes, by device, inode and name
//! xrecords XRECORDS × 512 bytes: device, inode, file type, flags, name and value lengths, name
//!          (up to 96 bytes), value (up to 384 bytes)
//! ```
//!
//! The file is sparse: only the pages written take room.

use std::io::Write;

/// The first bytes of every record file.
pub const MAGIC: &[u8; 8] = b"kmvrec\0\x01";
/// The layout's version; another one is refused, never overwritten.
pub const VERSION: u32 = 2;
/// Slots of the inode table (a power of two).
pub const SLOTS: u32 = 1 << 19;
/// Records the file has room for.
pub const RECORDS: u32 = 1 << 19;
pub const HEADER_SIZE: usize = 64;
pub const RECORD_SIZE: usize = 64;
/// Where the slots start, and the records.
pub const SLOTS_AT: usize = HEADER_SIZE;
pub const RECORDS_AT: usize = SLOTS_AT + SLOTS as usize * 4;
/// Slots of the extended attribute table, and its records.
pub const XSLOTS: u32 = 1 << 16;
pub const XRECORDS: u32 = 1 << 15;
pub const XRECORD_SIZE: usize = 512;
pub const XSLOTS_AT: usize = RECORDS_AT + RECORDS as usize * RECORD_SIZE;
pub const XRECORDS_AT: usize = XSLOTS_AT + XSLOTS as usize * 4;
/// The longest attribute name and value kept.
pub const XNAME_MAX: usize = 96;
pub const XVALUE_MAX: usize = 384;
/// Where the header keeps the next free attribute record.
pub const XNEXT_AT: usize = 28;
/// The whole file.
pub const FILE_SIZE: usize = XRECORDS_AT + XRECORDS as usize * XRECORD_SIZE;

/// The header of an empty record.
pub fn header() -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_ne_bytes());
    h[12..16].copy_from_slice(&SLOTS.to_ne_bytes());
    h[16..20].copy_from_slice(&RECORDS.to_ne_bytes());
    // The next free record: 1 (0 means an empty slot).
    h[24..28].copy_from_slice(&1u32.to_ne_bytes());
    h[XNEXT_AT..XNEXT_AT + 4].copy_from_slice(&1u32.to_ne_bytes());
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

/// Makes an empty record file at `path` (which must not exist: `AlreadyExists` if it does).
/// Whole or not at all: it is made under a temporary name beside it and linked into place, so
/// another process never finds it half-made.
pub fn create(path: &std::path::Path) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.new", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let made = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(&header())?;
        f.set_len(FILE_SIZE as u64)?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    made
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
    /// The link count when it was last written (for fakeroot's save format).
    pub nlink: u32,
    pub _reserved: [u32; 4],
}

impl Record {
    /// Its bytes as the file holds them (native byte order, `repr(C)` layout).
    pub fn to_bytes(&self) -> [u8; RECORD_SIZE] {
        let mut b = [0u8; RECORD_SIZE];
        b[0..8].copy_from_slice(&self.dev.to_ne_bytes());
        b[8..16].copy_from_slice(&self.ino.to_ne_bytes());
        b[16..24].copy_from_slice(&self.rdev.to_ne_bytes());
        for (i, v) in [self.uid, self.gid, self.mode, self.flags, self.kind, self.nlink].into_iter().enumerate() {
            b[24 + 4 * i..28 + 4 * i].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; RECORD_SIZE]) -> Record {
        let u64_at = |i: usize| u64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or_default());
        let u32_at = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap_or_default());
        Record {
            dev: u64_at(0),
            ino: u64_at(8),
            rdev: u64_at(16),
            uid: u32_at(24),
            gid: u32_at(28),
            mode: u32_at(32),
            flags: u32_at(36),
            kind: u32_at(40),
            nlink: u32_at(44),
            _reserved: [0; 4],
        }
    }
}

pub const HAS_OWNER: u32 = 1;
pub const HAS_MODE: u32 = 2;
pub const HAS_RDEV: u32 = 4;
/// The inode's last link went: the record is forgotten.
pub const GONE: u32 = 8;

const _: () = assert!(std::mem::size_of::<Record>() == RECORD_SIZE);

/// The slot an inode's search starts at (then the next ones, wrapping around).
pub fn first_slot(dev: u64, ino: u64) -> u32 {
    let h = (ino ^ dev.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as u32 & (SLOTS - 1)
}

/// Where the header keeps the next free record.
pub const NEXT_AT: usize = 24;

/// The slot an attribute's search starts at.
pub fn xfirst_slot(dev: u64, ino: u64, name: &[u8]) -> u32 {
    let mut h = (ino ^ dev.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for &b in name {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
    }
    (h >> 40) as u32 & (XSLOTS - 1)
}

fn record_at(n: u32) -> u64 {
    (RECORDS_AT + RECORD_SIZE * n as usize) as u64
}

fn read_u32(f: &std::fs::File, at: u64) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    std::os::unix::fs::FileExt::read_exact_at(f, &mut b, at)?;
    Ok(u32::from_ne_bytes(b))
}

fn read_record(f: &std::fs::File, n: u32) -> std::io::Result<Record> {
    let mut b = [0u8; RECORD_SIZE];
    std::os::unix::fs::FileExt::read_exact_at(f, &mut b, record_at(n))?;
    Ok(Record::from_bytes(&b))
}

/// Every record in force in the file at `path` (the newest of each inode, not forgotten).
pub fn read_all(path: &std::path::Path) -> std::io::Result<Vec<Record>> {
    let f = std::fs::File::open(path)?;
    let mut out = Vec::new();
    for i in 0..SLOTS {
        let n = read_u32(&f, (SLOTS_AT + 4 * i as usize) as u64)?;
        if n != 0 && n < RECORDS {
            let r = read_record(&f, n)?;
            if r.flags & GONE == 0 {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// Adds `records` to the file at `path`, each replacing what it had for its inode. For a record
/// no process maps yet (before the command starts): a single writer.
pub fn write_all(path: &std::path::Path, records: &[Record]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let mut next = read_u32(&f, NEXT_AT as u64)?;
    for r in records {
        if next == 0 || next >= RECORDS {
            return Err(std::io::Error::other("the record is full"));
        }
        let mut i = first_slot(r.dev, r.ino);
        loop {
            let at = (SLOTS_AT + 4 * i as usize) as u64;
            let n = read_u32(&f, at)?;
            if n == 0 || read_record(&f, n).is_ok_and(|o| o.dev == r.dev && o.ino == r.ino) {
                f.write_all_at(&r.to_bytes(), record_at(next))?;
                f.write_all_at(&next.to_ne_bytes(), at)?;
                next += 1;
                break;
            }
            i = (i + 1) & (SLOTS - 1);
        }
    }
    f.write_all_at(&next.to_ne_bytes(), NEXT_AT as u64)
}

/// One record as a line of Debian fakeroot's save format (`fakeroot -s`):
/// `dev=HEX,ino=N,mode=OCTAL,uid=N,gid=N,nlink=N,rdev=N`. A file nobody chowned is 0:0.
pub fn fakeroot_line(r: &Record) -> String {
    let (uid, gid) = if r.flags & HAS_OWNER != 0 { (r.uid, r.gid) } else { (0, 0) };
    let mode = if r.flags & HAS_RDEV != 0 { r.mode } else { r.kind | (r.mode & 0o7777) };
    format!("dev={:x},ino={},mode={:o},uid={},gid={},nlink={},rdev={}", r.dev, r.ino, mode, uid, gid, r.nlink, r.rdev)
}

/// A line of fakeroot's save format as a record (`None` if it is not one). A device's real file
/// is an empty regular file, under fakeroot as here.
pub fn from_fakeroot_line(line: &str) -> Option<Record> {
    let mut r = Record::default();
    let mut seen = 0;
    for field in line.trim_end().split(',') {
        let (k, v) = field.split_once('=')?;
        let (bit, radix) = match k {
            "dev" => (1, 16),
            "ino" => (2, 10),
            "mode" => (4, 8),
            "uid" => (8, 10),
            "gid" => (16, 10),
            "nlink" => (32, 10),
            "rdev" => (64, 10),
            _ => return None,
        };
        let n = u64::from_str_radix(v, radix).ok()?;
        match k {
            "dev" => r.dev = n,
            "ino" => r.ino = n,
            "mode" => r.mode = u32::try_from(n).ok()?,
            "uid" => r.uid = u32::try_from(n).ok()?,
            "gid" => r.gid = u32::try_from(n).ok()?,
            "nlink" => r.nlink = u32::try_from(n).ok()?,
            _ => r.rdev = n,
        }
        seen |= bit;
    }
    if seen != 127 {
        return None;
    }
    let kind = r.mode & 0o170000;
    let device = kind == 0o020000 || kind == 0o060000;
    r.kind = if device { 0o100000 } else { kind };
    r.flags = HAS_OWNER | HAS_MODE | if device { HAS_RDEV } else { 0 };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fakeroot_lines_round_trip() {
        for line in
            ["dev=fe00,ino=10012734,mode=104755,uid=42,gid=43,nlink=1,rdev=0", "dev=fe00,ino=10012735,mode=20644,uid=0,gid=0,nlink=1,rdev=259"]
        {
            let r = from_fakeroot_line(line).unwrap();
            assert_eq!(fakeroot_line(&r), line);
            assert_eq!(Record::from_bytes(&r.to_bytes()), r);
        }
        for bad in ["", "dev=fe00", "dev=zz,ino=1,mode=0,uid=0,gid=0,nlink=1,rdev=0", "dev=1,ino=1,mode=0,uid=0,gid=0,nlink=1,rdev=0,x=1"] {
            assert!(from_fakeroot_line(bad).is_none(), "{bad}");
        }
    }
}
