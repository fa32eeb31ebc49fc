/* every_hook A B: calls every function of libkmview's hook table (and execl, execle, execlp)
 * once with the prefix A (a directory seen through the view) and once with the prefix B (the
 * same directory's real path), and prints one line per function:
 *
 *     NAME ok
 *     NAME MISMATCH A=[...] B=[...]
 *
 * Each test writes what it observed (return values, errno names, bytes read, stat fields, link
 * targets, sorted directory entries, paths, a child's output) into a buffer in which its own
 * prefix is written `<P>`; the two buffers must be equal, and where a test knows the exact
 * answer (`expect`), both must be that answer. Details of every test go to stderr.
 *
 * The fixture (made by the Rust test): B/file (CONTENT), B/sub/, B/sub/inner (INNER),
 * B/link -> file, B/dirlink -> sub, B/bin/prog (0755, "#!/unreal/bin/sh" script), B/bin/hprog
 * (0755, "#!/bin/sh" script), B/w/ (where tests create files; each check of the modify family
 * works in its own B/w/NAME.TAG/, made through the real path).
 *
 * Built without _FORTIFY_SOURCE: every function is called by its own name; the fortified and
 * the old stat entry points are declared here, the latter bound to their GLIBC_2.2.5 version.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONTENT "hello kmview\n"
#define INNER "inner\n"

extern int __open_2(const char *, int);
extern int __open64_2(const char *, int);
extern int __openat_2(int, const char *, int);
extern int __openat64_2(int, const char *, int);
/* glibc >= 2.33 keeps these only as compat symbols (__xstat family GLIBC_2.2.5, __fxstatat
 * family GLIBC_2.4 on x86-64): bind to those versions explicitly. */
extern int __xstat(int, const char *, struct stat *);
extern int __xstat64(int, const char *, struct stat64 *);
extern int __lxstat(int, const char *, struct stat *);
extern int __lxstat64(int, const char *, struct stat64 *);
extern int __fxstatat(int, int, const char *, struct stat *, int);
extern int __fxstatat64(int, int, const char *, struct stat64 *, int);
__asm__(".symver __xstat,__xstat@GLIBC_2.2.5");
__asm__(".symver __xstat64,__xstat64@GLIBC_2.2.5");
__asm__(".symver __lxstat,__lxstat@GLIBC_2.2.5");
__asm__(".symver __lxstat64,__lxstat64@GLIBC_2.2.5");
__asm__(".symver __fxstatat,__fxstatat@GLIBC_2.4");
__asm__(".symver __fxstatat64,__fxstatat64@GLIBC_2.4");
#define STAT_VER 1 /* _STAT_VER_LINUX */
extern int __fxstat(int, int, struct stat *);
extern int __fxstat64(int, int, struct stat64 *);
extern int __xmknod(int, const char *, mode_t, dev_t *);
extern int __xmknodat(int, int, const char *, mode_t, dev_t *);
__asm__(".symver __fxstat,__fxstat@GLIBC_2.2.5");
__asm__(".symver __fxstat64,__fxstat64@GLIBC_2.2.5");
__asm__(".symver __xmknod,__xmknod@GLIBC_2.2.5");
__asm__(".symver __xmknodat,__xmknodat@GLIBC_2.4");
#define MKNOD_VER 0 /* _MKNOD_VER_LINUX */
extern ssize_t __readlink_chk(const char *, char *, size_t, size_t);
extern ssize_t __readlinkat_chk(int, const char *, char *, size_t, size_t);
extern char *__realpath_chk(const char *, char *, size_t);
extern char *__getcwd_chk(char *, size_t, size_t);
extern char *__getwd_chk(char *, size_t);

extern char **environ;

static const char *A, *B; /* the two prefixes */
static const char *P;     /* the prefix of the run in progress */
static const char *TAG;   /* "a" or "b": names of files a run creates */
static int failures;

/* ---- buffers and formatting ---- */

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

/* Records success of a call returning an fd or pointer. */
static void rok(buf_t *b, const char *label, int okay, int e) {
    if (okay)
        add(b, "%s=ok; ", label);
    else
        add(b, "%s=fail/%s; ", label, en(e));
}

static void st_add(buf_t *b, const struct stat *st) {
    add(b, "[ino=%lu dev=%lu mode=%o nlink=%lu size=%ld] ", (unsigned long)st->st_ino, (unsigned long)st->st_dev,
        st->st_mode, (unsigned long)st->st_nlink, (long)st->st_size);
}

static void st64_add(buf_t *b, const struct stat64 *st) {
    add(b, "[ino=%lu dev=%lu mode=%o nlink=%lu size=%ld] ", (unsigned long)st->st_ino, (unsigned long)st->st_dev,
        st->st_mode, (unsigned long)st->st_nlink, (long)st->st_size);
}

/* Reads an fd to its end (or n bytes) and records the data. */
static void fd_data(buf_t *b, int fd) {
    char d[4096];
    ssize_t n, tot = 0;
    while ((n = read(fd, d + tot, sizeof d - 1 - tot)) > 0) tot += n;
    d[tot] = 0;
    add(b, "data=[%s] ", norm(d));
}

static void file_data(buf_t *b, FILE *f) {
    char d[4096];
    size_t n = fread(d, 1, sizeof d - 1, f);
    d[n] = 0;
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

/* ---- the runner ---- */

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

/* ---- open ---- */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

static void open_common(buf_t *b, open_fn op, const char *nm) {
    int fd = op(pj("/file"), O_RDONLY);
    int e = errno;
    rok(b, "file", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    fd = op(pj("/link"), O_RDONLY);
    e = errno;
    rok(b, "link", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    errno = 0;
    fd = op(pj("/link"), O_RDONLY | O_NOFOLLOW);
    rv(b, "link_nofollow", fd < 0 ? -1 : 0, errno);
    if (fd >= 0) close(fd);
    fd = op(pj("/sub"), O_RDONLY | O_DIRECTORY);
    e = errno;
    rok(b, "sub", fd >= 0, e);
    if (fd >= 0) close(fd);
    fd = op(pj("/file/x"), O_RDONLY);
    rv(b, "file/x", fd < 0 ? -1 : 0, errno);
    if (fd >= 0) close(fd);
    fd = op(pj("/missing"), O_RDONLY);
    rv(b, "missing", fd < 0 ? -1 : 0, errno);
    if (fd >= 0) close(fd);
    /* relative to the (virtual) cwd */
    if (chdir(pj("")) == 0) {
        fd = op("sub/inner", O_RDONLY);
        e = errno;
        rok(b, "relative", fd >= 0, e);
        if (fd >= 0) {
            fd_data(b, fd);
            close(fd);
        }
        chdir("/");
    }
    if (nm) {
        /* create through P, check through the real path */
        char name[64];
        snprintf(name, sizeof name, "/w/%s.%s", nm, TAG);
        fd = op(pj(name), O_WRONLY | O_CREAT | O_EXCL, 0640);
        e = errno;
        rok(b, "create", fd >= 0, e);
        if (fd >= 0) {
            if (write(fd, "abc", 3) != 3) add(b, "short write ");
            close(fd);
            struct stat st;
            errno = 0;
            int r = stat(rj(name), &st);
            rv(b, "created", r, errno);
            if (r == 0) add(b, "mode=%o size=%ld ", st.st_mode, (long)st.st_size);
        }
        fd = op(pj("/nodir/x"), O_WRONLY | O_CREAT, 0640);
        rv(b, "create_nodir", fd < 0 ? -1 : 0, errno);
        if (fd >= 0) close(fd);
    }
}

static int open2_shim(const char *p, int f, ...) { return __open_2(p, f); }
static int open64_2_shim(const char *p, int f, ...) { return __open64_2(p, f); }

static void t_open(buf_t *b) { open_common(b, (open_fn)open, "open"); }
static void t_open64(buf_t *b) { open_common(b, (open_fn)open64, "open64"); }
static void t_open_2(buf_t *b) { open_common(b, open2_shim, NULL); }
static void t_open64_2(buf_t *b) { open_common(b, open64_2_shim, NULL); }

static void openat_common(buf_t *b, openat_fn op, const char *nm) {
    int fd = op(AT_FDCWD, pj("/file"), O_RDONLY);
    int e = errno;
    rok(b, "cwd_abs", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    fd = op(dfd, "link", O_RDONLY);
    e = errno;
    rok(b, "dirfd_rel", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    fd = op(sfd, "../file", O_RDONLY);
    e = errno;
    rok(b, "dirfd_dotdot", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    fd = op(dfd, pj("/sub/inner"), O_RDONLY); /* absolute path ignores dirfd */
    e = errno;
    rok(b, "dirfd_abs", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    fd = op(AT_FDCWD, pj("/file/x"), O_RDONLY);
    rv(b, "file/x", fd < 0 ? -1 : 0, errno);
    if (fd >= 0) close(fd);
    fd = op(dfd, "missing", O_RDONLY);
    rv(b, "missing", fd < 0 ? -1 : 0, errno);
    if (fd >= 0) close(fd);
    if (chdir(pj("/sub")) == 0) {
        fd = op(AT_FDCWD, "../link", O_RDONLY);
        e = errno;
        rok(b, "cwd_rel", fd >= 0, e);
        if (fd >= 0) {
            fd_data(b, fd);
            close(fd);
        }
        chdir("/");
    }
    if (nm) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", nm, TAG);
        int wfd = open(pj("/w"), O_RDONLY | O_DIRECTORY);
        fd = op(wfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
        e = errno;
        rok(b, "create", fd >= 0, e);
        if (fd >= 0) {
            if (write(fd, "abcd", 4) != 4) add(b, "short write ");
            close(fd);
            char full[128];
            snprintf(full, sizeof full, "/w/%s", name);
            struct stat st;
            errno = 0;
            int r = stat(rj(full), &st);
            rv(b, "created", r, errno);
            if (r == 0) add(b, "mode=%o size=%ld ", st.st_mode, (long)st.st_size);
        }
        close(wfd);
    }
    close(dfd);
    close(sfd);
}

static int openat2_shim(int d, const char *p, int f, ...) { return __openat_2(d, p, f); }
static int openat64_2_shim(int d, const char *p, int f, ...) { return __openat64_2(d, p, f); }

static void t_openat(buf_t *b) { openat_common(b, (openat_fn)openat, "openat"); }
static void t_openat64(buf_t *b) { openat_common(b, (openat_fn)openat64, "openat64"); }
static void t_openat_2(buf_t *b) { openat_common(b, openat2_shim, NULL); }
static void t_openat64_2(buf_t *b) { openat_common(b, openat64_2_shim, NULL); }

static void creat_common(buf_t *b, int (*cr)(const char *, mode_t), const char *nm) {
    char name[64];
    snprintf(name, sizeof name, "/w/%s.%s", nm, TAG);
    int fd = cr(pj(name), 0640);
    int e = errno;
    rok(b, "creat", fd >= 0, e);
    if (fd >= 0) {
        if (write(fd, "xyz!!", 5) != 5) add(b, "short write ");
        close(fd);
        struct stat st;
        errno = 0;
        int r = stat(rj(name), &st);
        rv(b, "created", r, errno);
        if (r == 0) add(b, "mode=%o size=%ld ", st.st_mode, (long)st.st_size);
    }
    /* creat truncates an existing file: do it again and look at the size */
    fd = cr(pj(name), 0600);
    e = errno;
    rok(b, "again", fd >= 0, e);
    if (fd >= 0) {
        close(fd);
        struct stat st;
        if (stat(rj(name), &st) == 0) add(b, "size=%ld ", (long)st.st_size);
    }
    fd = cr(pj("/file/x"), 0640);
    rv(b, "file/x", fd < 0 ? -1 : 0, errno);
    fd = cr(pj("/nodir/x"), 0640);
    rv(b, "nodir", fd < 0 ? -1 : 0, errno);
}

static void t_creat(buf_t *b) { creat_common(b, creat, "creat"); }
static void t_creat64(buf_t *b) { creat_common(b, creat64, "creat64"); }

static void fopen_common(buf_t *b, FILE *(*fo)(const char *, const char *), const char *nm) {
    FILE *f = fo(pj("/file"), "r");
    int e = errno;
    rok(b, "file", f != NULL, e);
    if (f) {
        file_data(b, f);
        fclose(f);
    }
    f = fo(pj("/dirlink/inner"), "re");
    e = errno;
    rok(b, "dirlink/inner", f != NULL, e);
    if (f) {
        file_data(b, f);
        fclose(f);
    }
    errno = 0;
    f = fo(pj("/missing"), "r");
    rok(b, "missing", f != NULL, errno);
    if (f) fclose(f);
    errno = 0;
    f = fo(pj("/file/x"), "r");
    rok(b, "file/x", f != NULL, errno);
    if (f) fclose(f);
    char name[64];
    snprintf(name, sizeof name, "/w/%s.%s", nm, TAG);
    f = fo(pj(name), "w");
    e = errno;
    rok(b, "create", f != NULL, e);
    if (f) {
        fputs("written\n", f);
        fclose(f);
        struct stat st;
        errno = 0;
        int r = stat(rj(name), &st);
        rv(b, "created", r, errno);
        if (r == 0) add(b, "mode=%o size=%ld ", st.st_mode, (long)st.st_size);
    }
    f = fo(pj(name), "a+");
    e = errno;
    rok(b, "append", f != NULL, e);
    if (f) {
        fputs("more\n", f);
        rewind(f);
        file_data(b, f);
        fclose(f);
    }
}

static void t_fopen(buf_t *b) { fopen_common(b, fopen, "fopen"); }
static void t_fopen64(buf_t *b) { fopen_common(b, fopen64, "fopen64"); }

static void freopen_common(buf_t *b, FILE *(*fr)(const char *, const char *, FILE *)) {
    FILE *f = fopen("/dev/null", "r");
    FILE *g = fr(pj("/file"), "r", f);
    int e = errno;
    rok(b, "file", g != NULL, e);
    if (g) {
        add(b, "same_stream=%d ", g == f);
        file_data(b, g);
    }
    g = fr(pj("/link"), "r", g ? g : fopen("/dev/null", "r"));
    e = errno;
    rok(b, "link", g != NULL, e);
    if (g) {
        file_data(b, g);
        fclose(g);
    }
    f = fopen("/dev/null", "r");
    errno = 0;
    g = fr(pj("/missing"), "r", f);
    rok(b, "missing", g != NULL, errno);
    if (g) fclose(g);
    f = fopen("/dev/null", "r");
    errno = 0;
    g = fr(pj("/file/x"), "r", f);
    rok(b, "file/x", g != NULL, errno);
    if (g) fclose(g);
}

static void t_freopen(buf_t *b) { freopen_common(b, freopen); }
static void t_freopen64(buf_t *b) { freopen_common(b, freopen64); }

/* ---- stat ---- */

static const char *stat_paths[] = {"", "/file", "/link", "/sub", "/dirlink", "/sub/inner", "/dirlink/inner",
                                   "/sub/../file", "/missing", "/file/x", "/bin/prog", NULL};

#define STAT_LIKE(fname, T, call, addfn)                                            \
    static void fname(buf_t *b) {                                                   \
        for (int i = 0; stat_paths[i]; i++) {                                        \
            const char *path = pj(stat_paths[i]);                                    \
            T st;                                                                    \
            memset(&st, 0, sizeof st);                                               \
            errno = 0;                                                               \
            int r = call;                                                            \
            add(b, "%s:", stat_paths[i][0] ? stat_paths[i] : "/");                   \
            rv(b, "r", r, errno);                                                    \
            if (r == 0) addfn(b, &st);                                               \
        }                                                                            \
        if (chdir(pj("/sub")) == 0) {                                                \
            const char *path = "../link";                                            \
            T st;                                                                    \
            memset(&st, 0, sizeof st);                                               \
            errno = 0;                                                               \
            int r = call;                                                            \
            add(b, "rel ../link:");                                                  \
            rv(b, "r", r, errno);                                                    \
            if (r == 0) addfn(b, &st);                                               \
            chdir("/");                                                              \
        }                                                                            \
    }

STAT_LIKE(t_stat, struct stat, stat(path, &st), st_add)
STAT_LIKE(t_stat64, struct stat64, stat64(path, &st), st64_add)
STAT_LIKE(t_lstat, struct stat, lstat(path, &st), st_add)
STAT_LIKE(t_lstat64, struct stat64, lstat64(path, &st), st64_add)
STAT_LIKE(t_xstat, struct stat, __xstat(STAT_VER, path, &st), st_add)
STAT_LIKE(t_xstat64, struct stat64, __xstat64(STAT_VER, path, &st), st64_add)
STAT_LIKE(t_lxstat, struct stat, __lxstat(STAT_VER, path, &st), st_add)
STAT_LIKE(t_lxstat64, struct stat64, __lxstat64(STAT_VER, path, &st), st64_add)

/* The *at forms: with AT_FDCWD (absolute and relative), a directory fd, AT_SYMLINK_NOFOLLOW
 * and AT_EMPTY_PATH. */
#define FSTATAT_LIKE(fname, T, CALL, addfn)                                              \
    static void fname(buf_t *b) {                                                        \
        static const char *rel[] = {"file", "link", "sub", "dirlink/inner", "missing", "file/x", "../", NULL}; \
        static const int flags[] = {0, AT_SYMLINK_NOFOLLOW};                             \
        int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);                                  \
        for (int fl = 0; fl < 2; fl++) {                                                 \
            for (int i = 0; stat_paths[i]; i++) {                                        \
                T st;                                                                    \
                memset(&st, 0, sizeof st);                                               \
                errno = 0;                                                               \
                int r = CALL(AT_FDCWD, pj(stat_paths[i]), &st, flags[fl]);               \
                add(b, "cwd %s f%d:", stat_paths[i][0] ? stat_paths[i] : "/", fl);       \
                rv(b, "r", r, errno);                                                    \
                if (r == 0) addfn(b, &st);                                               \
            }                                                                            \
            for (int i = 0; rel[i]; i++) {                                               \
                T st;                                                                    \
                memset(&st, 0, sizeof st);                                               \
                errno = 0;                                                               \
                int r = CALL(dfd, rel[i], &st, flags[fl]);                               \
                add(b, "dirfd %s f%d:", rel[i], fl);                                     \
                rv(b, "r", r, errno);                                                    \
                if (r == 0) addfn(b, &st);                                               \
            }                                                                            \
        }                                                                                \
        T st;                                                                            \
        errno = 0;                                                                       \
        int r = CALL(dfd, "", &st, AT_EMPTY_PATH);                                       \
        add(b, "empty:");                                                                \
        rv(b, "r", r, errno);                                                            \
        if (r == 0) addfn(b, &st);                                                       \
        errno = 0;                                                                       \
        r = CALL(dfd, "", &st, 0);                                                       \
        add(b, "empty_noflag:");                                                         \
        rv(b, "r", r, errno);                                                            \
        if (chdir(pj("/sub")) == 0) {                                                    \
            errno = 0;                                                                   \
            r = CALL(AT_FDCWD, "../link", &st, AT_SYMLINK_NOFOLLOW);                     \
            add(b, "cwd_rel:");                                                          \
            rv(b, "r", r, errno);                                                        \
            if (r == 0) addfn(b, &st);                                                   \
            chdir("/");                                                                  \
        }                                                                                \
        close(dfd);                                                                      \
    }

static int fxstatat_shim(int d, const char *p, struct stat *s, int f) { return __fxstatat(STAT_VER, d, p, s, f); }
static int fxstatat64_shim(int d, const char *p, struct stat64 *s, int f) {
    return __fxstatat64(STAT_VER, d, p, s, f);
}

FSTATAT_LIKE(t_fstatat, struct stat, fstatat, st_add)
FSTATAT_LIKE(t_fstatat64, struct stat64, fstatat64, st64_add)
FSTATAT_LIKE(t_fxstatat, struct stat, fxstatat_shim, st_add)
FSTATAT_LIKE(t_fxstatat64, struct stat64, fxstatat64_shim, st64_add)

static void stx_add(buf_t *b, const struct statx *s) {
    add(b, "[ino=%llu dev=%u:%u mode=%o nlink=%u size=%llu mask_basic=%d] ", (unsigned long long)s->stx_ino,
        s->stx_dev_major, s->stx_dev_minor, s->stx_mode, s->stx_nlink, (unsigned long long)s->stx_size,
        (s->stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
}

static int statx_shim(int d, const char *p, struct statx *s, int f) { return statx(d, p, f, STATX_BASIC_STATS, s); }
FSTATAT_LIKE(t_statx, struct statx, statx_shim, stx_add)

typedef int (*access_fn)(const char *, int);

static void access_common(buf_t *b, access_fn fn) {
    static const struct {
        const char *p;
        int m;
    } cases[] = {{"/file", R_OK},      {"/file", R_OK | W_OK}, {"/file", X_OK},  {"/bin/prog", X_OK},
                 {"/link", F_OK},      {"/sub", X_OK},         {"", F_OK},       {"/dirlink/inner", R_OK},
                 {"/missing", F_OK},   {"/file/x", F_OK},      {"/sub/../file", R_OK}, {NULL, 0}};
    for (int i = 0; cases[i].p; i++) {
        errno = 0;
        int r = fn(pj(cases[i].p), cases[i].m);
        add(b, "%s,%d:", cases[i].p, cases[i].m);
        rv(b, "r", r, errno);
    }
    if (chdir(pj("/sub")) == 0) {
        errno = 0;
        int r = fn("../file", R_OK);
        rv(b, "rel", r, errno);
        chdir("/");
    }
}

static void t_access(buf_t *b) { access_common(b, access); }
static void t_eaccess(buf_t *b) { access_common(b, eaccess); }
static void t_euidaccess(buf_t *b) { access_common(b, euidaccess); }

static void t_faccessat(buf_t *b) {
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    static const int flags[] = {0, AT_EACCESS, AT_SYMLINK_NOFOLLOW};
    for (int f = 0; f < 3; f++) {
        errno = 0;
        int r = faccessat(AT_FDCWD, pj("/file"), R_OK, flags[f]);
        add(b, "cwd f%d:", f);
        rv(b, "r", r, errno);
        errno = 0;
        r = faccessat(dfd, "link", F_OK, flags[f]);
        add(b, "dirfd link f%d:", f);
        rv(b, "r", r, errno);
        errno = 0;
        r = faccessat(dfd, "missing", F_OK, flags[f]);
        add(b, "dirfd missing f%d:", f);
        rv(b, "r", r, errno);
        errno = 0;
        r = faccessat(dfd, "file", X_OK, flags[f]);
        add(b, "dirfd file X f%d:", f);
        rv(b, "r", r, errno);
        errno = 0;
        r = faccessat(AT_FDCWD, pj("/file/x"), F_OK, flags[f]);
        add(b, "file/x f%d:", f);
        rv(b, "r", r, errno);
    }
    if (chdir(pj("/sub")) == 0) {
        errno = 0;
        int r = faccessat(AT_FDCWD, "inner", R_OK, 0);
        rv(b, "rel", r, errno);
        chdir("/");
    }
    close(dfd);
}

/* ---- directories ---- */

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Lists a stream to its end with readdir (use64 = 0) or readdir64 (1), sorted, into b. */
static void list_stream(buf_t *b, DIR *d, int use64) {
    char *names[1024];
    int n = 0;
    for (;;) {
        errno = 0;
        char line[600];
        if (use64) {
            struct dirent64 *e = readdir64(d);
            if (!e) break;
            snprintf(line, sizeof line, "%s:%lu:%d", e->d_name, (unsigned long)e->d_ino, e->d_type);
        } else {
            struct dirent *e = readdir(d);
            if (!e) break;
            snprintf(line, sizeof line, "%s:%lu:%d", e->d_name, (unsigned long)e->d_ino, e->d_type);
        }
        if (n < 1024) names[n++] = strdup(line);
    }
    int e = errno;
    qsort(names, n, sizeof *names, cmpstr);
    add(b, "{");
    for (int i = 0; i < n; i++) {
        add(b, "%s ", names[i]);
        free(names[i]);
    }
    add(b, "} end_errno=%s ", en(e));
}

static void list_path(buf_t *b, const char *label, const char *path, int use64) {
    errno = 0;
    DIR *d = opendir(path);
    add(b, "%s:", label);
    if (!d) {
        add(b, "opendir=NULL/%s; ", en(errno));
        return;
    }
    list_stream(b, d, use64);
    closedir(d);
}

static void t_opendir(buf_t *b) {
    list_path(b, "P", pj(""), 0);
    list_path(b, "sub", pj("/sub"), 0);
    list_path(b, "dirlink", pj("/dirlink"), 0);
    list_path(b, "sub/..", pj("/sub/.."), 0);
    list_path(b, "missing", pj("/missing"), 0);
    list_path(b, "file", pj("/file"), 0);
    list_path(b, "file/x", pj("/file/x"), 0);
    if (chdir(pj("/sub")) == 0) {
        list_path(b, "cwd", ".", 0);
        list_path(b, "cwd..", "..", 0);
        chdir("/");
    }
}

static void t_readdir(buf_t *b) {
    list_path(b, "P", pj(""), 0);
    list_path(b, "sub", pj("/sub"), 0);
}

static void t_readdir64(buf_t *b) {
    list_path(b, "P", pj(""), 1);
    list_path(b, "sub", pj("/sub"), 1);
}

static void t_rewinddir(buf_t *b) {
    DIR *d = opendir(pj(""));
    if (!d) {
        add(b, "opendir=NULL/%s", en(errno));
        return;
    }
    list_stream(b, d, 0);
    rewinddir(d);
    add(b, "after rewind:");
    list_stream(b, d, 0);
    rewinddir(d);
    /* half a listing, rewind, the whole again */
    readdir(d);
    readdir(d);
    rewinddir(d);
    add(b, "after partial:");
    list_stream(b, d, 1);
    closedir(d);
}

static void t_closedir(buf_t *b) {
    DIR *d = opendir(pj(""));
    if (!d) {
        add(b, "opendir=NULL/%s", en(errno));
        return;
    }
    int fd = dirfd(d);
    readdir(d);
    errno = 0;
    int r = closedir(d);
    rv(b, "closedir", r, errno);
    /* the stream's descriptor is closed */
    errno = 0;
    r = fcntl(fd, F_GETFD);
    rv(b, "fcntl_after", r, errno);
    /* many open/close cycles: nothing leaks */
    int okay = 1;
    for (int i = 0; i < 100; i++) {
        DIR *e = opendir(pj("/sub"));
        if (!e || closedir(e) != 0) okay = 0;
    }
    add(b, "cycles=%d ", okay);
}

/* "/unreal" lists the mountpoint "unreal" (/unreal/unreal); "/" lists "unreal" too (the
 * view's mountpoint /unreal); /unreal/unreal is the host's / and shows no third level. */
static int has_entry(const char *dir, const char *name, int *dtype, int *err) {
    DIR *d = opendir(dir);
    if (!d) {
        *err = errno;
        return -1;
    }
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, name) == 0) {
            found = 1;
            *dtype = e->d_type;
        }
    closedir(d);
    return found;
}

static void mountpoint_checks(void) {
    int dt = -1, err = 0;
    int f = has_entry("/unreal", "unreal", &dt, &err);
    if (f == 1)
        printf("mountpoint_listing ok\n");
    else
        failures++, printf("mountpoint_listing MISMATCH opendir(/unreal) found=%d errno=%s: no entry 'unreal'\n", f, en(err));
    fprintf(stderr, "mountpoint_listing: /unreal has unreal=%d d_type=%d\n", f, dt);
    /* every name of the host's / is in /unreal */
    DIR *d = opendir("/");
    int missing = 0;
    char first_missing[256] = "";
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            int t, er;
            if (strcmp(e->d_name, "unreal") == 0) continue;
            if (has_entry("/unreal", e->d_name, &t, &er) != 1) {
                if (!missing) snprintf(first_missing, sizeof first_missing, "%s", e->d_name);
                missing++;
            }
        }
        closedir(d);
    }
    if (!d || missing)
        failures++, printf("mountpoint_listing_content MISMATCH /unreal lacks %d entries of / (first: %s)\n", missing, first_missing);
    else
        printf("mountpoint_listing_content ok\n");
    dt = -1;
    f = has_entry("/", "unreal", &dt, &err);
    if (f == 1)
        printf("mountpoint_listing_root ok\n");
    else
        failures++, printf("mountpoint_listing_root MISMATCH opendir(/) found=%d errno=%s: no entry 'unreal' for the view's mountpoint /unreal\n", f, en(err));
    struct stat st;
    errno = 0;
    int r = stat("/unreal/unreal/unreal", &st);
    int er2 = errno;
    f = has_entry("/unreal/unreal", "unreal", &dt, &err);
    if (f == 0 && r == -1 && er2 == ENOENT)
        printf("mountpoint_listing_inner ok\n");
    else
        failures++, printf("mountpoint_listing_inner MISMATCH opendir(/unreal/unreal) lists 'unreal'=%d (want 0), stat(/unreal/unreal/unreal)=%d/%s (want -1/ENOENT)\n", f, r, en(er2));
    fflush(stdout);
}

/* The directory above the view's mountpoint: /unreal in run A, / in run B (both list the
 * entry "unreal"). */
static const char *top_dir(void) { return P == A ? "/unreal" : "/"; }

/* Whether fdopendir(fd) lists `name` (fd is consumed). */
static int fd_lists(int fd, const char *name) {
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, name) == 0) found = 1;
    closedir(d);
    return found;
}

/* fdopendir: a stream on a descriptor lists what opendir of its path lists, in the view's
 * terms; the directory above the mountpoint lists the mountpoint. Names and d_types are
 * compared exactly, inode numbers with the real directory's listing. */
static void names_stream(buf_t *b, DIR *d) {
    char *names[1024];
    int n = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        char line[300];
        snprintf(line, sizeof line, "%s:%d", e->d_name, e->d_type);
        if (n < 1024) names[n++] = strdup(line);
    }
    qsort(names, n, sizeof *names, cmpstr);
    add(b, "{");
    for (int i = 0; i < n; i++) {
        add(b, "%s ", names[i]);
        free(names[i]);
    }
    add(b, "} ");
}

/* fdopendir(fd) (fd consumed): the names, and whether the full listing (inodes too) is that of
 * opendir(same_as) */
static void fdo_list(buf_t *b, const char *label, int fd, const char *same_as) {
    static buf_t x, y;
    add(b, "%s:", label);
    errno = 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        add(b, "fdopendir=NULL/%s; ", en(errno));
        if (fd >= 0) close(fd);
        return;
    }
    names_stream(b, d);
    rewinddir(d);
    x.n = y.n = 0;
    x.s[0] = y.s[0] = 0;
    list_stream(&x, d, 0);
    closedir(d);
    DIR *o = opendir(same_as);
    if (!o) {
        add(b, "opendir(%s)=NULL/%s ", same_as, en(errno));
        return;
    }
    list_stream(&y, o, 0);
    closedir(o);
    if (strcmp(x.s, y.s) == 0)
        add(b, "same ");
    else
        add(b, "differs fdopendir=%s opendir(%s)=%s ", x.s, same_as, y.s);
}

