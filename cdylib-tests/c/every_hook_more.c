/* every_hook_more A B: the second half of the per-hook checks (attr, temp, the rest of exec,
 * misc, syscall, identity, clock), with the conventions of every_hook.c: each test runs once
 * with the prefix P = A (the scratch dir through /unreal) and once with P = B (its real path),
 * records what it observed into a buffer in which P reads `<P>`, and the two buffers must be
 * equal (and, where given, equal to the exact expected text). One line per function:
 *
 *     NAME ok
 *     NAME MISMATCH A=[...] B=[...]
 *
 * Files a test creates are named `B/w/m_WHAT.TAG` (TAG = a or b), so that the two runs, and
 * every_hook.c which runs before this program on the same fixture, never meet. Everything that
 * creates a file checks it at the real path B/..., whatever the run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/fsuid.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#define CONTENT "hello kmview\n"
#define INNER "inner\n"
#define LIBM "/lib/x86_64-linux-gnu/libm.so.6"
#define XN "user.kmview"

extern char **environ;

static const char *A, *B; /* the two prefixes */
static const char *P;     /* the prefix of the run in progress */
static const char *TAG;   /* "a" or "b": names of files a run creates */
static int failures;

/* ---- buffers and formatting (as in every_hook.c) ---- */

typedef struct {
    char s[65536];
    size_t n;
} buf_t;

static void add(buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (k > 0) b->n += (size_t)k < sizeof b->s - b->n ? (size_t)k : sizeof b->s - b->n - 1;
}

static const char *en(int e) {
    if (e == 0) return "0";
    const char *s = strerrorname_np(e);
    return s ? s : "E?";
}

/* A rotating set of scratch strings. */
static char *tmp(void) {
    static char r[16][2 * PATH_MAX + 64];
    static int i;
    i = (i + 1) % 16;
    return r[i];
}

/* P + suffix */
static const char *pj(const char *suffix) {
    char *t = tmp();
    snprintf(t, 2 * PATH_MAX, "%s%s", P, suffix);
    return t;
}

/* B + suffix (the real path, whatever the run) */
static const char *rj(const char *suffix) {
    char *t = tmp();
    snprintf(t, 2 * PATH_MAX, "%s%s", B, suffix);
    return t;
}

/* A host path as the run names it: /unreal/X in run A, /X in run B. */
static const char *hj(const char *path) {
    char *t = tmp();
    snprintf(t, 2 * PATH_MAX, "%s%s", P == A ? "/unreal" : "", path);
    return t;
}

/* "/w/m_WHAT.TAG": a file of this test and this run (a pool of its own, so that a test can
 * keep a few of these while calling pj and rj freely). */
static const char *wn(const char *what) {
    static char r[64][256];
    static int i;
    i = (i + 1) % 64;
    char *t = r[i];
    snprintf(t, sizeof r[0], "/w/m_%s.%s", what, TAG);
    return t;
}

/* The last component of a path. */
static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* s with every occurrence of P (as a whole path prefix) written as <P>; NULL as (null). */
static const char *norm(const char *s) {
    if (!s) return "(null)";
    char *t = tmp();
    size_t pl = strlen(P), o = 0;
    const char *c = s;
    while (*c && o < 2 * PATH_MAX) {
        int boundary_before = c == s || c[-1] == ' ' || c[-1] == '\n' || c[-1] == '=' || c[-1] == '[';
        if (boundary_before && strncmp(c, P, pl) == 0 && (c[pl] == '/' || c[pl] == 0 || c[pl] == '\n' || c[pl] == ' ')) {
            o += snprintf(t + o, 2 * PATH_MAX - o, "<P>");
            c += pl;
        } else {
            t[o++] = *c++;
        }
    }
    t[o] = 0;
    return t;
}

/* Records a return value: `label=VALUE` or `label=-1/ENAME`. */
static void rv(buf_t *b, const char *label, long r, int e) {
    if (r < 0)
        add(b, "%s=%ld/%s; ", label, r, en(e));
    else
        add(b, "%s=%ld; ", label, r);
}

/* rv() of an expression evaluated before errno is read. */
#define RV(b, label, expr)              \
    do {                                \
        long r_ = (long)(expr);         \
        int e_ = errno;                 \
        rv(b, label, r_, e_);           \
    } while (0)

/* Records success of a call returning an fd or pointer. */
static void rok(buf_t *b, const char *label, int okay, int e) {
    if (okay)
        add(b, "%s=ok; ", label);
    else
        add(b, "%s=fail/%s; ", label, en(e));
}

/* Reads an fd to its end and records the data. */
static void fd_data(buf_t *b, int fd) {
    char d[4096];
    ssize_t n, tot = 0;
    while ((n = read(fd, d + tot, sizeof d - 1 - tot)) > 0) tot += n;
    d[tot] = 0;
    add(b, "data=[%s] ", norm(d));
}

/* Escapes a buffer for one output line. */
static const char *esc(const char *s) {
    static char o[4 * 65536];
    size_t k = 0;
    for (; *s && k < sizeof o - 5; s++) {
        if (*s == '\n') {
            o[k++] = '\\';
            o[k++] = 'n';
        } else if ((unsigned char)*s < 32) {
            k += sprintf(o + k, "\\x%02x", (unsigned char)*s);
        } else {
            o[k++] = *s;
        }
    }
    o[k] = 0;
    return o;
}

/* ---- the runner (as in every_hook.c) ---- */

typedef void (*test_fn)(buf_t *);

/* Runs `f` with A and with B; `expect`, if given, is the exact (normalized) answer of both. */
static void check_exp(const char *name, test_fn f, const char *expect) {
    static buf_t ra, rb;
    ra.n = rb.n = 0;
    ra.s[0] = rb.s[0] = 0;
    P = A;
    TAG = "a";
    f(&ra);
    if (chdir("/") != 0) perror("chdir /");
    P = B;
    TAG = "b";
    f(&rb);
    if (chdir("/") != 0) perror("chdir /");
    int same = strcmp(ra.s, rb.s) == 0;
    int exp_ok = !expect || (strcmp(ra.s, expect) == 0 && strcmp(rb.s, expect) == 0);
    fprintf(stderr, "%s:\n  A=[%s]\n", name, esc(ra.s));
    fprintf(stderr, "  B=[%s]\n", esc(rb.s));
    if (same && exp_ok) {
        printf("%s ok\n", name);
    } else {
        failures++;
        printf("%s MISMATCH", name);
        printf(" A=[%s]", esc(ra.s));
        printf(" B=[%s]", esc(rb.s));
        if (expect) printf(" expected=[%s]", esc(expect));
        printf("\n");
    }
    fflush(stdout);
    fflush(stderr);
}

static void check(const char *name, test_fn f) { check_exp(name, f, NULL); }

/* ---- small fixtures of one test ---- */

/* A fresh regular file at the real path B+name, mode 0644, content "data\n". */
static void mkfile(const char *name) {
    unlink(rj(name));
    int fd = open(rj(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, "data\n", 5) != 5) perror("write");
        close(fd);
    }
    chmod(rj(name), 0644);
}

/* A fresh symlink at the real path B+name pointing at the (relative) target. */
static void mklink(const char *target, const char *name) {
    unlink(rj(name));
    if (symlink(target, rj(name)) != 0) perror("symlink");
}

/* The mode of a real path (follow or not). */
static void mode_of(buf_t *b, const char *label, const char *real, int follow) {
    struct stat st;
    int r = follow ? stat(real, &st) : lstat(real, &st);
    if (r != 0)
        add(b, "%s=-1/%s; ", label, en(errno));
    else
        add(b, "%s=%o; ", label, st.st_mode);
}

/* Owner and times of a real path. */
static void owner_of(buf_t *b, const char *label, const char *real, int follow, uid_t u, gid_t g) {
    struct stat st;
    int r = follow ? stat(real, &st) : lstat(real, &st);
    if (r != 0)
        add(b, "%s=-1/%s; ", label, en(errno));
    else if (st.st_uid == u && st.st_gid == g)
        add(b, "%s=as_set; ", label);
    else
        add(b, "%s=%u:%u; ", label, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

static void times_of(buf_t *b, const char *label, const char *real, int follow) {
    struct stat st;
    int r = follow ? stat(real, &st) : lstat(real, &st);
    if (r != 0)
        add(b, "%s=-1/%s; ", label, en(errno));
    else if (follow)
        add(b, "%s=[a=%ld.%09ld m=%ld.%09ld] ", label, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
            (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    else /* a symlink's atime moves whenever it is followed */
        add(b, "%s=[m=%ld.%09ld] ", label, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* Sets a real path's times to a base value, so that a test sees its own change. */
static void reset_times(const char *real, int follow) {
    struct timespec ts[2] = {{100, 0}, {200, 0}};
    utimensat(AT_FDCWD, real, ts, follow ? 0 : AT_SYMLINK_NOFOLLOW);
}

/* ---- attr: mode ---- */

static void t_chmod(buf_t *b) {
    const char *f = wn("chmod"), *l = wn("chmod_l");
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    RV(b, "abs", chmod(pj(f), 0600));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "via_link", chmod(pj(l), 0640));
    mode_of(b, "mode", rj(f), 1);
    mode_of(b, "link_mode", rj(l), 0);
    errno = 0;
    RV(b, "missing", chmod(pj("/missing"), 0600));
    errno = 0;
    RV(b, "file/x", chmod(pj("/file/x"), 0600));
    if (chdir(pj("/w")) == 0) {
        errno = 0;
        RV(b, "rel", chmod(base(f), 0604));
        mode_of(b, "mode", rj(f), 1);
        chdir("/");
    }
    if (chdir(pj("/sub")) == 0) {
        char rel[256];
        snprintf(rel, sizeof rel, "..%s", f);
        errno = 0;
        RV(b, "rel_dotdot", chmod(rel, 0606));
        mode_of(b, "mode", rj(f), 1);
        chdir("/");
    }
}

static void size_of(buf_t *b, const char *label, const char *real_path) {
    struct stat st;
    add(b, "%s=%ld; ", label, stat(real_path, &st) == 0 ? (long)st.st_size : -1L);
}

static void t_ftruncate_with(buf_t *b, const char *what, int (*tr)(int, off_t)) {
    const char *f = wn(what);
    mkfile(f);
    int fd = open(pj(f), O_RDWR);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "ftruncate", tr(fd, 3));
    size_of(b, "size", rj(f));
    close(fd);
    fd = open(pj(f), O_RDONLY);
    errno = 0;
    RV(b, "rdonly", tr(fd, 1));
    close(fd);
    errno = 0;
    RV(b, "badf", tr(-1, 0));
}

static int ftruncate64_off(int fd, off_t n) { return ftruncate64(fd, n); }
static void t_ftruncate(buf_t *b) { t_ftruncate_with(b, "ftruncate", ftruncate); }
static void t_ftruncate64(buf_t *b) { t_ftruncate_with(b, "ftruncate64", ftruncate64_off); }

static void t_fchmod(buf_t *b) {
    const char *f = wn("fchmod");
    mkfile(f);
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "fchmod", fchmod(fd, 0600));
    mode_of(b, "mode", rj(f), 1);
    close(fd);
    fd = open(pj("/w"), O_RDONLY | O_DIRECTORY);
    struct stat st;
    fstat(fd, &st);
    errno = 0;
    RV(b, "dir", fchmod(fd, st.st_mode & 07777));
    close(fd);
    errno = 0;
    RV(b, "badf", fchmod(-1, 0600));
}

static void t_fchmodat(buf_t *b) {
    const char *f = wn("fchmodat"), *l = wn("fchmodat_l");
    mkfile(f);
    mklink(base(f), l);
    int dfd = open(pj("/w"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    RV(b, "dirfd_rel", fchmodat(dfd, base(f), 0600, 0));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "cwd_abs", fchmodat(AT_FDCWD, pj(f), 0640, 0));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "dirfd_link", fchmodat(dfd, base(l), 0604, 0));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "nofollow_link", fchmodat(AT_FDCWD, pj(l), 0600, AT_SYMLINK_NOFOLLOW));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "nofollow_file", fchmodat(AT_FDCWD, pj(f), 0644, AT_SYMLINK_NOFOLLOW));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "missing", fchmodat(dfd, "missing", 0600, 0));
    close(dfd);
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    char rel[256];
    snprintf(rel, sizeof rel, "../w/%s", base(f));
    errno = 0;
    RV(b, "dirfd_dotdot", fchmodat(sfd, rel, 0660, 0));
    mode_of(b, "mode", rj(f), 1);
    close(sfd);
}

static void t_lchmod(buf_t *b) {
    const char *f = wn("lchmod"), *l = wn("lchmod_l");
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    RV(b, "file", lchmod(pj(f), 0600));
    mode_of(b, "mode", rj(f), 1);
    errno = 0;
    RV(b, "link", lchmod(pj(l), 0640));
    mode_of(b, "mode", rj(f), 1);
    mode_of(b, "link_mode", rj(l), 0);
    errno = 0;
    RV(b, "missing", lchmod(pj("/missing"), 0600));
}

/* ---- attr: owner ---- */

/* Another owner: works as root, EPERM otherwise (both ways). */
#define OTHER_ID 4242

static void t_chown(buf_t *b) {
    const char *f = wn("chown"), *l = wn("chown_l");
    mkfile(f);
    mklink(base(f), l);
    uid_t u = getuid();
    gid_t g = getgid();
    errno = 0;
    RV(b, "self", chown(pj(f), u, g));
    owner_of(b, "owner", rj(f), 1, u, g);
    errno = 0;
    RV(b, "keep", chown(pj(f), (uid_t)-1, (gid_t)-1));
    errno = 0;
    int r = chown(pj(l), OTHER_ID, OTHER_ID);
    RV(b, "other_via_link", r);
    owner_of(b, "owner", rj(f), 1, r == 0 ? OTHER_ID : u, r == 0 ? OTHER_ID : g);
    owner_of(b, "link_owner", rj(l), 0, u, g);
    errno = 0;
    RV(b, "missing", chown(pj("/missing"), u, g));
    errno = 0;
    RV(b, "file/x", chown(pj("/file/x"), u, g));
}

