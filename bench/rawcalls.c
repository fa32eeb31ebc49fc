/* The cost of one trapped system call, for bench/run (complete mode, `kmview --complete`).
 *
 *   rawcalls raw|libc COUNT PATH
 *
 *   raw   COUNT x newfstatat(AT_FDCWD, PATH, &st, 0) made with the program's own `syscall`
 *         instruction (inline assembly, never libc's): what a Go program does. Under
 *         `kmview --complete` each one is trapped (SIGSYS) and goes through the view; without
 *         it an LD_PRELOAD library never sees it.
 *   libc  COUNT x stat(PATH) through libc (glibc makes the same newfstatat): the library's
 *         hook, never trapped.
 *
 * 1000 calls are made first (not timed), then COUNT calls are timed with
 * clock_gettime(CLOCK_MONOTONIC) around the loop alone, so neither start-up nor the launcher
 * is in the figure. Prints `OK NS`: the number of successful timed calls and the wall time per
 * call in nanoseconds. Exit 0 when all calls succeeded. (Under callgrind the difference of two
 * runs with different COUNTs gives the instructions per call.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline long raw_newfstatat(const char *path, struct stat *st)
{
    long ret;
    register long r10 __asm__("r10") = 0;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_newfstatat), "D"((long)AT_FDCWD), "S"(path), "d"(st),
                       "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

static int last_errno;

static long calls(int raw, long n, const char *path)
{
    struct stat st;
    long ok = 0;
    for (long i = 0; i < n; i++) {
        long r = raw ? raw_newfstatat(path, &st) : stat(path, &st);
        if (r == 0)
            ok++;
        else
            last_errno = raw ? (int)-r : errno;
    }
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "raw") && strcmp(argv[1], "libc"))) {
        fprintf(stderr, "usage: rawcalls raw|libc COUNT PATH\n");
        return 2;
    }
    int raw = strcmp(argv[1], "raw") == 0;
    long n = atol(argv[2]);
    const char *path = argv[3];
    if (calls(raw, 1000, path) != 1000) {
        fprintf(stderr, "rawcalls: %s %s: %s\n", raw ? "newfstatat" : "stat", path,
                strerror(last_errno));
        return 1;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long ok = calls(raw, n, path);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (n > 0 ? n : 1);
    printf("%ld %.1f\n", ok, ns);
    return ok == n ? 0 : 1;
}