static void t_fdopendir(buf_t *b) {
    fdo_list(b, "sub", open(pj("/sub"), O_RDONLY | O_DIRECTORY), rj("/sub"));
    fdo_list(b, "P", open(pj(""), O_RDONLY | O_DIRECTORY), rj(""));
    fdo_list(b, "dirlink", open(pj("/dirlink"), O_RDONLY | O_DIRECTORY), rj("/sub"));
    /* an fd opened relative to another's name */
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    fdo_list(b, "sub/..", openat(sfd, "..", O_RDONLY | O_DIRECTORY), rj(""));
    close(sfd);
    /* relative to the cwd */
    if (chdir(pj("/sub")) == 0) {
        fdo_list(b, "cwd", open(".", O_RDONLY | O_DIRECTORY), rj("/sub"));
        chdir("/");
    }
    /* above the mountpoint: its listing has "unreal", as opendir's does */
    int tfd = open(top_dir(), O_RDONLY | O_DIRECTORY);
    DIR *d = fdopendir(tfd);
    if (d) {
        int found = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, "unreal") == 0) found = 1;
        closedir(d);
        add(b, "top_lists_unreal=%d ", found);
    } else {
        add(b, "top=NULL/%s ", en(errno));
    }
    static buf_t x;
    x.n = 0;
    x.s[0] = 0;
    fdo_list(&x, "top", open(top_dir(), O_RDONLY | O_DIRECTORY), top_dir());
    add(b, "top_same_as_opendir=%s ", strstr(x.s, " same ") ? "yes" : esc(x.s));
    /* the host's / seen through the mountpoint has no third level */
    add(b, "inner_lists_unreal=%d ", fd_lists(open("/unreal/unreal", O_RDONLY | O_DIRECTORY), "unreal"));
    /* errors */
    int ffd = open(pj("/file"), O_RDONLY);
    errno = 0;
    d = fdopendir(ffd);
    add(b, "file=%s/%s ", d ? "ptr" : "NULL", en(d ? 0 : errno));
    if (d) closedir(d);
    close(ffd);
    errno = 0;
    d = fdopendir(-1);
    add(b, "badf=%s/%s ", d ? "ptr" : "NULL", en(d ? 0 : errno));
}
#define FDOPENDIR_OUT                                                                                  \
    "sub:{..:4 .:4 inner:8 } same P:{..:4 .:4 bin:4 dirlink:10 file:8 link:10 sub:4 w:4 } same "           \
    "dirlink:{..:4 .:4 inner:8 } same sub/..:{..:4 .:4 bin:4 dirlink:10 file:8 link:10 sub:4 w:4 } same " \
    "cwd:{..:4 .:4 inner:8 } same top_lists_unreal=1 top_same_as_opendir=yes inner_lists_unreal=0 "        \
    "file=NULL/ENOTDIR badf=NULL/EBADF "

/* ---- links ---- */

static void rl(buf_t *b, const char *label, ssize_t (*fn)(int, const char *, char *, size_t), int dfd,
               const char *path, size_t size) {
    char t[PATH_MAX + 1];
    memset(t, 0, sizeof t);
    errno = 0;
    ssize_t n = fn ? fn(dfd, path, t, size) : readlink(path, t, size);
    add(b, "%s:", label);
    if (n < 0) {
        rv(b, "n", n, errno);
    } else {
        /* the count is that of the bytes placed (no NUL added): compared as such, since a
         * target holding the prefix has a different length in each run */
        int filled = n == (ssize_t)size || t[n] == 0;
        t[n] = 0;
        add(b, "n=len:%d filled:%d target=[%s] ", n == (ssize_t)strlen(t), filled, norm(t));
    }
}

static void t_readlink(buf_t *b) {
    rl(b, "link", NULL, 0, pj("/link"), PATH_MAX);
    rl(b, "dirlink", NULL, 0, pj("/dirlink"), PATH_MAX);
    rl(b, "short", NULL, 0, pj("/dirlink"), 2);
    rl(b, "file", NULL, 0, pj("/file"), PATH_MAX);
    rl(b, "missing", NULL, 0, pj("/missing"), PATH_MAX);
    rl(b, "file/x", NULL, 0, pj("/file/x"), PATH_MAX);
    rl(b, "via_dirlink", NULL, 0, pj("/dirlink/../link"), PATH_MAX);
    if (chdir(pj("/sub")) == 0) {
        rl(b, "rel", NULL, 0, "../link", PATH_MAX);
        rl(b, "proc_cwd", NULL, 0, "/proc/self/cwd", PATH_MAX);
        chdir("/");
    }
}

static void t_readlinkat(buf_t *b) {
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int lfd = open(pj("/link"), O_PATH | O_NOFOLLOW);
    rl(b, "cwd_abs", readlinkat, AT_FDCWD, pj("/link"), PATH_MAX);
    rl(b, "dirfd", readlinkat, dfd, "dirlink", PATH_MAX);
    rl(b, "dirfd_dotdot", readlinkat, sfd, "../link", PATH_MAX);
    rl(b, "empty", readlinkat, lfd, "", PATH_MAX);
    rl(b, "file", readlinkat, dfd, "file", PATH_MAX);
    rl(b, "missing", readlinkat, dfd, "missing", PATH_MAX);
    if (chdir(pj("/sub")) == 0) {
        rl(b, "rel", readlinkat, AT_FDCWD, "../link", PATH_MAX);
        rl(b, "proc_cwd", readlinkat, AT_FDCWD, "/proc/self/cwd", PATH_MAX);
        chdir("/");
    }
    close(dfd);
    close(sfd);
    close(lfd);
}

static void t_proc_self_cwd(buf_t *b) {
    if (chdir(pj("/sub")) != 0) {
        add(b, "chdir failed %s", en(errno));
        return;
    }
    char t[PATH_MAX + 1];
    ssize_t n = readlink("/proc/self/cwd", t, PATH_MAX);
    if (n < 0) {
        add(b, "readlink=-1/%s", en(errno));
        return;
    }
    t[n] = 0;
    add(b, "%s", norm(t));
}

static void t_proc_self_fd(buf_t *b) {
    int fd = open(pj("/file"), O_RDONLY);
    char p[64], t[PATH_MAX + 1];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, t, PATH_MAX);
    close(fd);
    if (n < 0) {
        add(b, "readlink=-1/%s", en(errno));
        return;
    }
    t[n] = 0;
    add(b, "%s", norm(t));
}

/* ---- names ---- */

static const char *name_paths[] = {"/link", "/file", "/sub/../file", "/dirlink/inner", "/dirlink", "/sub/",
                                   "//sub/./inner", "", "/missing", "/file/x", "/sub/missing", NULL};

static void t_realpath(buf_t *b) {
    for (int i = 0; name_paths[i]; i++) {
        char out[PATH_MAX];
        errno = 0;
        char *r = realpath(pj(name_paths[i]), out);
        add(b, "%s:", name_paths[i]);
        if (r)
            add(b, "[%s] same_buf=%d; ", norm(r), r == out);
        else
            add(b, "NULL/%s; ", en(errno));
        errno = 0;
        r = realpath(pj(name_paths[i]), NULL);
        if (r)
            add(b, "malloc:[%s]; ", norm(r));
        else
            add(b, "malloc:NULL/%s; ", en(errno));
        free(r);
    }
    if (chdir(pj("/sub")) == 0) {
        static const char *rel[] = {"inner", "..", ".", "../link", "nope", NULL};
        for (int i = 0; rel[i]; i++) {
            errno = 0;
            char *r = realpath(rel[i], NULL);
            add(b, "rel %s:", rel[i]);
            if (r)
                add(b, "[%s]; ", norm(r));
            else
                add(b, "NULL/%s; ", en(errno));
            free(r);
        }
        chdir("/");
    }
}

static void t_canonicalize(buf_t *b) {
    for (int i = 0; name_paths[i]; i++) {
        errno = 0;
        char *r = canonicalize_file_name(pj(name_paths[i]));
        add(b, "%s:", name_paths[i]);
        if (r)
            add(b, "[%s]; ", norm(r));
        else
            add(b, "NULL/%s; ", en(errno));
        free(r);
    }
    if (chdir(pj("/sub")) == 0) {
        static const char *rel[] = {"inner", "..", "../link", "nope", NULL};
        for (int i = 0; rel[i]; i++) {
            errno = 0;
            char *r = canonicalize_file_name(rel[i]);
            add(b, "rel %s:", rel[i]);
            if (r)
                add(b, "[%s]; ", norm(r));
            else
                add(b, "NULL/%s; ", en(errno));
            free(r);
        }
        chdir("/");
    }
}

static void cwd_add(buf_t *b, const char *label) {
    char t[PATH_MAX];
    errno = 0;
    char *r = getcwd(t, sizeof t);
    if (r)
        add(b, "%s=[%s] ", label, norm(r));
    else
        add(b, "%s=NULL/%s ", label, en(errno));
}

static void t_getcwd(buf_t *b) {
    errno = 0;
    int r = chdir(pj("/sub"));
    rv(b, "chdir", r, errno);
    cwd_add(b, "cwd");
    char *m = getcwd(NULL, 0);
    add(b, "malloc=[%s] ", norm(m));
    free(m);
    m = getcwd(NULL, 4096);
    add(b, "malloc4096=[%s] ", norm(m));
    free(m);
    char small[8];
    errno = 0;
    char *s = getcwd(small, sizeof small);
    add(b, "small=%s/%s ", s ? "ptr" : "NULL", en(errno));
    /* exactly the length + NUL fits, one byte less does not */
    char t[PATH_MAX];
    size_t len = strlen(pj("/sub")) + 1;
    errno = 0;
    s = getcwd(t, len);
    add(b, "exact=[%s] ", norm(s));
    errno = 0;
    s = getcwd(t, len - 1);
    add(b, "one_less=%s/%s ", s ? "ptr" : "NULL", en(errno));
    errno = 0;
    s = getcwd(t, 0);
    add(b, "zero=%s/%s ", s ? "ptr" : "NULL", en(errno));
}