static void t_fchown(buf_t *b) {
    const char *f = wn("fchown");
    mkfile(f);
    uid_t u = getuid();
    gid_t g = getgid();
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "self", fchown(fd, u, g));
    errno = 0;
    int r = fchown(fd, OTHER_ID, OTHER_ID);
    RV(b, "other", r);
    owner_of(b, "owner", rj(f), 1, r == 0 ? OTHER_ID : u, r == 0 ? OTHER_ID : g);
    close(fd);
    errno = 0;
    RV(b, "badf", fchown(-1, u, g));
}

static void t_lchown(buf_t *b) {
    const char *f = wn("lchown"), *l = wn("lchown_l");
    mkfile(f);
    mklink(base(f), l);
    uid_t u = getuid();
    gid_t g = getgid();
    errno = 0;
    RV(b, "self", lchown(pj(l), u, g));
    errno = 0;
    int r = lchown(pj(l), OTHER_ID, OTHER_ID);
    RV(b, "other_link", r);
    owner_of(b, "link_owner", rj(l), 0, r == 0 ? OTHER_ID : u, r == 0 ? OTHER_ID : g);
    owner_of(b, "file_owner", rj(f), 1, u, g);
    errno = 0;
    RV(b, "file", lchown(pj(f), u, g));
    errno = 0;
    RV(b, "missing", lchown(pj("/missing"), u, g));
}

static void t_fchownat(buf_t *b) {
    const char *f = wn("fchownat"), *l = wn("fchownat_l");
    mkfile(f);
    mklink(base(f), l);
    uid_t u = getuid();
    gid_t g = getgid();
    int dfd = open(pj("/w"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    RV(b, "dirfd_rel", fchownat(dfd, base(f), u, g, 0));
    errno = 0;
    RV(b, "cwd_abs", fchownat(AT_FDCWD, pj(f), u, g, 0));
    errno = 0;
    int r = fchownat(dfd, base(l), OTHER_ID, OTHER_ID, AT_SYMLINK_NOFOLLOW);
    RV(b, "nofollow_other", r);
    owner_of(b, "link_owner", rj(l), 0, r == 0 ? OTHER_ID : u, r == 0 ? OTHER_ID : g);
    owner_of(b, "file_owner", rj(f), 1, u, g);
    errno = 0;
    r = fchownat(AT_FDCWD, pj(l), OTHER_ID, OTHER_ID, 0);
    RV(b, "follow_other", r);
    owner_of(b, "file_owner", rj(f), 1, r == 0 ? OTHER_ID : u, r == 0 ? OTHER_ID : g);
    int fd = open(pj(f), O_RDONLY);
    errno = 0;
    RV(b, "empty_path", fchownat(fd, "", u, g, AT_EMPTY_PATH));
    owner_of(b, "file_owner", rj(f), 1, u, g);
    close(fd);
    errno = 0;
    RV(b, "missing", fchownat(AT_FDCWD, pj("/missing"), u, g, 0));
    errno = 0;
    RV(b, "missing_rel", fchownat(dfd, "missing", u, g, 0));
    close(dfd);
}

/* ---- attr: times ---- */

static void t_utime(buf_t *b) {
    const char *f = wn("utime"), *l = wn("utime_l");
    mkfile(f);
    mklink(base(f), l);
    reset_times(rj(l), 0);
    struct utimbuf u = {1000000000, 1234567890};
    errno = 0;
    RV(b, "abs", utime(pj(f), &u));
    times_of(b, "t", rj(f), 1);
    struct utimbuf u2 = {1000000001, 1234567891};
    errno = 0;
    RV(b, "via_link", utime(pj(l), &u2));
    times_of(b, "t", rj(f), 1);
    times_of(b, "link_t", rj(l), 0);
    time_t now = time(NULL);
    errno = 0;
    RV(b, "now", utime(pj(f), NULL));
    struct stat st;
    stat(rj(f), &st);
    add(b, "is_now=%d ", st.st_mtime >= now - 5 && st.st_mtime <= now + 5);
    errno = 0;
    RV(b, "missing", utime(pj("/missing"), &u));
}

static void t_utimes(buf_t *b) {
    const char *f = wn("utimes"), *l = wn("utimes_l");
    mkfile(f);
    mklink(base(f), l);
    reset_times(rj(l), 0);
    struct timeval tv[2] = {{1000000000, 250000}, {1234567890, 500000}};
    errno = 0;
    RV(b, "abs", utimes(pj(f), tv));
    times_of(b, "t", rj(f), 1);
    struct timeval tv2[2] = {{1000000001, 1}, {1234567891, 2}};
    errno = 0;
    RV(b, "via_link", utimes(pj(l), tv2));
    times_of(b, "t", rj(f), 1);
    times_of(b, "link_t", rj(l), 0);
    if (chdir(pj("/sub")) == 0) {
        char rel[256];
        snprintf(rel, sizeof rel, "..%s", f);
        errno = 0;
        RV(b, "rel", utimes(rel, tv));
        times_of(b, "t", rj(f), 1);
        chdir("/");
    }
    errno = 0;
    RV(b, "missing", utimes(pj("/missing"), tv));
}

static void t_lutimes(buf_t *b) {
    const char *f = wn("lutimes"), *l = wn("lutimes_l");
    mkfile(f);
    mklink(base(f), l);
    reset_times(rj(f), 1);
    struct timeval tv[2] = {{1000000000, 250000}, {1234567890, 500000}};
    errno = 0;
    RV(b, "link", lutimes(pj(l), tv));
    times_of(b, "link_t", rj(l), 0);
    times_of(b, "file_t", rj(f), 1);
    struct timeval tv2[2] = {{1000000001, 1}, {1234567891, 2}};
    errno = 0;
    RV(b, "file", lutimes(pj(f), tv2));
    times_of(b, "file_t", rj(f), 1);
    errno = 0;
    RV(b, "missing", lutimes(pj("/missing"), tv));
}

static void t_futimesat(buf_t *b) {
    const char *f = wn("futimesat"), *l = wn("futimesat_l");
    mkfile(f);
    mklink(base(f), l);
    reset_times(rj(l), 0);
    struct timeval tv[2] = {{1000000000, 250000}, {1234567890, 500000}};
    struct timeval tv2[2] = {{1000000001, 1}, {1234567891, 2}};
    int dfd = open(pj("/w"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    RV(b, "dirfd_rel", futimesat(dfd, base(f), tv));
    times_of(b, "t", rj(f), 1);
    errno = 0;
    RV(b, "cwd_abs_link", futimesat(AT_FDCWD, pj(l), tv2));
    times_of(b, "t", rj(f), 1);
    times_of(b, "link_t", rj(l), 0);
    errno = 0;
    RV(b, "dirfd_abs", futimesat(dfd, pj(f), tv));
    times_of(b, "t", rj(f), 1);
    errno = 0;
    RV(b, "missing", futimesat(dfd, "missing", tv));
    close(dfd);
}

static void t_utimensat(buf_t *b) {
    const char *f = wn("utimensat"), *l = wn("utimensat_l");
    mkfile(f);
    mklink(base(f), l);
    reset_times(rj(l), 0);
    struct timespec ts[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
    struct timespec ts2[2] = {{1000000001, 1}, {1234567891, 2}};
    errno = 0;
    RV(b, "cwd_abs", utimensat(AT_FDCWD, pj(f), ts, 0));
    times_of(b, "t", rj(f), 1);
    int dfd = open(pj("/w"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    RV(b, "dirfd_link", utimensat(dfd, base(l), ts2, 0));
    times_of(b, "t", rj(f), 1);
    times_of(b, "link_t", rj(l), 0);
    errno = 0;
    RV(b, "nofollow", utimensat(dfd, base(l), ts, AT_SYMLINK_NOFOLLOW));
    times_of(b, "link_t", rj(l), 0);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1234567000, 0}};
    errno = 0;
    RV(b, "omit", utimensat(AT_FDCWD, pj(f), omit, 0));
    times_of(b, "t", rj(f), 1);
    int fd = open(pj(f), O_RDONLY);
    errno = 0;
    const char *volatile no_path = NULL; /* glibc: EINVAL */
    RV(b, "null_path", utimensat(fd, no_path, ts, 0));
    errno = 0;
    RV(b, "empty_path", utimensat(fd, "", ts2, AT_EMPTY_PATH));
    times_of(b, "t", rj(f), 1);
    close(fd);
    errno = 0;
    RV(b, "missing", utimensat(dfd, "missing", ts, 0));
    close(dfd);
}

static void t_futimens(buf_t *b) {
    const char *f = wn("futimens");
    mkfile(f);
    struct timespec ts[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "futimens", futimens(fd, ts));
    times_of(b, "t", rj(f), 1);
    close(fd);
    errno = 0;
    RV(b, "badf", futimens(-1, ts));
}

static void t_futimes(buf_t *b) {
    const char *f = wn("futimes");
    mkfile(f);
    struct timeval tv[2] = {{1000000000, 123456}, {1234567890, 987654}};
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "futimes", futimes(fd, tv));
    times_of(b, "t", rj(f), 1);
    close(fd);
    errno = 0;
    RV(b, "badf", futimes(-1, tv));
}

/* ---- attr: extended attributes (user.*; ENOTSUP both ways where unsupported) ---- */

static void xget_real(buf_t *b, const char *label, const char *real, const char *name) {
    char v[64];
    errno = 0;
    ssize_t n = getxattr(real, name, v, sizeof v - 1);
    if (n < 0) {
        add(b, "%s=-1/%s; ", label, en(errno));
    } else {
        v[n] = 0;
        add(b, "%s=[%s] ", label, v);
    }
}

static void xval(buf_t *b, const char *label, ssize_t n, int e, const char *v) {
    if (n < 0)
        add(b, "%s=-1/%s; ", label, en(e));
    else
        add(b, "%s=%zd[%.*s] ", label, n, (int)n, v);
}

/* A list of names: NUL-separated, written with commas, only the user.* ones. */
static void xlist(buf_t *b, const char *label, ssize_t n, int e, const char *v) {
    if (n < 0) {
        add(b, "%s=-1/%s; ", label, en(e));
        return;
    }
    add(b, "%s=[", label);
    for (ssize_t i = 0; i < n; i += strlen(v + i) + 1)
        if (strncmp(v + i, "user.", 5) == 0) add(b, "%s,", v + i);
    add(b, "] ");
}

typedef int (*setx_fn)(const char *, const char *, const void *, size_t, int);

static void setx_common(buf_t *b, setx_fn fn, const char *what) {
    const char *f = wn(what);
    char lname[64];
    snprintf(lname, sizeof lname, "%s_l", what);
    const char *l = wn(lname);
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    RV(b, "file", fn(pj(f), XN, "v1", 2, 0));
    xget_real(b, "real", rj(f), XN);
    errno = 0;
    RV(b, "create_again", fn(pj(f), XN, "v2", 2, XATTR_CREATE));
    errno = 0;
    RV(b, "replace", fn(pj(f), XN, "v3", 2, XATTR_REPLACE));
    xget_real(b, "real", rj(f), XN);
    errno = 0;
    RV(b, "link", fn(pj(l), XN ".l", "v4", 2, 0));
    xget_real(b, "real_file", rj(f), XN ".l");
    errno = 0;
    RV(b, "missing", fn(pj("/missing"), XN, "v", 1, 0));
    if (chdir(pj("/sub")) == 0) {
        char rel[256];
        snprintf(rel, sizeof rel, "..%s", f);
        errno = 0;
        RV(b, "rel", fn(rel, XN ".r", "v5", 2, 0));
        xget_real(b, "real", rj(f), XN ".r");
        chdir("/");
    }
}

static void t_setxattr(buf_t *b) { setx_common(b, setxattr, "setxattr"); }
static void t_lsetxattr(buf_t *b) { setx_common(b, lsetxattr, "lsetxattr"); }

static void t_fsetxattr(buf_t *b) {
    const char *f = wn("fsetxattr");
    mkfile(f);
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "fd", fsetxattr(fd, XN, "v1", 2, 0));
    xget_real(b, "real", rj(f), XN);
    errno = 0;
    RV(b, "create_again", fsetxattr(fd, XN, "v2", 2, XATTR_CREATE));
    close(fd);
    errno = 0;
    RV(b, "badf", fsetxattr(-1, XN, "v", 1, 0));
}

typedef ssize_t (*getx_fn)(const char *, const char *, void *, size_t);

static void getx_common(buf_t *b, getx_fn fn, const char *what) {
    const char *f = wn(what);
    char lname[64];
    snprintf(lname, sizeof lname, "%s_l", what);
    const char *l = wn(lname);
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN, "value", 5, 0));
    char v[64];
    errno = 0;
    ssize_t n = fn(pj(f), XN, v, sizeof v);
    xval(b, "file", n, errno, v);
    errno = 0;
    n = fn(pj(f), XN, NULL, 0);
    xval(b, "size", n, errno, "");
    errno = 0;
    n = fn(pj(f), XN, v, 2);
    xval(b, "small", n, errno, v);
    errno = 0;
    n = fn(pj(f), XN ".none", v, sizeof v);
    xval(b, "no_attr", n, errno, v);
    errno = 0;
    n = fn(pj(l), XN, v, sizeof v);
    xval(b, "link", n, errno, v);
    errno = 0;
    n = fn(pj("/missing"), XN, v, sizeof v);
    xval(b, "missing", n, errno, v);
}

static void t_getxattr(buf_t *b) { getx_common(b, getxattr, "getxattr"); }
static void t_lgetxattr(buf_t *b) { getx_common(b, lgetxattr, "lgetxattr"); }

static void t_fgetxattr(buf_t *b) {
    const char *f = wn("fgetxattr");
    mkfile(f);
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN, "value", 5, 0));
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    char v[64];
    errno = 0;
    ssize_t n = fgetxattr(fd, XN, v, sizeof v);
    xval(b, "fd", n, errno, v);
    errno = 0;
    n = fgetxattr(fd, XN ".none", v, sizeof v);
    xval(b, "no_attr", n, errno, v);
    close(fd);
}

typedef ssize_t (*listx_fn)(const char *, char *, size_t);

static void listx_common(buf_t *b, listx_fn fn, const char *what) {
    const char *f = wn(what);
    char lname[64];
    snprintf(lname, sizeof lname, "%s_l", what);
    const char *l = wn(lname);
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN ".one", "1", 1, 0));
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN ".two", "2", 1, 0));
    char v[4096];
    errno = 0;
    ssize_t n = fn(pj(f), v, sizeof v);
    xlist(b, "file", n, errno, v);
    errno = 0;
    n = fn(pj(l), v, sizeof v);
    xlist(b, "link", n, errno, v);
    errno = 0;
    n = fn(pj("/missing"), v, sizeof v);
    xlist(b, "missing", n, errno, v);
    errno = 0;
    n = fn(pj("/file/x"), v, sizeof v);
    xlist(b, "file/x", n, errno, v);
}

