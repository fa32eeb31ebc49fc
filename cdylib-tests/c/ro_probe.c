/* ro_probe: every write-ish call of libc, made on every kind of target under a read-only place,
 * each printed as one line `CALL WAY TARGET -> RC ERRNONAME` (RC is 0 or -1, OK for success), so
 * that a run under the kernel's read-only bind mount and a run under kmview compare line by line.
 *
 *   ro_probe matrix D W WAY      the path calls on D/TARGET, made the way WAY (below); W is a
 *                                writable directory outside every read-only place (for the calls
 *                                that cross from one mount to another: W/w1 exists, W/out not)
 *   ro_probe descriptors D W     the calls through descriptors opened on D/TARGET (O_RDONLY,
 *                                O_PATH, O_PATH|O_NOFOLLOW; by absolute path and through a
 *                                descriptor of D)
 *   ro_probe fds D W N...        the same descriptor calls on the inherited descriptors N...
 *
 * The ways a path reaches a target:
 *   abs     the absolute path D/TARGET
 *   cwd     TARGET, relative to the working directory D
 *   dirfd   TARGET, relative to a descriptor opened on D (O_RDONLY|O_DIRECTORY)
 *   parent  basename(D)/TARGET, relative to a descriptor opened on D's parent
 *   sub     ../TARGET, relative to a descriptor opened on D/d
 * The calls that take no descriptor (mkdir, chmod, setxattr...) are made only the first two
 * ways. The target `=D` is D itself, reached as D, ../N, ../N, N and ../../N (N: D's last
 * component).
 *
 * Every open has O_NONBLOCK, so that an open of the fifo for writing fails (ENXIO) instead of
 * waiting for a reader; creat and fopen cannot have it and are not made on the fifo (a line says
 * so). An alarm ends a probe that waits anyway. The program ends with a line `done`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

static char D[4096], W[4096], DNAME[4096];
static int dfd = -1, pfd = -1, sfd = -1;

static const char *TARGETS[] = {
    "f", "d", "e", "missing", "f/x", "lf", "ld", "ldang", "fifo",
    "d/", "f/", "d/.", "ld/", "missing/", "d/g", "e/..", "=D",
};
#define NTARGETS (sizeof TARGETS / sizeof *TARGETS)

/* One way: the descriptor and the path it gives for a name under D. */
struct way {
    const char *name;
    int at; /* 1: only for the calls that take a descriptor */
};
static const struct way WAYS[] = {{"abs", 0}, {"cwd", 0}, {"dirfd", 1}, {"parent", 1}, {"sub", 1}};
#define NWAYS (sizeof WAYS / sizeof *WAYS)

static int way_fd(int w) {
    switch (w) {
    case 2: return dfd;
    case 3: return pfd;
    case 4: return sfd;
    default: return AT_FDCWD;
    }
}

/* The path for `name` under D, the way `w` (into a rotating static buffer). */
static const char *way_path(int w, const char *name) {
    static char bufs[4][8192];
    static int n;
    char *b = bufs[n++ % 4];
    if (strcmp(name, "=D") == 0) {
        static const char *up[] = {NULL, "../", "../", "", "../../"};
        if (w == 0)
            snprintf(b, 8192, "%s", D);
        else
            snprintf(b, 8192, "%s%s", up[w], DNAME);
        return b;
    }
    switch (w) {
    case 0: snprintf(b, 8192, "%s/%s", D, name); break;
    case 1: snprintf(b, 8192, "%s", name); break;
    case 2: snprintf(b, 8192, "%s", name); break;
    case 3: snprintf(b, 8192, "%s/%s", DNAME, name); break;
    default: snprintf(b, 8192, "../%s", name); break;
    }
    return b;
}

static void line(const char *call, const char *way, const char *target, long rc, int err) {
    if (rc < 0)
        printf("%s %s %s -> -1 %s\n", call, way, target, strerrorname_np(err));
    else
        printf("%s %s %s -> 0 OK\n", call, way, target);
    fflush(stdout);
}

/* An open: a descriptor it returns is closed (the line says 0). */
static long opened(int fd) {
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return -1;
}

/* glibc declares the path of utimensat non-null: a volatile NULL keeps the call as written. */
static const char *volatile NULLPATH = NULL;