static void t_get_current_dir_name(buf_t *b) {
    if (chdir(pj("/sub")) != 0) {
        add(b, "chdir failed %s", en(errno));
        return;
    }
    char *m = get_current_dir_name();
    add(b, "%s", norm(m));
    free(m);
}

static void t_chdir(buf_t *b) {
    errno = 0;
    int r = chdir(pj("/sub"));
    rv(b, "sub", r, errno);
    cwd_add(b, "cwd");
    /* relative lookups go from the new cwd */
    int fd = open("inner", O_RDONLY);
    int e = errno;
    rok(b, "open_rel", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
    errno = 0;
    r = chdir("..");
    rv(b, "dotdot", r, errno);
    cwd_add(b, "cwd");
    errno = 0;
    r = chdir("dirlink");
    rv(b, "rel_dirlink", r, errno);
    cwd_add(b, "cwd");
    errno = 0;
    r = chdir(pj("/file"));
    rv(b, "file", r, errno);
    cwd_add(b, "cwd_unchanged");
    errno = 0;
    r = chdir(pj("/missing"));
    rv(b, "missing", r, errno);
    errno = 0;
    r = chdir(pj("/link"));
    rv(b, "link_to_file", r, errno);
    errno = 0;
    r = chdir(pj("/dirlink/.."));
    rv(b, "dirlink/..", r, errno);
    cwd_add(b, "cwd");
}

static void t_fchdir(buf_t *b) {
    int fd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    chdir("/");
    errno = 0;
    int r = fchdir(fd);
    rv(b, "fchdir_sub", r, errno);
    cwd_add(b, "cwd");
    int f2 = open("inner", O_RDONLY);
    int e = errno;
    rok(b, "open_rel", f2 >= 0, e);
    if (f2 >= 0) {
        fd_data(b, f2);
        close(f2);
    }
    /* an fd opened relative to another */
    int pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = fchdir(pfd);
    rv(b, "fchdir_parent", r, errno);
    cwd_add(b, "cwd");
    close(pfd);
    /* an fd of a file */
    int ffd = open(pj("/file"), O_RDONLY);
    errno = 0;
    r = fchdir(ffd);
    rv(b, "fchdir_file", r, errno);
    close(ffd);
    errno = 0;
    r = fchdir(9999);
    rv(b, "fchdir_badf", r, errno);
    /* from a cwd in P, to an fd of the real directory: getcwd must be the real path */
    chdir(pj("/sub"));
    int rfd = open(B, O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = fchdir(rfd);
    rv(b, "fchdir_real", r, errno);
    char t[PATH_MAX];
    char *c = getcwd(t, sizeof t);
    add(b, "cwd_is_real=%s ", c && strcmp(c, B) == 0 ? "yes" : (c ? c : "NULL"));
    close(rfd);
    /* and back to the fd of P/sub */
    errno = 0;
    r = fchdir(fd);
    rv(b, "fchdir_back", r, errno);
    cwd_add(b, "cwd");
    close(fd);
    /* dirfd of a DIR stream */
    DIR *d = opendir(pj("/dirlink"));
    if (d) {
        errno = 0;
        r = fchdir(dirfd(d));
        rv(b, "fchdir_dirfd", r, errno);
        cwd_add(b, "cwd");
        closedir(d);
    }
}

/* ---- descriptors: duplicates carry the virtual name, closes forget it ---- */

/* readlink("/proc/self/fd/N"), normalized */
static void fd_name(buf_t *b, const char *label, int fd) {
    char p[64], t[PATH_MAX + 1];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    errno = 0;
    ssize_t n = readlink(p, t, PATH_MAX);
    if (n < 0) {
        add(b, "%s=-1/%s ", label, en(errno));
        return;
    }
    t[n] = 0;
    add(b, "%s=[%s] ", label, norm(t));
}

/* readlink("/proc/self/fd/N") must be exactly `real` (the real path, whatever the run): a
 * stale virtual name of an earlier descriptor of the same number shows here */
static void fd_is_real(buf_t *b, const char *label, int fd, const char *real) {
    char p[64], t[PATH_MAX + 1];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    errno = 0;
    ssize_t n = readlink(p, t, PATH_MAX);
    if (n < 0) {
        add(b, "%s=-1/%s ", label, en(errno));
        return;
    }
    t[n] = 0;
    if (strcmp(t, real) == 0)
        add(b, "%s=real ", label);
    else
        add(b, "%s=[%s](want %s) ", label, t, real);
}

/* fchdir(fd), then getcwd must be exactly `real` */
static void fchdir_is_real(buf_t *b, const char *label, int fd, const char *real) {
    errno = 0;
    int r = fchdir(fd);
    rv(b, label, r, errno);
    char t[PATH_MAX];
    char *c = getcwd(t, sizeof t);
    if (c && strcmp(c, real) == 0)
        add(b, "cwd=real ");
    else
        add(b, "cwd=[%s](want %s) ", c ? c : "NULL", real);
    chdir("/");
}

/* What a descriptor of <P>/sub answers: its name, lookups from it, fchdir to it. */
static void sub_fd_checks(buf_t *b, const char *label, int fd) {
    add(b, "%s: ", label);
    fd_name(b, "name", fd);
    int f = openat(fd, "../file", O_RDONLY);
    int e = errno;
    rok(b, "dotdot", f >= 0, e);
    if (f >= 0) {
        fd_data(b, f);
        close(f);
    }
    f = openat(fd, "inner", O_RDONLY);
    e = errno;
    rok(b, "inner", f >= 0, e);
    if (f >= 0) {
        fd_data(b, f);
        close(f);
    }
    errno = 0;
    int r = fchdir(fd);
    rv(b, "fchdir", r, errno);
    cwd_add(b, "cwd");
    chdir("/");
}
#define SUB_FD "name=[<P>/sub] dotdot=ok; data=[" CONTENT "] inner=ok; data=[" INNER "] fchdir=0; cwd=[<P>/sub] "

static void t_dup(buf_t *b) {
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    int nfd = dup(sfd);
    int e = errno;
    rok(b, "dup", nfd >= 0 && nfd != sfd, e);
    close(sfd); /* the copy keeps the name alone */
    sub_fd_checks(b, "copy", nfd);
    int n2 = dup(nfd); /* a copy of a copy */
    close(nfd);
    sub_fd_checks(b, "copy2", n2);
    close(n2);
    /* a copy of a descriptor of the real directory is the real directory */
    int rfd = open(rj("/w"), O_RDONLY | O_DIRECTORY);
    int rd = dup(rfd);
    close(rfd);
    fd_is_real(b, "real_copy", rd, rj("/w"));
    fchdir_is_real(b, "real_fchdir", rd, rj("/w"));
    close(rd);
    /* a copy of the directory above the mountpoint still lists it */
    int tfd = open(top_dir(), O_RDONLY | O_DIRECTORY);
    int td = dup(tfd);
    close(tfd);
    add(b, "top_lists_unreal=%d ", fd_lists(td, "unreal"));
    errno = 0;
    int r = dup(-1);
    rv(b, "badf", r, errno);
}
#define DUP_OUT "dup=ok; copy: " SUB_FD "copy2: " SUB_FD "real_copy=real real_fchdir=0; cwd=real top_lists_unreal=1 badf=-1/EBADF; "

/* dup2 and dup3 (flags 0 or O_CLOEXEC): onto a number that has another name, onto itself,
 * from a real descriptor onto a named one. */
static void dup2_common(buf_t *b, int use3, int flags) {
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int ffd = open(pj("/file"), O_RDONLY); /* named <P>/file until replaced */
    errno = 0;
    int r = use3 ? dup3(sfd, ffd, flags) : dup2(sfd, ffd);
    add(b, "onto_named=%s/%s ", r == ffd ? "same" : "other", en(r < 0 ? errno : 0));
    add(b, "cloexec=%d ", fcntl(ffd, F_GETFD) & FD_CLOEXEC);
    close(sfd);
    sub_fd_checks(b, "copy", ffd);
    if (!use3) {
        errno = 0;
        r = dup2(ffd, ffd);
        add(b, "onto_itself=%s/%s ", r == ffd ? "same" : "other", en(r < 0 ? errno : 0));
        fd_name(b, "name", ffd);
    } else {
        errno = 0;
        r = dup3(ffd, ffd, flags);
        rv(b, "onto_itself", r, errno);
    }
    /* onto a free high number */
    errno = 0;
    r = use3 ? dup3(ffd, 200, flags) : dup2(ffd, 200);
    rv(b, "high", r, errno);
    sub_fd_checks(b, "high", 200);
    close(200);
    /* a real descriptor onto the named one: the old name goes */
    int rfd = open(rj("/w"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = use3 ? dup3(rfd, ffd, flags) : dup2(rfd, ffd);
    add(b, "real_onto_named=%s/%s ", r == ffd ? "same" : "other", en(r < 0 ? errno : 0));
    close(rfd);
    fd_is_real(b, "replaced", ffd, rj("/w"));
    fchdir_is_real(b, "replaced_fchdir", ffd, rj("/w"));
    close(ffd);
    /* the directory above the mountpoint */
    int tfd = open(top_dir(), O_RDONLY | O_DIRECTORY);
    r = use3 ? dup3(tfd, 201, flags) : dup2(tfd, 201);
    close(tfd);
    add(b, "top_lists_unreal=%d ", r == 201 ? fd_lists(201, "unreal") : -2);
    errno = 0;
    r = use3 ? dup3(-1, 202, flags) : dup2(-1, 202);
    rv(b, "badf", r, errno);
}

static void t_dup2(buf_t *b) { dup2_common(b, 0, 0); }
static void t_dup3(buf_t *b) {
    dup2_common(b, 1, O_CLOEXEC);
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    int r = dup3(sfd, 203, 0);
    rv(b, "flags0", r, errno);
    add(b, "cloexec=%d ", fcntl(203, F_GETFD) & FD_CLOEXEC);
    close(sfd);
    sub_fd_checks(b, "flags0", 203);
    close(203);
}
#define DUP2_TAIL(itself)                                                                                 \
    "copy: " SUB_FD itself "high=200; high: " SUB_FD "real_onto_named=same/0 replaced=real replaced_fchdir=0; " \
    "cwd=real top_lists_unreal=1 badf=-1/EBADF; "
#define DUP2_OUT "onto_named=same/0 cloexec=0 " DUP2_TAIL("onto_itself=same/0 name=[<P>/sub] ")
#define DUP3_OUT                                                                            \
    "onto_named=same/0 cloexec=1 " DUP2_TAIL("onto_itself=-1/EINVAL; ") "flags0=203; cloexec=0 " \
    "flags0: " SUB_FD

typedef int (*fcntl_fn)(int, int, ...);

static void fcntl_common(buf_t *b, fcntl_fn fc) {
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    int n1 = fc(sfd, F_DUPFD, 100);
    add(b, "dupfd_ge100=%d ", n1 >= 100);
    add(b, "cloexec=%d ", fc(n1, F_GETFD) & FD_CLOEXEC);
    int n2 = fc(sfd, F_DUPFD_CLOEXEC, 0);
    add(b, "dupfd_cloexec=%s ", n2 >= 0 && n2 != sfd && n2 != n1 ? "ok" : en(errno));
    add(b, "cloexec=%d ", fc(n2, F_GETFD) & FD_CLOEXEC);
    close(sfd);
    sub_fd_checks(b, "dupfd", n1);
    sub_fd_checks(b, "dupfd_cloexec", n2);
    /* other commands leave the name alone */
    int r = fc(n1, F_SETFD, FD_CLOEXEC);
    rv(b, "setfd", r, errno);
    add(b, "getfd=%d ", fc(n1, F_GETFD));
    add(b, "getfl_dir=%d ", (fc(n1, F_GETFL) & O_DIRECTORY) != 0);
    fd_name(b, "name", n1);
    close(n1);
    close(n2);
    /* a copy of a real descriptor */
    int rfd = open(rj("/w"), O_RDONLY | O_DIRECTORY);
    int rd = fc(rfd, F_DUPFD, 0);
    close(rfd);
    fd_is_real(b, "real_copy", rd, rj("/w"));
    fchdir_is_real(b, "real_fchdir", rd, rj("/w"));
    close(rd);
    /* the directory above the mountpoint */
    int tfd = open(top_dir(), O_RDONLY | O_DIRECTORY);
    int td = fc(tfd, F_DUPFD_CLOEXEC, 300);
    close(tfd);
    add(b, "top_ge300=%d top_lists_unreal=%d ", td >= 300, td >= 0 ? fd_lists(td, "unreal") : -2);
    errno = 0;
    r = fc(-1, F_DUPFD, 0);
    rv(b, "badf", r, errno);
}

static int fcntl_shim(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}
static int fcntl64_shim(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl64(fd, cmd, arg);
}
static void t_fcntl(buf_t *b) { fcntl_common(b, fcntl_shim); }
static void t_fcntl64(buf_t *b) { fcntl_common(b, fcntl64_shim); }
#define FCNTL_OUT                                                                                      \
    "dupfd_ge100=1 cloexec=0 dupfd_cloexec=ok cloexec=1 dupfd: " SUB_FD "dupfd_cloexec: " SUB_FD "setfd=0; " \
    "getfd=1 getfl_dir=1 name=[<P>/sub] real_copy=real real_fchdir=0; cwd=real top_ge300=1 top_lists_unreal=1 " \
    "badf=-1/EBADF; "

/* After a named descriptor N was closed, a real path opened again gets N and must not be named
 * by the closed one's path. The library checks a recorded name against what the descriptor
 * is (device and inode) before answering with it, so a stale name shows when the reused
 * number is the same file or directory by its real path (reuse_file, reuse_dir), or in a
 * lookup with ".." from another directory (reuse_top: <P>/sub + "sub/../file" is no file). */
static void reuse_file(buf_t *b, int n) {
    int fd = open(rj("/file"), O_RDONLY);
    add(b, "same_number=%d ", fd == n);
    fd_is_real(b, "reused", fd, rj("/file"));
    close(fd);
}
static void reuse_dir(buf_t *b, int n) {
    int fd = open(rj("/sub"), O_RDONLY | O_DIRECTORY);
    add(b, "same_number=%d ", fd == n);
    fd_is_real(b, "reused", fd, rj("/sub"));
    fchdir_is_real(b, "reused_fchdir", fd, rj("/sub"));
    close(fd);
}
static void reuse_top(buf_t *b, int n) {
    int fd = open(B, O_RDONLY | O_DIRECTORY);
    add(b, "same_number=%d ", fd == n);
    fd_is_real(b, "reused", fd, B);
    int f = openat(fd, "sub/../file", O_RDONLY);
    int e = errno;
    rok(b, "dotdot", f >= 0, e);
    if (f >= 0) {
        fd_data(b, f);
        close(f);
    }
    close(fd);
}
#define REUSE_FILE "same_number=1 reused=real "
#define REUSE_DIR "same_number=1 reused=real reused_fchdir=0; cwd=real "
#define REUSE_TOP "same_number=1 reused=real dotdot=ok; data=[" CONTENT "] "

/* close: the number, reused for a real path, is not named by the closed one's path. */
static void t_close(buf_t *b) {
    int fd = open(pj("/file"), O_RDONLY);
    errno = 0;
    int r = close(fd);
    rv(b, "file", r, errno);
    reuse_file(b, fd);
    /* another file */
    fd = open(pj("/file"), O_RDONLY);
    close(fd);
    int fd2 = open(rj("/sub/inner"), O_RDONLY);
    add(b, "other: same_number=%d ", fd2 == fd);
    fd_is_real(b, "reused", fd2, rj("/sub/inner"));
    close(fd2);
    fd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = close(fd);
    rv(b, "dir", r, errno);
    reuse_dir(b, fd);
    fd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = close(fd);
    rv(b, "dir", r, errno);
    reuse_top(b, fd);
    /* closing one copy leaves the other named */
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int d = dup(sfd);
    close(d);
    sub_fd_checks(b, "other_copy", sfd);
    close(sfd);
    errno = 0;
    r = close(sfd);
    rv(b, "again", r, errno);
    errno = 0;
    r = close(-1);
    rv(b, "minus1", r, errno);
}
#define CLOSE_OUT                                                                                   \
    "file=0; " REUSE_FILE "other: same_number=1 reused=real dir=0; " REUSE_DIR "dir=0; " REUSE_TOP \
    "other_copy: " SUB_FD "again=-1/EBADF; minus1=-1/EBADF; "

/* fclose: the stream's descriptor is forgotten (glibc closes it without calling close). */
static void t_fclose(buf_t *b) {
    FILE *f = fopen(pj("/file"), "r");
    int fd = f ? fileno(f) : -1;
    errno = 0;
    int r = f ? fclose(f) : -2;
    rv(b, "file", r, errno);
    reuse_file(b, fd);
    /* streams on a directory, and one made by fdopen */
    f = fopen(pj("/sub"), "r");
    fd = f ? fileno(f) : -1;
    errno = 0;
    r = f ? fclose(f) : -2;
    rv(b, "dir", r, errno);
    reuse_dir(b, fd);
    f = fopen(pj("/sub"), "r");
    fd = f ? fileno(f) : -1;
    errno = 0;
    r = f ? fclose(f) : -2;
    rv(b, "dir", r, errno);
    reuse_top(b, fd);
    fd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    f = fdopen(fd, "r");
    errno = 0;
    r = f ? fclose(f) : -2;
    rv(b, "fdopen", r, errno);
    reuse_dir(b, fd);
}
#define FCLOSE_OUT "file=0; " REUSE_FILE "dir=0; " REUSE_DIR "dir=0; " REUSE_TOP "fdopen=0; " REUSE_DIR

static void t_close_range(buf_t *b) {
    /* a range of three named descriptors, reused by real paths */
    int a = open(pj("/file"), O_RDONLY);
    int d = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int c = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    add(b, "consecutive=%d ", d == a + 1 && c == a + 2);
    errno = 0;
    int r = close_range(a, c, 0);
    rv(b, "range", r, errno);
    /* reopened together (each reuse_* closes its descriptor again) */
    int a2 = open(rj("/file"), O_RDONLY);
    int d2 = open(rj("/sub"), O_RDONLY | O_DIRECTORY);
    int c2 = open(B, O_RDONLY | O_DIRECTORY);
    add(b, "same_numbers=%d ", a2 == a && d2 == d && c2 == c);
    fd_is_real(b, "reused1", a2, rj("/file"));
    fd_is_real(b, "reused2", d2, rj("/sub"));
    fchdir_is_real(b, "reused2_fchdir", d2, rj("/sub"));
    fd_is_real(b, "reused3", c2, B);
    int f = openat(c2, "sub/../file", O_RDONLY);
    int e = errno;
    rok(b, "reused3_dotdot", f >= 0, e);
    if (f >= 0) {
        fd_data(b, f);
        close(f);
    }
    close(a2);
    close(d2);
    close(c2);
    /* CLOSE_RANGE_CLOEXEC only marks them: they stay open and keep their names */
    int s = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = close_range(s, s, CLOSE_RANGE_CLOEXEC);
    rv(b, "cloexec", r, errno);
    add(b, "getfd=%d ", fcntl(s, F_GETFD));
    sub_fd_checks(b, "marked", s);
    close(s);
    /* a range in which only some are open, one of them far up */
    s = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    dup2(s, 250);
    errno = 0;
    r = close_range(s, 260, 0);
    rv(b, "sparse", r, errno);
    errno = 0;
    add(b, "250_closed=%d ", fcntl(250, F_GETFD) == -1 && errno == EBADF);
    int s2 = open(rj("/sub"), O_RDONLY | O_DIRECTORY);
    add(b, "same_number=%d ", s2 == s);
    /* the far-up number, real now: duplicated by the kernel alone, as a dup outside libc
     * (the dup hooks would drop any name there themselves) */
    int h = syscall(SYS_dup3, s2, 250, 0);
    close(s2);
    add(b, "h=%d ", h);
    fd_is_real(b, "reused_far", h, rj("/sub"));
    fchdir_is_real(b, "reused_far_fchdir", h, rj("/sub"));
    close(h);
    /* open-ended, as closefrom does */
    s = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = close_range(s, ~0U, 0);
    rv(b, "to_end", r, errno);
    reuse_dir(b, s);
    errno = 0;
    r = close_range(10, 5, 0);
    rv(b, "inverted", r, errno);
}
#define CLOSE_RANGE_OUT                                                                                      \
    "consecutive=1 range=0; same_numbers=1 reused1=real reused2=real reused2_fchdir=0; cwd=real reused3=real " \
    "reused3_dotdot=ok; data=[" CONTENT "] cloexec=0; getfd=1 marked: " SUB_FD "sparse=0; 250_closed=1 "        \
    "same_number=1 h=250 reused_far=real reused_far_fchdir=0; cwd=real to_end=0; " REUSE_DIR "inverted=-1/EINVAL; "

/* ---- exec ---- */

typedef void (*child_fn)(void);

/* Runs fn in a child whose stdout is a pipe and whose cwd is P/sub; records its output and
 * exit status. fn execs (or spawns and waits); if it returns, the errno is reported. */
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
    close(p[1]);
    char out[8192];
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], out + n, sizeof out - 1 - n)) > 0) n += k;
    out[n] = 0;
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (label) add(b, "%s: ", label);
    if (WIFEXITED(status))
        add(b, "exit=%d ", WEXITSTATUS(status));
    else
        add(b, "signal=%d ", WTERMSIG(status));
    add(b, "out=[%s]; ", norm(out));
}