static void t_listxattr(buf_t *b) { listx_common(b, listxattr, "listxattr"); }
static void t_llistxattr(buf_t *b) { listx_common(b, llistxattr, "llistxattr"); }

static void t_flistxattr(buf_t *b) {
    const char *f = wn("flistxattr");
    mkfile(f);
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN ".one", "1", 1, 0));
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    char v[4096];
    errno = 0;
    ssize_t n = flistxattr(fd, v, sizeof v);
    xlist(b, "fd", n, errno, v);
    close(fd);
}

typedef int (*removex_fn)(const char *, const char *);

static void removex_common(buf_t *b, removex_fn fn, const char *what) {
    const char *f = wn(what);
    char lname[64];
    snprintf(lname, sizeof lname, "%s_l", what);
    const char *l = wn(lname);
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN, "v", 1, 0));
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN ".l", "v", 1, 0));
    errno = 0;
    RV(b, "file", fn(pj(f), XN));
    xget_real(b, "real", rj(f), XN);
    errno = 0;
    RV(b, "again", fn(pj(f), XN));
    errno = 0;
    RV(b, "link", fn(pj(l), XN ".l"));
    xget_real(b, "real_file", rj(f), XN ".l");
    errno = 0;
    RV(b, "missing", fn(pj("/missing"), XN));
}

static void t_removexattr(buf_t *b) { removex_common(b, removexattr, "removexattr"); }
static void t_lremovexattr(buf_t *b) { removex_common(b, lremovexattr, "lremovexattr"); }

static void t_fremovexattr(buf_t *b) {
    const char *f = wn("fremovexattr");
    mkfile(f);
    errno = 0;
    RV(b, "set_real", setxattr(rj(f), XN, "v", 1, 0));
    int fd = open(pj(f), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    errno = 0;
    RV(b, "fd", fremovexattr(fd, XN));
    xget_real(b, "real", rj(f), XN);
    errno = 0;
    RV(b, "again", fremovexattr(fd, XN));
    close(fd);
}

/* ---- temp ---- */

typedef int (*mkfd_fn)(char *);

/* One mkstemp-like call on the template P/w/m_LABEL.TAG.XXXXXX+sfx: the descriptor is valid,
 * the template is filled in (same prefix and suffix), the file exists at the real path and is
 * the descriptor's, /proc/self/fd names it by the template, FD_CLOEXEC is as asked. */
static void temp_fd(buf_t *b, const char *label, mkfd_fn mk, const char *sfx) {
    char t[PATH_MAX], orig[PATH_MAX];
    snprintf(t, sizeof t, "%s/w/m_%s.%s.XXXXXX%s", P, label, TAG, sfx);
    strcpy(orig, t);
    errno = 0;
    int fd = mk(t);
    int e = errno;
    add(b, "%s%s: ", label, sfx);
    rok(b, "fd", fd >= 0, e);
    if (fd < 0) return;
    size_t n = strlen(t), sl = strlen(sfx);
    int prefix = n == strlen(orig) && strncmp(t, orig, n - sl - 6) == 0 && strcmp(t + n - sl, sfx) == 0;
    int filled = strncmp(t + n - sl - 6, "XXXXXX", 6) != 0;
    add(b, "prefix=%d filled=%d ", prefix, filled);
    struct stat sr, sf;
    int r = stat(rj(t + strlen(P)), &sr);
    int re = errno;
    fstat(fd, &sf);
    if (r == 0)
        add(b, "real=yes same=%d mode=%o ", sr.st_ino == sf.st_ino && sr.st_dev == sf.st_dev, sr.st_mode);
    else
        add(b, "real=%s ", en(re));
    char lk[64], nm[PATH_MAX];
    snprintf(lk, sizeof lk, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(lk, nm, sizeof nm - 1);
    nm[k < 0 ? 0 : k] = 0;
    add(b, "fdname=%s ", strcmp(nm, t) == 0 ? "template" : norm(nm));
    add(b, "cloexec=%d ", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    if (write(fd, "tmp", 3) != 3) add(b, "short write ");
    char d[8] = {0};
    add(b, "pread=%zd[%s] ", pread(fd, d, 3, 0), d);
    close(fd);
}

/* The error cases: no XXXXXX (EINVAL), a missing directory (ENOENT). */
static void temp_fd_errors(buf_t *b, mkfd_fn mk, const char *sfx) {
    char t[PATH_MAX];
    snprintf(t, sizeof t, "%s/w/m_noxs.%s%s", P, TAG, sfx);
    errno = 0;
    int fd = mk(t);
    RV(b, "no_xs", fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
    snprintf(t, sizeof t, "%s/missing/tXXXXXX%s", P, sfx);
    errno = 0;
    fd = mk(t);
    RV(b, "missing_dir", fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
}

#define MK(name, call)                           \
    static int name(char *t) { return call; }
MK(s_mkstemp, mkstemp(t))
MK(s_mkstemp64, mkstemp64(t))
MK(s_mkostemp, mkostemp(t, O_CLOEXEC))
MK(s_mkostemp64, mkostemp64(t, O_CLOEXEC))
MK(s_mkstemps, mkstemps(t, 4))
MK(s_mkstemps64, mkstemps64(t, 4))
MK(s_mkostemps, mkostemps(t, 4, O_CLOEXEC))
MK(s_mkostemps64, mkostemps64(t, 4, O_CLOEXEC))
/* suffixlen 0 for the s-forms too */
MK(s_mkstemps0, mkstemps(t, 0))
MK(s_mkstemps640, mkstemps64(t, 0))
MK(s_mkostemps0, mkostemps(t, 0, 0))
MK(s_mkostemps640, mkostemps64(t, 0, 0))

static void t_mkstemp(buf_t *b) {
    temp_fd(b, "mkstemp", s_mkstemp, "");
    temp_fd_errors(b, s_mkstemp, "");
}
static void t_mkstemp64(buf_t *b) {
    temp_fd(b, "mkstemp64", s_mkstemp64, "");
    temp_fd_errors(b, s_mkstemp64, "");
}
static void t_mkostemp(buf_t *b) {
    temp_fd(b, "mkostemp", s_mkostemp, "");
    temp_fd_errors(b, s_mkostemp, "");
}
static void t_mkostemp64(buf_t *b) {
    temp_fd(b, "mkostemp64", s_mkostemp64, "");
    temp_fd_errors(b, s_mkostemp64, "");
}
static void t_mkstemps(buf_t *b) {
    temp_fd(b, "mkstemps", s_mkstemps, ".sfx");
    temp_fd(b, "mkstemps", s_mkstemps0, "");
    temp_fd_errors(b, s_mkstemps, ".sfx");
}
static void t_mkstemps64(buf_t *b) {
    temp_fd(b, "mkstemps64", s_mkstemps64, ".sfx");
    temp_fd(b, "mkstemps64", s_mkstemps640, "");
    temp_fd_errors(b, s_mkstemps64, ".sfx");
}
static void t_mkostemps(buf_t *b) {
    temp_fd(b, "mkostemps", s_mkostemps, ".sfx");
    temp_fd(b, "mkostemps", s_mkostemps0, "");
    temp_fd_errors(b, s_mkostemps, ".sfx");
}
static void t_mkostemps64(buf_t *b) {
    temp_fd(b, "mkostemps64", s_mkostemps64, ".sfx");
    temp_fd(b, "mkostemps64", s_mkostemps640, "");
    temp_fd_errors(b, s_mkostemps64, ".sfx");
}
#define TEMP_FD_ERRORS "no_xs=-1/EINVAL; missing_dir=-1/ENOENT; "
#define TEMP_FD_OUT(label, sfx, cloexec)                                                              \
    label sfx ": fd=ok; prefix=1 filled=1 real=yes same=1 mode=100600 fdname=template cloexec=" cloexec \
              " pread=3[tmp] "

static void t_mkdtemp(buf_t *b) {
    char t[PATH_MAX], orig[PATH_MAX];
    snprintf(t, sizeof t, "%s/w/m_mkdtemp.%s.XXXXXX", P, TAG);
    strcpy(orig, t);
    errno = 0;
    char *r = mkdtemp(t);
    int e = errno;
    add(b, "ret=%s ", r == t ? "template" : r ? "other" : en(e));
    if (!r) return;
    size_t n = strlen(t);
    add(b, "prefix=%d filled=%d ", n == strlen(orig) && strncmp(t, orig, n - 6) == 0, strcmp(t + n - 6, "XXXXXX") != 0);
    mode_of(b, "real", rj(t + strlen(P)), 1);
    /* a file in it, through the template's name */
    char f[PATH_MAX + 8];
    snprintf(f, sizeof f, "%s/x", t);
    int fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0600);
    rok(b, "create_in", fd >= 0, errno);
    if (fd >= 0) close(fd);
    snprintf(t, sizeof t, "%s/missing/dXXXXXX", P);
    errno = 0;
    r = mkdtemp(t);
    add(b, "missing_dir=%s ", r ? "ok" : en(errno));
    snprintf(t, sizeof t, "%s/w/m_dnoxs", P);
    errno = 0;
    r = mkdtemp(t);
    add(b, "no_xs=%s ", r ? "ok" : en(errno));
}

static void t_mktemp(buf_t *b) {
    char t[PATH_MAX], orig[PATH_MAX];
    snprintf(t, sizeof t, "%s/w/m_mktemp.%s.XXXXXX", P, TAG);
    strcpy(orig, t);
    errno = 0;
    char *r = mktemp(t);
    add(b, "ret=%s ", r == t ? "template" : r ? "other" : "NULL");
    size_t n = strlen(t);
    add(b, "prefix=%d filled=%d ", n == strlen(orig) && strncmp(t, orig, n - 6) == 0, strcmp(t + n - 6, "XXXXXX") != 0);
    struct stat st;
    errno = 0;
    RV(b, "real_before", lstat(rj(t + strlen(P)), &st));
    int fd = open(t, O_WRONLY | O_CREAT | O_EXCL, 0600);
    rok(b, "create", fd >= 0, errno);
    if (fd >= 0) close(fd);
    errno = 0;
    RV(b, "real_after", lstat(rj(t + strlen(P)), &st));
    /* failure empties the template */
    snprintf(t, sizeof t, "%s/w/m_tnoxs", P);
    errno = 0;
    r = mktemp(t);
    add(b, "no_xs=[%s]/%s ", r ? r : "NULL", en(errno));
}

static void tmpfile_common(buf_t *b, FILE *(*fn)(void)) {
    errno = 0;
    FILE *f = fn();
    rok(b, "tmpfile", f != NULL, errno);
    if (!f) return;
    fputs("tmpdata\n", f);
    fflush(f);
    struct stat st;
    fstat(fileno(f), &st);
    add(b, "nlink=%lu mode=%o ", (unsigned long)st.st_nlink, st.st_mode & 0777);
    rewind(f);
    char d[64] = {0};
    size_t k = fread(d, 1, sizeof d - 1, f);
    add(b, "read=%zu[%s] ", k, norm(d));
    add(b, "fclose=%d ", fclose(f));
}

static void t_tmpfile(buf_t *b) { tmpfile_common(b, tmpfile); }
static void t_tmpfile64(buf_t *b) { tmpfile_common(b, tmpfile64); }
#define TMPFILE_OUT "tmpfile=ok; nlink=0 mode=600 read=8[tmpdata\n] fclose=0 "

/* A made-up name: DIR/PFX followed by 6 characters, not existing. */
static void name_add(buf_t *b, const char *label, const char *r, const char *dir, const char *pfx) {
    if (!r) {
        add(b, "%s=NULL/%s ", label, en(errno));
        return;
    }
    size_t dl = strlen(dir), pl = strlen(pfx);
    int form = strncmp(r, dir, dl) == 0 && r[dl] == '/' && strncmp(r + dl + 1, pfx, pl) == 0 && strlen(r) == dl + 1 + pl + 6;
    struct stat st;
    int exists = lstat(r, &st) == 0;
    if (form)
        add(b, "%s=%s/%s?????? exists=%d ", label, norm(dir), pfx, exists);
    else
        add(b, "%s=[%s] exists=%d ", label, norm(r), exists);
}

static void t_tempnam(buf_t *b) {
    char *r = tempnam(pj("/w"), "mtn");
    name_add(b, "dir", r, pj("/w"), "mtn");
    free(r);
    r = tempnam(pj("/dirlink"), "mtn");
    name_add(b, "dirlink", r, pj("/dirlink"), "mtn");
    free(r);
    r = tempnam(NULL, "mtn");
    name_add(b, "null", r, "/tmp", "mtn");
    free(r);
    r = tempnam(pj("/missing"), "mtn"); /* falls back to P_tmpdir */
    name_add(b, "missing", r, "/tmp", "mtn");
    free(r);
}

static void t_tmpnam(buf_t *b) {
    char *r = tmpnam(NULL);
    /* glibc: /tmp/file + 6 characters */
    name_add(b, "static", r, "/tmp", "file");
    char buf[L_tmpnam];
    r = tmpnam(buf);
    add(b, "same_buf=%d ", r == buf);
    name_add(b, "buf", r, "/tmp", "file");
}

/* ---- exec ---- */

typedef void (*child_fn)(void);

/* Reads a child's output from p[0] (p[1] is closed here) and its exit status; records both. */
static void collect(buf_t *b, const char *label, int p[2], pid_t pid) {
    close(p[1]);
    char out[8192];
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], out + n, sizeof out - 1 - n)) > 0) n += k;
    out[n] = 0;
    close(p[0]);
    int status = 0;
    if (pid < 0) {
        add(b, "%s: pid=-1/%s ", label, en(errno));
        return;
    }
    waitpid(pid, &status, 0);
    if (label) add(b, "%s: ", label);
    if (WIFEXITED(status))
        add(b, "exit=%d ", WEXITSTATUS(status));
    else
        add(b, "signal=%d ", WTERMSIG(status));
    add(b, "out=[%s]; ", norm(out));
}