static const struct timespec OMIT[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};

/* A path call: fd and p are the way's descriptor and path for the target, q the way's path for
 * the other name of a two-name call (the missing `n2`, or the existing `f2` where the target is
 * the new name), x an absolute name in W. */
typedef long (*pcall)(int fd, const char *p, const char *q, const char *x);

#define O(flags) (flags | O_NONBLOCK)
static long c_open_rdonly(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_RDONLY))); }
static long c_open_wronly(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_WRONLY))); }
static long c_open_rdwr(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_RDWR))); }
static long c_open_append(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_WRONLY | O_APPEND))); }
static long c_open_rdonly_trunc(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_RDONLY | O_TRUNC))); }
static long c_open_wronly_trunc(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_WRONLY | O_TRUNC))); }
static long c_open_creat(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_WRONLY | O_CREAT), 0644)); }
static long c_open_creat_excl(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_WRONLY | O_CREAT | O_EXCL), 0644)); }
static long c_open_rdonly_creat(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_RDONLY | O_CREAT), 0644)); }
static long c_open_rdonly_creat_excl(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_RDONLY | O_CREAT | O_EXCL), 0644)); }
static long c_open_tmpfile(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_WRONLY | O_TMPFILE), 0644)); }
static long c_open_dir_creat(int fd, const char *p, const char *q, const char *x) { return opened(open(p, O(O_RDONLY | O_DIRECTORY | O_CREAT), 0644)); }
static long c_openat_rdonly(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_RDONLY))); }
static long c_openat_wronly(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY))); }
static long c_openat_rdwr(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_RDWR))); }
static long c_openat_append(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY | O_APPEND))); }
static long c_openat_rdonly_trunc(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_RDONLY | O_TRUNC))); }
static long c_openat_wronly_trunc(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY | O_TRUNC))); }
static long c_openat_creat(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY | O_CREAT), 0644)); }
static long c_openat_creat_excl(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY | O_CREAT | O_EXCL), 0644)); }
static long c_openat_rdonly_creat(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_RDONLY | O_CREAT), 0644)); }
static long c_openat_rdonly_creat_excl(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_RDONLY | O_CREAT | O_EXCL), 0644)); }
static long c_openat_tmpfile(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY | O_TMPFILE), 0644)); }
static long c_openat_nofollow_creat(int fd, const char *p, const char *q, const char *x) { return opened(openat(fd, p, O(O_WRONLY | O_CREAT | O_NOFOLLOW), 0644)); }
static long c_creat(int fd, const char *p, const char *q, const char *x) { return opened(creat(p, 0644)); }
static long c_fopen_w(int fd, const char *p, const char *q, const char *x) {
    FILE *s = fopen(p, "we");
    if (!s) return -1;
    fclose(s);
    return 0;
}
static long c_fopen_a(int fd, const char *p, const char *q, const char *x) {
    FILE *s = fopen(p, "ae");
    if (!s) return -1;
    fclose(s);
    return 0;
}
static long c_fopen_rplus(int fd, const char *p, const char *q, const char *x) {
    FILE *s = fopen(p, "r+e");
    if (!s) return -1;
    fclose(s);
    return 0;
}
static long c_mkdir(int fd, const char *p, const char *q, const char *x) { return mkdir(p, 0755); }
static long c_mkdirat(int fd, const char *p, const char *q, const char *x) { return mkdirat(fd, p, 0755); }
static long c_mknod(int fd, const char *p, const char *q, const char *x) { return mknod(p, S_IFIFO | 0644, 0); }
static long c_mknodat(int fd, const char *p, const char *q, const char *x) { return mknodat(fd, p, S_IFIFO | 0644, 0); }
static long c_mknod_reg(int fd, const char *p, const char *q, const char *x) { return mknod(p, S_IFREG | 0644, 0); }
static long c_mkfifo(int fd, const char *p, const char *q, const char *x) { return mkfifo(p, 0644); }
static long c_mkfifoat(int fd, const char *p, const char *q, const char *x) { return mkfifoat(fd, p, 0644); }
static long c_symlink(int fd, const char *p, const char *q, const char *x) { return symlink("f", p); }
static long c_symlinkat(int fd, const char *p, const char *q, const char *x) { return symlinkat("f", fd, p); }
/* Two names: the target as the old name (to the missing n2) and as the new name (from f2). */
static long c_link_old(int fd, const char *p, const char *q, const char *x) { return link(p, q); }
static long c_link_new(int fd, const char *p, const char *q, const char *x) { return link(q, p); }
static long c_linkat_old(int fd, const char *p, const char *q, const char *x) { return linkat(fd, p, fd, q, 0); }
static long c_linkat_old_follow(int fd, const char *p, const char *q, const char *x) { return linkat(fd, p, fd, q, AT_SYMLINK_FOLLOW); }
static long c_linkat_new(int fd, const char *p, const char *q, const char *x) { return linkat(fd, q, fd, p, 0); }
static long c_rename_old(int fd, const char *p, const char *q, const char *x) { return rename(p, q); }
static long c_rename_new(int fd, const char *p, const char *q, const char *x) { return rename(q, p); }
static long c_renameat_old(int fd, const char *p, const char *q, const char *x) { return renameat(fd, p, fd, q); }
static long c_renameat_new(int fd, const char *p, const char *q, const char *x) { return renameat(fd, q, fd, p); }
static long c_renameat2_old(int fd, const char *p, const char *q, const char *x) { return renameat2(fd, p, fd, q, 0); }
static long c_renameat2_new(int fd, const char *p, const char *q, const char *x) { return renameat2(fd, q, fd, p, 0); }
static long c_renameat2_noreplace_old(int fd, const char *p, const char *q, const char *x) { return renameat2(fd, p, fd, q, RENAME_NOREPLACE); }
static long c_renameat2_noreplace_new(int fd, const char *p, const char *q, const char *x) { return renameat2(fd, q, fd, p, RENAME_NOREPLACE); }
static long c_renameat2_exchange(int fd, const char *p, const char *q, const char *x) { return renameat2(fd, p, fd, q, RENAME_EXCHANGE); }
/* Across mounts, with a name in W: out (missing) for -out, w1 (existing) for -in. */
static long c_rename_out(int fd, const char *p, const char *q, const char *x) { return renameat(fd, p, AT_FDCWD, x); }
static long c_link_out(int fd, const char *p, const char *q, const char *x) { return linkat(fd, p, AT_FDCWD, x, 0); }
static long c_rename_in(int fd, const char *p, const char *q, const char *x) { return renameat(AT_FDCWD, x, fd, p); }
static long c_link_in(int fd, const char *p, const char *q, const char *x) { return linkat(AT_FDCWD, x, fd, p, 0); }
static long c_unlink(int fd, const char *p, const char *q, const char *x) { return unlink(p); }
static long c_unlinkat(int fd, const char *p, const char *q, const char *x) { return unlinkat(fd, p, 0); }
static long c_unlinkat_dir(int fd, const char *p, const char *q, const char *x) { return unlinkat(fd, p, AT_REMOVEDIR); }
static long c_rmdir(int fd, const char *p, const char *q, const char *x) { return rmdir(p); }
static long c_remove(int fd, const char *p, const char *q, const char *x) { return remove(p); }
static long c_truncate(int fd, const char *p, const char *q, const char *x) { return truncate(p, 0); }
static long c_truncate_same(int fd, const char *p, const char *q, const char *x) {
    struct stat st;
    return truncate(p, stat(p, &st) == 0 ? st.st_size : 0);
}
static long c_chmod(int fd, const char *p, const char *q, const char *x) { return chmod(p, 0600); }
static long c_lchmod(int fd, const char *p, const char *q, const char *x) { return lchmod(p, 0600); }
static long c_fchmodat(int fd, const char *p, const char *q, const char *x) { return fchmodat(fd, p, 0600, 0); }
static long c_fchmodat_nofollow(int fd, const char *p, const char *q, const char *x) { return fchmodat(fd, p, 0600, AT_SYMLINK_NOFOLLOW); }
static long c_chown(int fd, const char *p, const char *q, const char *x) { return chown(p, 0, 0); }
static long c_chown_none(int fd, const char *p, const char *q, const char *x) { return chown(p, -1, -1); }
static long c_lchown(int fd, const char *p, const char *q, const char *x) { return lchown(p, 0, 0); }
static long c_fchownat(int fd, const char *p, const char *q, const char *x) { return fchownat(fd, p, 0, 0, 0); }
static long c_fchownat_nofollow(int fd, const char *p, const char *q, const char *x) { return fchownat(fd, p, 0, 0, AT_SYMLINK_NOFOLLOW); }
static long c_utime(int fd, const char *p, const char *q, const char *x) { return utime(p, NULL); }
static long c_utimes(int fd, const char *p, const char *q, const char *x) { return utimes(p, NULL); }
static long c_lutimes(int fd, const char *p, const char *q, const char *x) { return lutimes(p, NULL); }
static long c_futimesat(int fd, const char *p, const char *q, const char *x) { return futimesat(fd, p, NULL); }
static long c_utimensat(int fd, const char *p, const char *q, const char *x) { return utimensat(fd, p, NULL, 0); }
static long c_utimensat_nofollow(int fd, const char *p, const char *q, const char *x) { return utimensat(fd, p, NULL, AT_SYMLINK_NOFOLLOW); }
static long c_utimensat_omit(int fd, const char *p, const char *q, const char *x) { return utimensat(fd, p, OMIT, 0); }
static long c_setxattr(int fd, const char *p, const char *q, const char *x) { return setxattr(p, "user.x", "v", 1, 0); }
static long c_lsetxattr(int fd, const char *p, const char *q, const char *x) { return lsetxattr(p, "user.x", "v", 1, 0); }
static long c_setxattr_create(int fd, const char *p, const char *q, const char *x) { return setxattr(p, "user.new", "v", 1, XATTR_CREATE); }
static long c_removexattr(int fd, const char *p, const char *q, const char *x) { return removexattr(p, "user.x"); }
static long c_lremovexattr(int fd, const char *p, const char *q, const char *x) { return lremovexattr(p, "user.x"); }
static long c_removexattr_missing(int fd, const char *p, const char *q, const char *x) { return removexattr(p, "user.none"); }
static long c_access_w(int fd, const char *p, const char *q, const char *x) { return access(p, W_OK); }
static long c_access_r(int fd, const char *p, const char *q, const char *x) { return access(p, R_OK); }
static long c_access_rw(int fd, const char *p, const char *q, const char *x) { return access(p, R_OK | W_OK); }
static long c_access_f(int fd, const char *p, const char *q, const char *x) { return access(p, F_OK); }
static long c_faccessat_w(int fd, const char *p, const char *q, const char *x) { return faccessat(fd, p, W_OK, 0); }
static long c_faccessat_w_eaccess(int fd, const char *p, const char *q, const char *x) { return faccessat(fd, p, W_OK, AT_EACCESS); }
static long c_faccessat_w_nofollow(int fd, const char *p, const char *q, const char *x) { return faccessat(fd, p, W_OK, AT_SYMLINK_NOFOLLOW); }
static long c_euidaccess_w(int fd, const char *p, const char *q, const char *x) { return euidaccess(p, W_OK); }
static long c_eaccess_w(int fd, const char *p, const char *q, const char *x) { return eaccess(p, W_OK); }

