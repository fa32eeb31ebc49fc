//! Short names for the C types in the hook table.

pub use crate::views::Op;
pub use libc::{c_char, c_int, c_long, c_uint, mode_t, pid_t, size_t, ssize_t, DIR, FILE};

pub type CStrP = *const libc::c_char;
pub type Argv = *const *const libc::c_char;
pub type Stat = libc::stat;
pub type Stat64 = libc::stat64;
pub type Statx = libc::statx;
pub type Dirent = libc::dirent;
pub type Dirent64 = libc::dirent64;
pub type SpawnActions = libc::posix_spawn_file_actions_t;
pub type SpawnAttr = libc::posix_spawnattr_t;
pub type ScanFilter = Option<unsafe extern "C" fn(*const Dirent) -> c_int>;
pub type ScanCompar = Option<unsafe extern "C" fn(*mut *const Dirent, *mut *const Dirent) -> c_int>;
pub type ScanFilter64 = Option<unsafe extern "C" fn(*const Dirent64) -> c_int>;
pub type ScanCompar64 = Option<unsafe extern "C" fn(*mut *const Dirent64, *mut *const Dirent64) -> c_int>;
pub type GlobErr = Option<unsafe extern "C" fn(*const c_char, c_int) -> c_int>;
pub type FtwFn = Option<unsafe extern "C" fn(*const c_char, *const Stat, c_int) -> c_int>;
pub type Ftw64Fn = Option<unsafe extern "C" fn(*const c_char, *const Stat64, c_int) -> c_int>;
pub type NftwFn = Option<unsafe extern "C" fn(*const c_char, *const Stat, c_int, *mut libc::c_void) -> c_int>;
pub type Nftw64Fn = Option<unsafe extern "C" fn(*const c_char, *const Stat64, c_int, *mut libc::c_void) -> c_int>;