/* What bin/prog and bin/hprog print run as `<P>/bin/NAME x y` from the cwd <P>/sub, and what
 * capture() records for an exec or a spawn that failed. */
#define PROG_OUT "exit=0 out=[<P>/bin/prog x y\n<P>/sub\n]; "
#define HPROG_OUT "exit=0 out=[<P>/bin/hprog x y\n<P>/sub\n]; "
#define EXEC_ERR(e) "exit=99 out=[returned errno=" e "\n]; "
#define SPAWN_ERR(e) "exit=98 out=[spawn rc=" e "\n]; "

static char *const prog_argv[] = {"prog", "x", "y", NULL};
static char *const hprog_argv[] = {"hprog", "x", "y", NULL};
static char *const bare_env[] = {"KMVIEW_TEST_BARE=1", NULL};

static void x_execve(void) { execve(pj("/bin/prog"), prog_argv, bare_env); }
static void x_execve_h(void) { execve(pj("/bin/hprog"), hprog_argv, environ); }
static void x_execve_missing(void) { execve(pj("/bin/missing"), prog_argv, environ); }
static void x_execve_noexec(void) { execve(pj("/file"), prog_argv, environ); }
static void x_execve_enotdir(void) { execve(pj("/file/x"), prog_argv, environ); }
static void x_execve_sh(void) {
    char *const argv[] = {"sh", "-c", "echo \"$0\"; pwd -P; cat ../file", NULL};
    execve("/unreal/bin/sh", argv, environ);
}
static void x_execv(void) { execv(pj("/bin/prog"), prog_argv); }
static void x_execv_rel(void) { execv("../bin/prog", prog_argv); }
static void x_execvp(void) {
    setenv("PATH", pj("/bin"), 1);
    execvp("prog", prog_argv);
}
static void x_execvp_slash(void) {
    setenv("PATH", "/nonexistent", 1);
    execvp(pj("/bin/hprog"), hprog_argv);
}
static void x_execvp_missing(void) {
    setenv("PATH", pj("/bin"), 1);
    execvp("nosuchprog", prog_argv);
}
static void x_execvpe(void) {
    setenv("PATH", pj("/bin"), 1);
    execvpe("prog", prog_argv, bare_env);
}
static void x_execl(void) { execl(pj("/bin/prog"), "prog", "x", "y", (char *)NULL); }
static void x_execl_h(void) { execl(pj("/bin/hprog"), "hprog", "x", "y", (char *)NULL); }
static void x_execle(void) { execle(pj("/bin/prog"), "prog", "x", "y", (char *)NULL, bare_env); }
static void x_execlp(void) {
    setenv("PATH", pj("/bin"), 1);
    execlp("prog", "prog", "x", "y", (char *)NULL);
}
static void x_execlp_h(void) {
    setenv("PATH", pj("/bin"), 1);
    execlp("hprog", "hprog", "x", "y", (char *)NULL);
}

static void spawn_wait(int rc, pid_t pid) {
    if (rc != 0) {
        dprintf(1, "spawn rc=%s\n", en(rc));
        _exit(98);
    }
    int st;
    waitpid(pid, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void x_posix_spawn(void) {
    pid_t pid = -1;
    spawn_wait(posix_spawn(&pid, pj("/bin/prog"), NULL, NULL, prog_argv, bare_env), pid);
}
static void x_posix_spawn_h(void) {
    pid_t pid = -1;
    spawn_wait(posix_spawn(&pid, pj("/bin/hprog"), NULL, NULL, hprog_argv, environ), pid);
}
static void x_posix_spawn_missing(void) {
    pid_t pid = -1;
    spawn_wait(posix_spawn(&pid, pj("/bin/missing"), NULL, NULL, prog_argv, environ), pid);
}
static void x_posix_spawnp(void) {
    pid_t pid = -1;
    setenv("PATH", pj("/bin"), 1);
    spawn_wait(posix_spawnp(&pid, "prog", NULL, NULL, prog_argv, bare_env), pid);
}
static void x_posix_spawnp_h(void) {
    pid_t pid = -1;
    setenv("PATH", pj("/bin"), 1);
    spawn_wait(posix_spawnp(&pid, "hprog", NULL, NULL, hprog_argv, environ), pid);
}
static void x_posix_spawnp_missing(void) {
    pid_t pid = -1;
    setenv("PATH", pj("/bin"), 1);
    spawn_wait(posix_spawnp(&pid, "nosuchprog", NULL, NULL, prog_argv, environ), pid);
}

/* file actions naming paths: opened in the child by glibc itself */
static void x_spawn_addopen(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, pj("/file"), O_RDONLY, 0);
    char *const argv[] = {"cat", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ), pid);
}
/* relative to the (virtual) cwd <P>/sub */
static void x_spawn_addopen_rel(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "../dirlink/inner", O_RDONLY, 0);
    char *const argv[] = {"cat", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ), pid);
}
/* created by the child through P: the parent reads it back through the real path */
static void x_spawn_addopen_create(void) {
    pid_t pid = -1;
    char name[64];
    snprintf(name, sizeof name, "/w/spawn.%s", TAG);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int r = posix_spawn_file_actions_addopen(&fa, 1, pj(name), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    char *const argv[] = {"sh", "-c", "echo spawned", NULL};
    int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int st = -1;
    if (rc == 0) waitpid(pid, &st, 0);
    dprintf(1, "addopen=%d rc=%s status=%d\n", r, en(rc), st);
    int fd = open(rj(name), O_RDONLY);
    if (fd < 0) {
        dprintf(1, "no file %s\n", en(errno));
        _exit(0);
    }
    char d[256];
    ssize_t n = read(fd, d, sizeof d);
    if (n > 0 && write(1, d, n) != n) _exit(96);
    _exit(0);
}
/* the child meets the error where the kernel would */
static void x_spawn_addopen_missing(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int r = posix_spawn_file_actions_addopen(&fa, 0, pj("/missing"), O_RDONLY, 0);
    dprintf(1, "addopen=%d\n", r);
    char *const argv[] = {"cat", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ), pid);
}
static void x_spawn_addchdir(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, pj("/bin"));
    char *const argv[] = {"sh", "-c", "pwd -P; cat ../file", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ), pid);
}
/* relative to the (virtual) cwd <P>/sub, through a link */
static void x_spawn_addchdir_rel(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, "../dirlink");
    char *const argv[] = {"sh", "-c", "pwd -P; cat inner", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ), pid);
}
/* a chdir action of a destroyed object must not follow the next object at the same address:
 * the child of the second has the parent's cwd (<P>/sub) */
static void x_spawn_destroy(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, pj("/bin"));
    int r = posix_spawn_file_actions_destroy(&fa);
    dprintf(1, "destroy=%d\n", r);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, pj("/file"), O_RDONLY, 0);
    char *const argv[] = {"sh", "-c", "pwd -P; cat", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ), pid);
}
/* the same, with an empty object the second time */
static void x_spawn_destroy_empty(void) {
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, pj("/bin"));
    posix_spawn_file_actions_destroy(&fa);
    posix_spawn_file_actions_init(&fa);
    char *const argv[] = {"sh", "-c", "pwd -P", NULL};
    spawn_wait(posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ), pid);
}

static void x_system(void) {
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cat %s/file; pwd -P", P);
    int r = system(cmd);
    _exit(WIFEXITED(r) ? WEXITSTATUS(r) : 97);
}
static void x_system_fail(void) {
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cat %s/missing 2>/dev/null", P);
    int r = system(cmd);
    _exit(WIFEXITED(r) ? WEXITSTATUS(r) : 97);
}
static void x_system_script(void) {
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "%s/bin/prog x y", P);
    int r = system(cmd);
    _exit(WIFEXITED(r) ? WEXITSTATUS(r) : 97);
}

static void t_execve(buf_t *b) {
    capture(b, "prog", x_execve);
    capture(b, "hprog", x_execve_h);
    capture(b, "sh", x_execve_sh);
    capture(b, "missing", x_execve_missing);
    capture(b, "noexec", x_execve_noexec);
    capture(b, "file/x", x_execve_enotdir);
}
static void t_execv(buf_t *b) {
    capture(b, "prog", x_execv);
    capture(b, "rel", x_execv_rel);
}
static void t_execvp(buf_t *b) {
    capture(b, "prog", x_execvp);
    capture(b, "slash", x_execvp_slash);
    capture(b, "missing", x_execvp_missing);
}
static void t_execvpe(buf_t *b) { capture(b, "prog", x_execvpe); }
static void t_execl(buf_t *b) {
    capture(b, "prog", x_execl);
    capture(b, "hprog", x_execl_h);
}
static void t_execle(buf_t *b) { capture(b, "prog", x_execle); }
static void t_execlp(buf_t *b) {
    capture(b, "prog", x_execlp);
    capture(b, "hprog", x_execlp_h);
}
static void t_posix_spawn(buf_t *b) {
    capture(b, "prog", x_posix_spawn);
    capture(b, "hprog", x_posix_spawn_h);
    capture(b, "missing", x_posix_spawn_missing);
}
static void t_posix_spawnp(buf_t *b) {
    capture(b, "prog", x_posix_spawnp);
    capture(b, "hprog", x_posix_spawnp_h);
    capture(b, "missing", x_posix_spawnp_missing);
}
static void t_spawn_addopen(buf_t *b) {
    capture(b, "abs", x_spawn_addopen);
    capture(b, "rel", x_spawn_addopen_rel);
    capture(b, "create", x_spawn_addopen_create);
    capture(b, "missing", x_spawn_addopen_missing);
}
static void t_spawn_addchdir(buf_t *b) {
    capture(b, "abs", x_spawn_addchdir);
    capture(b, "rel", x_spawn_addchdir_rel);
}
static void t_spawn_destroy(buf_t *b) {
    capture(b, "addopen", x_spawn_destroy);
    capture(b, "empty", x_spawn_destroy_empty);
}
static void t_system(buf_t *b) {
    capture(b, "cat", x_system);
    capture(b, "fail", x_system_fail);
    capture(b, "script", x_system_script);
}

static void t_popen(buf_t *b) {
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cat %s/file", P);
    FILE *f = popen(cmd, "r");
    int e = errno;
    rok(b, "popen_r", f != NULL, e);
    if (f) {
        file_data(b, f);
        add(b, "pclose=%d ", pclose(f));
    }
    /* a write pipe: the command writes into a file through P */
    snprintf(cmd, sizeof cmd, "cat > %s/w/popen.%s", P, TAG);
    f = popen(cmd, "w");
    e = errno;
    rok(b, "popen_w", f != NULL, e);
    if (f) {
        fputs("piped\n", f);
        add(b, "pclose=%d ", pclose(f));
        char name[64];
        snprintf(name, sizeof name, "/w/popen.%s", TAG);
        FILE *g = fopen(rj(name), "r");
        if (g) {
            file_data(b, g);
            fclose(g);
        } else {
            add(b, "no file ");
        }
    }
    /* the script by its path in P, from a cwd in P */
    if (chdir(pj("/sub")) == 0) {
        f = popen("../bin/prog x y", "r");
        e = errno;
        rok(b, "popen_script", f != NULL, e);
        if (f) {
            file_data(b, f);
            add(b, "pclose=%d ", pclose(f));
        }
        chdir("/");
    }
}

/* ==== second round: descriptors and file systems, directory walks, fortified names, changes ==== */

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* readdir_r, getwd */

/* ---- stat: descriptors opened through P are the real files ---- */

/* fstat and kin on descriptors opened through P: the file the real path names (ino, dev, mode,
 * size), in each way a descriptor can be had: a path, a link, O_PATH of the link itself, a
 * relative path from the cwd, openat from a directory descriptor, a stream. */
#define FSTAT_LIKE(fname, T, CALL, addfn)                                                             \
    static void fname(buf_t *b) {                                                                     \
        static const char *paths[] = {"", "/file", "/link", "/sub", "/dirlink", "/dirlink/inner", NULL}; \
        for (int i = 0; paths[i]; i++) {                                                              \
            int fd = open(pj(paths[i]), O_RDONLY);                                                    \
            T st;                                                                                     \
            memset(&st, 0, sizeof st);                                                                \
            errno = 0;                                                                                \
            int r = CALL(fd, &st);                                                                    \
            add(b, "%s:", paths[i][0] ? paths[i] : "/");                                              \
            rv(b, "r", r, errno);                                                                     \
            if (r == 0) {                                                                             \
                addfn(b, &st);                                                                        \
                struct stat rs;                                                                       \
                int same = stat(rj(paths[i]), &rs) == 0 && rs.st_ino == st.st_ino && rs.st_dev == st.st_dev && \
                           rs.st_mode == st.st_mode && rs.st_size == st.st_size;                      \
                add(b, "real=%s ", same ? "same" : "differs");                                        \
            }                                                                                         \
            if (fd >= 0) close(fd);                                                                   \
        }                                                                                             \
        T st;                                                                                         \
        struct stat rs;                                                                               \
        int fd = open(pj("/link"), O_PATH | O_NOFOLLOW);                                              \
        errno = 0;                                                                                    \
        int r = CALL(fd, &st);                                                                        \
        add(b, "opath_link:");                                                                        \
        rv(b, "r", r, errno);                                                                         \
        if (r == 0)                                                                                   \
            add(b, "islnk=%d size=%ld real=%s ", S_ISLNK(st.st_mode), (long)st.st_size,               \
                lstat(rj("/link"), &rs) == 0 && rs.st_ino == st.st_ino ? "same" : "differs");         \
        if (fd >= 0) close(fd);                                                                       \
        if (chdir(pj("/sub")) == 0) {                                                                 \
            fd = open("../file", O_RDONLY);                                                           \
            errno = 0;                                                                                \
            r = CALL(fd, &st);                                                                        \
            add(b, "rel:");                                                                           \
            rv(b, "r", r, errno);                                                                     \
            if (r == 0) addfn(b, &st);                                                                \
            if (fd >= 0) close(fd);                                                                   \
            chdir("/");                                                                               \
        }                                                                                             \
        int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);                                           \
        fd = openat(sfd, "../dirlink/inner", O_RDONLY);                                               \
        errno = 0;                                                                                    \
        r = CALL(fd, &st);                                                                            \
        add(b, "openat:");                                                                            \
        rv(b, "r", r, errno);                                                                         \
        if (r == 0)                                                                                   \
            add(b, "real=%s ", stat(rj("/sub/inner"), &rs) == 0 && rs.st_ino == st.st_ino ? "same" : "differs"); \
        if (fd >= 0) close(fd);                                                                       \
        close(sfd);                                                                                   \
        FILE *f = fopen(pj("/file"), "r");                                                            \
        errno = 0;                                                                                    \
        r = f ? CALL(fileno(f), &st) : -2;                                                            \
        add(b, "stream:");                                                                            \
        rv(b, "r", r, errno);                                                                         \
        if (r == 0) addfn(b, &st);                                                                    \
        if (f) fclose(f);                                                                             \
        errno = 0;                                                                                    \
        r = CALL(-1, &st);                                                                            \
        rv(b, "badf", r, errno);                                                                      \
    }

static int fxstat_shim(int fd, struct stat *s) { return __fxstat(STAT_VER, fd, s); }
static int fxstat64_shim(int fd, struct stat64 *s) { return __fxstat64(STAT_VER, fd, s); }

FSTAT_LIKE(t_fstat, struct stat, fstat, st_add)
FSTAT_LIKE(t_fstat64, struct stat64, fstat64, st64_add)
FSTAT_LIKE(t_fxstat, struct stat, fxstat_shim, st_add)
FSTAT_LIKE(t_fxstat64, struct stat64, fxstat64_shim, st64_add)

static void sfs_fmt(buf_t *b, const struct statfs *s) {
    add(b, "[type=%lx bsize=%ld fsid=%x:%x namelen=%ld flags=%lx] ", (unsigned long)s->f_type, (long)s->f_bsize,
        s->f_fsid.__val[0], s->f_fsid.__val[1], (long)s->f_namelen, (unsigned long)s->f_flags);
}
static void sfs64_fmt(buf_t *b, const struct statfs64 *s) {
    add(b, "[type=%lx bsize=%ld fsid=%x:%x namelen=%ld flags=%lx] ", (unsigned long)s->f_type, (long)s->f_bsize,
        s->f_fsid.__val[0], s->f_fsid.__val[1], (long)s->f_namelen, (unsigned long)s->f_flags);
}
static void svfs_fmt(buf_t *b, const struct statvfs *s) {
    add(b, "[bsize=%lu frsize=%lu fsid=%lx namemax=%lu flag=%lx] ", s->f_bsize, s->f_frsize, s->f_fsid, s->f_namemax,
        s->f_flag);
}
static void svfs64_fmt(buf_t *b, const struct statvfs64 *s) {
    add(b, "[bsize=%lu frsize=%lu fsid=%lx namemax=%lu flag=%lx] ", s->f_bsize, s->f_frsize, s->f_fsid, s->f_namemax,
        s->f_flag);
}

/* statfs and kin: the fields that name the file system (type, block size, fsid, name length,
 * flags) are those of the real path; errors as the kernel gives them. */
#define STATFS_LIKE(fname, T, CALL, fmt)                                                             \
    static void fname(buf_t *b) {                                                                    \
        static const char *paths[] = {"", "/file", "/link", "/sub", "/dirlink/inner", "/sub/..", "/missing", \
                                      "/file/x", NULL};                                              \
        static buf_t x, y;                                                                           \
        for (int i = 0; paths[i]; i++) {                                                             \
            T s, rs;                                                                                 \
            memset(&s, 0, sizeof s);                                                                 \
            errno = 0;                                                                               \
            int r = CALL(pj(paths[i]), &s);                                                          \
            add(b, "%s:", paths[i][0] ? paths[i] : "/");                                             \
            rv(b, "r", r, errno);                                                                    \
            if (r != 0) continue;                                                                    \
            x.n = y.n = 0;                                                                           \
            x.s[0] = y.s[0] = 0;                                                                     \
            fmt(&x, &s);                                                                             \
            if (CALL(rj(paths[i]), &rs) == 0) fmt(&y, &rs);                                          \
            add(b, "%sreal=%s ", x.s, strcmp(x.s, y.s) == 0 ? "same" : "differs");                   \
        }                                                                                            \
        if (chdir(pj("/sub")) == 0) {                                                                \
            static const char *rel[] = {"inner", "../link", "missing", NULL};                        \
            for (int i = 0; rel[i]; i++) {                                                           \
                T s;                                                                                 \
                errno = 0;                                                                           \
                int r = CALL(rel[i], &s);                                                            \
                add(b, "rel %s:", rel[i]);                                                           \
                rv(b, "r", r, errno);                                                                \
                if (r == 0) fmt(b, &s);                                                              \
            }                                                                                        \
            chdir("/");                                                                              \
        }                                                                                            \
    }

STATFS_LIKE(t_statfs, struct statfs, statfs, sfs_fmt)
STATFS_LIKE(t_statfs64, struct statfs64, statfs64, sfs64_fmt)
STATFS_LIKE(t_statvfs, struct statvfs, statvfs, svfs_fmt)
STATFS_LIKE(t_statvfs64, struct statvfs64, statvfs64, svfs64_fmt)

/* pathconf: the limits of the real path's file system; ENOENT/ENOTDIR as the kernel says
 * (glibc asks statvfs/statfs itself, bypassing the hooks). */
