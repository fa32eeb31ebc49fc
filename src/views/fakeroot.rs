//! The fake root facet (`-0`): what a process's stat calls report, given what the view
//! recorded; what chown, chmod and mknod record; and the modes that reach the disk. The record
//! itself is `state::owners`; the identity `state::identity`; the hooks that call this are
//! `hooks::fakeroot`.
//!
//! As Debian's fakeroot: a file nobody chowned in the view shows as owned by 0:0; a chmod is
//! recorded whole (setuid, setgid, sticky) and reaches the disk only as a safe mode; a
//! character or block device is an empty regular file on disk with its type and number in the
//! record. Unlike it, a record is forgotten when the inode's last link goes through the view,
//! and one made for an inode of another type is ignored, so a reused inode never shows a
//! deleted file's owner.

use crate::errno::Res;
use crate::runtime::Fake;
use crate::state::{identity, owners};
use crate::sys::shared::MAX_LAYERS;
use kmview_api::record::{Record, HAS_MODE, HAS_OWNER, HAS_RDEV};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// What any stat form reports of a file, whatever its layout.
pub trait StatFields {
    fn dev_ino(&self) -> (u64, u64);
    /// The `S_IFMT` bits and the permission bits.
    fn mode(&self) -> u32;
    fn nlink(&self) -> u64;
    fn owner(&self) -> (u32, u32);
    fn set_owner(&mut self, uid: u32, gid: u32);
    fn set_mode(&mut self, mode: u32);
    fn set_rdev(&mut self, rdev: u64);
}

/// `stat` and `stat64` have the same fields (and, on x86-64, the same layout).
macro_rules! stat_fields {
    ($t:ty) => {
        impl StatFields for $t {
            fn dev_ino(&self) -> (u64, u64) {
                (self.st_dev, self.st_ino)
            }
            fn owner(&self) -> (u32, u32) {
                (self.st_uid, self.st_gid)
            }
            fn mode(&self) -> u32 {
                self.st_mode
            }
            fn nlink(&self) -> u64 {
                self.st_nlink
            }
            fn set_owner(&mut self, uid: u32, gid: u32) {
                (self.st_uid, self.st_gid) = (uid, gid);
            }
            fn set_mode(&mut self, mode: u32) {
                self.st_mode = mode;
            }
            fn set_rdev(&mut self, rdev: u64) {
                self.st_rdev = rdev;
            }
        }
    };
}

stat_fields!(libc::stat);
stat_fields!(libc::stat64);

impl StatFields for libc::statx {
    fn dev_ino(&self) -> (u64, u64) {
        (libc::makedev(self.stx_dev_major, self.stx_dev_minor), self.stx_ino)
    }
    fn mode(&self) -> u32 {
        self.stx_mode as u32
    }
    fn nlink(&self) -> u64 {
        self.stx_nlink as u64
    }
    fn owner(&self) -> (u32, u32) {
        (self.stx_uid, self.stx_gid)
    }
    fn set_owner(&mut self, uid: u32, gid: u32) {
        (self.stx_uid, self.stx_gid) = (uid, gid);
    }
    fn set_mode(&mut self, mode: u32) {
        self.stx_mode = mode as u16;
    }
    fn set_rdev(&mut self, rdev: u64) {
        (self.stx_rdev_major, self.stx_rdev_minor) = (libc::major(rdev), libc::minor(rdev));
    }
}

const IFMT: u32 = libc::S_IFMT;

/// At load, once every fake root's record is mapped (`runtime::load`): the layers, and the
/// process's identity: the parent's at its exec (`KMVIEW_IDS`), else the innermost fake root's
/// starting one.
pub fn start(fakes: &[Option<Fake>], inherited: Option<&[u8]>) {
    let mut inner = None;
    for (l, fake) in fakes.iter().enumerate() {
        let Some(fake) = fake else { break };
        UNKNOWN_IS_REAL[l].store(fake.unknown_is_real, Ordering::Relaxed);
        LAYERS.store(l + 1, Ordering::Relaxed);
        inner = Some(fake);
    }
    let Some(fake) = inner else { return };
    let ids = inherited.and_then(kmview_api::env::ids).unwrap_or(kmview_api::env::Ids::of(fake.uid, fake.gid));
    identity::set(&ids);
    STATE.store(ON, Ordering::Relaxed);
}