/* Runs fn in a child whose stdout is a pipe and whose cwd is P/sub (as in every_hook.c). */
static void capture(buf_t *b, const char *label, child_fn fn) {
    int p[2];
    if (pipe(p) != 0) {
        add(b, "pipe failed");
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        close(p[1]);
        alarm(30); /* kept across exec */
        if (chdir(pj("/sub")) != 0) dprintf(1, "chdir failed %s\n", en(errno));
        errno = 0;
        fn();
        dprintf(1, "returned errno=%s\n", en(errno));
        _exit(99);
    }
    collect(b, label, p, pid);
}

#define PROG_OUT "exit=0 out=[<P>/bin/prog x y\n<P>/sub\n]; "
#define HPROG_OUT "exit=0 out=[<P>/bin/hprog x y\n<P>/sub\n]; "
#define EXEC_ERR(e) "exit=99 out=[returned errno=" e "\n]; "

static char *const prog_argv[] = {"prog", "x", "y", NULL};
static char *const hprog_argv[] = {"hprog", "x", "y", NULL};
static char *const empty_env[] = {NULL};

/* Opens path (no O_CLOEXEC: a script run through /dev/fd/N needs it) as descriptor 9. */
static int open_as_9(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd < 0) return fd;
    if (fd != 9) {
        dup2(fd, 9);
        close(fd);
    }
    return 9;
}

static void x_fexecve_sh(void) {
    int fd = open_as_9(hj("/bin/sh"), O_RDONLY);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cat %s/file; pwd -P; cat ../sub/inner", P);
    char *const argv[] = {"sh", "-c", cmd, NULL};
    fexecve(fd, argv, empty_env);
}
static void x_fexecve_hprog(void) { fexecve(open_as_9(pj("/bin/hprog"), O_RDONLY), hprog_argv, empty_env); }
static void x_fexecve_prog(void) { fexecve(open_as_9(pj("/bin/prog"), O_RDONLY), prog_argv, environ); }
static void x_fexecve_path(void) { fexecve(open_as_9(hj("/bin/sh"), O_PATH), hprog_argv, empty_env); }
static void x_fexecve_noexec(void) { fexecve(open_as_9(pj("/file"), O_RDONLY), prog_argv, environ); }

static void t_fexecve(buf_t *b) {
    capture(b, "sh", x_fexecve_sh);
    capture(b, "hprog", x_fexecve_hprog);
    capture(b, "prog", x_fexecve_prog);
    capture(b, "noexec", x_fexecve_noexec);
    (void)x_fexecve_path;
}

/* _exit and _Exit end the process at once: stdio's buffer is not written (the library writes
   only its own trace buffers first). */
static void x__exit(void) {
    printf("buffered, never written");
    _exit(7);
}
static void x__Exit(void) {
    printf("buffered, never written");
    _Exit(8);
}
static void t__exit(buf_t *b) { capture(b, "_exit", x__exit); }
static void t__Exit(buf_t *b) { capture(b, "_Exit", x__Exit); }

/* The user and group databases: outside a root they are glibc's own (here: /etc's). */
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
static void t_getpwnam(buf_t *b) { struct passwd *p = getpwnam("root"); add(b, "%s %d %s", p ? p->pw_name : "-", p ? (int)p->pw_uid : -1, p ? p->pw_dir : "-"); }
static void t_getpwuid(buf_t *b) { struct passwd *p = getpwuid(0); add(b, "%s", p ? p->pw_name : "-"); }
static void t_getpwnam_r(buf_t *b) {
    struct passwd pw, *r = 0; char buf[1024];
    int e = getpwnam_r("root", &pw, buf, sizeof buf, &r);
    add(b, "%d %s", e, r ? r->pw_shell : "-");
}
static void t_getpwuid_r(buf_t *b) {
    struct passwd pw, *r = 0; char buf[1024];
    int e = getpwuid_r(0, &pw, buf, sizeof buf, &r);
    add(b, "%d %s", e, r ? r->pw_name : "-");
}
static void t_getgrnam(buf_t *b) { struct group *g = getgrnam("root"); add(b, "%s %d", g ? g->gr_name : "-", g ? (int)g->gr_gid : -1); }
static void t_getgrgid(buf_t *b) { struct group *g = getgrgid(0); add(b, "%s", g ? g->gr_name : "-"); }
static void t_getgrnam_r(buf_t *b) {
    struct group gr, *r = 0; char buf[4096];
    int e = getgrnam_r("root", &gr, buf, sizeof buf, &r);
    add(b, "%d %s", e, r ? r->gr_name : "-");
}
static void t_getgrgid_r(buf_t *b) {
    struct group gr, *r = 0; char buf[4096];
    int e = getgrgid_r(0, &gr, buf, sizeof buf, &r);
    add(b, "%d %s", e, r ? r->gr_name : "-");
}
static void t_pwent(buf_t *b) {
    int n = 0, root = 0; struct passwd *p;
    setpwent();
    while ((p = getpwent())) { n++; root += p->pw_uid == 0; }
    endpwent();
    add(b, "some=%d root=%d", n > 0, root);
}
static void t_grent(buf_t *b) {
    int n = 0, root = 0; struct group *g;
    setgrent();
    while ((g = getgrent())) { n++; root += g->gr_gid == 0; }
    endgrent();
    add(b, "some=%d root=%d", n > 0, root);
}
static void t_lckpwdf(buf_t *b) {
    int a = lckpwdf(), again = lckpwdf(), c = ulckpwdf(), d = ulckpwdf();
    add(b, "lock=%d again=%d unlock=%d twice=%d", a, again, c, d);
}

static void x_execveat_dir(void) { execveat(open_as_9(pj("/bin"), O_RDONLY | O_DIRECTORY), "prog", prog_argv, environ, 0); }
static void x_execveat_dir_h(void) {
    execveat(open_as_9(pj("/bin"), O_RDONLY | O_DIRECTORY), "hprog", hprog_argv, empty_env, 0);
}
static void x_execveat_abs(void) { execveat(AT_FDCWD, pj("/bin/prog"), prog_argv, environ, 0); }
static void x_execveat_abs_h(void) { execveat(AT_FDCWD, pj("/bin/hprog"), hprog_argv, empty_env, 0); }
static void x_execveat_rel(void) { execveat(AT_FDCWD, "../bin/prog", prog_argv, environ, 0); }
static void x_execveat_dirfd_abs(void) {
    /* an absolute path ignores the descriptor */
    int fd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    execveat(fd, pj("/bin/hprog"), hprog_argv, environ, 0);
}
static void x_execveat_empty(void) {
    execveat(open_as_9(pj("/bin/hprog"), O_RDONLY), "", hprog_argv, environ, AT_EMPTY_PATH);
}
static void x_execveat_sh(void) {
    int fd = open_as_9(hj("/bin"), O_RDONLY | O_DIRECTORY);
    char *const argv[] = {"sh", "-c", "cat ../file; pwd -P", NULL};
    execveat(fd, "sh", argv, empty_env, 0);
}
static void x_execveat_missing(void) {
    execveat(open_as_9(pj("/bin"), O_RDONLY | O_DIRECTORY), "missing", prog_argv, environ, 0);
}
static void x_execveat_nofollow(void) {
    /* P/link is a symlink: AT_SYMLINK_NOFOLLOW refuses it */
    execveat(AT_FDCWD, pj("/link"), prog_argv, environ, AT_SYMLINK_NOFOLLOW);
}

static void t_execveat(buf_t *b) {
    capture(b, "dir", x_execveat_dir);
    capture(b, "dir_h", x_execveat_dir_h);
    capture(b, "abs", x_execveat_abs);
    capture(b, "abs_h", x_execveat_abs_h);
    capture(b, "rel", x_execveat_rel);
    capture(b, "dirfd_abs", x_execveat_dirfd_abs);
    capture(b, "empty", x_execveat_empty);
    capture(b, "sh", x_execveat_sh);
    capture(b, "missing", x_execveat_missing);
    capture(b, "nofollow", x_execveat_nofollow);
}

/* What a child of fork, _Fork or clone does: read P/file, its cwd, a relative file. */
static int child_reads(void *arg) {
    int out = (int)(intptr_t)arg;
    int fd = open(pj("/file"), O_RDONLY);
    char d[256];
    ssize_t n = fd >= 0 ? read(fd, d, sizeof d) : -1;
    if (n > 0) write(out, d, n);
    if (fd >= 0) close(fd);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) dprintf(out, "%s\n", cwd);
    fd = open("inner", O_RDONLY);
    n = fd >= 0 ? read(fd, d, sizeof d) : -1;
    if (n > 0) write(out, d, n);
    else dprintf(out, "inner: %s\n", en(errno));
    return 7;
}

static void fork_common(buf_t *b, pid_t (*fk)(void)) {
    if (chdir(pj("/sub")) != 0) add(b, "chdir failed ");
    int p[2];
    if (pipe(p) != 0) return;
    fflush(NULL);
    pid_t pid = fk();
    if (pid == 0) {
        close(p[0]);
        _exit(child_reads((void *)(intptr_t)p[1]));
    }
    collect(b, "child", p, pid);
    /* the parent is still where it was */
    char cwd[PATH_MAX];
    add(b, "parent_cwd=%s ", norm(getcwd(cwd, sizeof cwd)));
    chdir("/");
}

static void t_fork(buf_t *b) { fork_common(b, fork); }
static void t_Fork(buf_t *b) { fork_common(b, _Fork); }
#define FORK_OUT "child: exit=7 out=[" CONTENT "<P>/sub\n" INNER "]; parent_cwd=<P>/sub "

static char *clone_cat_path;
static int clone_execs(void *arg) {
    int out = (int)(intptr_t)arg;
    dup2(out, 1);
    char *const argv[] = {"cat", clone_cat_path, NULL};
    execv("/bin/cat", argv);
    _exit(99);
}

static void t_clone(buf_t *b) {
    if (chdir(pj("/sub")) != 0) add(b, "chdir failed ");
    size_t sz = 256 * 1024;
    char *stack = malloc(sz);
    int p[2];
    if (pipe(p) != 0) return;
    fflush(NULL);
    pid_t pid = clone(child_reads, stack + sz, SIGCHLD, (void *)(intptr_t)p[1]);
    collect(b, "copy", p, pid);
    /* as posix_spawn does: shared memory, the parent waits for the exec */
    if (pipe(p) != 0) return;
    clone_cat_path = (char *)pj("/file");
    pid = clone(clone_execs, stack + sz, CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)(intptr_t)p[1]);
    collect(b, "vm_vfork", p, pid);
    free(stack);
    chdir("/");
}

static void t_vfork(buf_t *b) {
    if (chdir(pj("/sub")) != 0) add(b, "chdir failed ");
    int p[2];
    if (pipe(p) != 0) return;
    const char *file = pj("/file");
    const char *cat = hj("/bin/cat");
    fflush(NULL);
    pid_t pid = vfork();
    if (pid == 0) {
        dup2(p[1], 1);
        char *const argv[] = {"cat", (char *)file, "inner", NULL};
        execv(cat, argv);
        _exit(99);
    }
    collect(b, "cat", p, pid);
    char cwd[PATH_MAX];
    add(b, "parent_cwd=%s ", norm(getcwd(cwd, sizeof cwd)));
    chdir("/");
}

/* ---- misc: the loader ---- */

static void t_dlopen(buf_t *b) {
    void *h = dlopen(hj(LIBM), RTLD_NOW);
    rok(b, "libm", h != NULL, 0);
    if (h) {
        double (*c)(double) = (double (*)(double))dlsym(h, "cos");
        add(b, "cos(1)=%.6f ", c ? c(1.0) : -9.0);
        void *r = dlopen(LIBM, RTLD_NOW | RTLD_NOLOAD);
        add(b, "same_as_real=%d ", r == h);
        if (r) dlclose(r);
        void *again = dlopen(hj(LIBM), RTLD_NOW | RTLD_NOLOAD);
        add(b, "noload_again=%d ", again == h);
        if (again) dlclose(again);
        dlclose(h);
    } else {
        add(b, "err=[%s] ", norm(dlerror()));
    }
    void *s = dlopen("libm.so.6", RTLD_NOW); /* a search: no path */
    rok(b, "search", s != NULL, 0);
    if (s) dlclose(s);
    h = dlopen(pj("/missing.so"), RTLD_NOW);
    add(b, "missing=%s ", h ? "handle" : "NULL");
    h = dlopen(pj("/file"), RTLD_NOW);
    add(b, "not_elf=%s ", h ? "handle" : "NULL");
    if (chdir(pj("/sub")) == 0) {
        h = dlopen("../missing.so", RTLD_NOW);
        add(b, "rel_missing=%s ", h ? "handle" : "NULL");
        chdir("/");
    }
    h = dlopen(NULL, RTLD_NOW);
    add(b, "main=%s ", h ? "handle" : "NULL");
}

static void t_dlmopen(buf_t *b) {
    void *h = dlmopen(LM_ID_NEWLM, hj(LIBM), RTLD_NOW);
    rok(b, "libm", h != NULL, 0);
    if (h) {
        Lmid_t id = -1;
        dlinfo(h, RTLD_DI_LMID, &id);
        add(b, "new_ns=%d ", id != LM_ID_BASE);
        double (*c)(double) = (double (*)(double))dlsym(h, "cos");
        add(b, "cos(1)=%.6f ", c ? c(1.0) : -9.0);
        dlclose(h);
    } else {
        add(b, "err=[%s] ", norm(dlerror()));
    }
    h = dlmopen(LM_ID_BASE, hj(LIBM), RTLD_NOW);
    rok(b, "base", h != NULL, 0);
    if (h) {
        void *r = dlopen(LIBM, RTLD_NOW | RTLD_NOLOAD);
        add(b, "same_as_real=%d ", r == h);
        if (r) dlclose(r);
        dlclose(h);
    }
    h = dlmopen(LM_ID_NEWLM, pj("/missing.so"), RTLD_NOW);
    add(b, "missing=%s ", h ? "handle" : "NULL");
}

/* ---- misc: AF_UNIX sockets ---- */

static socklen_t sun_of(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
    return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

/* Records an address the kernel (or the view) returned: `exact` when it is `want` with the
 * length the kernel gives, `unnamed` for a bare family. */
static void addr_add(buf_t *b, const char *label, const struct sockaddr_un *a, socklen_t len, const char *want) {
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (len == off) {
        add(b, "%s=unnamed ", label);
    } else if (a->sun_family != AF_UNIX) {
        add(b, "%s=family%d ", label, a->sun_family);
    } else if (want && strcmp(a->sun_path, want) == 0 && len == off + strlen(want) + 1) {
        add(b, "%s=exact ", label);
    } else {
        add(b, "%s=[%s] len=%u ", label, norm(a->sun_path), (unsigned)len);
    }
}

static int unix_listener(const char *path, int *err) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    socklen_t l = sun_of(&a, path);
    unlink(rj(path + strlen(P)));
    errno = 0;
    if (bind(s, (struct sockaddr *)&a, l) != 0 || listen(s, 4) != 0) {
        *err = errno;
        close(s);
        return -1;
    }
    return s;
}

