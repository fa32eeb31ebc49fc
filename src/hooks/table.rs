//! The one table of hooked functions: every line is a libc entry point with its C signature
//! and the family file whose function of the same name handles it. From it come the exported
//! shells, the real-symbol slots and the list the coverage test reads.
//!
//! Variadic C functions are declared with their fixed arguments plus the optional one (`open`'s
//! `mode`, `fcntl`'s argument): on x86-64 a variadic caller passes them in the same registers. The `execl` family
//! (a NULL-terminated argument list) has assembly shells in `exec.rs` instead.

crate::hook_table! {
    // open
    open::open(path: CStrP, flags: c_int, mode: mode_t) -> c_int;
    open::open64(path: CStrP, flags: c_int, mode: mode_t) -> c_int;
    open::__open_2(path: CStrP, flags: c_int) -> c_int;
    open::__open64_2(path: CStrP, flags: c_int) -> c_int;
    open::openat(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int;
    open::openat64(dirfd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int;
    open::__openat_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int;
    open::__openat64_2(dirfd: c_int, path: CStrP, flags: c_int) -> c_int;
    open::creat(path: CStrP, mode: mode_t) -> c_int;
    open::creat64(path: CStrP, mode: mode_t) -> c_int;
    open::fopen(path: CStrP, mode: CStrP) -> *mut FILE;
    open::fopen64(path: CStrP, mode: CStrP) -> *mut FILE;
    open::freopen(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE;
    open::freopen64(path: CStrP, mode: CStrP, stream: *mut FILE) -> *mut FILE;
    open::fclose(stream: *mut FILE) -> c_int;
    // stat
    stat::stat(path: CStrP, buf: *mut Stat) -> c_int;
    stat::stat64(path: CStrP, buf: *mut Stat64) -> c_int;
    stat::lstat(path: CStrP, buf: *mut Stat) -> c_int;
    stat::lstat64(path: CStrP, buf: *mut Stat64) -> c_int;
    stat::fstatat(dirfd: c_int, path: CStrP, buf: *mut Stat, flags: c_int) -> c_int;
    stat::fstatat64(dirfd: c_int, path: CStrP, buf: *mut Stat64, flags: c_int) -> c_int;
    stat::statx(dirfd: c_int, path: CStrP, flags: c_int, mask: c_uint, buf: *mut Statx) -> c_int;
    stat::__xstat(ver: c_int, path: CStrP, buf: *mut Stat) -> c_int;
    stat::__xstat64(ver: c_int, path: CStrP, buf: *mut Stat64) -> c_int;
    stat::__lxstat(ver: c_int, path: CStrP, buf: *mut Stat) -> c_int;
    stat::__lxstat64(ver: c_int, path: CStrP, buf: *mut Stat64) -> c_int;
    stat::__fxstatat(ver: c_int, dirfd: c_int, path: CStrP, buf: *mut Stat, flags: c_int) -> c_int;
    stat::__fxstatat64(ver: c_int, dirfd: c_int, path: CStrP, buf: *mut Stat64, flags: c_int) -> c_int;
    stat::access(path: CStrP, mode: c_int) -> c_int;
    stat::faccessat(dirfd: c_int, path: CStrP, mode: c_int, flags: c_int) -> c_int;
    stat::eaccess(path: CStrP, mode: c_int) -> c_int;
    stat::euidaccess(path: CStrP, mode: c_int) -> c_int;
    // dir
    dir::opendir(path: CStrP) -> *mut DIR;
    dir::fdopendir(fd: c_int) -> *mut DIR;
    dir::readdir(dir: *mut DIR) -> *mut Dirent;
    dir::readdir64(dir: *mut DIR) -> *mut Dirent64;
    dir::rewinddir(dir: *mut DIR) -> ();
    dir::closedir(dir: *mut DIR) -> c_int;
    // link
    link::readlink(path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t;
    link::readlinkat(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t;
    // name
    name::realpath(path: CStrP, resolved: *mut c_char) -> *mut c_char;
    name::canonicalize_file_name(path: CStrP) -> *mut c_char;
    name::getcwd(buf: *mut c_char, size: size_t) -> *mut c_char;
    name::get_current_dir_name() -> *mut c_char;
    name::chdir(path: CStrP) -> c_int;
    name::fchdir(fd: c_int) -> c_int;
    // fd
    fd::close(fd: c_int) -> c_int;
    fd::close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int;
    fd::dup(fd: c_int) -> c_int;
    fd::dup2(old: c_int, new: c_int) -> c_int;
    fd::dup3(old: c_int, new: c_int, flags: c_int) -> c_int;
    fd::fcntl(fd: c_int, cmd: c_int, arg: c_long) -> c_int;
    fd::fcntl64(fd: c_int, cmd: c_int, arg: c_long) -> c_int;
    // exec
    exec::execve(path: CStrP, argv: Argv, envp: Argv) -> c_int;
    exec::execv(path: CStrP, argv: Argv) -> c_int;
    exec::execvp(file: CStrP, argv: Argv) -> c_int;
    exec::execvpe(file: CStrP, argv: Argv, envp: Argv) -> c_int;
    exec::posix_spawn(pid: *mut pid_t, path: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int;
    exec::posix_spawnp(pid: *mut pid_t, file: CStrP, actions: *const SpawnActions, attr: *const SpawnAttr, argv: Argv, envp: Argv) -> c_int;
    exec::posix_spawn_file_actions_addopen(actions: *mut SpawnActions, fd: c_int, path: CStrP, flags: c_int, mode: mode_t) -> c_int;
    exec::posix_spawn_file_actions_addchdir_np(actions: *mut SpawnActions, path: CStrP) -> c_int;
    exec::posix_spawn_file_actions_destroy(actions: *mut SpawnActions) -> c_int;
    exec::system(command: CStrP) -> c_int;
    exec::popen(command: CStrP, mode: CStrP) -> *mut FILE;
}