/// How many fake roots the stack has (their records are layers 0, outermost, to this - 1).
static LAYERS: AtomicUsize = AtomicUsize::new(0);

fn layers() -> usize {
    LAYERS.load(Ordering::Relaxed)
}

/// The innermost fake root's layer: the one a chown, chmod or mknod in this view records in.
fn inner() -> usize {
    layers().saturating_sub(1)
}

/// Loaded without a fake root.
pub fn none() {
    STATE.store(OFF, Ordering::Relaxed);
}

const OFF: u8 = 0;
const UNKNOWN: u8 = 1;
const ON: u8 = 2;

/// `-u`, per layer: a file nobody chowned shows the owner the layer below shows.
static UNKNOWN_IS_REAL: [AtomicBool; MAX_LAYERS] = [const { AtomicBool::new(false) }; MAX_LAYERS];

/// Whether the process lives under a fake root: unknown until the stack is loaded.
static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether a fake root is active (after a hook's own call the stack is loaded).
#[inline(always)]
pub fn active() -> bool {
    STATE.load(Ordering::Relaxed) == ON
}

/// Whether a result may need adjusting: a fake root is active, or the stack is not loaded yet
/// (the one test a stat shell pays).
#[inline(always)]
pub fn maybe() -> bool {
    STATE.load(Ordering::Relaxed) != OFF
}

/// Whether the stack is loaded yet (else [`active`] cannot tell).
#[inline(always)]
pub fn known() -> bool {
    STATE.load(Ordering::Relaxed) != UNKNOWN
}

/// The record layer `l` keeps for the inode `dev`:`ino` whose real file type is `kind`, if any.
fn record_of(l: usize, dev: u64, ino: u64, kind: u32) -> Option<Record> {
    owners::get(l, dev, ino).filter(|r| r.kind == kind)
}

/// A stat result as the view shows it: each fake root's record applied in turn, outermost first
/// (the onion's way back): the recorded owner, mode and device number, else owned by 0:0 (or,
/// with `-u`, as the layer below shows it).
pub fn adjust(st: &mut impl StatFields) {
    let (dev, ino) = st.dev_ino();
    let kind = st.mode() & IFMT;
    for l in 0..layers() {
        let r = record_of(l, dev, ino, kind).unwrap_or_default();
        if r.flags & HAS_OWNER != 0 {
            st.set_owner(r.uid, r.gid);
        } else if !UNKNOWN_IS_REAL[l].load(Ordering::Relaxed) {
            st.set_owner(0, 0);
        }
        if r.flags & (HAS_MODE | HAS_RDEV) != 0 {
            let shown = if r.flags & HAS_RDEV != 0 { r.mode & IFMT } else { st.mode() & IFMT };
            st.set_mode(shown | (r.mode & 0o7777));
        }
        if r.flags & HAS_RDEV != 0 {
            st.set_rdev(r.rdev);
        }
    }
}

/// `chown` of the file `st` describes: recorded (-1 keeps an id), never made on disk.
pub fn chown(st: &(impl StatFields + Copy), uid: u32, gid: u32) -> Res<()> {
    // The owner it shows now, for an id left as it is.
    let mut now = *st;
    adjust(&mut now);
    let shown = now.owner();
    let new_uid = if uid == u32::MAX { shown.0 } else { uid };
    let new_gid = if gid == u32::MAX { shown.1 } else { gid };
    record(st, |r| {
        (r.uid, r.gid) = (new_uid, new_gid);
        r.flags |= HAS_OWNER;
        // As the kernel: a chown by a process without CAP_FSETID (a fake root has it) clears
        // setuid, and the setgid of a group-executable file.
        if r.flags & HAS_MODE != 0 && st.mode() & IFMT == libc::S_IFREG && identity::uid(identity::EFFECTIVE) != 0 {
            r.mode &= !libc::S_ISUID;
            if r.mode & libc::S_IXGRP != 0 {
                r.mode &= !libc::S_ISGID;
            }
        }
    })
}

/// Updates the record of the file `st` describes; a mode nobody set is kept as the file has it
/// (for a saved record), and the link count.
fn record(st: &impl StatFields, change: impl Fn(&mut Record)) -> Res<()> {
    let (dev, ino) = st.dev_ino();
    owners::update(inner(), dev, ino, st.mode() & IFMT, |r| {
        if r.flags & (HAS_MODE | HAS_RDEV) == 0 {
            r.mode = st.mode();
        }
        r.nlink = st.nlink() as u32;
        change(r);
    })
}

/// An overlay copied the file `from` describes up as `to` (a new inode): what the fake root
/// recorded of it now applies to the copy, as a recorded owner and mode move with a file.
pub fn copied(from: &impl StatFields, to: &impl StatFields) {
    if !active() {
        return;
    }
    let (dev, ino) = from.dev_ino();
    let Some(old) = owners::get(inner(), dev, ino) else { return };
    let (dev2, ino2) = to.dev_ino();
    let _ = owners::update(inner(), dev2, ino2, to.mode() & IFMT, |r| {
        let nlink = to.nlink() as u32;
        *r = Record { dev: dev2, ino: ino2, nlink, ..old };
    });
}

/// `chmod` of the file `st` describes: the whole mode recorded; the mode for the disk returned.
pub fn chmod(st: &impl StatFields, mode: u32) -> Res<u32> {
    let kind = st.mode() & IFMT;
    record(st, |r| {
        r.mode = (r.mode & IFMT) | (mode & 0o7777);
        r.flags |= HAS_MODE;
    })?;
    Ok(safe_mode(kind, mode))
}

/// A mode safe to put on disk: the owner (the real user) can read and write it (and search a
/// directory), nobody else can write it, and no setuid, setgid or sticky bit.
pub fn safe_mode(kind: u32, mode: u32) -> u32 {
    let owner = if kind == libc::S_IFDIR { 0o700 } else { 0o600 };
    (mode & 0o755) | owner
}

/// A device node made as an empty regular file (`st`, its real fields): its type, mode and
/// number recorded, owned by the fake file-system ids (as the kernel makes a new file).
pub fn mknod(st: &impl StatFields, mode: u32, rdev: u64) -> Res<()> {
    let (uid, gid) = (identity::uid(identity::FS), identity::gid(identity::FS));
    record(st, |r| {
        r.mode = (mode & IFMT) | (st.mode() & 0o777);
        r.rdev = rdev;
        (r.uid, r.gid) = (uid, gid);
        r.flags |= HAS_RDEV | HAS_OWNER;
    })
}

/// The permission bits a POSIX access ACL (its xattr form: a version word, then entries of
/// tag, permissions and id) amounts to: owner, mask (else group) and other. `None` if it is
/// not one.
pub fn acl_mode(acl: &[u8]) -> Option<u32> {
    const USER_OBJ: u16 = 0x01;
    const GROUP_OBJ: u16 = 0x04;
    const MASK: u16 = 0x10;
    const OTHER: u16 = 0x20;
    if acl.len() < 4 || (acl.len() - 4) % 8 != 0 || u32::from_le_bytes(acl[..4].try_into().ok()?) != 2 {
        return None;
    }
    let (mut user, mut group, mut mask, mut other) = (None, None, None, None);
    for e in acl[4..].chunks_exact(8) {
        let tag = u16::from_le_bytes([e[0], e[1]]);
        let perm = u16::from_le_bytes([e[2], e[3]]) as u32 & 7;
        match tag {
            USER_OBJ => user = Some(perm),
            GROUP_OBJ => group = Some(perm),
            MASK => mask = Some(perm),
            OTHER => other = Some(perm),
            _ => {}
        }
    }
    Some(user? << 6 | mask.or(group)? << 3 | other?)
}

/// The `d_type` a directory entry shows for the inode `dev`:`ino` whose real file is a regular
/// one: a recorded device's type (`DT_CHR`, `DT_BLK`), if it is one.
pub fn device_dtype(dev: u64, ino: u64) -> Option<u8> {
    let r = (0..layers()).rev().find_map(|l| record_of(l, dev, ino, libc::S_IFREG).filter(|r| r.flags & HAS_RDEV != 0))?;
    match r.mode & IFMT {
        libc::S_IFCHR => Some(libc::DT_CHR),
        libc::S_IFBLK => Some(libc::DT_BLK),
        _ => None,
    }
}

/// Whether the fake root keeps the extended attribute `name` itself: `security.*`, which the
/// real user may not set (`setcap`'s `security.capability`).
pub fn keeps_xattr(name: &[u8]) -> bool {
    name.starts_with(b"security.")
}

/// The kept names a listing can show (looked up one by one: the table is by name).
pub const KEPT_NAMES: [&[u8]; 5] = [b"security.capability", b"security.selinux", b"security.ima", b"security.evm", b"security.SMACK64"];

/// A kept attribute of the file `st` describes, into `out`: its length.
pub fn xattr_get(st: &impl StatFields, name: &[u8], out: &mut [u8; kmview_api::record::XVALUE_MAX]) -> Option<usize> {
    let (dev, ino) = st.dev_ino();
    for l in (0..layers()).rev() {
        match crate::state::xattrs::get(l, dev, ino, st.mode() & IFMT, name, out) {
            crate::state::xattrs::Found::Value(len) => return Some(len),
            // Removed in this view: what an outer one keeps does not show through.
            crate::state::xattrs::Found::Removed => return None,
            crate::state::xattrs::Found::No => {}
        }
    }
    None
}

/// Sets a kept attribute (`XATTR_CREATE`: `EEXIST` if it is there; `XATTR_REPLACE`: `ENODATA`
/// if not), or removes it (`value` `None`: `ENODATA` if it is not there).
pub fn xattr_put(st: &impl StatFields, name: &[u8], value: Option<&[u8]>, flags: i32) -> Res<()> {
    if flags & !(libc::XATTR_CREATE | libc::XATTR_REPLACE) != 0 {
        return Err(crate::errno::Errno::EINVAL);
    }
    let mut scratch = [0u8; kmview_api::record::XVALUE_MAX];
    let there = xattr_get(st, name, &mut scratch).is_some();
    if value.is_some() && flags & libc::XATTR_CREATE != 0 && there {
        return Err(crate::errno::Errno::EEXIST);
    }
    if (value.is_none() || flags & libc::XATTR_REPLACE != 0) && !there {
        return Err(crate::errno::Errno::ENODATA);
    }
    let (dev, ino) = st.dev_ino();
    crate::state::xattrs::put(inner(), dev, ino, st.mode() & IFMT, name, value)
}

/// A name of the file `st` described is gone: with its last link, its record.
pub fn removed(st: &impl StatFields) {
    if st.mode() & IFMT == libc::S_IFDIR || st.nlink() <= 1 {
        let (dev, ino) = st.dev_ino();
        // The inode is gone for every view: each layer forgets it, attributes included.
        let kind = st.mode() & IFMT;
        let mut scratch = [0u8; kmview_api::record::XVALUE_MAX];
        for l in 0..layers() {
            owners::forget(l, dev, ino);
            for name in KEPT_NAMES {
                if let crate::state::xattrs::Found::Value(_) = crate::state::xattrs::get(l, dev, ino, kind, name, &mut scratch) {
                    let _ = crate::state::xattrs::put(l, dev, ino, kind, name, None);
                }
            }
        }
    }
}