struct call {
    const char *name;
    pcall f;
    int at; /* takes a descriptor: made all five ways */
};

static const struct call CALLS[] = {
    {"open-rdonly", c_open_rdonly, 0},
    {"open-wronly", c_open_wronly, 0},
    {"open-rdwr", c_open_rdwr, 0},
    {"open-append", c_open_append, 0},
    {"open-rdonly-trunc", c_open_rdonly_trunc, 0},
    {"open-wronly-trunc", c_open_wronly_trunc, 0},
    {"open-creat", c_open_creat, 0},
    {"open-creat-excl", c_open_creat_excl, 0},
    {"open-rdonly-creat", c_open_rdonly_creat, 0},
    {"open-rdonly-creat-excl", c_open_rdonly_creat_excl, 0},
    {"open-tmpfile", c_open_tmpfile, 0},
    {"open-dir-creat", c_open_dir_creat, 0},
    {"openat-rdonly", c_openat_rdonly, 1},
    {"openat-wronly", c_openat_wronly, 1},
    {"openat-rdwr", c_openat_rdwr, 1},
    {"openat-append", c_openat_append, 1},
    {"openat-rdonly-trunc", c_openat_rdonly_trunc, 1},
    {"openat-wronly-trunc", c_openat_wronly_trunc, 1},
    {"openat-creat", c_openat_creat, 1},
    {"openat-creat-excl", c_openat_creat_excl, 1},
    {"openat-rdonly-creat", c_openat_rdonly_creat, 1},
    {"openat-rdonly-creat-excl", c_openat_rdonly_creat_excl, 1},
    {"openat-tmpfile", c_openat_tmpfile, 1},
    {"openat-nofollow-creat", c_openat_nofollow_creat, 1},
    {"creat", c_creat, 0},
    {"fopen-w", c_fopen_w, 0},
    {"fopen-a", c_fopen_a, 0},
    {"fopen-r+", c_fopen_rplus, 0},
    {"mkdir", c_mkdir, 0},
    {"mkdirat", c_mkdirat, 1},
    {"mknod-fifo", c_mknod, 0},
    {"mknodat-fifo", c_mknodat, 1},
    {"mknod-reg", c_mknod_reg, 0},
    {"mkfifo", c_mkfifo, 0},
    {"mkfifoat", c_mkfifoat, 1},
    {"symlink", c_symlink, 0},
    {"symlinkat", c_symlinkat, 1},
    {"link-old", c_link_old, 0},
    {"link-new", c_link_new, 0},
    {"linkat-old", c_linkat_old, 1},
    {"linkat-old-follow", c_linkat_old_follow, 1},
    {"linkat-new", c_linkat_new, 1},
    {"link-out", c_link_out, 1},
    {"link-in", c_link_in, 1},
    {"truncate", c_truncate, 0},
    {"truncate-same", c_truncate_same, 0},
    {"chmod", c_chmod, 0},
    {"lchmod", c_lchmod, 0},
    {"fchmodat", c_fchmodat, 1},
    {"fchmodat-nofollow", c_fchmodat_nofollow, 1},
    {"chown", c_chown, 0},
    {"chown-none", c_chown_none, 0},
    {"lchown", c_lchown, 0},
    {"fchownat", c_fchownat, 1},
    {"fchownat-nofollow", c_fchownat_nofollow, 1},
    {"utime", c_utime, 0},
    {"utimes", c_utimes, 0},
    {"lutimes", c_lutimes, 0},
    {"futimesat", c_futimesat, 1},
    {"utimensat", c_utimensat, 1},
    {"utimensat-nofollow", c_utimensat_nofollow, 1},
    {"utimensat-omit", c_utimensat_omit, 1},
    {"setxattr", c_setxattr, 0},
    {"lsetxattr", c_lsetxattr, 0},
    {"setxattr-create", c_setxattr_create, 0},
    {"removexattr", c_removexattr, 0},
    {"lremovexattr", c_lremovexattr, 0},
    {"removexattr-missing", c_removexattr_missing, 0},
    {"access-w", c_access_w, 0},
    {"access-r", c_access_r, 0},
    {"access-rw", c_access_rw, 0},
    {"access-f", c_access_f, 0},
    {"faccessat-w", c_faccessat_w, 1},
    {"faccessat-w-eaccess", c_faccessat_w_eaccess, 1},
    {"faccessat-w-nofollow", c_faccessat_w_nofollow, 1},
    {"euidaccess-w", c_euidaccess_w, 0},
    {"eaccess-w", c_eaccess_w, 0},
    /* Last: the calls that, let through, take a name away from the calls after them. */
    {"rename-old", c_rename_old, 0},
    {"rename-new", c_rename_new, 0},
    {"renameat-old", c_renameat_old, 1},
    {"renameat-new", c_renameat_new, 1},
    {"renameat2-old", c_renameat2_old, 1},
    {"renameat2-new", c_renameat2_new, 1},
    {"renameat2-noreplace-old", c_renameat2_noreplace_old, 1},
    {"renameat2-noreplace-new", c_renameat2_noreplace_new, 1},
    {"renameat2-exchange", c_renameat2_exchange, 1},
    {"rename-out", c_rename_out, 1},
    {"rename-in", c_rename_in, 1},
    {"unlink", c_unlink, 0},
    {"unlinkat", c_unlinkat, 1},
    {"unlinkat-removedir", c_unlinkat_dir, 1},
    {"rmdir", c_rmdir, 0},
    {"remove", c_remove, 0},
};
#define NCALLS (sizeof CALLS / sizeof *CALLS)

