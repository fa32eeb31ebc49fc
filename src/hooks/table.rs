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
    stat::fstat(fd: c_int, buf: *mut Stat) -> c_int;
    stat::fstat64(fd: c_int, buf: *mut Stat64) -> c_int;
    stat::__fxstat(ver: c_int, fd: c_int, buf: *mut Stat) -> c_int;
    stat::__fxstat64(ver: c_int, fd: c_int, buf: *mut Stat64) -> c_int;
    stat::statfs(path: CStrP, buf: *mut libc::statfs) -> c_int;
    stat::statfs64(path: CStrP, buf: *mut libc::statfs64) -> c_int;
    stat::statvfs(path: CStrP, buf: *mut libc::statvfs) -> c_int;
    stat::statvfs64(path: CStrP, buf: *mut libc::statvfs64) -> c_int;
    stat::pathconf(path: CStrP, name: c_int) -> c_long;
    // dir
    dir::opendir(path: CStrP) -> *mut DIR;
    dir::fdopendir(fd: c_int) -> *mut DIR;
    dir::readdir(dir: *mut DIR) -> *mut Dirent;
    dir::readdir64(dir: *mut DIR) -> *mut Dirent64;
    dir::rewinddir(dir: *mut DIR) -> ();
    dir::closedir(dir: *mut DIR) -> c_int;
    dir::readdir_r(dir: *mut DIR, entry: *mut Dirent, result: *mut *mut Dirent) -> c_int;
    dir::readdir64_r(dir: *mut DIR, entry: *mut Dirent64, result: *mut *mut Dirent64) -> c_int;
    dir::seekdir(dir: *mut DIR, pos: c_long) -> ();
    dir::telldir(dir: *mut DIR) -> c_long;
    dir::scandir(dir: CStrP, list: *mut *mut *mut Dirent, filter: ScanFilter, compar: ScanCompar) -> c_int;
    dir::scandir64(dir: CStrP, list: *mut *mut *mut Dirent64, filter: ScanFilter64, compar: ScanCompar64) -> c_int;
    dir::scandirat(dirfd: c_int, dir: CStrP, list: *mut *mut *mut Dirent, filter: ScanFilter, compar: ScanCompar) -> c_int;
    dir::scandirat64(dirfd: c_int, dir: CStrP, list: *mut *mut *mut Dirent64, filter: ScanFilter64, compar: ScanCompar64) -> c_int;
    dir::glob(pattern: CStrP, flags: c_int, errfunc: GlobErr, pglob: *mut libc::glob_t) -> c_int;
    dir::glob64(pattern: CStrP, flags: c_int, errfunc: GlobErr, pglob: *mut libc::glob64_t) -> c_int;
    dir::fts_open(paths: *const *mut c_char, options: c_int, compar: *const libc::c_void) -> *mut libc::c_void;
    dir::fts_read(fts: *mut libc::c_void) -> *mut libc::c_void;
    dir::fts_children(fts: *mut libc::c_void, options: c_int) -> *mut libc::c_void;
    dir::fts_close(fts: *mut libc::c_void) -> c_int;
    dir::ftw(dir: CStrP, f: FtwFn, nopenfd: c_int) -> c_int;
    dir::ftw64(dir: CStrP, f: Ftw64Fn, nopenfd: c_int) -> c_int;
    dir::nftw(dir: CStrP, f: NftwFn, nopenfd: c_int, flags: c_int) -> c_int;
    dir::nftw64(dir: CStrP, f: Nftw64Fn, nopenfd: c_int, flags: c_int) -> c_int;
    // link
    link::readlink(path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t;
    link::readlinkat(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t) -> ssize_t;
    link::__readlink_chk(path: CStrP, buf: *mut c_char, size: size_t, buflen: size_t) -> ssize_t;
    link::__readlinkat_chk(dirfd: c_int, path: CStrP, buf: *mut c_char, size: size_t, buflen: size_t) -> ssize_t;
    modify::symlink(target: CStrP, path: CStrP) -> c_int;
    modify::symlinkat(target: CStrP, dirfd: c_int, path: CStrP) -> c_int;
    modify::link(old: CStrP, new: CStrP) -> c_int;
    modify::linkat(od: c_int, old: CStrP, nd: c_int, new: CStrP, flags: c_int) -> c_int;
    // name
    name::realpath(path: CStrP, resolved: *mut c_char) -> *mut c_char;
    name::canonicalize_file_name(path: CStrP) -> *mut c_char;
    name::getcwd(buf: *mut c_char, size: size_t) -> *mut c_char;
    name::get_current_dir_name() -> *mut c_char;
    name::chdir(path: CStrP) -> c_int;
    name::fchdir(fd: c_int) -> c_int;
    name::__realpath_chk(path: CStrP, resolved: *mut c_char, resolvedlen: size_t) -> *mut c_char;
    name::__getcwd_chk(buf: *mut c_char, size: size_t, buflen: size_t) -> *mut c_char;
    name::getwd(buf: *mut c_char) -> *mut c_char;
    name::chroot(path: CStrP) -> c_int;
    // modify
    modify::mkdir(path: CStrP, mode: mode_t) -> c_int;
    modify::mkdirat(dirfd: c_int, path: CStrP, mode: mode_t) -> c_int;
    modify::rmdir(path: CStrP) -> c_int;
    modify::unlink(path: CStrP) -> c_int;
    modify::unlinkat(dirfd: c_int, path: CStrP, flags: c_int) -> c_int;
    modify::remove(path: CStrP) -> c_int;
    modify::rename(old: CStrP, new: CStrP) -> c_int;
    modify::renameat(od: c_int, old: CStrP, nd: c_int, new: CStrP) -> c_int;
    modify::renameat2(od: c_int, old: CStrP, nd: c_int, new: CStrP, flags: c_uint) -> c_int;
    modify::truncate(path: CStrP, len: libc::off_t) -> c_int;
    modify::truncate64(path: CStrP, len: libc::off64_t) -> c_int;
    modify::mknod(path: CStrP, mode: mode_t, dev: libc::dev_t) -> c_int;
    modify::mknodat(dirfd: c_int, path: CStrP, mode: mode_t, dev: libc::dev_t) -> c_int;
    modify::__xmknod(ver: c_int, path: CStrP, mode: mode_t, dev: *mut libc::dev_t) -> c_int;
    modify::__xmknodat(ver: c_int, dirfd: c_int, path: CStrP, mode: mode_t, dev: *mut libc::dev_t) -> c_int;
    modify::mkfifo(path: CStrP, mode: mode_t) -> c_int;
    modify::mkfifoat(dirfd: c_int, path: CStrP, mode: mode_t) -> c_int;
    // attr
    attr::chmod(path: CStrP, mode: mode_t) -> c_int;
    attr::fchmod(fd: c_int, mode: mode_t) -> c_int;
    attr::fchmodat(dirfd: c_int, path: CStrP, mode: mode_t, flags: c_int) -> c_int;
    attr::lchmod(path: CStrP, mode: mode_t) -> c_int;
    attr::chown(path: CStrP, uid: libc::uid_t, gid: libc::gid_t) -> c_int;
    attr::fchown(fd: c_int, uid: libc::uid_t, gid: libc::gid_t) -> c_int;
    attr::lchown(path: CStrP, uid: libc::uid_t, gid: libc::gid_t) -> c_int;
    attr::fchownat(dirfd: c_int, path: CStrP, uid: libc::uid_t, gid: libc::gid_t, flags: c_int) -> c_int;
    attr::utime(path: CStrP, times: *const libc::utimbuf) -> c_int;
    attr::utimes(path: CStrP, times: *const libc::timeval) -> c_int;
    attr::lutimes(path: CStrP, times: *const libc::timeval) -> c_int;
    attr::futimesat(dirfd: c_int, path: CStrP, times: *const libc::timeval) -> c_int;
    attr::utimensat(dirfd: c_int, path: CStrP, times: *const libc::timespec, flags: c_int) -> c_int;
    attr::futimens(fd: c_int, times: *const libc::timespec) -> c_int;
    attr::setxattr(path: CStrP, name: CStrP, value: *const libc::c_void, size: size_t, flags: c_int) -> c_int;
    attr::lsetxattr(path: CStrP, name: CStrP, value: *const libc::c_void, size: size_t, flags: c_int) -> c_int;
    attr::fsetxattr(fd: c_int, name: CStrP, value: *const libc::c_void, size: size_t, flags: c_int) -> c_int;
    attr::getxattr(path: CStrP, name: CStrP, value: *mut libc::c_void, size: size_t) -> ssize_t;
    attr::lgetxattr(path: CStrP, name: CStrP, value: *mut libc::c_void, size: size_t) -> ssize_t;
    attr::fgetxattr(fd: c_int, name: CStrP, value: *mut libc::c_void, size: size_t) -> ssize_t;
    attr::listxattr(path: CStrP, list: *mut c_char, size: size_t) -> ssize_t;
    attr::llistxattr(path: CStrP, list: *mut c_char, size: size_t) -> ssize_t;
    attr::flistxattr(fd: c_int, list: *mut c_char, size: size_t) -> ssize_t;
    attr::removexattr(path: CStrP, name: CStrP) -> c_int;
    attr::lremovexattr(path: CStrP, name: CStrP) -> c_int;
    attr::fremovexattr(fd: c_int, name: CStrP) -> c_int;
    // temp
    temp::mkstemp(template: *mut c_char) -> c_int;
    temp::mkstemp64(template: *mut c_char) -> c_int;
    temp::mkostemp(template: *mut c_char, flags: c_int) -> c_int;
    temp::mkostemp64(template: *mut c_char, flags: c_int) -> c_int;
    temp::mkstemps(template: *mut c_char, suffixlen: c_int) -> c_int;
    temp::mkstemps64(template: *mut c_char, suffixlen: c_int) -> c_int;
    temp::mkostemps(template: *mut c_char, suffixlen: c_int, flags: c_int) -> c_int;
    temp::mkostemps64(template: *mut c_char, suffixlen: c_int, flags: c_int) -> c_int;
    temp::mkdtemp(template: *mut c_char) -> *mut c_char;
    temp::mktemp(template: *mut c_char) -> *mut c_char;
    temp::tmpfile() -> *mut FILE;
    temp::tmpfile64() -> *mut FILE;
    temp::tempnam(dir: CStrP, pfx: CStrP) -> *mut c_char;
    temp::tmpnam(s: *mut c_char) -> *mut c_char;
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
    exec::fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int;
    exec::execveat(dirfd: c_int, path: CStrP, argv: Argv, envp: Argv, flags: c_int) -> c_int;
    exec::fork() -> pid_t;
    exec::_Fork() -> pid_t;
    exec::clone(f: *const libc::c_void, stack: *mut libc::c_void, flags: c_int, arg: *mut libc::c_void, ptid: *mut pid_t, tls: *mut libc::c_void, ctid: *mut pid_t) -> c_int;
    // misc
    misc::dlopen(path: CStrP, flags: c_int) -> *mut libc::c_void;
    misc::dlmopen(lmid: libc::Lmid_t, path: CStrP, flags: c_int) -> *mut libc::c_void;
    misc::bind(fd: c_int, addr: *const libc::sockaddr, len: libc::socklen_t) -> c_int;
    misc::connect(fd: c_int, addr: *const libc::sockaddr, len: libc::socklen_t) -> c_int;
    misc::getsockname(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t) -> c_int;
    misc::getpeername(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t) -> c_int;
    misc::accept(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t) -> c_int;
    misc::accept4(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t, flags: c_int) -> c_int;
    misc::inotify_add_watch(fd: c_int, path: CStrP, mask: u32) -> c_int;
    misc::fanotify_mark(fd: c_int, flags: c_uint, mask: u64, dirfd: c_int, path: CStrP) -> c_int;
    misc::name_to_handle_at(dirfd: c_int, path: CStrP, handle: *mut libc::c_void, mount_id: *mut c_int, flags: c_int) -> c_int;
    misc::mount(src: CStrP, target: CStrP, fstype: CStrP, flags: libc::c_ulong, data: *const libc::c_void) -> c_int;
    misc::umount(target: CStrP) -> c_int;
    misc::umount2(target: CStrP, flags: c_int) -> c_int;
    misc::shm_open(name: CStrP, flags: c_int, mode: mode_t) -> c_int;
    misc::shm_unlink(name: CStrP) -> c_int;
    syscall::syscall(n: c_long, a: c_long, b: c_long, c: c_long, d: c_long, e: c_long, f: c_long) -> c_long;
    // identity
    identity::getuid() -> libc::uid_t;
    identity::geteuid() -> libc::uid_t;
    identity::getgid() -> libc::gid_t;
    identity::getegid() -> libc::gid_t;
    identity::getresuid(r: *mut libc::uid_t, e: *mut libc::uid_t, s: *mut libc::uid_t) -> c_int;
    identity::getresgid(r: *mut libc::gid_t, e: *mut libc::gid_t, s: *mut libc::gid_t) -> c_int;
    identity::setuid(u: libc::uid_t) -> c_int;
    identity::seteuid(u: libc::uid_t) -> c_int;
    identity::setreuid(r: libc::uid_t, e: libc::uid_t) -> c_int;
    identity::setresuid(r: libc::uid_t, e: libc::uid_t, s: libc::uid_t) -> c_int;
    identity::setgid(g: libc::gid_t) -> c_int;
    identity::setegid(g: libc::gid_t) -> c_int;
    identity::setregid(r: libc::gid_t, e: libc::gid_t) -> c_int;
    identity::setresgid(r: libc::gid_t, e: libc::gid_t, s: libc::gid_t) -> c_int;
    identity::setgroups(n: size_t, list: *const libc::gid_t) -> c_int;
    identity::getgroups(n: c_int, list: *mut libc::gid_t) -> c_int;
    // clock
    clock::time(t: *mut libc::time_t) -> libc::time_t;
    clock::gettimeofday(tv: *mut libc::timeval, tz: *mut libc::c_void) -> c_int;
    clock::clock_gettime(clk: libc::clockid_t, ts: *mut libc::timespec) -> c_int;
    clock::uname(buf: *mut libc::utsname) -> c_int;
    clock::gethostname(name: *mut c_char, len: size_t) -> c_int;
    clock::sethostname(name: CStrP, len: size_t) -> c_int;
}
