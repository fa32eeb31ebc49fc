/* Per-call micro-benchmark for kmview's bench/instructions.
 *
 *   calls OP COUNT [PATH]
 *
 * OP is one of
 *   stat     COUNT x stat(PATH)
 *   sysstat  COUNT x syscall(SYS_newfstatat, AT_FDCWD, PATH, &st, 0)
 *   open     COUNT x open(PATH, O_RDONLY) + close
 *   opendir  COUNT x opendir(PATH) + closedir
 *   getcwd   COUNT x getcwd(buf, sizeof buf)          (no PATH)
 *
 * PATH may be anything the call accepts: a dot component (/tmp/x/.git/objects/ab), a `..`
 * (/tmp/x/a/../b), a path under a view's mount. Nothing is done before or after the loop
 * that depends on COUNT, so the difference between two runs with different counts is the
 * cost of the calls alone (bench/instructions does that under callgrind and strace).
 *
 * Counts must not depend on where the kernel (or valgrind) put the stack and the strings:
 * the string functions of glibc and of the library under test take more or fewer
 * instructions with the alignment of what they read (a path's first bytes, a buffer on the
 * stack), and that moves with the size of the environment. So PATH is copied to a
 * page-aligned buffer, and the loop runs on a stack moved down to the same offset in its
 * page every time.
 *
 * Prints the number of successful calls; exit 0 when all succeeded, 1 when one failed (the
 * first failure is reported on stderr), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long failed;

static void fail(const char *what, const char *path)
{
    if (failed++ == 0)
        fprintf(stderr, "calls: %s %s: %s\n", what, path ? path : "", strerror(errno));
}

static char path_buf[4096] __attribute__((aligned(4096)));

static __attribute__((noinline)) int calls(const char *op, long n, const char *path)
{
    long ok = 0;

    if (strcmp(op, "stat") == 0) {
        struct stat st;
        for (long i = 0; i < n; i++) {
            if (stat(path, &st) == 0)
                ok++;
            else
                fail("stat", path);
        }
    } else if (strcmp(op, "sysstat") == 0) {
        /* libc's syscall(): the dispatch a trapped call of complete mode goes through */
        struct stat st;
        for (long i = 0; i < n; i++) {
            if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0)
                ok++;
            else
                fail("syscall(SYS_newfstatat)", path);
        }
    } else if (strcmp(op, "open") == 0) {
        for (long i = 0; i < n; i++) {
            int fd = open(path, O_RDONLY);
            if (fd >= 0) {
                ok++;
                close(fd);
            } else {
                fail("open", path);
            }
        }
    } else if (strcmp(op, "opendir") == 0) {
        for (long i = 0; i < n; i++) {
            DIR *d = opendir(path);
            if (d) {
                ok++;
                closedir(d);
            } else {
                fail("opendir", path);
            }
        }
    } else if (strcmp(op, "getcwd") == 0) {
        static char buf[4096];
        for (long i = 0; i < n; i++) {
            if (getcwd(buf, sizeof buf))
                ok++;
            else
                fail("getcwd", NULL);
        }
    } else {
        fprintf(stderr, "calls: unknown op %s\n", op);
        return 2;
    }
    printf("%ld\n", ok);
    return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: calls stat|sysstat|open|opendir|getcwd COUNT [PATH]\n");
        return 2;
    }
    const char *op = argv[1];
    long n = atol(argv[2]);
    const char *path = NULL;

    if (argc == 4) {
        if (strlen(argv[3]) >= sizeof path_buf) {
            fprintf(stderr, "calls: PATH too long\n");
            return 2;
        }
        path = strcpy(path_buf, argv[3]);
    } else if (strcmp(op, "getcwd") != 0) {
        fprintf(stderr, "calls: %s needs a PATH\n", op);
        return 2;
    }
    /* the same stack offset in its page for every run */
    char here;
    size_t down = ((uintptr_t)&here & 4095) + 256;
    volatile char *pad = alloca(down);
    pad[0] = 0;
    return calls(op, n, path);
}
