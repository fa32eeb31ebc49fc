//! Short names for the C types in the hook table.

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