static int unix_client(const char *path, int *err) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    socklen_t l = sun_of(&a, path);
    errno = 0;
    if (connect(c, (struct sockaddr *)&a, l) != 0) {
        *err = errno;
        close(c);
        return -1;
    }
    return c;
}

/* Data both ways over a connected pair. */
static void exchange(buf_t *b, int c, int s) {
    char d[16] = {0};
    if (write(c, "ping", 4) != 4) add(b, "short write ");
    ssize_t n = read(s, d, sizeof d - 1);
    add(b, "c2s=%zd[%s] ", n, d);
    memset(d, 0, sizeof d);
    if (write(s, "pong", 4) != 4) add(b, "short write ");
    n = read(c, d, sizeof d - 1);
    add(b, "s2c=%zd[%s] ", n, d);
}

static void t_bind(buf_t *b) {
    const char *path = pj(wn("sock_bind"));
    unlink(rj(wn("sock_bind")));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    socklen_t l = sun_of(&a, path);
    errno = 0;
    RV(b, "bind", bind(s, (struct sockaddr *)&a, l));
    struct stat st;
    errno = 0;
    int r = lstat(rj(wn("sock_bind")), &st);
    RV(b, "real", r);
    if (r == 0) add(b, "sock=%d ", S_ISSOCK(st.st_mode));
    /* the same path again: in use */
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    RV(b, "again", bind(s2, (struct sockaddr *)&a, l));
    close(s2);
    /* sun_path without its NUL in the length */
    const char *p3 = pj(wn("sock_bind_nonul"));
    unlink(rj(wn("sock_bind_nonul")));
    int s3 = socket(AF_UNIX, SOCK_STREAM, 0);
    l = sun_of(&a, p3) - 1;
    errno = 0;
    RV(b, "no_nul", bind(s3, (struct sockaddr *)&a, l));
    errno = 0;
    RV(b, "real", lstat(rj(wn("sock_bind_nonul")), &st));
    close(s3);
    /* relative to the cwd */
    if (chdir(pj("/w")) == 0) {
        int s4 = socket(AF_UNIX, SOCK_STREAM, 0);
        unlink(rj(wn("sock_bind_rel")));
        l = sun_of(&a, base(wn("sock_bind_rel")));
        errno = 0;
        RV(b, "rel", bind(s4, (struct sockaddr *)&a, l));
        errno = 0;
        RV(b, "real", lstat(rj(wn("sock_bind_rel")), &st));
        close(s4);
        chdir("/");
    }
    int s5 = socket(AF_UNIX, SOCK_STREAM, 0);
    l = sun_of(&a, pj("/missing/sock"));
    errno = 0;
    RV(b, "missing_dir", bind(s5, (struct sockaddr *)&a, l));
    close(s5);
    /* an abstract name is no path */
    int s6 = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    l = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(a.sun_path + 1, 100, "kmview-more-%d-%s", getpid(), TAG);
    errno = 0;
    RV(b, "abstract", bind(s6, (struct sockaddr *)&a, l));
    close(s6);
    close(s);
}

static void t_connect(buf_t *b) {
    const char *path = pj(wn("sock_connect"));
    /* the server is bound at the real path: nothing of the view in it */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    unlink(rj(wn("sock_connect")));
    socklen_t l = sun_of(&a, rj(wn("sock_connect")));
    bind(s, (struct sockaddr *)&a, l);
    listen(s, 4);
    int e = 0;
    int c = unix_client(path, &e);
    rok(b, "connect", c >= 0, e);
    if (c >= 0) {
        int x = accept(s, NULL, NULL);
        exchange(b, c, x);
        close(x);
        close(c);
    }
    if (chdir(pj("/sub")) == 0) {
        char rel[256];
        snprintf(rel, sizeof rel, "..%s", wn("sock_connect"));
        c = unix_client(rel, &e);
        rok(b, "rel", c >= 0, e);
        if (c >= 0) {
            int x = accept(s, NULL, NULL);
            exchange(b, c, x);
            close(x);
            close(c);
        }
        chdir("/");
    }
    c = unix_client(pj("/missing"), &e);
    rok(b, "missing", c >= 0, e);
    c = unix_client(pj("/file"), &e);
    rok(b, "not_socket", c >= 0, e);
    close(s);
}

static void t_getsockname(buf_t *b) {
    const char *path = pj(wn("sock_name"));
    int e = 0;
    int s = unix_listener(path, &e);
    rok(b, "listen", s >= 0, e);
    if (s < 0) return;
    struct sockaddr_un a;
    socklen_t l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "listener", getsockname(s, (struct sockaddr *)&a, &l));
    addr_add(b, "name", &a, l, path);
    /* a short buffer: truncated (nothing written past it), the full length returned */
    struct {
        char small[8];
        char guard[sizeof(struct sockaddr_un)];
    } sb;
    memset(&sb, 0x55, sizeof sb);
    l = sizeof sb.small;
    errno = 0;
    RV(b, "short", getsockname(s, (struct sockaddr *)sb.small, &l));
    int guard_ok = 1;
    for (size_t i = 0; i < sizeof sb.guard; i++)
        if (sb.guard[i] != 0x55) guard_ok = 0;
    add(b, "full_len=%d prefix=%d guard_intact=%d ", l == offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1,
        memcmp(sb.small + 2, path, 6) == 0, guard_ok);
    int c = unix_client(path, &e);
    int x = accept(s, NULL, NULL);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "accepted", getsockname(x, (struct sockaddr *)&a, &l));
    addr_add(b, "name", &a, l, path);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "client", getsockname(c, (struct sockaddr *)&a, &l));
    addr_add(b, "name", &a, l, NULL);
    close(x);
    close(c);
    close(s);
    /* bound by the real path: the real path */
    const char *real = rj(wn("sock_name_real"));
    unlink(real);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    l = sun_of(&a, real);
    bind(s, (struct sockaddr *)&a, l);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "real_bound", getsockname(s, (struct sockaddr *)&a, &l));
    addr_add(b, "name", &a, l, real);
    close(s);
    /* bound relative to the cwd: as given */
    if (chdir(pj("/w")) == 0) {
        const char *rel = base(wn("sock_name_rel"));
        unlink(rj(wn("sock_name_rel")));
        s = socket(AF_UNIX, SOCK_STREAM, 0);
        l = sun_of(&a, rel);
        bind(s, (struct sockaddr *)&a, l);
        l = sizeof a;
        memset(&a, 0, sizeof a);
        errno = 0;
        RV(b, "rel_bound", getsockname(s, (struct sockaddr *)&a, &l));
        addr_add(b, "name", &a, l, rel);
        close(s);
        chdir("/");
    }
    /* a datagram socket too */
    const char *dpath = pj(wn("sock_name_dgram"));
    unlink(rj(wn("sock_name_dgram")));
    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    l = sun_of(&a, dpath);
    errno = 0;
    RV(b, "dgram_bind", bind(s, (struct sockaddr *)&a, l));
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "dgram", getsockname(s, (struct sockaddr *)&a, &l));
    addr_add(b, "name", &a, l, dpath);
    close(s);
}

static void t_getpeername(buf_t *b) {
    const char *path = pj(wn("sock_peer"));
    int e = 0;
    int s = unix_listener(path, &e);
    rok(b, "listen", s >= 0, e);
    if (s < 0) return;
    int c = unix_client(path, &e);
    rok(b, "connect", c >= 0, e);
    int x = accept(s, NULL, NULL);
    struct sockaddr_un a;
    socklen_t l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "client", getpeername(c, (struct sockaddr *)&a, &l));
    addr_add(b, "peer", &a, l, path);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "accepted", getpeername(x, (struct sockaddr *)&a, &l));
    addr_add(b, "peer", &a, l, NULL);
    l = sizeof a;
    errno = 0;
    RV(b, "listener", getpeername(s, (struct sockaddr *)&a, &l));
    /* a dup of the client has the same peer */
    int d = dup(c);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "dup", getpeername(d, (struct sockaddr *)&a, &l));
    addr_add(b, "peer", &a, l, path);
    close(d);
    close(x);
    close(c);
    /* connected by the real path: the real path */
    const char *real = rj(wn("sock_peer"));
    c = unix_client(real, &e);
    x = accept(s, NULL, NULL);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    RV(b, "real_client", getpeername(c, (struct sockaddr *)&a, &l));
    addr_add(b, "peer", &a, l, path); /* the server's name: as it was bound */
    close(x);
    close(c);
    /* a relative connect: the peer's name is the one it was bound with */
    if (chdir(pj("/w")) == 0) {
        c = unix_client(base(path), &e);
        rok(b, "rel_connect", c >= 0, e);
        x = accept(s, NULL, NULL);
        l = sizeof a;
        memset(&a, 0, sizeof a);
        errno = 0;
        RV(b, "rel_client", getpeername(c, (struct sockaddr *)&a, &l));
        addr_add(b, "peer", &a, l, path);
        close(x);
        close(c);
        chdir("/");
    }
    close(s);
}

static void accept_common(buf_t *b, int use4) {
    const char *path = pj(wn(use4 ? "sock_accept4" : "sock_accept"));
    int e = 0;
    int s = unix_listener(path, &e);
    rok(b, "listen", s >= 0, e);
    if (s < 0) return;
    int c = unix_client(path, &e);
    rok(b, "connect", c >= 0, e);
    struct sockaddr_un a;
    socklen_t l = sizeof a;
    memset(&a, 0, sizeof a);
    errno = 0;
    int x = use4 ? accept4(s, (struct sockaddr *)&a, &l, SOCK_CLOEXEC) : accept(s, (struct sockaddr *)&a, &l);
    rok(b, "accept", x >= 0, errno);
    if (x < 0) return;
    addr_add(b, "from", &a, l, NULL);
    add(b, "cloexec=%d ", (fcntl(x, F_GETFD) & FD_CLOEXEC) != 0);
    exchange(b, c, x);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    getsockname(x, (struct sockaddr *)&a, &l);
    addr_add(b, "name", &a, l, path);
    close(x);
    close(c);
    /* a NULL address */
    c = unix_client(path, &e);
    errno = 0;
    x = use4 ? accept4(s, NULL, NULL, SOCK_NONBLOCK) : accept(s, NULL, NULL);
    rok(b, "accept_null", x >= 0, errno);
    if (x >= 0) {
        add(b, "nonblock=%d ", (fcntl(x, F_GETFL) & O_NONBLOCK) != 0);
        l = sizeof a;
        memset(&a, 0, sizeof a);
        getsockname(x, (struct sockaddr *)&a, &l);
        addr_add(b, "name", &a, l, path);
        close(x);
    }
    close(c);
    close(s);
    /* a listener bound by the real path: accepted sockets named by it */
    const char *real = rj(wn(use4 ? "sock_accept4_real" : "sock_accept_real"));
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(real);
    l = sun_of(&a, real);
    bind(s, (struct sockaddr *)&a, l);
    listen(s, 4);
    c = unix_client(real, &e);
    x = use4 ? accept4(s, NULL, NULL, 0) : accept(s, NULL, NULL);
    l = sizeof a;
    memset(&a, 0, sizeof a);
    getsockname(x, (struct sockaddr *)&a, &l);
    addr_add(b, "real_name", &a, l, real);
    close(x);
    close(c);
    close(s);
    /* not a socket */
    int fd = open(pj("/file"), O_RDONLY);
    errno = 0;
    x = use4 ? accept4(fd, NULL, NULL, 0) : accept(fd, NULL, NULL);
    RV(b, "not_socket", x);
    close(fd);
}

static void t_accept(buf_t *b) { accept_common(b, 0); }
static void t_accept4(buf_t *b) { accept_common(b, 1); }

/* ---- misc: notifications ---- */

static void inotify_events(buf_t *b, int fd) {
    char ev[4096] __attribute__((aligned(8)));
    ssize_t n = read(fd, ev, sizeof ev);
    if (n < 0) {
        add(b, "read=-1/%s ", en(errno));
        return;
    }
    for (ssize_t i = 0; i < n;) {
        struct inotify_event *e = (struct inotify_event *)(ev + i);
        add(b, "event[wd=%d mask=%x name=%s] ", e->wd, e->mask, e->len ? e->name : "");
        i += sizeof *e + e->len;
    }
}

static void t_inotify_add_watch(buf_t *b) {
    const char *d = wn("inotify");
    char nf[256];
    snprintf(nf, sizeof nf, "%s/newfile", d);
    unlink(rj(nf));
    rmdir(rj(d));
    mkdir(rj(d), 0755);
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    errno = 0;
    int wd = inotify_add_watch(fd, pj(d), IN_CREATE | IN_DELETE);
    RV(b, "watch", wd);
    /* the same directory by its real path: the same watch */
    int wd2 = inotify_add_watch(fd, rj(d), IN_CREATE | IN_DELETE);
    add(b, "same_wd=%d ", wd == wd2);
    int c = creat(rj(nf), 0644);
    close(c);
    unlink(rj(nf));
    inotify_events(b, fd);
    errno = 0;
    RV(b, "missing", inotify_add_watch(fd, pj("/missing"), IN_CREATE));
    errno = 0;
    RV(b, "file/x", inotify_add_watch(fd, pj("/file/x"), IN_CREATE));
    errno = 0;
    RV(b, "onlydir_file", inotify_add_watch(fd, pj("/file"), IN_MODIFY | IN_ONLYDIR));
    /* a symlink: followed, or not with IN_DONT_FOLLOW */
    const char *f = wn("inotify_f"), *l = wn("inotify_l");
    mkfile(f);
    mklink(base(f), l);
    errno = 0;
    int wf = inotify_add_watch(fd, pj(l), IN_ATTRIB);
    int ef = errno;
    errno = 0;
    int wl = inotify_add_watch(fd, pj(l), IN_ATTRIB | IN_DONT_FOLLOW);
    int el = errno;
    add(b, "follow=%s nofollow=%s distinct=%d ", wf > 0 ? "ok" : en(ef), wl > 0 ? "ok" : en(el), wf != wl);
    chmod(rj(f), 0600);
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    utimensat(AT_FDCWD, rj(l), ts, AT_SYMLINK_NOFOLLOW);
    char ev[4096] __attribute__((aligned(8)));
    ssize_t n = read(fd, ev, sizeof ev);
    int on_file = 0, on_link = 0;
    for (ssize_t i = 0; i > -1 && i < n;) {
        struct inotify_event *e = (struct inotify_event *)(ev + i);
        if (e->wd == wf && (e->mask & IN_ATTRIB)) on_file++;
        if (e->wd == wl && (e->mask & IN_ATTRIB)) on_link++;
        i += sizeof *e + e->len;
    }
    add(b, "attrib_file=%d attrib_link=%d ", on_file, on_link);
    /* relative to the cwd */
    if (chdir(pj("/sub")) == 0) {
        char rel[256];
        snprintf(rel, sizeof rel, "..%s", d);
        add(b, "rel_same_wd=%d ", inotify_add_watch(fd, rel, IN_CREATE | IN_DELETE) == wd);
        chdir("/");
    }
    close(fd);
    rmdir(rj(d));
}