static void t_pathconf(buf_t *b) {
    static const struct {
        const char *n;
        int v;
    } names[] = {{"NAME_MAX", _PC_NAME_MAX},         {"PATH_MAX", _PC_PATH_MAX},     {"LINK_MAX", _PC_LINK_MAX},
                 {"FILESIZEBITS", _PC_FILESIZEBITS}, {"2_SYMLINKS", _PC_2_SYMLINKS}, {NULL, 0}};
    static const char *paths[] = {"", "/file", "/link", "/sub", "/dirlink", "/missing", "/file/x", NULL};
    for (int i = 0; paths[i]; i++) {
        add(b, "%s:", paths[i][0] ? paths[i] : "/");
        for (int k = 0; names[k].n; k++) {
            errno = 0;
            long r = pathconf(pj(paths[i]), names[k].v);
            rv(b, names[k].n, r, errno);
        }
    }
    if (chdir(pj("/sub")) == 0) {
        errno = 0;
        long r = pathconf("inner", _PC_NAME_MAX);
        rv(b, "rel inner NAME_MAX", r, errno);
        errno = 0;
        r = pathconf("missing", _PC_NAME_MAX);
        rv(b, "rel missing NAME_MAX", r, errno);
        chdir("/");
    }
}

/* ---- directories: readdir_r, positions, scandir, glob, fts, ftw ---- */

/* readdir_r/readdir64_r over a whole stream: names and types sorted into b; the full listing
 * (inodes too, in list_stream's form) into full; every result must be the caller's entry. */
#define READDIR_R_LIST(fname, DT, CALL)                                                   \
    static void fname(buf_t *b, buf_t *full, DIR *d) {                                   \
        char *names[1024], *lines[1024];                                                  \
        int n = 0, not_entry = 0, r;                                                      \
        DT ent, *res;                                                                     \
        for (;;) {                                                                        \
            memset(&ent, 0, sizeof ent);                                                  \
            res = &ent;                                                                   \
            r = CALL(d, &ent, &res);                                                      \
            if (r != 0 || !res) break;                                                    \
            if (res != &ent) not_entry++;                                                 \
            char line[600];                                                               \
            snprintf(line, sizeof line, "%s:%d", res->d_name, res->d_type);               \
            if (n < 1024) names[n] = strdup(line);                                        \
            snprintf(line, sizeof line, "%s:%lu:%d", res->d_name, (unsigned long)res->d_ino, res->d_type); \
            if (n < 1024) lines[n++] = strdup(line);                                      \
        }                                                                                 \
        qsort(names, n, sizeof *names, cmpstr);                                           \
        qsort(lines, n, sizeof *lines, cmpstr);                                           \
        add(b, "{");                                                                      \
        add(full, "{");                                                                   \
        for (int i = 0; i < n; i++) {                                                     \
            add(b, "%s ", names[i]);                                                      \
            add(full, "%s ", lines[i]);                                                   \
            free(names[i]);                                                               \
            free(lines[i]);                                                               \
        }                                                                                 \
        add(b, "} r=%s", en(r));                                                          \
        if (not_entry) add(b, " result_not_entry=%d", not_entry);                         \
        add(b, " ");                                                                      \
        add(full, "} end_errno=0 ");                                                      \
    }

READDIR_R_LIST(list_r, struct dirent, readdir_r)
READDIR_R_LIST(list_r64, struct dirent64, readdir64_r)

/* The names of `path` by readdir_r; whether the full listing is that of readdir on same_as. */
static void rr_list(buf_t *b, const char *label, const char *path, const char *same_as, int use64) {
    static buf_t x, y;
    x.n = y.n = 0;
    x.s[0] = y.s[0] = 0;
    add(b, "%s:", label);
    errno = 0;
    DIR *d = opendir(path);
    if (!d) {
        add(b, "opendir=NULL/%s; ", en(errno));
        return;
    }
    static buf_t names;
    names.n = 0;
    names.s[0] = 0;
    if (use64)
        list_r64(&names, &x, d);
    else
        list_r(&names, &x, d);
    closedir(d);
    DIR *o = opendir(same_as);
    if (o) {
        list_stream(&y, o, 0);
        closedir(o);
    }
    if (strcmp(label, "top") == 0) /* the host's / : too long, and not the same in every run */
        add(b, "lists_unreal=%d ", strstr(names.s, "{unreal:4 ") || strstr(names.s, " unreal:4 ") ? 1 : 0);
    else
        add(b, "%s", names.s);
    if (strcmp(x.s, y.s) == 0)
        add(b, "same ");
    else
        add(b, "differs readdir_r=%s readdir(%s)=%s ", x.s, same_as, y.s);
}

static void readdir_r_common(buf_t *b, int use64) {
    rr_list(b, "sub", pj("/sub"), rj("/sub"), use64);
    rr_list(b, "P", pj(""), rj(""), use64);
    rr_list(b, "dirlink", pj("/dirlink"), rj("/sub"), use64);
    if (chdir(pj("/sub")) == 0) {
        rr_list(b, "cwd..", "..", rj(""), use64);
        chdir("/");
    }
    /* above the mountpoint: "unreal" is listed, as by readdir */
    rr_list(b, "top", top_dir(), top_dir(), use64);
}
static void t_readdir_r(buf_t *b) { readdir_r_common(b, 0); }
static void t_readdir64_r(buf_t *b) { readdir_r_common(b, 1); }
#define RR_P "{..:4 .:4 bin:4 dirlink:10 file:8 link:10 sub:4 w:4 } r=0 same "
#define RR_SUB "{..:4 .:4 inner:8 } r=0 same "
#define READDIR_R_OUT "sub:" RR_SUB "P:" RR_P "dirlink:" RR_SUB "cwd..:" RR_P "top:lists_unreal=1 same "

/* telldir before every entry; seekdir to each position gives that entry again; seekdir to the
 * first position gives the whole listing again; telldir, one read, seekdir back: the same. */
static void tell_seek(buf_t *b, const char *label, const char *path) {
    add(b, "%s:", label);
    DIR *d = opendir(path);
    if (!d) {
        add(b, "opendir=NULL/%s; ", en(errno));
        return;
    }
    enum { MAXE = 2048 };
    static long pos[MAXE];
    static char *names[MAXE];
    int n = 0;
    for (;;) {
        long p = telldir(d);
        struct dirent *e = readdir(d);
        if (!e) break;
        if (n < MAXE) {
            pos[n] = p;
            names[n++] = strdup(e->d_name);
        }
    }
    int replayed = 0;
    char first_bad[300] = "";
    for (int i = 0; i < n; i++) {
        seekdir(d, pos[i]);
        struct dirent *e = readdir(d);
        if (e && strcmp(e->d_name, names[i]) == 0)
            replayed++;
        else if (!first_bad[0])
            snprintf(first_bad, sizeof first_bad, "%s->%s", names[i], e ? e->d_name : "(end)");
    }
    /* backwards too */
    int back = 0;
    for (int i = n - 1; i >= 0; i--) {
        seekdir(d, pos[i]);
        struct dirent *e = readdir(d);
        if (e && strcmp(e->d_name, names[i]) == 0) back++;
    }
    add(b, "replayed=%s ", replayed == n ? "all" : first_bad);
    add(b, "backwards=%s ", back == n ? "all" : "some");
    int has_unreal = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], "unreal") == 0) has_unreal = 1;
    if (strcmp(label, "top") == 0) add(b, "lists_unreal=%d ", has_unreal);
    seekdir(d, pos[0]);
    int again = 0;
    while (readdir(d)) again++;
    add(b, "again=%s ", again == n ? "all" : "fewer");
    /* the one in the middle: telldir, read, seekdir back, read */
    seekdir(d, pos[n / 2]);
    long p = telldir(d);
    struct dirent *e = readdir(d);
    char first[300];
    snprintf(first, sizeof first, "%s", e ? e->d_name : "(end)");
    seekdir(d, p);
    e = readdir(d);
    add(b, "tell_read_seek=%s ", e && strcmp(e->d_name, first) == 0 ? "same" : "differs");
    /* the last: at the end of the real entries in a directory above a mountpoint */
    seekdir(d, pos[n - 1]);
    p = telldir(d);
    e = readdir(d);
    snprintf(first, sizeof first, "%s", e ? e->d_name : "(end)");
    seekdir(d, p);
    e = readdir(d);
    add(b, "last_again=%s ", e && strcmp(e->d_name, first) == 0 ? "same" : "differs");
    for (int i = 0; i < n; i++) free(names[i]);
    closedir(d);
}

static void t_telldir(buf_t *b) {
    tell_seek(b, "sub", pj("/sub"));
    tell_seek(b, "P", pj(""));
    tell_seek(b, "top", top_dir());
}
#define TELL_SEEK "replayed=all backwards=all again=all tell_read_seek=same last_again=same "
#define TELLDIR_OUT                                                                                       \
    "sub:" TELL_SEEK "P:" TELL_SEEK                                                                       \
    "top:replayed=all backwards=all lists_unreal=1 again=all tell_read_seek=same last_again=same "

static int no_dots(const struct dirent *e) { return e->d_name[0] != '.'; }
static int no_dots64(const struct dirent64 *e) { return e->d_name[0] != '.'; }

#define SC_ADD(fname, DT)                                                         \
    static void fname(buf_t *b, const char *label, int n, DT **list, int e) {    \
        add(b, "%s:", label);                                                    \
        if (n < 0) {                                                             \
            add(b, "-1/%s; ", en(e));                                            \
            return;                                                              \
        }                                                                        \
        add(b, "%d[", n);                                                        \
        for (int i = 0; i < n; i++) {                                            \
            add(b, "%s:%d ", list[i]->d_name, list[i]->d_type);                  \
            free(list[i]);                                                       \
        }                                                                        \
        free(list);                                                              \
        add(b, "] ");                                                            \
    }
SC_ADD(sc_add, struct dirent)
SC_ADD(sc64_add, struct dirent64)

/* scandir: sorted with alphasort, filtered; scandirat from directory descriptors */
#define SCANDIR_LIKE(fname, DT, SCAN, SCANAT, SORT, FILTER, ADD)                         \
    static void fname(buf_t *b, int at) {                                               \
        DT **l;                                                                          \
        int n;                                                                           \
        if (!at) {                                                                       \
            static const char *paths[] = {"/sub", "", "/dirlink", "/sub/..", "/missing", "/file", "/file/x", NULL}; \
            for (int i = 0; paths[i]; i++) {                                             \
                errno = 0;                                                               \
                n = SCAN(pj(paths[i]), &l, NULL, SORT);                                  \
                ADD(b, paths[i][0] ? paths[i] : "/", n, l, errno);                        \
            }                                                                            \
            errno = 0;                                                                   \
            n = SCAN(pj(""), &l, FILTER, SORT);                                          \
            ADD(b, "filtered", n, l, errno);                                             \
            if (chdir(pj("/sub")) == 0) {                                                \
                errno = 0;                                                               \
                n = SCAN(".", &l, NULL, SORT);                                           \
                ADD(b, "cwd", n, l, errno);                                              \
                errno = 0;                                                               \
                n = SCAN("../dirlink", &l, NULL, SORT);                                  \
                ADD(b, "cwd../dirlink", n, l, errno);                                    \
                chdir("/");                                                              \
            }                                                                            \
            return;                                                                      \
        }                                                                                \
        int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);                                  \
        int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);                              \
        int ffd = open(pj("/file"), O_RDONLY);                                           \
        static const char *rel[] = {"sub", "dirlink", "sub/..", ".", "missing", "file", NULL}; \
        for (int i = 0; rel[i]; i++) {                                                   \
            errno = 0;                                                                   \
            n = SCANAT(dfd, rel[i], &l, NULL, SORT);                                     \
            ADD(b, rel[i], n, l, errno);                                                 \
        }                                                                                \
        errno = 0;                                                                       \
        n = SCANAT(sfd, "..", &l, FILTER, SORT);                                         \
        ADD(b, "sub_fd ..", n, l, errno);                                                \
        errno = 0;                                                                       \
        n = SCANAT(AT_FDCWD, pj("/sub"), &l, NULL, SORT);                                \
        ADD(b, "cwd_abs", n, l, errno);                                                  \
        errno = 0;                                                                       \
        n = SCANAT(-1, pj("/sub"), &l, NULL, SORT);                                      \
        ADD(b, "badf_abs", n, l, errno);                                                 \
        errno = 0;                                                                       \
        n = SCANAT(-1, "sub", &l, NULL, SORT);                                           \
        ADD(b, "badf_rel", n, l, errno);                                                 \
        errno = 0;                                                                       \
        n = SCANAT(ffd, "x", &l, NULL, SORT);                                            \
        ADD(b, "file_fd", n, l, errno);                                                  \
        errno = 0;                                                                       \
        n = SCANAT(dfd, "", &l, NULL, SORT);                                             \
        ADD(b, "empty", n, l, errno);                                                    \
        if (chdir(pj("/sub")) == 0) {                                                    \
            errno = 0;                                                                   \
            n = SCANAT(AT_FDCWD, "..", &l, FILTER, SORT);                                \
            ADD(b, "cwd ..", n, l, errno);                                               \
            chdir("/");                                                                  \
        }                                                                                \
        close(dfd);                                                                      \
        close(sfd);                                                                      \
        close(ffd);                                                                      \
    }

SCANDIR_LIKE(scandir_common, struct dirent, scandir, scandirat, alphasort, no_dots, sc_add)
SCANDIR_LIKE(scandir64_common, struct dirent64, scandir64, scandirat64, alphasort64, no_dots64, sc64_add)
static void t_scandir(buf_t *b) { scandir_common(b, 0); }
static void t_scandir64(buf_t *b) { scandir64_common(b, 0); }
static void t_scandirat(buf_t *b) { scandir_common(b, 1); }
static void t_scandirat64(buf_t *b) { scandir64_common(b, 1); }
#define SC_SUB "3[.:4 ..:4 inner:8 ] "
#define SC_P "8[.:4 ..:4 bin:4 dirlink:10 file:8 link:10 sub:4 w:4 ] "
#define SC_P_NODOTS "6[bin:4 dirlink:10 file:8 link:10 sub:4 w:4 ] "
#define SCANDIR_OUT                                                                                      \
    "/sub:" SC_SUB "/:" SC_P "/dirlink:" SC_SUB "/sub/..:" SC_P "/missing:-1/ENOENT; /file:-1/ENOTDIR; " \
    "/file/x:-1/ENOTDIR; filtered:" SC_P_NODOTS "cwd:" SC_SUB "cwd../dirlink:" SC_SUB
#define SCANDIRAT_OUT                                                                                    \
    "sub:" SC_SUB "dirlink:" SC_SUB "sub/..:" SC_P ".:" SC_P "missing:-1/ENOENT; file:-1/ENOTDIR; "       \
    "sub_fd ..:" SC_P_NODOTS "cwd_abs:" SC_SUB "badf_abs:" SC_SUB "badf_rel:-1/EBADF; file_fd:-1/ENOTDIR; " \
    "empty:-1/ENOENT; cwd ..:" SC_P_NODOTS

/* glob: the matches in the caller's terms (<P>), flags that mark, filter, check and append */
#define GLOB_LIKE(fname, GT, GLOB, GFREE)                                                           \
    static void fname(buf_t *b) {                                                                  \
        static const struct {                                                                      \
            const char *pat;                                                                       \
            int flags;                                                                             \
        } cases[] = {{"/*", 0},           {"/s*/in*", 0},          {"/*/inner", 0},                 \
                     {"/*", GLOB_MARK},   {"/*", GLOB_ONLYDIR},    {"/nomatch*", 0},                \
                     {"/nomatch*", GLOB_NOCHECK}, {"/file/*", 0},  {"/l?nk", 0},                    \
                     {"/{file,sub}", GLOB_BRACE}, {"/dirlink/*", 0}, {"/sub/../f*", 0},             \
                     {"/[fl]i*", 0},      {NULL, 0}};                                              \
        for (int i = 0; cases[i].pat; i++) {                                                       \
            GT g;                                                                                  \
            memset(&g, 0, sizeof g);                                                               \
            int r = GLOB(pj(cases[i].pat), cases[i].flags, NULL, &g);                              \
            add(b, "%s f%x:r=%d [", cases[i].pat, cases[i].flags, r);                              \
            for (size_t k = 0; r == 0 && k < g.gl_pathc; k++) add(b, "%s ", norm(g.gl_pathv[k]));  \
            add(b, "] ");                                                                          \
            if (r == 0) GFREE(&g);                                                                 \
        }                                                                                          \
        GT g;                                                                                      \
        memset(&g, 0, sizeof g);                                                                   \
        int r = GLOB(pj("/f*"), 0, NULL, &g);                                                      \
        int r2 = GLOB(pj("/s*"), GLOB_APPEND, NULL, &g);                                           \
        add(b, "append:r=%d,%d [", r, r2);                                                         \
        for (size_t k = 0; k < g.gl_pathc; k++) add(b, "%s ", norm(g.gl_pathv[k]));               \
        add(b, "] ");                                                                              \
        GFREE(&g);                                                                                 \
        if (chdir(pj("/sub")) == 0) {                                                              \
            static const char *rel[] = {"*", "../s*/i*", "../*/inner", "../l*", NULL};             \
            for (int i = 0; rel[i]; i++) {                                                         \
                memset(&g, 0, sizeof g);                                                           \
                r = GLOB(rel[i], 0, NULL, &g);                                                     \
                add(b, "rel %s:r=%d [", rel[i], r);                                                \
                for (size_t k = 0; r == 0 && k < g.gl_pathc; k++) add(b, "%s ", norm(g.gl_pathv[k])); \
                add(b, "] ");                                                                      \
                if (r == 0) GFREE(&g);                                                             \
            }                                                                                      \
            chdir("/");                                                                            \
        }                                                                                          \
    }

GLOB_LIKE(t_glob, glob_t, glob, globfree)
GLOB_LIKE(t_glob64, glob64_t, glob64, globfree64)
#define GLOB_OUT                                                                                          \
    "/* f0:r=0 [<P>/bin <P>/dirlink <P>/file <P>/link <P>/sub <P>/w ] /s*/in* f0:r=0 [<P>/sub/inner ] "     \
    "/*/inner f0:r=0 [<P>/dirlink/inner <P>/sub/inner ] "                                                 \
    "/* f2:r=0 [<P>/bin/ <P>/dirlink/ <P>/file <P>/link <P>/sub/ <P>/w/ ] "                                 \
    "/* f2000:r=0 [<P>/bin <P>/dirlink <P>/sub <P>/w ] /nomatch* f0:r=3 [] "              \
    "/nomatch* f10:r=0 [<P>/nomatch* ] /file/* f0:r=3 [] /l?nk f0:r=0 [<P>/link ] "                        \
    "/{file,sub} f400:r=0 [<P>/file <P>/sub ] /dirlink/* f0:r=0 [<P>/dirlink/inner ] "                      \
    "/sub/../f* f0:r=0 [<P>/sub/../file ] /[fl]i* f0:r=0 [<P>/file <P>/link ] "                                    \
    "append:r=0,0 [<P>/file <P>/sub ] rel *:r=0 [inner ] rel ../s*/i*:r=0 [../sub/inner ] "                \
    "rel ../*/inner:r=0 [../dirlink/inner ../sub/inner ] rel ../l*:r=0 [../link ] "

/* fts: levels, types and names as the walk reports them (an absolute root by its last
 * component: the names of a walk from an absolute root in P are not compared whole); the
 * paths of a walk from a relative root are the root as given plus the names, in any view. */
static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

/* One walker per flavour: fts_* and, for callers built with 64-bit offsets, fts64_*. */
#define FTS_WALKER(FN, FTST, ENT, OPEN, CHILDREN, READ, CLOSE) \
static int FN(cmp)(const ENT **x, const ENT **y) { return strcmp((*x)->fts_name, (*y)->fts_name); }                 \
                                                                                                                    \
static void FN(walk)(buf_t *b, const char *label, char *const *roots, int options) {                                \
    add(b, "%s:", label);                                                                                           \
    errno = 0;                                                                                                      \
    FTST *f = OPEN(roots, options, FN(cmp));                                                                        \
    if (!f) {                                                                                                       \
        add(b, "open=NULL/%s; ", en(errno));                                                                        \
        return;                                                                                                     \
    }                                                                                                               \
    /* before the first read: the roots */                                                                          \
    ENT *c = CHILDREN(f, 0);                                                                                        \
    add(b, "roots[");                                                                                               \
    for (; c; c = c->fts_link) add(b, "%s:%d ", base_of(c->fts_name), c->fts_info);                                 \
    add(b, "] ");                                                                                                   \
    ENT *e;                                                                                                         \
    errno = 0;                                                                                                      \
    while ((e = READ(f))) {                                                                                         \
        /* a relative root: the whole path, as given and extended by the walk */                                    \
        if (roots[0][0] != '/')                                                                                     \
            add(b, "%d:%s:%d", e->fts_level, e->fts_path, e->fts_info);                                             \
        else                                                                                                        \
            add(b, "%d:%s:%d", e->fts_level, e->fts_level == 0 ? base_of(e->fts_name) : e->fts_name, e->fts_info);  \
        if (e->fts_info == FTS_NS || e->fts_info == FTS_ERR || e->fts_info == FTS_DNR)                              \
            add(b, "/%s", en(e->fts_errno));                                                                        \
        add(b, " ");                                                                                                \
        if (e->fts_info == FTS_D) {                                                                                 \
            c = CHILDREN(f, FTS_NAMEONLY);                                                                          \
            add(b, "children[");                                                                                    \
            for (; c; c = c->fts_link) add(b, "%s ", c->fts_name);                                                  \
            add(b, "] ");                                                                                           \
        }                                                                                                           \
        errno = 0;                                                                                                  \
    }                                                                                                               \
    add(b, "end=%s ", en(errno));                                                                                   \
    errno = 0;                                                                                                      \
    int r = CLOSE(f);                                                                                               \
    rv(b, "close", r, errno);                                                                                       \
}                                                                                                                   \
                                                                                                                    \