static int is_fifo_target(const char *t) { return strcmp(t, "fifo") == 0; }

/* creat and fopen open for writing without O_NONBLOCK: on the fifo they would wait. */
static int blocks_on_fifo(pcall f) { return f == c_creat || f == c_fopen_w || f == c_fopen_a || f == c_fopen_rplus; }

/* The calls whose other name is the existing f2 (the target is the new name, or exchanged). */
static int other_is_f2(pcall f) {
    return f == c_link_new || f == c_linkat_new || f == c_rename_new || f == c_renameat_new || f == c_renameat2_new ||
           f == c_renameat2_noreplace_new || f == c_renameat2_exchange;
}

static void path_calls(size_t w) {
    char x[8192];
    for (size_t c = 0; c < NCALLS; c++) {
        if (WAYS[w].at && !CALLS[c].at) continue;
        for (size_t t = 0; t < NTARGETS; t++) {
            const char *target = TARGETS[t];
            if (blocks_on_fifo(CALLS[c].f) && is_fifo_target(target)) {
                printf("%s %s %s -> not made (it would wait for a reader)\n", CALLS[c].name, WAYS[w].name, target);
                continue;
            }
            const char *p = way_path(w, target);
            const char *q = way_path(w, other_is_f2(CALLS[c].f) ? "f2" : "n2");
            /* In W: w1 exists (the source of the calls into D), out does not. */
            snprintf(x, sizeof x, "%s/%s", W, CALLS[c].f == c_rename_in || CALLS[c].f == c_link_in ? "w1" : "out");
            errno = 0;
            long rc = CALLS[c].f(way_fd(w), p, q, x);
            line(CALLS[c].name, WAYS[w].name, target, rc, errno);
        }
    }
}