static void t_fanotify_mark(buf_t *b) {
    int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
    if (fd < 0) {
        /* no CAP_SYS_ADMIN: the mark call cannot be tried */
        add(b, "init=-1/%s ", en(errno));
        errno = 0;
        RV(b, "mark_badf", fanotify_mark(-1, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, pj("/file")));
        return;
    }
    errno = 0;
    RV(b, "mark", fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, pj("/file")));
    int o = open(rj("/file"), O_RDONLY);
    close(o);
    struct stat rs;
    stat(rj("/file"), &rs);
    char ev[4096] __attribute__((aligned(8)));
    ssize_t n = read(fd, ev, sizeof ev);
    int events = 0, ours = 0;
    for (struct fanotify_event_metadata *m = (void *)ev; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
        struct stat es;
        if ((m->mask & FAN_OPEN) && m->fd >= 0 && fstat(m->fd, &es) == 0 && es.st_ino == rs.st_ino && m->pid == getpid())
            ours++;
        events++;
        if (m->fd >= 0) close(m->fd);
    }
    add(b, "events=%d ours=%d ", events, ours);
    errno = 0;
    RV(b, "remove", fanotify_mark(fd, FAN_MARK_REMOVE, FAN_OPEN, AT_FDCWD, pj("/file")));
    errno = 0;
    RV(b, "remove_again", fanotify_mark(fd, FAN_MARK_REMOVE, FAN_OPEN, AT_FDCWD, pj("/file")));
    int dfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    RV(b, "dirfd_rel", fanotify_mark(fd, FAN_MARK_ADD, FAN_CLOSE_NOWRITE, dfd, "inner"));
    o = open(rj("/sub/inner"), O_RDONLY);
    close(o);
    n = read(fd, ev, sizeof ev);
    events = 0;
    for (struct fanotify_event_metadata *m = (void *)ev; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
        if (m->mask & FAN_CLOSE_NOWRITE) events++;
        if (m->fd >= 0) close(m->fd);
    }
    add(b, "close_events=%d ", events);
    errno = 0;
    RV(b, "missing", fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN, dfd, "missing"));
    errno = 0;
    RV(b, "missing_abs", fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, pj("/missing")));
    errno = 0;
    RV(b, "onlydir_file", fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, pj("/file")));
    errno = 0;
    RV(b, "link_nofollow",
       fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, pj("/dirlink")));
    errno = 0;
    RV(b, "link_follow", fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_ONLYDIR, FAN_OPEN, AT_FDCWD, pj("/dirlink")));
    close(dfd);
    close(fd);
}

/* ---- misc: file handles ---- */

typedef struct {
    struct file_handle h;
    unsigned char d[MAX_HANDLE_SZ];
} handle_t;

static int handle_of(int dfd, const char *path, int flags, handle_t *h, int *mnt) {
    memset(h, 0, sizeof *h);
    h->h.handle_bytes = MAX_HANDLE_SZ;
    return name_to_handle_at(dfd, path, &h->h, mnt, flags);
}

static int same_handle(const handle_t *x, int mx, const handle_t *y, int my) {
    return x->h.handle_bytes == y->h.handle_bytes && x->h.handle_type == y->h.handle_type &&
           memcmp(x->h.f_handle, y->h.f_handle, x->h.handle_bytes) == 0 && mx == my;
}

/* name_to_handle_at(dfd, path, flags) against the real path's handle. */
static void handle_cmp(buf_t *b, const char *label, int dfd, const char *path, int flags, const char *real, int rflags) {
    handle_t x, y;
    int mx = -1, my = -2;
    errno = 0;
    int r = handle_of(dfd, path, flags, &x, &mx);
    int e = errno;
    int rr = handle_of(AT_FDCWD, real, rflags, &y, &my);
    if (r != 0)
        add(b, "%s=-1/%s; ", label, en(e));
    else
        add(b, "%s=0 bytes=%u same=%d ", label, x.h.handle_bytes, rr == 0 && same_handle(&x, mx, &y, my));
}

static void t_name_to_handle_at(buf_t *b) {
    handle_cmp(b, "file", AT_FDCWD, pj("/file"), 0, rj("/file"), 0);
    handle_cmp(b, "link_follow", AT_FDCWD, pj("/link"), AT_SYMLINK_FOLLOW, rj("/file"), 0);
    handle_cmp(b, "link", AT_FDCWD, pj("/link"), 0, rj("/link"), 0);
    handle_cmp(b, "dirlink_inner", AT_FDCWD, pj("/dirlink/inner"), 0, rj("/sub/inner"), 0);
    handle_cmp(b, "dir", AT_FDCWD, pj("/sub"), 0, rj("/sub"), 0);
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    handle_cmp(b, "dirfd_rel", dfd, "sub/inner", 0, rj("/sub/inner"), 0);
    handle_cmp(b, "dirfd_rel_link", dfd, "link", AT_SYMLINK_FOLLOW, rj("/file"), 0);
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    handle_cmp(b, "dirfd_dotdot", sfd, "../file", 0, rj("/file"), 0);
    int ffd = open(pj("/file"), O_RDONLY);
    handle_cmp(b, "empty_path", ffd, "", AT_EMPTY_PATH, rj("/file"), 0);
    close(ffd);
    close(sfd);
    handle_cmp(b, "missing", dfd, "missing", 0, rj("/missing"), 0);
    handle_cmp(b, "missing_abs", AT_FDCWD, pj("/missing"), 0, rj("/missing"), 0);
    close(dfd);
    if (chdir(pj("/sub")) == 0) {
        handle_cmp(b, "cwd_rel", AT_FDCWD, "../file", 0, rj("/file"), 0);
        chdir("/");
    }
    /* too small a buffer: EOVERFLOW and the size wanted */
    handle_t x;
    int m;
    memset(&x, 0, sizeof x);
    x.h.handle_bytes = 0;
    errno = 0;
    int r = name_to_handle_at(AT_FDCWD, pj("/file"), &x.h, &m, 0);
    RV(b, "small", r);
    handle_t y;
    int my;
    handle_of(AT_FDCWD, rj("/file"), 0, &y, &my);
    add(b, "wanted_ok=%d ", x.h.handle_bytes == y.h.handle_bytes);
}

/* ---- misc: mount (never mounts anything: every target is missing) ---- */

static void t_mount(buf_t *b) {
    errno = 0;
    RV(b, "tmpfs_missing", mount("none", pj("/missing_dir"), "tmpfs", 0, NULL));
    errno = 0;
    RV(b, "null_src_missing", mount(NULL, pj("/missing_dir"), "tmpfs", 0, NULL));
    errno = 0;
    RV(b, "bind_missing_src", mount(pj("/missing_src"), pj("/missing_dir"), NULL, MS_BIND, NULL));
    errno = 0;
    RV(b, "file/x", mount("none", pj("/file/x"), "tmpfs", 0, NULL));
}

static void t_umount(buf_t *b) {
    errno = 0;
    RV(b, "missing", umount(pj("/missing")));
    errno = 0;
    RV(b, "file/x", umount(pj("/file/x")));
}

static void t_umount2(buf_t *b) {
    errno = 0;
    RV(b, "missing", umount2(pj("/missing"), 0));
    errno = 0;
    RV(b, "missing_nofollow", umount2(pj("/missing"), UMOUNT_NOFOLLOW));
    errno = 0;
    RV(b, "missing_detach", umount2(pj("/missing"), MNT_DETACH));
    errno = 0;
    RV(b, "file/x", umount2(pj("/file/x"), 0));
}

/* ---- misc: POSIX shared memory (/dev/shm is not in the view: native both ways) ---- */

static void shm_common(buf_t *b, const char *what) {
    char name[128];
    snprintf(name, sizeof name, "/kmview_test_%d_%s_%s", (int)getpid(), what, TAG);
    shm_unlink(name);
    errno = 0;
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    rok(b, "create", fd >= 0, errno);
    if (fd < 0) return;
    add(b, "cloexec=%d ", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    if (write(fd, "shared", 6) != 6) add(b, "short write ");
    close(fd);
    errno = 0;
    fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    RV(b, "excl_again", fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
    fd = shm_open(name, O_RDONLY, 0);
    rok(b, "reopen", fd >= 0, errno);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    char dev[160];
    snprintf(dev, sizeof dev, "/dev/shm%s", name);
    struct stat st;
    errno = 0;
    RV(b, "dev_shm", stat(dev, &st));
    errno = 0;
    RV(b, "unlink", shm_unlink(name));
    errno = 0;
    RV(b, "unlink_again", shm_unlink(name));
    errno = 0;
    fd = shm_open(name, O_RDONLY, 0);
    RV(b, "gone", fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
    errno = 0;
    fd = shm_open("/a/b", O_RDONLY, 0);
    RV(b, "slash", fd < 0 ? -1 : 0);
    if (fd >= 0) close(fd);
}

static void t_shm_open(buf_t *b) { shm_common(b, "open"); }
static void t_shm_unlink(buf_t *b) { shm_common(b, "unlink"); }
#define SHM_OUT                                                                                          \
    "create=ok; cloexec=1 excl_again=-1/EEXIST; reopen=ok; data=[shared] dev_shm=0; unlink=0; "         \
    "unlink_again=-1/ENOENT; gone=-1/ENOENT; slash=-1/EINVAL; "

/* ---- syscall ---- */

static void t_syscall(buf_t *b) {
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, pj("/file"), O_RDONLY);
    rok(b, "openat", fd >= 0, errno);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    errno = 0;
    fd = syscall(SYS_open, pj("/link"), O_RDONLY);
    rok(b, "open", fd >= 0, errno);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    errno = 0;
    RV(b, "openat_missing", syscall(SYS_openat, AT_FDCWD, pj("/missing"), O_RDONLY));
    struct stat st, rs, rl;
    stat(rj("/file"), &rs);
    lstat(rj("/link"), &rl);
    errno = 0;
    long r = syscall(SYS_newfstatat, AT_FDCWD, pj("/link"), &st, 0);
    RV(b, "newfstatat", r);
    add(b, "same=%d ", r == 0 && st.st_ino == rs.st_ino && st.st_dev == rs.st_dev);
    errno = 0;
    r = syscall(SYS_newfstatat, AT_FDCWD, pj("/link"), &st, AT_SYMLINK_NOFOLLOW);
    RV(b, "newfstatat_nofollow", r);
    add(b, "same=%d ", r == 0 && st.st_ino == rl.st_ino && S_ISLNK(st.st_mode));
    errno = 0;
    RV(b, "stat", syscall(SYS_stat, pj("/file"), &st));
    add(b, "size=%ld ", (long)st.st_size);
    struct statx sx;
    struct stat rsub;
    stat(rj("/sub"), &rsub);
    errno = 0;
    r = syscall(SYS_statx, AT_FDCWD, pj("/dirlink"), 0, STATX_BASIC_STATS, &sx);
    RV(b, "statx", r);
    add(b, "same=%d dir=%d ", r == 0 && sx.stx_ino == rsub.st_ino, S_ISDIR(sx.stx_mode));
    char t[PATH_MAX];
    memset(t, 0, sizeof t);
    errno = 0;
    r = syscall(SYS_readlinkat, AT_FDCWD, pj("/link"), t, sizeof t);
    RV(b, "readlinkat", r);
    add(b, "target=[%s] ", t);
    memset(t, 0, sizeof t);
    errno = 0;
    r = syscall(SYS_readlink, pj("/dirlink"), t, sizeof t);
    RV(b, "readlink", r);
    add(b, "target=[%s] ", t);
    errno = 0;
    RV(b, "faccessat", syscall(SYS_faccessat, AT_FDCWD, pj("/file"), R_OK));
    errno = 0;
    RV(b, "access_missing", syscall(SYS_access, pj("/missing"), F_OK));
    /* getcwd: the kernel's convention, the length with the NUL */
    if (chdir(pj("/sub")) == 0) {
        memset(t, 0, sizeof t);
        errno = 0;
        r = syscall(SYS_getcwd, t, sizeof t);
        add(b, "getcwd=%s cwd=[%s] ", r == (long)strlen(pj("/sub")) + 1 ? "len+1" : r < 0 ? en(errno) : "wrong_len", norm(t));
        errno = 0;
        RV(b, "getcwd_small", syscall(SYS_getcwd, t, 4));
        errno = 0;
        r = syscall(SYS_openat, AT_FDCWD, "../file", O_RDONLY);
        rok(b, "openat_rel", r >= 0, errno);
        if (r >= 0) close(r);
        chdir("/");
    }
    errno = 0;
    RV(b, "chdir", syscall(SYS_chdir, pj("/dirlink")));
    char cwd[PATH_MAX];
    add(b, "cwd=[%s] ", norm(getcwd(cwd, sizeof cwd)));
    chdir("/");
    /* getdents64 of a directory descriptor */
    int dfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    char dents[4096] __attribute__((aligned(8)));
    errno = 0;
    r = syscall(SYS_getdents64, dfd, dents, sizeof dents);
    int dot = 0, dotdot = 0, inner = 0, other = 0;
    for (long i = 0; i < r;) {
        struct {
            uint64_t ino;
            int64_t off;
            unsigned short reclen;
            unsigned char type;
            char name[];
        } *e = (void *)(dents + i);
        if (!strcmp(e->name, ".")) dot++;
        else if (!strcmp(e->name, "..")) dotdot++;
        else if (!strcmp(e->name, "inner")) inner++;
        else other++;
        i += e->reclen;
    }
    add(b, "getdents64=%s .=%d ..=%d inner=%d other=%d ", r > 0 ? "ok" : en(errno), dot, dotdot, inner, other);
    close(dfd);
    /* mkdirat + unlinkat, checked at the real path */
    const char *d = wn("sysdir");
    rmdir(rj(d));
    errno = 0;
    RV(b, "mkdirat", syscall(SYS_mkdirat, AT_FDCWD, pj(d), 0755));
    mode_of(b, "real", rj(d), 1);
    errno = 0;
    RV(b, "mkdirat_again", syscall(SYS_mkdirat, AT_FDCWD, pj(d), 0755));
    errno = 0;
    RV(b, "unlinkat", syscall(SYS_unlinkat, AT_FDCWD, pj(d), AT_REMOVEDIR));
    mode_of(b, "real", rj(d), 1);
    /* numbers with no path pass through */
    add(b, "getpid=%d ", syscall(SYS_getpid) == getpid());
    errno = 0;
    RV(b, "close_badf", syscall(SYS_close, -1));
    errno = 0;
    RV(b, "nosys", syscall(100000));
}

/* ---- identity ---- */

/* Runs fn in a child; returns "0" or the errno name of its failure. */
static const char *in_child(int (*fn)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        errno = 0;
        int r = fn();
        _exit(r == 0 ? 0 : errno ? errno : 255);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st)) return "signal";
    int c = WEXITSTATUS(st);
    return c == 0 ? "0" : c == 255 ? "nonzero" : en(c);
}