static void FN(t)(buf_t *b) {                                                                                       \
    char *sub[] = {(char *)pj("/sub"), NULL};                                                                       \
    char *dirlink[] = {(char *)pj("/dirlink"), NULL};                                                               \
    char *two[] = {(char *)pj("/sub"), (char *)pj("/file"), (char *)pj("/link"), NULL};                             \
    char *missing[] = {(char *)pj("/missing"), NULL};                                                               \
    FN(walk)(b, "sub_nochdir", sub, FTS_PHYSICAL | FTS_NOCHDIR);                                                    \
    FN(walk)(b, "sub_chdir", sub, FTS_PHYSICAL);                                                                    \
    FN(walk)(b, "sub_seedot", sub, FTS_PHYSICAL | FTS_NOCHDIR | FTS_SEEDOT);                                        \
    FN(walk)(b, "dirlink_phys", dirlink, FTS_PHYSICAL | FTS_NOCHDIR);                                               \
    FN(walk)(b, "dirlink_comfollow", dirlink, FTS_PHYSICAL | FTS_COMFOLLOW | FTS_NOCHDIR);                          \
    FN(walk)(b, "dirlink_logical", dirlink, FTS_LOGICAL);                                                           \
    FN(walk)(b, "roots", two, FTS_PHYSICAL | FTS_NOCHDIR);                                                          \
    FN(walk)(b, "roots_logical", two, FTS_LOGICAL);                                                                 \
    FN(walk)(b, "missing", missing, FTS_PHYSICAL);                                                                  \
    if (chdir(pj("/sub")) == 0) {                                                                                   \
        char *dot[] = {".", "../dirlink", NULL};                                                                    \
        FN(walk)(b, "rel", dot, FTS_PHYSICAL | FTS_COMFOLLOW);                                                      \
        /* the walk came back to the cwd it started in */                                                           \
        cwd_add(b, "cwd_after");                                                                                    \
        chdir("/");                                                                                                 \
    }                                                                                                               \
}                                                                                                                   \

#define FTS_NAME(x) x##_fts
FTS_WALKER(FTS_NAME, FTS, FTSENT, fts_open, fts_children, fts_read, fts_close)
#define FTS64_NAME(x) x##_fts64
FTS_WALKER(FTS64_NAME, FTS64, FTSENT64, fts64_open, fts64_children, fts64_read, fts64_close)

#define FTS_SUB_WALK "0:sub:1 children[inner ] 1:inner:8 0:sub:6 end=0 close=0; "
#define FTS_OUT                                                                                            \
    "sub_nochdir:roots[sub:1 ] " FTS_SUB_WALK "sub_chdir:roots[sub:1 ] " FTS_SUB_WALK                       \
    "sub_seedot:roots[sub:1 ] 0:sub:1 children[. .. inner ] 1:.:5 1:..:5 1:inner:8 0:sub:6 end=0 close=0; "  \
    "dirlink_phys:roots[dirlink:12 ] 0:dirlink:12 end=0 close=0; "                                       \
    "dirlink_comfollow:roots[dirlink:1 ] 0:dirlink:1 children[inner ] 1:inner:8 0:dirlink:6 end=0 close=0; " \
    "dirlink_logical:roots[dirlink:1 ] 0:dirlink:1 children[inner ] 1:inner:8 0:dirlink:6 end=0 close=0; "   \
    "roots:roots[file:8 link:12 sub:1 ] 0:file:8 0:link:12 0:sub:1 children[inner ] 1:inner:8 0:sub:6 "      \
    "end=0 close=0; "                                                                                      \
    "roots_logical:roots[file:8 link:8 sub:1 ] 0:file:8 0:link:8 0:sub:1 children[inner ] 1:inner:8 "        \
    "0:sub:6 end=0 close=0; "                                                                              \
    "missing:roots[missing:10 ] 0:missing:10/ENOENT end=0 close=0; "                                      \
    "rel:roots[.:1 dirlink:1 ] 0:.:1 children[inner ] 1:./inner:8 0:.:6 0:../dirlink:1 children[inner ] "      \
    "1:../dirlink/inner:8 0:../dirlink:6 end=0 close=0; cwd_after=[<P>/sub] "

/* ftw and nftw: base names, types and levels (the paths they pass are the host's for an
 * absolute root: not compared); a relative root's paths are compared whole. */
static char *walk_lines[256];
static int walk_n;
static int walk_stop_at_inner;

static void walk_note(const char *path, int base, int flag, int level, mode_t mode, int rel) {
    char line[PATH_MAX + 64];
    snprintf(line, sizeof line, "%d:%s:%d:%o", level, rel ? path : path + base, flag,
             flag == FTW_NS ? 0 : (unsigned)(mode & S_IFMT) >> 12);
    if (walk_n < 256) walk_lines[walk_n++] = strdup(line);
}
static int walk_rel;
static int ftw_cb(const char *path, const struct stat *st, int flag) {
    walk_note(path, base_of(path) - path, flag, -1, st->st_mode, walk_rel);
    return walk_stop_at_inner && strcmp(base_of(path), "inner") == 0 ? 7 : 0;
}
static int ftw64_cb(const char *path, const struct stat64 *st, int flag) {
    walk_note(path, base_of(path) - path, flag, -1, st->st_mode, walk_rel);
    return walk_stop_at_inner && strcmp(base_of(path), "inner") == 0 ? 7 : 0;
}
static int nftw_cb(const char *path, const struct stat *st, int flag, struct FTW *f) {
    walk_note(path, f->base, flag, f->level, st->st_mode, walk_rel);
    return walk_stop_at_inner && strcmp(path + f->base, "inner") == 0 ? 7 : 0;
}
static int nftw64_cb(const char *path, const struct stat64 *st, int flag, struct FTW *f) {
    walk_note(path, f->base, flag, f->level, st->st_mode, walk_rel);
    return walk_stop_at_inner && strcmp(path + f->base, "inner") == 0 ? 7 : 0;
}

static void walk_done(buf_t *b, const char *label, int r, int e) {
    add(b, "%s:", label);
    rv(b, "r", r, e);
    qsort(walk_lines, walk_n, sizeof *walk_lines, cmpstr);
    add(b, "{");
    for (int i = 0; i < walk_n; i++) {
        add(b, "%s ", walk_lines[i]);
        free(walk_lines[i]);
    }
    add(b, "} ");
    walk_n = 0;
}

/* kind: 0 ftw, 1 ftw64, 2 nftw, 3 nftw64 */
static int walk_call(int kind, const char *root, int flags) {
    switch (kind) {
    case 0: return ftw(root, ftw_cb, 4);
    case 1: return ftw64(root, ftw64_cb, 4);
    case 2: return nftw(root, nftw_cb, 4, flags);
    default: return nftw64(root, nftw64_cb, 4, flags);
    }
}

static void walk_common(buf_t *b, int kind) {
    static const struct {
        const char *label, *root;
        int flags;
    } cases[] = {{"sub", "/sub", 0},
                 {"dirlink", "/dirlink", 0},
                 {"dirlink_phys", "/dirlink", FTW_PHYS},
                 {"sub_depth", "/sub", FTW_DEPTH | FTW_PHYS},
                 {"sub_chdir", "/sub", FTW_CHDIR},
                 {"file", "/file", 0},
                 {"link_phys", "/link", FTW_PHYS},
                 {"missing", "/missing", 0},
                 {"file/x", "/file/x", 0},
                 {NULL, NULL, 0}};
    for (int i = 0; cases[i].label; i++) {
        if (kind < 2 && cases[i].flags) continue;
        errno = 0;
        int r = walk_call(kind, pj(cases[i].root), cases[i].flags);
        walk_done(b, cases[i].label, r, errno);
    }
    walk_stop_at_inner = 1;
    errno = 0;
    int r = walk_call(kind, pj("/sub"), 0);
    walk_done(b, "stop", r, errno);
    walk_stop_at_inner = 0;
    if (chdir(pj("/sub")) == 0) {
        walk_rel = 1;
        errno = 0;
        r = walk_call(kind, ".", 0);
        walk_done(b, "rel .", r, errno);
        errno = 0;
        r = walk_call(kind, "../dirlink", 0);
        walk_done(b, "rel ../dirlink", r, errno);
        walk_rel = 0;
        cwd_add(b, "cwd_after");
        chdir("/");
    }
}
static void t_ftw(buf_t *b) { walk_common(b, 0); }
static void t_ftw64(buf_t *b) { walk_common(b, 1); }
static void t_nftw(buf_t *b) { walk_common(b, 2); }
static void t_nftw64(buf_t *b) { walk_common(b, 3); }
#define FTW_OUT                                                                                            \
    "sub:r=0; {-1:inner:0:10 -1:sub:1:4 } dirlink:r=0; {-1:dirlink:1:4 -1:inner:0:10 } "                     \
    "file:r=0; {-1:file:0:10 } missing:r=-1/ENOENT; {} file/x:r=-1/ENOTDIR; {} "                           \
    "stop:r=7; {-1:inner:0:10 -1:sub:1:4 } rel .:r=0; {-1:./inner:0:10 -1:.:1:4 } "                         \
    "rel ../dirlink:r=0; {-1:../dirlink/inner:0:10 -1:../dirlink:1:4 } cwd_after=[<P>/sub] "
#define NFTW_OUT                                                                                           \
    "sub:r=0; {0:sub:1:4 1:inner:0:10 } dirlink:r=0; {0:dirlink:1:4 1:inner:0:10 } "                         \
    "dirlink_phys:r=0; {0:dirlink:4:12 } sub_depth:r=0; {0:sub:5:4 1:inner:0:10 } "                          \
    "sub_chdir:r=0; {0:sub:1:4 1:inner:0:10 } file:r=0; {0:file:0:10 } link_phys:r=0; {0:link:4:12 } "       \
    "missing:r=-1/ENOENT; {} file/x:r=-1/ENOTDIR; {} stop:r=7; {0:sub:1:4 1:inner:0:10 } "                  \
    "rel .:r=0; {0:.:1:4 1:./inner:0:10 } rel ../dirlink:r=0; {0:../dirlink:1:4 1:../dirlink/inner:0:10 } "   \
    "cwd_after=[<P>/sub] "

/* ---- links and names: the fortified entries ---- */

static ssize_t readlink_chk_shim(int d, const char *p, char *buf, size_t n) {
    (void)d;
    return __readlink_chk(p, buf, n, PATH_MAX + 1);
}
static ssize_t readlinkat_chk_shim(int d, const char *p, char *buf, size_t n) {
    return __readlinkat_chk(d, p, buf, n, PATH_MAX + 1);
}

static void t_readlink_chk(buf_t *b) {
    rl(b, "link", readlink_chk_shim, 0, pj("/link"), PATH_MAX);
    rl(b, "dirlink", readlink_chk_shim, 0, pj("/dirlink"), PATH_MAX);
    rl(b, "short", readlink_chk_shim, 0, pj("/dirlink"), 2);
    rl(b, "file", readlink_chk_shim, 0, pj("/file"), PATH_MAX);
    rl(b, "missing", readlink_chk_shim, 0, pj("/missing"), PATH_MAX);
    rl(b, "via_dirlink", readlink_chk_shim, 0, pj("/dirlink/../link"), PATH_MAX);
    if (chdir(pj("/sub")) == 0) {
        rl(b, "rel", readlink_chk_shim, 0, "../link", PATH_MAX);
        rl(b, "proc_cwd", readlink_chk_shim, 0, "/proc/self/cwd", PATH_MAX);
        chdir("/");
    }
}
#define READLINK_CHK_OUT                                                                                  \
    "link:n=len:1 filled:1 target=[file] dirlink:n=len:1 filled:1 target=[sub] short:n=len:1 filled:1 "     \
    "target=[su] file:n=-1/EINVAL; missing:n=-1/ENOENT; via_dirlink:n=len:1 filled:1 target=[file] "        \
    "rel:n=len:1 filled:1 target=[file] proc_cwd:n=len:1 filled:1 target=[<P>/sub] "

static void t_readlinkat_chk(buf_t *b) {
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int lfd = open(pj("/link"), O_PATH | O_NOFOLLOW);
    rl(b, "cwd_abs", readlinkat_chk_shim, AT_FDCWD, pj("/link"), PATH_MAX);
    rl(b, "dirfd", readlinkat_chk_shim, dfd, "dirlink", PATH_MAX);
    rl(b, "dirfd_dotdot", readlinkat_chk_shim, sfd, "../link", PATH_MAX);
    rl(b, "empty", readlinkat_chk_shim, lfd, "", PATH_MAX);
    rl(b, "file", readlinkat_chk_shim, dfd, "file", PATH_MAX);
    rl(b, "missing", readlinkat_chk_shim, dfd, "missing", PATH_MAX);
    if (chdir(pj("/sub")) == 0) {
        rl(b, "rel", readlinkat_chk_shim, AT_FDCWD, "../link", PATH_MAX);
        rl(b, "proc_cwd", readlinkat_chk_shim, AT_FDCWD, "/proc/self/cwd", PATH_MAX);
        chdir("/");
    }
    close(dfd);
    close(sfd);
    close(lfd);
}
#define READLINKAT_CHK_OUT                                                                                \
    "cwd_abs:n=len:1 filled:1 target=[file] dirfd:n=len:1 filled:1 target=[sub] dirfd_dotdot:n=len:1 "      \
    "filled:1 target=[file] empty:n=len:1 filled:1 target=[file] file:n=-1/EINVAL; missing:n=-1/ENOENT; "   \
    "rel:n=len:1 filled:1 target=[file] proc_cwd:n=len:1 filled:1 target=[<P>/sub] "

static void t_realpath_chk(buf_t *b) {
    static const char *paths[] = {"/dirlink/inner", "/link", "/sub/../file", "/dirlink/", "", "/missing",
                                  "/file/x", NULL};
    for (int i = 0; paths[i]; i++) {
        char out[PATH_MAX];
        errno = 0;
        char *r = __realpath_chk(pj(paths[i]), out, sizeof out);
        add(b, "%s:", paths[i]);
        if (r)
            add(b, "[%s] same_buf=%d; ", norm(r), r == out);
        else
            add(b, "NULL/%s; ", en(errno));
    }
    errno = 0;
    char *m = __realpath_chk(pj("/dirlink/inner"), NULL, (size_t)-1);
    add(b, "malloc:[%s]; ", norm(m));
    free(m);
    if (chdir(pj("/sub")) == 0) {
        char out[PATH_MAX];
        char *r = __realpath_chk("../dirlink/inner", out, sizeof out);
        add(b, "rel:[%s]; ", norm(r));
        chdir("/");
    }
}
#define REALPATH_CHK_OUT                                                                                  \
    "/dirlink/inner:[<P>/sub/inner] same_buf=1; /link:[<P>/file] same_buf=1; /sub/../file:[<P>/file] "      \
    "same_buf=1; /dirlink/:[<P>/sub] same_buf=1; :[<P>] same_buf=1; /missing:NULL/ENOENT; "                  \
    "/file/x:NULL/ENOTDIR; malloc:[<P>/sub/inner]; rel:[<P>/sub/inner]; "

static void t_getcwd_chk(buf_t *b) {
    errno = 0;
    int r = chdir(pj("/sub"));
    rv(b, "chdir", r, errno);
    char t[PATH_MAX];
    errno = 0;
    char *c = __getcwd_chk(t, sizeof t, sizeof t);
    add(b, "cwd=[%s] same_buf=%d ", norm(c), c == t);
    char small[8];
    errno = 0;
    c = __getcwd_chk(small, sizeof small, sizeof small);
    add(b, "small=%s/%s ", c ? "ptr" : "NULL", en(errno));
    errno = 0;
    c = __getcwd_chk(NULL, 0, (size_t)-1);
    add(b, "malloc=[%s] ", norm(c));
    free(c);
    size_t len = strlen(pj("/sub")) + 1;
    c = __getcwd_chk(t, len, sizeof t);
    add(b, "exact=[%s] ", norm(c));
    errno = 0;
    c = __getcwd_chk(t, len - 1, sizeof t);
    add(b, "one_less=%s/%s ", c ? "ptr" : "NULL", en(errno));
    chdir(pj("/dirlink"));
    c = __getcwd_chk(t, sizeof t, sizeof t);
    add(b, "via_dirlink=[%s] ", norm(c));
}
#define GETCWD_CHK_OUT                                                                                    \
    "chdir=0; cwd=[<P>/sub] same_buf=1 small=NULL/ERANGE malloc=[<P>/sub] exact=[<P>/sub] "                 \
    "one_less=NULL/ERANGE via_dirlink=[<P>/sub] "

static void t_getwd(buf_t *b) {
    char t[PATH_MAX];
    chdir(pj("/sub"));
    char *c = getwd(t);
    add(b, "sub=[%s] same_buf=%d ", norm(c), c == t);
    chdir(pj("/dirlink/.."));
    c = getwd(t);
    add(b, "dirlink/..=[%s] ", norm(c));
}

/* the fortified getwd: the view's name, in a buffer of the size the compiler knew */
static void t_getwd_chk(buf_t *b) {
    char t[PATH_MAX];
    chdir(pj("/sub"));
    char *c = __getwd_chk(t, sizeof t);
    add(b, "sub=[%s] same_buf=%d ", norm(c), c == t);
    chdir(pj("/dirlink/.."));
    c = __getwd_chk(t, sizeof t);
    add(b, "dirlink/..=[%s] ", norm(c));
}

/* chroot, in a child (the test's own root stays): the kernel's answer for the right directory,
 * and after success the new root is that directory */
static const char *chroot_dir;
static void x_chroot(void) {
    errno = 0;
    int r = chroot(chroot_dir);
    int e = errno;
    dprintf(1, "chroot=%d/%s", r, en(r ? e : 0));
    if (r == 0) {
        int c = chdir("/");
        struct stat st;
        int s = stat("/inner", &st);
        dprintf(1, " chdir=%d inner=%d", c, s);
    }
    dprintf(1, "\n");
    _exit(0);
}
static void t_chroot(buf_t *b) {
    /* the child's cwd is <P>/sub (see capture) */
    static const char *cases[][2] = {{"sub", "/sub"}, {"dirlink", "/dirlink"}, {"missing", "/missing"},
                                     {"file", "/file"}, {"file/x", "/file/x"}, {NULL, NULL}};
    for (int i = 0; cases[i][0]; i++) {
        chroot_dir = pj(cases[i][1]);
        capture(b, cases[i][0], x_chroot);
    }
    chroot_dir = ".";
    capture(b, "rel .", x_chroot);
    chroot_dir = "../dirlink";
    capture(b, "rel ../dirlink", x_chroot);
}

/* ---- changes: each check works in its own directory w/NAME.TAG, made by the real path, and
 * looks at the effect through the real path ---- */

static char WD[128]; /* "/w/NAME.TAG" */

/* Makes the real directory of this check and run. */
static void wd_begin(const char *name) {
    snprintf(WD, sizeof WD, "/w/%s.%s", name, TAG);
    if (mkdir(rj(WD), 0755) != 0) fprintf(stderr, "mkdir %s: %s\n", rj(WD), strerror(errno));
}

/* WD + "/" + s */
static const char *W(const char *s) {
    char *t = tmp();
    snprintf(t, 2 * PATH_MAX, "%s%s%s", WD, s[0] ? "/" : "", s);
    return t;
}