/* Calls through a descriptor. `fd` is open on `target`; `how` names how it was opened. */
static void fd_calls(int fd, const char *how, const char *target) {
    /* New names are made unique (n3-N, n4-N), so that one let through does not answer EEXIST
     * for the next. */
    static int serial;
    char proc[64], newname[8192], n3[64], n3b[64], n3c[64], n4[64], n4b[64];
    serial++;
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    snprintf(n3, sizeof n3, "n3-%d", serial);
    snprintf(n3b, sizeof n3b, "n3b-%d", serial);
    snprintf(n3c, sizeof n3c, "n3c-%d", serial);
    snprintf(n4, sizeof n4, "n4-%d", serial);
    snprintf(n4b, sizeof n4b, "n4b-%d", serial);
    snprintf(newname, sizeof newname, "%s/%s", D, n3b);
    char call[128];
#define F(name, expr)                                        \
    do {                                                     \
        snprintf(call, sizeof call, "%s", name);             \
        errno = 0;                                           \
        long rc_ = (expr);                                   \
        line(call, how, target, rc_, errno);                 \
    } while (0)
    F("fchmod", fchmod(fd, 0600));
    F("fchown", fchown(fd, 0, 0));
    F("fchown-none", fchown(fd, -1, -1));
    F("futimens", futimens(fd, NULL));
    F("futimens-omit", futimens(fd, OMIT));
    F("futimes", futimes(fd, NULL));
    F("fsetxattr", fsetxattr(fd, "user.x", "v", 1, 0));
    F("fsetxattr-create", fsetxattr(fd, "user.new", "v", 1, XATTR_CREATE));
    F("fremovexattr", fremovexattr(fd, "user.x"));
    F("ftruncate", ftruncate(fd, 0));
    F("fchmodat-empty", fchmodat(fd, "", 0600, AT_EMPTY_PATH));
    F("fchownat-empty", fchownat(fd, "", 0, 0, AT_EMPTY_PATH));
    F("utimensat-null-path", utimensat(fd, NULLPATH, NULL, 0));
    F("utimensat-empty", utimensat(fd, "", NULL, AT_EMPTY_PATH));
    F("faccessat-empty-w", faccessat(fd, "", W_OK, AT_EMPTY_PATH));
    F("linkat-empty", linkat(fd, "", dfd, n3, AT_EMPTY_PATH));
    F("linkat-empty-abs", linkat(fd, "", AT_FDCWD, newname, AT_EMPTY_PATH));
    F("linkat-proc", linkat(AT_FDCWD, proc, dfd, n3c, AT_SYMLINK_FOLLOW));
    F("open-proc-rdwr", opened(open(proc, O_RDWR | O_NONBLOCK)));
    F("open-proc-wronly-trunc", opened(open(proc, O_WRONLY | O_TRUNC | O_NONBLOCK)));
    F("chmod-proc", chmod(proc, 0600));
    F("chown-proc", chown(proc, 0, 0));
    F("utimes-proc", utimes(proc, NULL));
    F("setxattr-proc", setxattr(proc, "user.x", "v", 1, 0));
    F("truncate-proc", truncate(proc, 0));
    F("access-proc-w", access(proc, W_OK));
    /* A directory's descriptor as the base of new names. */
    F("mkdirat-in", mkdirat(fd, n4, 0755));
    F("openat-creat-in", opened(openat(fd, n4b, O_WRONLY | O_CREAT | O_NONBLOCK, 0644)));
    F("fchmodat-in", fchmodat(fd, "g", 0600, 0));
    F("renameat-in", renameat(fd, "g", fd, "g2"));
    F("unlinkat-in", unlinkat(fd, "g2", 0));
#undef F
}