/* A set* call through libc and the raw system call, both to the current values. */
static void set_pair(buf_t *b, int (*lib)(void), int (*raw)(void)) {
    const char *l = in_child(lib);
    const char *r = in_child(raw);
    add(b, "lib=%s; raw=%s; ", l, r);
}

/* ---- thread and signal: libc's own outside complete mode (a thread reads through the view;
 * handlers, masks and sigsuspend behave as libc's) ---- */

static void *thread_reads(void *arg) {
    char *out = arg;
    int fd = open(pj("/file"), O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, out, 63) : -1;
    if (fd >= 0) close(fd);
    out[n > 0 ? n : 0] = 0;
    return out;
}

static void t_pthread_create(buf_t *b) {
    pthread_t t;
    char data[64] = "";
    void *ret = NULL;
    int r = pthread_create(&t, NULL, thread_reads, data);
    if (r == 0) pthread_join(t, &ret);
    add(b, "create=%d data=[%s] ret=%s ", r, data, ret == data ? "same" : "other");
}

static volatile sig_atomic_t got_usr1;
static void on_usr1_count(int sig) { (void)sig; got_usr1++; }

static void sig_round(buf_t *b, const char *label, void (*install)(void)) {
    got_usr1 = 0;
    install();
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    add(b, "%s: ran=%d installed=%s ", label, (int)got_usr1, now.sa_handler == on_usr1_count ? "yes" : "no");
    signal(SIGUSR1, SIG_DFL);
}

static void inst_sigaction(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1_count;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}
static void inst_signal(void) { signal(SIGUSR1, on_usr1_count); }
extern __sighandler_t bsd_signal(int, __sighandler_t);
static void inst_bsd_signal(void) { bsd_signal(SIGUSR1, on_usr1_count); }
static void inst_sysv_signal(void) { sysv_signal(SIGUSR1, on_usr1_count); }

static void t_sigaction(buf_t *b) { sig_round(b, "sigaction", inst_sigaction); }
static void t_signal(buf_t *b) { sig_round(b, "signal", inst_signal); }
static void t_bsd_signal(buf_t *b) { sig_round(b, "bsd_signal", inst_bsd_signal); }
/* sysv_signal's handler is one-shot: reset to the default once it ran. */
static void t_sysv_signal(buf_t *b) { sig_round(b, "sysv_signal", inst_sysv_signal); }

static void mask_round(buf_t *b, int (*set)(int, const sigset_t *, sigset_t *)) {
    got_usr1 = 0;
    signal(SIGUSR1, on_usr1_count);
    sigset_t one, old, now;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    int r = set(SIG_BLOCK, &one, &old);
    raise(SIGUSR1);
    int held = got_usr1 == 0;
    set(SIG_SETMASK, NULL, &now);
    int blocked = sigismember(&now, SIGUSR1);
    set(SIG_SETMASK, &old, NULL);
    add(b, "r=%d held=%d blocked=%d delivered=%d ", r, held, blocked, (int)got_usr1);
    signal(SIGUSR1, SIG_DFL);
}

static void t_sigprocmask(buf_t *b) { mask_round(b, sigprocmask); }
static void t_pthread_sigmask(buf_t *b) { mask_round(b, pthread_sigmask); }

static void t_sigsuspend(buf_t *b) {
    got_usr1 = 0;
    signal(SIGUSR1, on_usr1_count);
    sigset_t one, old, none;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    sigprocmask(SIG_BLOCK, &one, &old);
    raise(SIGUSR1);
    sigemptyset(&none);
    errno = 0;
    int r = sigsuspend(&none);
    add(b, "r=%d errno=%s delivered=%d ", r, errno == EINTR ? "EINTR" : "other", (int)got_usr1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
}

static void t_getuid(buf_t *b) { add(b, "getuid=%s; ", getuid() == (uid_t)syscall(SYS_getuid) ? "same" : "DIFFERENT"); }
static void t_geteuid(buf_t *b) { add(b, "geteuid=%s; ", geteuid() == (uid_t)syscall(SYS_geteuid) ? "same" : "DIFFERENT"); }
static void t_getgid(buf_t *b) { add(b, "getgid=%s; ", getgid() == (gid_t)syscall(SYS_getgid) ? "same" : "DIFFERENT"); }
static void t_getegid(buf_t *b) { add(b, "getegid=%s; ", getegid() == (gid_t)syscall(SYS_getegid) ? "same" : "DIFFERENT"); }

static void t_getresuid(buf_t *b) {
    uid_t r1 = 1, e1 = 1, s1 = 1, r2 = 2, e2 = 2, s2 = 2;
    int x = getresuid(&r1, &e1, &s1);
    int y = syscall(SYS_getresuid, &r2, &e2, &s2);
    add(b, "rc=%d,%d same=%d ", x, y, r1 == r2 && e1 == e2 && s1 == s2);
}

static void t_getresgid(buf_t *b) {
    gid_t r1 = 1, e1 = 1, s1 = 1, r2 = 2, e2 = 2, s2 = 2;
    int x = getresgid(&r1, &e1, &s1);
    int y = syscall(SYS_getresgid, &r2, &e2, &s2);
    add(b, "rc=%d,%d same=%d ", x, y, r1 == r2 && e1 == e2 && s1 == s2);
}

static int l_setuid(void) { return setuid(getuid()); }
static int r_setuid(void) { return syscall(SYS_setuid, syscall(SYS_getuid)); }
static int l_seteuid(void) { return seteuid(geteuid()); }
static int r_seteuid(void) { return syscall(SYS_setresuid, -1, syscall(SYS_geteuid), -1); }
static int l_setreuid(void) { return setreuid(getuid(), geteuid()); }
static int r_setreuid(void) { return syscall(SYS_setreuid, syscall(SYS_getuid), syscall(SYS_geteuid)); }
static int l_setresuid(void) {
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    return setresuid(r, e, s);
}
static int r_setresuid(void) {
    uid_t r, e, s;
    syscall(SYS_getresuid, &r, &e, &s);
    return syscall(SYS_setresuid, r, e, s);
}
static int l_setgid(void) { return setgid(getgid()); }
static int r_setgid(void) { return syscall(SYS_setgid, syscall(SYS_getgid)); }
static int l_setegid(void) { return setegid(getegid()); }
static int r_setegid(void) { return syscall(SYS_setresgid, -1, syscall(SYS_getegid), -1); }
static int l_setregid(void) { return setregid(getgid(), getegid()); }
static int r_setregid(void) { return syscall(SYS_setregid, syscall(SYS_getgid), syscall(SYS_getegid)); }
static int l_setresgid(void) {
    gid_t r, e, s;
    getresgid(&r, &e, &s);
    return setresgid(r, e, s);
}
static int r_setresgid(void) {
    gid_t r, e, s;
    syscall(SYS_getresgid, &r, &e, &s);
    return syscall(SYS_setresgid, r, e, s);
}
static int l_setgroups(void) {
    gid_t g[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, g);
    return n < 0 ? -1 : setgroups(n, g);
}
static int r_setgroups(void) {
    gid_t g[NGROUPS_MAX];
    long n = syscall(SYS_getgroups, NGROUPS_MAX, g);
    return n < 0 ? -1 : syscall(SYS_setgroups, n, g);
}

/* A uid change that is refused to others and works for root: a child tries both ways. */
static int l_setuid_other(void) { return setuid(getuid() == 0 ? 4242 : getuid() + 1); }
static int r_setuid_other(void) { return syscall(SYS_setuid, getuid() == 0 ? 4242 : getuid() + 1); }

static void t_setuid(buf_t *b) {
    set_pair(b, l_setuid, r_setuid);
    add(b, "other: ");
    const char *l = in_child(l_setuid_other), *r = in_child(r_setuid_other);
    add(b, "same=%d; ", strcmp(l, r) == 0);
}
static void t_seteuid(buf_t *b) { set_pair(b, l_seteuid, r_seteuid); }
static void t_setreuid(buf_t *b) { set_pair(b, l_setreuid, r_setreuid); }
static void t_setresuid(buf_t *b) { set_pair(b, l_setresuid, r_setresuid); }
static void t_setgid(buf_t *b) { set_pair(b, l_setgid, r_setgid); }
static void t_setegid(buf_t *b) { set_pair(b, l_setegid, r_setegid); }
static void t_setregid(buf_t *b) { set_pair(b, l_setregid, r_setregid); }
static void t_setresgid(buf_t *b) { set_pair(b, l_setresgid, r_setresgid); }
static void t_setgroups(buf_t *b) {
    const char *l = in_child(l_setgroups), *r = in_child(r_setgroups);
    add(b, "same=%d; ", strcmp(l, r) == 0);
}
#define SET_OUT "lib=0; raw=0; "

static void t_getgroups(buf_t *b) {
    gid_t g1[NGROUPS_MAX], g2[NGROUPS_MAX];
    int n0 = getgroups(0, NULL);
    int n1 = getgroups(NGROUPS_MAX, g1);
    long n2 = syscall(SYS_getgroups, NGROUPS_MAX, g2);
    add(b, "count=%d list=%d ", n0 == n2 && n1 == n2, n1 == n2 && n1 >= 0 && memcmp(g1, g2, n1 * sizeof(gid_t)) == 0);
    if (n1 > 0) {
        errno = 0;
        int r = getgroups(n1 > 1 ? 1 : 0 - 1, g1);
        add(b, "small=%s; ", r < 0 ? en(errno) : "ok");
    } else {
        add(b, "small=EINVAL; ");
    }
}

/* setfsuid/setfsgid answer the previous id (the current one, set to itself); initgroups as the
 * raw setgroups of the same list would. */
static void t_setfsuid(buf_t *b) {
    int prev = setfsuid(geteuid());
    add(b, "prev=%s; ", prev == (int)syscall(SYS_setfsuid, -1) ? "same" : "DIFFERENT");
}
static void t_setfsgid(buf_t *b) {
    int prev = setfsgid(getegid());
    add(b, "prev=%s; ", prev == (int)syscall(SYS_setfsgid, -1) ? "same" : "DIFFERENT");
}
static int l_initgroups(void) { return initgroups("root", getgid()); }
static int r_initgroups(void) {
    gid_t g = getgid();
    return syscall(SYS_setgroups, 1, &g);
}
static void t_initgroups(buf_t *b) {
    const char *l = in_child(l_initgroups), *r = in_child(r_initgroups);
    add(b, "same=%d; ", strcmp(l, r) == 0);
}

/* capget through libc and the raw call agree; capset of the current sets works both ways. */
struct cap_hdr { unsigned version; int pid; };
/* glibc defines them; no header of its declares them. */
extern int capget(void *hdr, void *data);
extern int capset(void *hdr, const void *data);
struct cap_data { unsigned effective, permitted, inheritable; };
static void t_capget(buf_t *b) {
    struct cap_hdr h1 = {0x20080522, 0}, h2 = {0x20080522, 0};
    struct cap_data d1[2], d2[2];
    int x = capget((void *)&h1, (void *)d1);
    int y = syscall(SYS_capget, &h2, d2);
    add(b, "rc=%d,%d same=%d ", x, y, memcmp(d1, d2, sizeof d1) == 0);
}
static int l_capset(void) {
    struct cap_hdr h = {0x20080522, 0};
    struct cap_data d[2];
    return capget((void *)&h, (void *)d) || capset((void *)&h, (void *)d);
}
static int r_capset(void) {
    struct cap_hdr h = {0x20080522, 0};
    struct cap_data d[2];
    return syscall(SYS_capget, &h, d) || syscall(SYS_capset, &h, d);
}
static void t_capset(buf_t *b) { set_pair(b, l_capset, r_capset); }

/* ---- clock ---- */

static int close_to(long x, long y) { return x - y <= 1 && y - x <= 1; }

static void t_time(buf_t *b) {
    time_t stored = 0;
    time_t t1 = time(&stored);
    long t2 = syscall(SYS_time, NULL);
    add(b, "close=%d stored=%d ", close_to(t1, t2), stored == t1);
}

static void t_gettimeofday(buf_t *b) {
    struct timeval v1, v2;
    int r1 = gettimeofday(&v1, NULL);
    long r2 = syscall(SYS_gettimeofday, &v2, NULL);
    add(b, "rc=%d,%ld close=%d usec_ok=%d ", r1, r2, close_to(v1.tv_sec, v2.tv_sec), v1.tv_usec >= 0 && v1.tv_usec < 1000000);
}

static void t_clock_gettime(buf_t *b) {
    clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID};
    const char *names[] = {"realtime", "monotonic", "boottime", "process"};
    for (int i = 0; i < 4; i++) {
        struct timespec x, y;
        int r1 = clock_gettime(clocks[i], &x);
        long r2 = syscall(SYS_clock_gettime, clocks[i], &y);
        add(b, "%s=%d,%ld close=%d ", names[i], r1, r2, close_to(x.tv_sec, y.tv_sec));
    }
    struct timespec z;
    errno = 0;
    RV(b, "bad_clock", clock_gettime(12345, &z));
}