static void mk_file(const char *suffix, const char *content) {
    int fd = open(rj(suffix), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
        fprintf(stderr, "mk_file %s: %s\n", rj(suffix), strerror(errno));
    if (fd >= 0) close(fd);
}
static void mk_dir(const char *suffix) {
    if (mkdir(rj(suffix), 0755) != 0) fprintf(stderr, "mk_dir %s: %s\n", rj(suffix), strerror(errno));
}
static void mk_link(const char *target, const char *suffix) {
    if (symlink(target, rj(suffix)) != 0) fprintf(stderr, "mk_link %s: %s\n", rj(suffix), strerror(errno));
}

/* What lies at the real path B + suffix (lstat): kind/permissions, size, links and (small)
 * data of a file, a link's target. */
static void real_at(buf_t *b, const char *label, const char *suffix) {
    struct stat st;
    const char *r = rj(suffix);
    errno = 0;
    if (lstat(r, &st) != 0) {
        add(b, "%s=-1/%s ", label, en(errno));
        return;
    }
    const char *k = S_ISDIR(st.st_mode)    ? "dir"
                    : S_ISREG(st.st_mode)  ? "file"
                    : S_ISLNK(st.st_mode)  ? "link"
                    : S_ISFIFO(st.st_mode) ? "fifo"
                    : S_ISSOCK(st.st_mode) ? "sock"
                                           : "other";
    add(b, "%s=%s/%o", label, k, st.st_mode & 07777);
    if (S_ISREG(st.st_mode)) {
        add(b, " size=%ld nlink=%lu", (long)st.st_size, (unsigned long)st.st_nlink);
        if (st.st_size <= 64) {
            int fd = open(r, O_RDONLY);
            char d[80];
            ssize_t n = fd >= 0 ? read(fd, d, sizeof d - 1) : -1;
            d[n > 0 ? n : 0] = 0;
            add(b, " data=[%s]", norm(d));
            if (fd >= 0) close(fd);
        }
    }
    if (S_ISLNK(st.st_mode)) {
        char t[PATH_MAX + 1];
        ssize_t n = readlink(r, t, PATH_MAX);
        t[n > 0 ? n : 0] = 0;
        /* lstat's size is the target's length */
        add(b, " ->[%s] size_ok=%d", norm(t), n >= 0 && st.st_size == n);
    }
    add(b, " ");
}

/* Whether two real paths are the same inode. */
static void same_ino(buf_t *b, const char *label, const char *x, const char *y) {
    struct stat s1, s2;
    int ok = lstat(rj(x), &s1) == 0 && lstat(rj(y), &s2) == 0 && s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev;
    add(b, "%s=%d ", label, ok);
}

/* an fd of <P>/WD, <P>, <P>/sub, <P>/file */
static int wfd_open(void) { return open(pj(WD), O_RDONLY | O_DIRECTORY); }

/* "../w/NAME.TAG/s": s from <P>/sub */
static const char *from_sub(const char *s) {
    char *t = tmp();
    snprintf(t, 2 * PATH_MAX, "..%s/%s", WD, s);
    return t;
}
/* "w/NAME.TAG/s": s from <P> */
static const char *from_p(const char *s) {
    char *t = tmp();
    snprintf(t, 2 * PATH_MAX, "%s/%s", WD + 1, s);
    return t;
}

#define DO(label, call)         \
    do {                        \
        errno = 0;              \
        int r_ = (call);        \
        rv(b, label, r_, errno); \
    } while (0)

static void t_mkdir(buf_t *b) {
    wd_begin("mkdir");
    DO("new", mkdir(pj(W("d")), 0755));
    real_at(b, "real", W("d"));
    DO("again", mkdir(pj(W("d")), 0755));
    DO("mode700", mkdir(pj(W("d700")), 0700));
    real_at(b, "real", W("d700"));
    DO("slash", mkdir(pj(W("ds/")), 0755));
    real_at(b, "real", W("ds"));
    DO("in_new", mkdir(pj(W("d/e")), 0755));
    real_at(b, "real", W("d/e"));
    DO("missing/x", mkdir(pj("/missing/x"), 0755));
    DO("file/x", mkdir(pj("/file/x"), 0755));
    DO("file", mkdir(pj("/file"), 0755));
    DO("link", mkdir(pj("/link"), 0755));
    DO("dirlink", mkdir(pj("/dirlink"), 0755));
    DO("sub/..", mkdir(pj("/sub/.."), 0755));
    DO("P", mkdir(pj(""), 0755));
    /* physical ..: dirlink/.. is <P> */
    char via[256];
    snprintf(via, sizeof via, "/dirlink/..%s/dd", WD);
    DO("via_dirlink..", mkdir(pj(via), 0755));
    real_at(b, "real", W("dd"));
    if (chdir(pj(WD)) == 0) {
        DO("rel", mkdir("drel", 0750));
        real_at(b, "real", W("drel"));
        DO("rel_dotdot", mkdir("../../sub/../w", 0755));
        chdir("/");
    }
}

static void t_mkdirat(buf_t *b) {
    wd_begin("mkdirat");
    int wfd = wfd_open();
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int ffd = open(pj("/file"), O_RDONLY);
    DO("dirfd", mkdirat(wfd, "d", 0700));
    real_at(b, "real", W("d"));
    DO("again", mkdirat(wfd, "d", 0700));
    DO("cwd_abs", mkdirat(AT_FDCWD, pj(W("abs")), 0755));
    real_at(b, "real", W("abs"));
    DO("sub_fd_dotdot", mkdirat(sfd, from_sub("dd"), 0755));
    real_at(b, "real", W("dd"));
    DO("P_fd", mkdirat(dfd, from_p("pd"), 0755));
    real_at(b, "real", W("pd"));
    DO("abs_ignores_fd", mkdirat(ffd, pj(W("af")), 0755));
    real_at(b, "real", W("af"));
    DO("missing", mkdirat(dfd, "missing/x", 0755));
    DO("file_fd", mkdirat(ffd, "x", 0755));
    DO("badf", mkdirat(-1, "x", 0755));
    DO("exists", mkdirat(dfd, "sub", 0755));
    if (chdir(pj(WD)) == 0) {
        DO("cwd_rel", mkdirat(AT_FDCWD, "rel", 0755));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
    close(wfd);
    close(sfd);
    close(dfd);
    close(ffd);
}

static void t_rmdir(buf_t *b) {
    wd_begin("rmdir");
    mk_dir(W("d"));
    DO("empty", rmdir(pj(W("d"))));
    real_at(b, "real", W("d"));
    DO("again", rmdir(pj(W("d"))));
    mk_dir(W("ne"));
    mk_file(W("ne/x"), "x");
    DO("nonempty", rmdir(pj(W("ne"))));
    real_at(b, "real", W("ne"));
    mk_dir(W("dot"));
    DO("x/.", rmdir(pj(W("dot/."))));
    real_at(b, "real", W("dot"));
    DO("sub/..", rmdir(pj("/sub/..")));
    real_at(b, "sub", "/sub");
    DO("file", rmdir(pj("/file")));
    DO("missing", rmdir(pj("/missing")));
    DO("dirlink", rmdir(pj("/dirlink")));
    DO("dirlink/", rmdir(pj("/dirlink/")));
    real_at(b, "dirlink", "/dirlink");
    DO("file/x", rmdir(pj("/file/x")));
    mk_dir(W("sl"));
    DO("slash", rmdir(pj(W("sl/"))));
    real_at(b, "real", W("sl"));
    mk_dir(W("rel"));
    if (chdir(pj(WD)) == 0) {
        DO("rel", rmdir("rel"));
        real_at(b, "real", W("rel"));
        DO("rel_dot", rmdir("."));
        chdir("/");
    }
}

static void t_unlink(buf_t *b) {
    wd_begin("unlink");
    mk_file(W("f"), "f");
    DO("file", unlink(pj(W("f"))));
    real_at(b, "real", W("f"));
    DO("again", unlink(pj(W("f"))));
    /* a link goes, its target stays */
    mk_link("../../file", W("l"));
    DO("link", unlink(pj(W("l"))));
    real_at(b, "real", W("l"));
    real_at(b, "target", "/file");
    mk_link("../../sub", W("dl"));
    DO("dirlink", unlink(pj(W("dl"))));
    real_at(b, "real", W("dl"));
    real_at(b, "target", "/sub");
    DO("sub", unlink(pj("/sub")));
    DO("sub/", unlink(pj("/sub/")));
    DO("missing", unlink(pj("/missing")));
    DO("file/x", unlink(pj("/file/x")));
    mk_file(W("ts"), "t");
    DO("trailing_slash", unlink(pj(W("ts/"))));
    real_at(b, "real", W("ts"));
    mk_file(W("dd"), "d");
    char via[256];
    snprintf(via, sizeof via, "/dirlink/..%s/dd", WD);
    DO("via_dirlink..", unlink(pj(via)));
    real_at(b, "real", W("dd"));
    mk_file(W("rel"), "r");
    if (chdir(pj(WD)) == 0) {
        DO("rel", unlink("rel"));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
}

static void t_unlinkat(buf_t *b) {
    wd_begin("unlinkat");
    int wfd = wfd_open();
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int ffd = open(pj("/file"), O_RDONLY);
    mk_file(W("f"), "f");
    DO("file", unlinkat(wfd, "f", 0));
    real_at(b, "real", W("f"));
    mk_dir(W("d"));
    DO("removedir", unlinkat(wfd, "d", AT_REMOVEDIR));
    real_at(b, "real", W("d"));
    mk_dir(W("d2"));
    DO("dir_no_flag", unlinkat(wfd, "d2", 0));
    real_at(b, "real", W("d2"));
    mk_file(W("f2"), "f");
    DO("file_removedir", unlinkat(wfd, "f2", AT_REMOVEDIR));
    real_at(b, "real", W("f2"));
    DO("sub_nonempty", unlinkat(dfd, "sub", AT_REMOVEDIR));
    DO("sub/.", unlinkat(dfd, "sub/.", AT_REMOVEDIR));
    DO("missing", unlinkat(dfd, "missing", 0));
    mk_file(W("dd"), "d");
    DO("sub_fd_dotdot", unlinkat(sfd, from_sub("dd"), 0));
    real_at(b, "real", W("dd"));
    mk_file(W("pf"), "p");
    DO("P_fd", unlinkat(dfd, from_p("pf"), 0));
    real_at(b, "real", W("pf"));
    mk_file(W("abs"), "a");
    DO("cwd_abs", unlinkat(AT_FDCWD, pj(W("abs")), 0));
    real_at(b, "real", W("abs"));
    DO("badf", unlinkat(-1, "x", 0));
    DO("file_fd", unlinkat(ffd, "x", 0));
    mk_file(W("rel"), "r");
    if (chdir(pj(WD)) == 0) {
        DO("cwd_rel", unlinkat(AT_FDCWD, "rel", 0));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
    real_at(b, "sub", "/sub");
    close(wfd);
    close(sfd);
    close(dfd);
    close(ffd);
}

static void t_remove(buf_t *b) {
    wd_begin("remove");
    mk_file(W("f"), "f");
    DO("file", remove(pj(W("f"))));
    real_at(b, "real", W("f"));
    mk_dir(W("d"));
    DO("empty_dir", remove(pj(W("d"))));
    real_at(b, "real", W("d"));
    mk_dir(W("ne"));
    mk_file(W("ne/x"), "x");
    DO("nonempty", remove(pj(W("ne"))));
    real_at(b, "real", W("ne"));
    mk_link("../../sub", W("dl"));
    DO("dirlink", remove(pj(W("dl"))));
    real_at(b, "real", W("dl"));
    real_at(b, "target", "/sub");
    DO("sub", remove(pj("/sub")));
    DO("missing", remove(pj("/missing")));
    DO("file/x", remove(pj("/file/x")));
    mk_file(W("rel"), "r");
    if (chdir(pj(WD)) == 0) {
        DO("rel", remove("rel"));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
}

static void t_rename(buf_t *b) {
    wd_begin("rename");
    mk_file(W("a"), "A");
    DO("file", rename(pj(W("a")), pj(W("b"))));
    real_at(b, "old", W("a"));
    real_at(b, "new", W("b"));
    mk_file(W("c"), "C");
    DO("replace", rename(pj(W("b")), pj(W("c"))));
    real_at(b, "old", W("b"));
    real_at(b, "new", W("c"));
    mk_dir(W("d"));
    DO("file_onto_dir", rename(pj(W("c")), pj(W("d"))));
    DO("dir_onto_file", rename(pj(W("d")), pj(W("c"))));
    mk_dir(W("ne"));
    mk_file(W("ne/x"), "x");
    DO("dir_onto_nonempty", rename(pj(W("d")), pj(W("ne"))));
    mk_dir(W("e"));
    DO("dir_onto_empty", rename(pj(W("d")), pj(W("e"))));
    real_at(b, "old", W("d"));
    real_at(b, "new", W("e"));
    DO("into_itself", rename(pj(W("e")), pj(W("e/x"))));
    DO("missing", rename(pj(W("missing")), pj(W("y"))));
    DO("to_missing_dir", rename(pj(W("c")), pj("/missing/x")));
    DO("file/x", rename(pj("/file/x"), pj(W("y"))));
    DO("to_file/x", rename(pj(W("c")), pj("/file/x")));
    DO("same", rename(pj(W("c")), pj(W("c"))));
    real_at(b, "same", W("c"));
    /* a link moves, not its target */
    mk_link("../../file", W("l"));
    DO("link", rename(pj(W("l")), pj(W("l2"))));
    real_at(b, "new", W("l2"));
    real_at(b, "target", "/file");
    /* from a file in the fixture's directories and back: the fixture stays as it was */
    mk_file(W("g"), "G");
    char via[256];
    snprintf(via, sizeof via, "/dirlink/..%s/g2", WD);
    DO("via_dirlink..", rename(pj(W("g")), pj(via)));
    real_at(b, "new", W("g2"));
    if (chdir(pj(WD)) == 0) {
        DO("rel", rename("g2", "g3"));
        real_at(b, "new", W("g3"));
        DO("rel_dot", rename(".", "x"));
        chdir("/");
    }
}

static void renameat_common(buf_t *b, int two, unsigned flags) {
    int wfd = wfd_open();
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int ffd = open(pj("/file"), O_RDONLY);
#define RA(od, o, nd, n) (two ? renameat2(od, o, nd, n, flags) : renameat(od, o, nd, n))
    mk_file(W("a"), "A");
    DO("dirfd", RA(wfd, "a", wfd, "b"));
    real_at(b, "old", W("a"));
    real_at(b, "new", W("b"));
    DO("sub_fd_to_P_fd", RA(sfd, from_sub("b"), dfd, from_p("c")));
    real_at(b, "new", W("c"));
    DO("cwd_abs", RA(AT_FDCWD, pj(W("c")), wfd, "d"));
    real_at(b, "new", W("d"));
    DO("abs_ignores_fds", RA(ffd, pj(W("d")), ffd, pj(W("e"))));
    real_at(b, "new", W("e"));
    DO("missing", RA(wfd, "missing", wfd, "x"));
    DO("badf_old", RA(-1, "e", wfd, "x"));
    DO("badf_new", RA(wfd, "e", -1, "x"));
    DO("file_fd", RA(ffd, "x", wfd, "y"));
    mk_dir(W("dir"));
    DO("onto_dir", RA(wfd, "e", wfd, "dir"));
    if (chdir(pj(WD)) == 0) {
        DO("cwd_rel", RA(AT_FDCWD, "e", wfd, "f"));
        real_at(b, "new", W("f"));
        chdir("/");
    }
#undef RA
    close(wfd);
    close(sfd);
    close(dfd);
    close(ffd);
}

static void t_renameat(buf_t *b) {
    wd_begin("renameat");
    renameat_common(b, 0, 0);
}

static void t_renameat2(buf_t *b) {
    wd_begin("renameat2");
    renameat_common(b, 1, 0);
    int wfd = wfd_open();
    mk_file(W("n1"), "N1");
    mk_file(W("n2"), "N2");
    DO("noreplace_existing", renameat2(wfd, "n1", wfd, "n2", RENAME_NOREPLACE));
    real_at(b, "kept", W("n2"));
    DO("noreplace_new", renameat2(AT_FDCWD, pj(W("n1")), wfd, "n3", RENAME_NOREPLACE));
    real_at(b, "new", W("n3"));
    DO("exchange", renameat2(wfd, "n2", AT_FDCWD, pj(W("n3")), RENAME_EXCHANGE));
    real_at(b, "n2", W("n2"));
    real_at(b, "n3", W("n3"));
    DO("exchange_missing", renameat2(wfd, "n2", wfd, "missing", RENAME_EXCHANGE));
    DO("bad_flags", renameat2(wfd, "n2", wfd, "n4", RENAME_EXCHANGE | RENAME_NOREPLACE));
    close(wfd);
}

static void truncate_common(buf_t *b, int use64) {
#define TR(p, n) (use64 ? truncate64(p, (off64_t)(n)) : truncate(p, (off_t)(n)))
    mk_file(W("f"), "hello world");
    DO("shorter", TR(pj(W("f")), 5));
    real_at(b, "real", W("f"));
    DO("longer", TR(pj(W("f")), 100));
    real_at(b, "real", W("f"));
    mk_link("f", W("l"));
    DO("through_link", TR(pj(W("l")), 2));
    real_at(b, "target", W("f"));
    DO("sub", TR(pj("/sub"), 0));
    DO("missing", TR(pj("/missing"), 0));
    DO("file/x", TR(pj("/file/x"), 0));
    DO("negative", TR(pj(W("f")), -1));
    if (chdir(pj(WD)) == 0) {
        DO("rel", TR("f", 1));
        real_at(b, "real", W("f"));
        chdir("/");
    }
    real_at(b, "fixture", "/file");
#undef TR
}
static void t_truncate(buf_t *b) {
    wd_begin("truncate");
    truncate_common(b, 0);
}
static void t_truncate64(buf_t *b) {
    wd_begin("truncate64");
    truncate_common(b, 1);
}

/* mknod, mknodat, __xmknod, __xmknodat, mkfifo, mkfifoat through one signature: (dirfd or
 * AT_FDCWD, path, mode with type, dev) */
typedef int (*mknod_fn)(int, const char *, mode_t, dev_t);
static int mknod_shim(int d, const char *p, mode_t m, dev_t v) { return d == AT_FDCWD ? mknod(p, m, v) : -99; }
static int mknodat_shim(int d, const char *p, mode_t m, dev_t v) { return mknodat(d, p, m, v); }
static int xmknod_shim(int d, const char *p, mode_t m, dev_t v) {
    return d == AT_FDCWD ? __xmknod(MKNOD_VER, p, m, &v) : -99;
}
static int xmknodat_shim(int d, const char *p, mode_t m, dev_t v) { return __xmknodat(MKNOD_VER, d, p, m, &v); }
static int mkfifo_shim(int d, const char *p, mode_t m, dev_t v) {
    (void)v;
    return d == AT_FDCWD && S_ISFIFO(m) ? mkfifo(p, m & 07777) : -99;
}
static int mkfifoat_shim(int d, const char *p, mode_t m, dev_t v) {
    (void)v;
    return S_ISFIFO(m) ? mkfifoat(d, p, m & 07777) : -99;
}

/* all: the function takes any file type (mknod's kin) rather than FIFOs only; at: a dirfd */
static void mknod_common(buf_t *b, mknod_fn fn, int all, int at) {
    DO("fifo", fn(AT_FDCWD, pj(W("fifo")), S_IFIFO | 0644, 0));
    real_at(b, "real", W("fifo"));
    DO("fifo600", fn(AT_FDCWD, pj(W("fifo600")), S_IFIFO | 0600, 0));
    real_at(b, "real", W("fifo600"));
    DO("again", fn(AT_FDCWD, pj(W("fifo")), S_IFIFO | 0644, 0));
    DO("missing/x", fn(AT_FDCWD, pj("/missing/x"), S_IFIFO | 0644, 0));
    DO("file/x", fn(AT_FDCWD, pj("/file/x"), S_IFIFO | 0644, 0));
    DO("link", fn(AT_FDCWD, pj("/link"), S_IFIFO | 0644, 0));
    if (all) {
        DO("regular", fn(AT_FDCWD, pj(W("reg")), S_IFREG | 0600, 0));
        real_at(b, "real", W("reg"));
        DO("socket", fn(AT_FDCWD, pj(W("sock")), S_IFSOCK | 0644, 0));
        real_at(b, "real", W("sock"));
        DO("type0", fn(AT_FDCWD, pj(W("t0")), 0644, 0));
        real_at(b, "real", W("t0"));
        DO("dir_type", fn(AT_FDCWD, pj(W("dir")), S_IFDIR | 0755, 0));
    }
    if (at) {
        int wfd = wfd_open();
        int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
        int ffd = open(pj("/file"), O_RDONLY);
        DO("dirfd", fn(wfd, "at", S_IFIFO | 0640, 0));
        real_at(b, "real", W("at"));
        DO("sub_fd_dotdot", fn(sfd, from_sub("at2"), S_IFIFO | 0644, 0));
        real_at(b, "real", W("at2"));
        DO("badf", fn(-1, "x", S_IFIFO | 0644, 0));
        DO("file_fd", fn(ffd, "x", S_IFIFO | 0644, 0));
        DO("abs_ignores_fd", fn(ffd, pj(W("at3")), S_IFIFO | 0644, 0));
        real_at(b, "real", W("at3"));
        close(wfd);
        close(sfd);
        close(ffd);
    }
    if (chdir(pj(WD)) == 0) {
        DO("rel", fn(AT_FDCWD, "rel", S_IFIFO | 0600, 0));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
}
static void t_mknod(buf_t *b) {
    wd_begin("mknod");
    mknod_common(b, mknod_shim, 1, 0);
}
static void t_mknodat(buf_t *b) {
    wd_begin("mknodat");
    mknod_common(b, mknodat_shim, 1, 1);
}
static void t_xmknod(buf_t *b) {
    wd_begin("xmknod");
    mknod_common(b, xmknod_shim, 1, 0);
}
static void t_xmknodat(buf_t *b) {
    wd_begin("xmknodat");
    mknod_common(b, xmknodat_shim, 1, 1);
}
static void t_mkfifo(buf_t *b) {
    wd_begin("mkfifo");
    mknod_common(b, mkfifo_shim, 0, 0);
}
static void t_mkfifoat(buf_t *b) {
    wd_begin("mkfifoat");
    mknod_common(b, mkfifoat_shim, 0, 1);
}

/* symlink: the target is stored exactly as given (never translated), and it resolves in the
 * view (relative from the link's directory, absolute from the view's root) */
static void open_data(buf_t *b, const char *label, const char *path) {
    int fd = open(path, O_RDONLY);
    int e = errno;
    add(b, "%s:", label);
    rok(b, "open", fd >= 0, e);
    if (fd >= 0) {
        fd_data(b, fd);
        close(fd);
    }
}
static void readlink_p(buf_t *b, const char *label, const char *path) {
    char t[PATH_MAX + 1];
    errno = 0;
    ssize_t n = readlink(path, t, PATH_MAX);
    t[n > 0 ? n : 0] = 0;
    if (n < 0)
        add(b, "%s=-1/%s ", label, en(errno));
    else
        add(b, "%s=[%s] ", label, norm(t));
}

typedef int (*symlink_fn)(const char *, int, const char *);
static int symlink_shim(const char *t, int d, const char *p) { return d == AT_FDCWD ? symlink(t, p) : -99; }

static void symlink_common(buf_t *b, symlink_fn fn, int at) {
    DO("rel_target", fn("../../file", AT_FDCWD, pj(W("l"))));
    real_at(b, "real", W("l"));
    readlink_p(b, "readlink", pj(W("l")));
    open_data(b, "via", pj(W("l")));
    DO("unreal_target", fn("/unreal/whatever", AT_FDCWD, pj(W("u"))));
    real_at(b, "real", W("u"));
    readlink_p(b, "readlink", pj(W("u")));
    /* a target naming P itself: stored as given, read back as given, and it resolves */
    DO("P_target", fn(pj("/sub"), AT_FDCWD, pj(W("p"))));
    real_at(b, "real", W("p"));
    readlink_p(b, "readlink", pj(W("p")));
    open_data(b, "via", pj(W("p/inner")));
    DO("dotdot_target", fn("../../sub/../dirlink/inner", AT_FDCWD, pj(W("dd"))));
    real_at(b, "real", W("dd"));
    open_data(b, "via", pj(W("dd")));
    DO("dangling", fn("nowhere", AT_FDCWD, pj(W("n"))));
    real_at(b, "real", W("n"));
    DO("empty_target", fn("", AT_FDCWD, pj(W("e"))));
    DO("exists", fn("file", AT_FDCWD, pj("/link")));
    DO("exists_file", fn("x", AT_FDCWD, pj("/file")));
    DO("missing/x", fn("x", AT_FDCWD, pj("/missing/x")));
    DO("file/x", fn("x", AT_FDCWD, pj("/file/x")));
    real_at(b, "fixture", "/link");
    if (at) {
        int wfd = wfd_open();
        int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
        int ffd = open(pj("/file"), O_RDONLY);
        DO("dirfd", fn("../../sub", wfd, "at"));
        real_at(b, "real", W("at"));
        open_data(b, "via", pj(W("at/inner")));
        DO("sub_fd_dotdot", fn("/unreal/x", sfd, from_sub("at2")));
        real_at(b, "real", W("at2"));
        DO("badf", fn("x", -1, "x"));
        DO("file_fd", fn("x", ffd, "x"));
        DO("abs_ignores_fd", fn("x", ffd, pj(W("at3"))));
        real_at(b, "real", W("at3"));
        close(wfd);
        close(sfd);
        close(ffd);
    }
    if (chdir(pj(WD)) == 0) {
        DO("rel", fn("../../sub", AT_FDCWD, "rel"));
        real_at(b, "real", W("rel"));
        open_data(b, "via", "rel/inner");
        chdir("/");
    }
}
#define SYMLINK_OUT_BASE                                                                                  \
    "rel_target=0; real=link/777 ->[../../file] size_ok=1 readlink=[../../file] via:open=ok; data=[" CONTENT "] " \
    "unreal_target=0; real=link/777 ->[/unreal/whatever] size_ok=1 readlink=[/unreal/whatever] "               \
    "P_target=0; real=link/777 ->[<P>/sub] size_ok=1 readlink=[<P>/sub] via:open=ok; data=[" INNER "] "                  \
    "dotdot_target=0; real=link/777 ->[../../sub/../dirlink/inner] size_ok=1 via:open=ok; data=[" INNER "] "     \
    "dangling=0; real=link/777 ->[nowhere] size_ok=1 empty_target=-1/ENOENT; exists=-1/EEXIST; "                  \
    "exists_file=-1/EEXIST; missing/x=-1/ENOENT; file/x=-1/ENOTDIR; fixture=link/777 ->[file] size_ok=1 "

static int symlinkat_shim(const char *t, int d, const char *p) { return symlinkat(t, d, p); }
static void t_symlink(buf_t *b) {
    wd_begin("symlink");
    symlink_common(b, symlink_shim, 0);
}
static void t_symlinkat(buf_t *b) {
    wd_begin("symlinkat");
    symlink_common(b, symlinkat_shim, 1);
}

static void t_link(buf_t *b) {
    wd_begin("link");
    mk_file(W("src"), "L");
    DO("file", link(pj(W("src")), pj(W("dst"))));
    real_at(b, "real", W("dst"));
    same_ino(b, "same_ino", W("src"), W("dst"));
    DO("again", link(pj(W("src")), pj(W("dst"))));
    DO("dir", link(pj("/sub"), pj(W("dir"))));
    DO("missing", link(pj("/missing"), pj(W("m"))));
    DO("to_missing_dir", link(pj(W("src")), pj("/missing/x")));
    DO("file/x", link(pj("/file/x"), pj(W("x"))));
    /* link does not follow a symlink: the new name is the link */
    mk_link("../../file", W("sl"));
    DO("symlink", link(pj(W("sl")), pj(W("sl2"))));
    real_at(b, "real", W("sl2"));
    same_ino(b, "same_ino", W("sl"), W("sl2"));
    /* through the fixture's dirlink (..) */
    char via[256];
    snprintf(via, sizeof via, "/dirlink/..%s/via", WD);
    DO("via_dirlink..", link(pj(W("src")), pj(via)));
    same_ino(b, "same_ino", W("src"), W("via"));
    if (chdir(pj(WD)) == 0) {
        DO("rel", link("src", "rel"));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
}

static void t_linkat(buf_t *b) {
    wd_begin("linkat");
    int wfd = wfd_open();
    int sfd = open(pj("/sub"), O_RDONLY | O_DIRECTORY);
    int dfd = open(pj(""), O_RDONLY | O_DIRECTORY);
    int ffd = open(pj("/file"), O_RDONLY);
    mk_file(W("src"), "LA");
    mk_link("src", W("sl"));
    DO("dirfd", linkat(wfd, "src", wfd, "dst", 0));
    real_at(b, "real", W("dst"));
    same_ino(b, "same_ino", W("src"), W("dst"));
    DO("nofollow", linkat(wfd, "sl", wfd, "nof", 0));
    real_at(b, "real", W("nof"));
    same_ino(b, "same_ino_link", W("sl"), W("nof"));
    DO("follow", linkat(wfd, "sl", wfd, "fol", AT_SYMLINK_FOLLOW));
    real_at(b, "real", W("fol"));
    same_ino(b, "same_ino_src", W("src"), W("fol"));
    DO("sub_fd_to_P_fd", linkat(sfd, from_sub("src"), dfd, from_p("sp"), 0));
    same_ino(b, "same_ino", W("src"), W("sp"));
    DO("cwd_abs", linkat(AT_FDCWD, pj(W("src")), AT_FDCWD, pj(W("abs")), 0));
    same_ino(b, "same_ino", W("src"), W("abs"));
    DO("abs_ignores_fds", linkat(ffd, pj(W("src")), ffd, pj(W("abs2")), 0));
    same_ino(b, "same_ino", W("src"), W("abs2"));
    DO("again", linkat(wfd, "src", wfd, "dst", 0));
    DO("missing", linkat(wfd, "missing", wfd, "m", 0));
    DO("badf", linkat(-1, "src", wfd, "b", 0));
    DO("file_fd", linkat(ffd, "x", wfd, "b", 0));
    DO("dir", linkat(dfd, "sub", wfd, "dir", 0));
    /* AT_EMPTY_PATH: the descriptor's file (needs CAP_DAC_READ_SEARCH, else ENOENT) */
    int sf = open(pj(W("src")), O_RDONLY);
    errno = 0;
    int r = linkat(sf, "", wfd, "empty", AT_EMPTY_PATH);
    rv(b, "empty_path", r, errno);
    if (r == 0) same_ino(b, "same_ino", W("src"), W("empty"));
    close(sf);
    if (chdir(pj(WD)) == 0) {
        DO("cwd_rel", linkat(AT_FDCWD, "src", AT_FDCWD, "rel", 0));
        real_at(b, "real", W("rel"));
        chdir("/");
    }
    close(wfd);
    close(sfd);
    close(dfd);
    close(ffd);
}

/* ---- error cases, with the exact errno ---- */

static void t_error_stat_missing(buf_t *b) {
    struct stat st;
    errno = 0;
    int r = stat(pj("/missing"), &st);
    rv(b, "stat", r, errno);
}

static void t_error_open_enotdir(buf_t *b) {
    errno = 0;
    int fd = open(pj("/file/x"), O_RDONLY);
    rv(b, "open", fd, errno);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: every_hook A B\n");
        return 2;
    }
    A = argv[1];
    B = argv[2];
    alarm(120);
    umask(022);
    unsetenv("PWD"); /* get_current_dir_name and shells would trust it */
    setvbuf(stdout, NULL, _IOLBF, 0);

    check("open", t_open);
    check("open64", t_open64);
    check("__open_2", t_open_2);
    check("__open64_2", t_open64_2);
    check("openat", t_openat);
    check("openat64", t_openat64);
    check("__openat_2", t_openat_2);
    check("__openat64_2", t_openat64_2);
    check("creat", t_creat);
    check("creat64", t_creat64);
    check("fopen", t_fopen);
    check("fopen64", t_fopen64);
    check("freopen", t_freopen);
    check("freopen64", t_freopen64);

    check("stat", t_stat);
    check("stat64", t_stat64);
    check("lstat", t_lstat);
    check("lstat64", t_lstat64);
    check("fstatat", t_fstatat);
    check("fstatat64", t_fstatat64);
    check("statx", t_statx);
    check("__xstat", t_xstat);
    check("__xstat64", t_xstat64);
    check("__lxstat", t_lxstat);
    check("__lxstat64", t_lxstat64);
    check("__fxstatat", t_fxstatat);
    check("__fxstatat64", t_fxstatat64);
    check("access", t_access);
    check("faccessat", t_faccessat);
    check("eaccess", t_eaccess);
    check("euidaccess", t_euidaccess);
    check("fstat", t_fstat);
    check("fstat64", t_fstat64);
    check("__fxstat", t_fxstat);
    check("__fxstat64", t_fxstat64);
    check("statfs", t_statfs);
    check("statfs64", t_statfs64);
    check("statvfs", t_statvfs);
    check("statvfs64", t_statvfs64);
    check("pathconf", t_pathconf);

    check("opendir", t_opendir);
    check("readdir", t_readdir);
    check("readdir64", t_readdir64);
    check("rewinddir", t_rewinddir);
    check("closedir", t_closedir);
    mountpoint_checks();
    check_exp("fdopendir", t_fdopendir, FDOPENDIR_OUT);
    check_exp("readdir_r", t_readdir_r, READDIR_R_OUT);
    check_exp("readdir64_r", t_readdir64_r, READDIR_R_OUT);
    /* one test exercises telldir and seekdir together */
    check_exp("telldir", t_telldir, TELLDIR_OUT);
    check_exp("seekdir", t_telldir, TELLDIR_OUT);
    check_exp("scandir", t_scandir, SCANDIR_OUT);
    check_exp("scandir64", t_scandir64, SCANDIR_OUT);
    check_exp("scandirat", t_scandirat, SCANDIRAT_OUT);
    check_exp("scandirat64", t_scandirat64, SCANDIRAT_OUT);
    check_exp("glob", t_glob, GLOB_OUT);
    check_exp("glob64", t_glob64, GLOB_OUT);
    /* one walk exercises all four fts entries */
    check_exp("fts_open", t_fts, FTS_OUT);
    check_exp("fts_read", t_fts, FTS_OUT);
    check_exp("fts_children", t_fts, FTS_OUT);
    check_exp("fts_close", t_fts, FTS_OUT);
    check_exp("fts64_open", t_fts64, FTS_OUT);
    check_exp("fts64_read", t_fts64, FTS_OUT);
    check_exp("fts64_children", t_fts64, FTS_OUT);
    check_exp("fts64_close", t_fts64, FTS_OUT);
    check_exp("ftw", t_ftw, FTW_OUT);
    check_exp("ftw64", t_ftw64, FTW_OUT);
    check_exp("nftw", t_nftw, NFTW_OUT);
    check_exp("nftw64", t_nftw64, NFTW_OUT);

    check("readlink", t_readlink);
    check("readlinkat", t_readlinkat);
    check_exp("__readlink_chk", t_readlink_chk, READLINK_CHK_OUT);
    check_exp("__readlinkat_chk", t_readlinkat_chk, READLINKAT_CHK_OUT);
    check_exp("proc_self_cwd", t_proc_self_cwd, "<P>/sub");
    check_exp("proc_self_fd", t_proc_self_fd, "<P>/file");

    check("realpath", t_realpath);
    check("canonicalize_file_name", t_canonicalize);
    check_exp("__realpath_chk", t_realpath_chk, REALPATH_CHK_OUT);
    check_exp("getcwd", t_getcwd,
              "chdir=0; cwd=[<P>/sub] malloc=[<P>/sub] malloc4096=[<P>/sub] small=NULL/ERANGE exact=[<P>/sub] "
              "one_less=NULL/ERANGE zero=NULL/EINVAL ");
    check_exp("get_current_dir_name", t_get_current_dir_name, "<P>/sub");
    check_exp("__getcwd_chk", t_getcwd_chk, GETCWD_CHK_OUT);
    check_exp("getwd", t_getwd, "sub=[<P>/sub] same_buf=1 dirlink/..=[<P>] ");
    check_exp("__getwd_chk", t_getwd_chk, "sub=[<P>/sub] same_buf=1 dirlink/..=[<P>] ");
    check("chdir", t_chdir);
    check_exp("fchdir", t_fchdir,
              "fchdir_sub=0; cwd=[<P>/sub] open_rel=ok; data=[" INNER "] fchdir_parent=0; cwd=[<P>] "
              "fchdir_file=-1/ENOTDIR; fchdir_badf=-1/EBADF; fchdir_real=0; cwd_is_real=yes fchdir_back=0; "
              "cwd=[<P>/sub] fchdir_dirfd=0; cwd=[<P>/sub] ");

    check_exp("dup", t_dup, DUP_OUT);
    check_exp("dup2", t_dup2, DUP2_OUT);
    check_exp("dup3", t_dup3, DUP3_OUT);
    check_exp("fcntl", t_fcntl, FCNTL_OUT);
    check_exp("fcntl64", t_fcntl64, FCNTL_OUT);
    check_exp("close", t_close, CLOSE_OUT);
    check_exp("fclose", t_fclose, FCLOSE_OUT);
    check_exp("close_range", t_close_range, CLOSE_RANGE_OUT);

    check_exp("execve", t_execve,
              "prog: " PROG_OUT "hprog: " HPROG_OUT "sh: exit=0 out=[sh\n<P>/sub\n" CONTENT "]; "
              "missing: " EXEC_ERR("ENOENT") "noexec: " EXEC_ERR("EACCES") "file/x: " EXEC_ERR("ENOTDIR"));
    check_exp("execv", t_execv, "prog: " PROG_OUT "rel: exit=0 out=[../bin/prog x y\n<P>/sub\n]; ");
    check_exp("execvp", t_execvp, "prog: " PROG_OUT "slash: " HPROG_OUT "missing: " EXEC_ERR("ENOENT"));
    check_exp("execvpe", t_execvpe, "prog: " PROG_OUT);
    check_exp("execl", t_execl, "prog: " PROG_OUT "hprog: " HPROG_OUT);
    check_exp("execle", t_execle, "prog: " PROG_OUT);
    check_exp("execlp", t_execlp, "prog: " PROG_OUT "hprog: " HPROG_OUT);
    check_exp("posix_spawn", t_posix_spawn, "prog: " PROG_OUT "hprog: " HPROG_OUT "missing: " SPAWN_ERR("ENOENT"));
    check_exp("posix_spawnp", t_posix_spawnp, "prog: " PROG_OUT "hprog: " HPROG_OUT "missing: " SPAWN_ERR("ENOENT"));
    check_exp("posix_spawn_file_actions_addopen", t_spawn_addopen,
              "abs: exit=0 out=[" CONTENT "]; rel: exit=0 out=[" INNER "]; "
              "create: exit=0 out=[addopen=0 rc=0 status=0\nspawned\n]; "
              "missing: exit=98 out=[addopen=0\nspawn rc=ENOENT\n]; ");
    check_exp("posix_spawn_file_actions_addchdir_np", t_spawn_addchdir,
              "abs: exit=0 out=[<P>/bin\n" CONTENT "]; rel: exit=0 out=[<P>/sub\n" INNER "]; ");
    check_exp("posix_spawn_file_actions_destroy", t_spawn_destroy,
              "addopen: exit=0 out=[destroy=0\n<P>/sub\n" CONTENT "]; empty: exit=0 out=[<P>/sub\n]; ");
    check_exp("system", t_system, "cat: exit=0 out=[" CONTENT "<P>/sub\n]; fail: exit=1 out=[]; script: " PROG_OUT);
    check_exp("popen", t_popen,
              "popen_r=ok; data=[" CONTENT "] pclose=0 popen_w=ok; pclose=0 data=[piped\n] "
              "popen_script=ok; data=[../bin/prog x y\n<P>/sub\n] pclose=0 ");
    check("chroot", t_chroot);

    check("mkdir", t_mkdir);
    check("mkdirat", t_mkdirat);
    check("rmdir", t_rmdir);
    check("unlink", t_unlink);
    check("unlinkat", t_unlinkat);
    check("remove", t_remove);
    check("rename", t_rename);
    check("renameat", t_renameat);
    check("renameat2", t_renameat2);
    check("truncate", t_truncate);
    check("truncate64", t_truncate64);
    check("mknod", t_mknod);
    check("mknodat", t_mknodat);
    check("__xmknod", t_xmknod);
    check("__xmknodat", t_xmknodat);
    check("mkfifo", t_mkfifo);
    check("mkfifoat", t_mkfifoat);
    check_exp("symlink", t_symlink, SYMLINK_OUT_BASE "rel=0; real=link/777 ->[../../sub] size_ok=1 via:open=ok; data=[" INNER "] ");
    check("symlinkat", t_symlinkat);
    check("link", t_link);
    check("linkat", t_linkat);

    check_exp("error_stat_missing", t_error_stat_missing, "stat=-1/ENOENT; ");
    check_exp("error_open_enotdir", t_error_open_enotdir, "open=-1/ENOTDIR; ");

    printf("done failures=%d\n", failures);
    return 0;
}