static const struct {
    const char *name;
    int flags;
} FD_MODES[] = {
    {"rdonly", O_RDONLY | O_NONBLOCK},
    {"path", O_PATH},
    {"path-nofollow", O_PATH | O_NOFOLLOW},
};

static void descriptor_calls(void) {
    static const char *targets[] = {"f", "d", "lf", "ld", "ldang", "fifo", "e"};
    char how[128];
    for (size_t m = 0; m < sizeof FD_MODES / sizeof *FD_MODES; m++) {
        for (int via = 0; via < 2; via++) {
            for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
                snprintf(how, sizeof how, "fd-%s-%s", FD_MODES[m].name, via ? "dirfd" : "abs");
                int fd = via ? openat(dfd, targets[t], FD_MODES[m].flags) : open(way_path(0, targets[t]), FD_MODES[m].flags);
                if (fd < 0) {
                    line("open", how, targets[t], -1, errno);
                    continue;
                }
                fd_calls(fd, how, targets[t]);
                close(fd);
            }
        }
    }
}

static void setup(const char *d) {
    snprintf(D, sizeof D, "%s", d);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", d);
    snprintf(DNAME, sizeof DNAME, "%s", basename(tmp));
    snprintf(tmp, sizeof tmp, "%s", d);
    dfd = open(D, O_RDONLY | O_DIRECTORY);
    pfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY);
    sfd = openat(dfd, "d", O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || pfd < 0 || sfd < 0 || chdir(D) < 0) {
        printf("setup failed: %s\n", strerrorname_np(errno));
        exit(2);
    }
}

int main(int argc, char **argv) {
    alarm(30);
    if (argc >= 4)
        snprintf(W, sizeof W, "%s", argv[3]);
    if (argc == 5 && strcmp(argv[1], "matrix") == 0) {
        setup(argv[2]);
        for (size_t w = 0; w < NWAYS; w++) {
            if (strcmp(argv[4], WAYS[w].name) == 0) {
                path_calls(w);
                printf("done\n");
                return 0;
            }
        }
    }
    if (argc == 4 && strcmp(argv[1], "descriptors") == 0) {
        setup(argv[2]);
        descriptor_calls();
        printf("done\n");
        return 0;
    }
    if (argc >= 5 && strcmp(argv[1], "fds") == 0) {
        setup(argv[2]);
        for (int i = 4; i < argc; i++) {
            char how[64];
            snprintf(how, sizeof how, "inherited-%s", argv[i]);
            fd_calls(atoi(argv[i]), how, argv[i]);
        }
        printf("done\n");
        return 0;
    }
    fprintf(stderr, "usage: ro_probe matrix D W WAY | ro_probe descriptors D W | ro_probe fds D W N...\n");
    return 2;
}
