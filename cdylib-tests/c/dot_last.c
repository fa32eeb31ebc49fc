/* dot_last PATH...: every call that names a last component, on paths whose last component is
 * `.` or `..` (through mounts, at a mount's root, past a symlink that leads out of one), then
 * the *at calls with `.` and `..` from a descriptor on a mount's root and below it. One line
 * per call: the call, the path, 0 or -1, and the errno's name. Nothing here may succeed on a
 * dot-last path, so the fixture is left as it was. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void r(const char *what, const char *arg, long v) {
    printf("%s %s %ld %s\n", what, arg, v < 0 ? -1L : 0L, v < 0 ? strerrorname_np(errno) : "-");
}

static void at_calls(const char *dir) {
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    r("open", dir, d);
    if (d < 0) return;
    const char *names[] = {".", "..", "./.", "../."};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        const char *n = names[i];
        char label[256];
        snprintf(label, sizeof label, "%s:%s", dir, n);
        struct stat st;
        r("fstatat", label, fstatat(d, n, &st, AT_SYMLINK_NOFOLLOW));
        r("mkdirat", label, mkdirat(d, n, 0755));
        r("unlinkat-dir", label, unlinkat(d, n, AT_REMOVEDIR));
        r("unlinkat", label, unlinkat(d, n, 0));
        r("renameat-from", label, renameat(d, n, d, "renamed"));
        r("renameat-onto", label, renameat(AT_FDCWD, "mnt/a/sub/f2", d, n));
        r("linkat-onto", label, linkat(AT_FDCWD, "mnt/a/f", d, n, 0));
        r("symlinkat-onto", label, symlinkat("x", d, n));
        int f = openat(d, n, O_WRONLY | O_CREAT, 0644);
        r("openat-creat", label, f);
        if (f >= 0) close(f);
        r("mknodat", label, mknodat(d, n, S_IFIFO | 0644, 0));
    }
    close(d);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *p = argv[i];
        if (strncmp(p, "at:", 3) == 0) {
            at_calls(p + 3);
            continue;
        }
        struct stat st;
        r("lstat", p, lstat(p, &st));
        r("access", p, access(p, F_OK));
        int fd = open(p, O_RDONLY | O_DIRECTORY);
        r("open-dir", p, fd);
        if (fd >= 0) close(fd);
        r("rmdir", p, rmdir(p));
        r("mkdir", p, mkdir(p, 0755));
        r("unlink", p, unlink(p));
        r("rename-from", p, rename(p, "mnt/a/renamed"));
        r("rename-onto", p, rename("mnt/a/sub/f2", p));
        r("rename-dir-onto", p, rename("mnt/a/...", p));
        r("link-onto", p, link("mnt/a/f", p));
        r("symlink-onto", p, symlink("x", p));
        fd = open(p, O_WRONLY | O_CREAT, 0644);
        r("creat", p, fd);
        if (fd >= 0) close(fd);
        fd = open(p, O_RDONLY | O_CREAT | O_EXCL, 0644);
        r("creat-excl", p, fd);
        if (fd >= 0) close(fd);
        r("mknod", p, mknod(p, S_IFIFO | 0644, 0));
    }
    return 0;
}