static void t_uname(buf_t *b) {
    struct utsname u1, u2;
    memset(&u1, 0, sizeof u1);
    memset(&u2, 0, sizeof u2);
    int r1 = uname(&u1);
    long r2 = syscall(SYS_uname, &u2);
    add(b, "rc=%d,%ld same=%d ", r1, r2, memcmp(&u1, &u2, sizeof u1) == 0);
}

static void t_gethostname(buf_t *b) {
    struct utsname u;
    syscall(SYS_uname, &u);
    char h[HOST_NAME_MAX + 1];
    memset(h, 0, sizeof h);
    int r = gethostname(h, sizeof h);
    add(b, "rc=%d same=%d ", r, strcmp(h, u.nodename) == 0);
    errno = 0;
    r = gethostname(h, strlen(u.nodename)); /* no room for the NUL */
    RV(b, "short", r);
}

static int l_sethostname(void) {
    struct utsname u;
    syscall(SYS_uname, &u);
    return sethostname(u.nodename, strlen(u.nodename));
}
static int r_sethostname(void) {
    struct utsname u;
    syscall(SYS_uname, &u);
    return syscall(SYS_sethostname, u.nodename, strlen(u.nodename));
}
static int l_sethostname_long(void) {
    char h[HOST_NAME_MAX + 10];
    memset(h, 'h', sizeof h);
    return sethostname(h, sizeof h);
}
static int r_sethostname_long(void) {
    char h[HOST_NAME_MAX + 10];
    memset(h, 'h', sizeof h);
    return syscall(SYS_sethostname, h, sizeof h);
}

static void t_sethostname(buf_t *b) {
    const char *l = in_child(l_sethostname), *r = in_child(r_sethostname);
    add(b, "same_name: same=%d; ", strcmp(l, r) == 0);
    l = in_child(l_sethostname_long);
    r = in_child(r_sethostname_long);
    add(b, "too_long: lib=%s raw=%s; ", l, r);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: every_hook_more A B\n");
        return 2;
    }
    A = argv[1];
    B = argv[2];
    alarm(120);
    umask(022);
    unsetenv("PWD");    /* shells would trust it */
    unsetenv("TMPDIR"); /* tempnam would prefer it */
    setvbuf(stdout, NULL, _IOLBF, 0);

    check("chmod", t_chmod);
    check("fchmod", t_fchmod);
    check("ftruncate", t_ftruncate);
    check("ftruncate64", t_ftruncate64);
    check("fchmodat", t_fchmodat);
    check("lchmod", t_lchmod);
    check("chown", t_chown);
    check("fchown", t_fchown);
    check("lchown", t_lchown);
    check("fchownat", t_fchownat);
    check("utime", t_utime);
    check("utimes", t_utimes);
    check("lutimes", t_lutimes);
    check("futimesat", t_futimesat);
    check("utimensat", t_utimensat);
    check("futimens", t_futimens);
    check("futimes", t_futimes);
    check("setxattr", t_setxattr);
    check("lsetxattr", t_lsetxattr);
    check("fsetxattr", t_fsetxattr);
    check("getxattr", t_getxattr);
    check("lgetxattr", t_lgetxattr);
    check("fgetxattr", t_fgetxattr);
    check("listxattr", t_listxattr);
    check("llistxattr", t_llistxattr);
    check("flistxattr", t_flistxattr);
    check("removexattr", t_removexattr);
    check("lremovexattr", t_lremovexattr);
    check("fremovexattr", t_fremovexattr);

    check_exp("mkstemp", t_mkstemp, TEMP_FD_OUT("mkstemp", "", "0") TEMP_FD_ERRORS);
    check_exp("mkstemp64", t_mkstemp64, TEMP_FD_OUT("mkstemp64", "", "0") TEMP_FD_ERRORS);
    check_exp("mkostemp", t_mkostemp, TEMP_FD_OUT("mkostemp", "", "1") TEMP_FD_ERRORS);
    check_exp("mkostemp64", t_mkostemp64, TEMP_FD_OUT("mkostemp64", "", "1") TEMP_FD_ERRORS);
    check_exp("mkstemps", t_mkstemps, TEMP_FD_OUT("mkstemps", ".sfx", "0") TEMP_FD_OUT("mkstemps", "", "0") TEMP_FD_ERRORS);
    check_exp("mkstemps64", t_mkstemps64,
              TEMP_FD_OUT("mkstemps64", ".sfx", "0") TEMP_FD_OUT("mkstemps64", "", "0") TEMP_FD_ERRORS);
    check_exp("mkostemps", t_mkostemps,
              TEMP_FD_OUT("mkostemps", ".sfx", "1") TEMP_FD_OUT("mkostemps", "", "0") TEMP_FD_ERRORS);
    check_exp("mkostemps64", t_mkostemps64,
              TEMP_FD_OUT("mkostemps64", ".sfx", "1") TEMP_FD_OUT("mkostemps64", "", "0") TEMP_FD_ERRORS);
    check_exp("mkdtemp", t_mkdtemp,
              "ret=template prefix=1 filled=1 real=40700; create_in=ok; missing_dir=ENOENT no_xs=EINVAL ");
    check_exp("mktemp", t_mktemp,
              "ret=template prefix=1 filled=1 real_before=-1/ENOENT; create=ok; real_after=0; no_xs=[]/EINVAL ");
    check_exp("tmpfile", t_tmpfile, TMPFILE_OUT);
    check_exp("tmpfile64", t_tmpfile64, TMPFILE_OUT);
    check_exp("tempnam", t_tempnam,
              "dir=<P>/w/mtn?????? exists=0 dirlink=<P>/dirlink/mtn?????? exists=0 null=/tmp/mtn?????? exists=0 "
              "missing=/tmp/mtn?????? exists=0 ");
    check_exp("tmpnam", t_tmpnam, "static=/tmp/file?????? exists=0 same_buf=1 buf=/tmp/file?????? exists=0 ");

    check_exp("getpwnam", t_getpwnam, "root 0 /root");
    check_exp("getpwuid", t_getpwuid, "root");
    check_exp("getpwnam_r", t_getpwnam_r, NULL);
    check_exp("getpwuid_r", t_getpwuid_r, "0 root");
    check_exp("getgrnam", t_getgrnam, "root 0");
    check_exp("getgrgid", t_getgrgid, "root");
    check_exp("getgrnam_r", t_getgrnam_r, "0 root");
    check_exp("getgrgid_r", t_getgrgid_r, "0 root");
    check_exp("getpwent", t_pwent, "some=1 root=1");
    check_exp("setpwent", t_pwent, "some=1 root=1");
    check_exp("endpwent", t_pwent, "some=1 root=1");
    check_exp("getgrent", t_grent, "some=1 root=1");
    check_exp("setgrent", t_grent, "some=1 root=1");
    check_exp("endgrent", t_grent, "some=1 root=1");
    check_exp("lckpwdf", t_lckpwdf, "lock=0 again=-1 unlock=0 twice=-1");
    check_exp("ulckpwdf", t_lckpwdf, "lock=0 again=-1 unlock=0 twice=-1");
    check_exp("_exit", t__exit, "_exit: exit=7 out=[]; ");
    check_exp("_Exit", t__Exit, "_Exit: exit=8 out=[]; ");
    check_exp("fexecve", t_fexecve,
              "sh: exit=0 out=[" CONTENT "<P>/sub\n" INNER "]; hprog: exit=0 out=[/dev/fd/9 x y\n<P>/sub\n]; "
              "prog: exit=0 out=[/dev/fd/9 x y\n<P>/sub\n]; noexec: " EXEC_ERR("EACCES"));
    check_exp("execveat", t_execveat,
              "dir: exit=0 out=[/dev/fd/9/prog x y\n<P>/sub\n]; dir_h: exit=0 out=[/dev/fd/9/hprog x y\n<P>/sub\n]; "
              "abs: " PROG_OUT "abs_h: " HPROG_OUT "rel: exit=0 out=[../bin/prog x y\n<P>/sub\n]; "
              "dirfd_abs: " HPROG_OUT "empty: exit=0 out=[/dev/fd/9 x y\n<P>/sub\n]; "
              "sh: exit=0 out=[" CONTENT "<P>/sub\n]; missing: " EXEC_ERR("ENOENT") "nofollow: " EXEC_ERR("ELOOP"));
    check_exp("fork", t_fork, FORK_OUT);
    check_exp("_Fork", t_Fork, FORK_OUT);
    check_exp("clone", t_clone, "copy: exit=7 out=[" CONTENT "<P>/sub\n" INNER "]; vm_vfork: exit=0 out=[" CONTENT "]; ");
    check_exp("vfork", t_vfork, "cat: exit=0 out=[" CONTENT INNER "]; parent_cwd=<P>/sub ");

    check_exp("dlopen", t_dlopen,
              "libm=ok; cos(1)=0.540302 same_as_real=1 noload_again=1 search=ok; missing=NULL not_elf=NULL "
              "rel_missing=NULL main=handle ");
    check_exp("dlmopen", t_dlmopen, "libm=ok; new_ns=1 cos(1)=0.540302 base=ok; same_as_real=1 missing=NULL ");
    check_exp("bind", t_bind,
              "bind=0; real=0; sock=1 again=-1/EADDRINUSE; no_nul=0; real=0; rel=0; real=0; "
              "missing_dir=-1/ENOENT; abstract=0; ");
    check_exp("connect", t_connect,
              "connect=ok; c2s=4[ping] s2c=4[pong] rel=ok; c2s=4[ping] s2c=4[pong] missing=fail/ENOENT; "
              "not_socket=fail/ECONNREFUSED; ");
    check_exp("getsockname", t_getsockname,
              "listen=ok; listener=0; name=exact short=0; full_len=1 prefix=1 guard_intact=1 accepted=0; name=exact client=0; "
              "name=unnamed real_bound=0; name=exact rel_bound=0; name=exact dgram_bind=0; dgram=0; name=exact ");
    check_exp("getpeername", t_getpeername,
              "listen=ok; connect=ok; client=0; peer=exact accepted=0; peer=unnamed listener=-1/ENOTCONN; dup=0; "
              "peer=exact real_client=0; peer=exact rel_connect=ok; rel_client=0; peer=exact ");
    check_exp("accept", t_accept,
              "listen=ok; connect=ok; accept=ok; from=unnamed cloexec=0 c2s=4[ping] s2c=4[pong] name=exact "
              "accept_null=ok; nonblock=0 name=exact real_name=exact not_socket=-1/ENOTSOCK; ");
    check_exp("accept4", t_accept4,
              "listen=ok; connect=ok; accept=ok; from=unnamed cloexec=1 c2s=4[ping] s2c=4[pong] name=exact "
              "accept_null=ok; nonblock=1 name=exact real_name=exact not_socket=-1/ENOTSOCK; ");
    check("inotify_add_watch", t_inotify_add_watch);
    check("fanotify_mark", t_fanotify_mark);
    check("name_to_handle_at", t_name_to_handle_at);
    check("mount", t_mount);
    check("umount", t_umount);
    check("umount2", t_umount2);
    check_exp("shm_open", t_shm_open, SHM_OUT);
    check_exp("shm_unlink", t_shm_unlink, SHM_OUT);
    check("syscall", t_syscall);

    check_exp("pthread_create", t_pthread_create, "create=0 data=[" CONTENT "] ret=same ");
    check_exp("sigaction", t_sigaction, "sigaction: ran=1 installed=yes ");
    check_exp("signal", t_signal, "signal: ran=1 installed=yes ");
    check_exp("bsd_signal", t_bsd_signal, "bsd_signal: ran=1 installed=yes ");
    check_exp("sysv_signal", t_sysv_signal, "sysv_signal: ran=1 installed=no ");
    check_exp("sigprocmask", t_sigprocmask, "r=0 held=1 blocked=1 delivered=1 ");
    check_exp("pthread_sigmask", t_pthread_sigmask, "r=0 held=1 blocked=1 delivered=1 ");
    check_exp("sigsuspend", t_sigsuspend, "r=-1 errno=EINTR delivered=1 ");
    check_exp("getuid", t_getuid, "getuid=same; ");
    check_exp("geteuid", t_geteuid, "geteuid=same; ");
    check_exp("getgid", t_getgid, "getgid=same; ");
    check_exp("getegid", t_getegid, "getegid=same; ");
    check_exp("getresuid", t_getresuid, "rc=0,0 same=1 ");
    check_exp("getresgid", t_getresgid, "rc=0,0 same=1 ");
    check_exp("setuid", t_setuid, SET_OUT "other: same=1; ");
    check_exp("seteuid", t_seteuid, SET_OUT);
    check_exp("setreuid", t_setreuid, SET_OUT);
    check_exp("setresuid", t_setresuid, SET_OUT);
    check_exp("setgid", t_setgid, SET_OUT);
    check_exp("setegid", t_setegid, SET_OUT);
    check_exp("setregid", t_setregid, SET_OUT);
    check_exp("setresgid", t_setresgid, SET_OUT);
    check_exp("setgroups", t_setgroups, "same=1; ");
    check("getgroups", t_getgroups);
    check_exp("setfsuid", t_setfsuid, "prev=same; ");
    check_exp("setfsgid", t_setfsgid, "prev=same; ");
    check_exp("initgroups", t_initgroups, "same=1; ");
    check_exp("capget", t_capget, "rc=0,0 same=1 ");
    check_exp("capset", t_capset, SET_OUT);

    check_exp("time", t_time, "close=1 stored=1 ");
    check_exp("gettimeofday", t_gettimeofday, "rc=0,0 close=1 usec_ok=1 ");
    check_exp("clock_gettime", t_clock_gettime,
              "realtime=0,0 close=1 monotonic=0,0 close=1 boottime=0,0 close=1 process=0,0 close=1 "
              "bad_clock=-1/EINVAL; ");
    check_exp("uname", t_uname, "rc=0,0 same=1 ");
    check_exp("gethostname", t_gethostname, "rc=0 same=1 short=-1/ENAMETOOLONG; ");
    check_exp("sethostname", t_sethostname, "same_name: same=1; too_long: lib=EINVAL raw=EINVAL; ");

    printf("done every_hook_more failures=%d\n", failures);
    return 0;
}
