/* W5 micro-benchmark for kmview's bench/run.
 *
 *   micro OP COUNT PATH
 *
 * OP is one of
 *   stat    COUNT x stat(PATH)
 *   open    COUNT x open(PATH, O_RDONLY) + close
 *   openat  COUNT x openat(dirfd, basename(PATH), O_RDONLY) + close, where dirfd is
 *           open(dirname(PATH), O_RDONLY|O_DIRECTORY), opened once before the loop
 *
 * The set-up (the dirfd) is done whatever COUNT is, so that the difference between two
 * runs with different counts is the cost of the calls alone (bench/run does that under
 * callgrind). Prints the number of successful calls; exit 0 when all succeeded.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: micro stat|open|openat COUNT PATH\n");
        return 2;
    }
    const char *op = argv[1];
    long n = atol(argv[2]);
    const char *path = argv[3];
    long ok = 0;

    char dir[4096];
    const char *base = strrchr(path, '/');
    if (!base || strlen(path) >= sizeof dir) {
        fprintf(stderr, "micro: PATH must be absolute\n");
        return 2;
    }
    size_t dl = (size_t)(base - path);
    memcpy(dir, path, dl ? dl : 1);
    dir[dl ? dl : 1] = 0;
    base++;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        perror(dir);
        return 2;
    }

    if (strcmp(op, "stat") == 0) {
        struct stat st;
        for (long i = 0; i < n; i++)
            if (stat(path, &st) == 0)
                ok++;
    } else if (strcmp(op, "open") == 0) {
        for (long i = 0; i < n; i++) {
            int fd = open(path, O_RDONLY);
            if (fd >= 0) {
                ok++;
                close(fd);
            }
        }
    } else if (strcmp(op, "openat") == 0) {
        for (long i = 0; i < n; i++) {
            int fd = openat(dfd, base, O_RDONLY);
            if (fd >= 0) {
                ok++;
                close(fd);
            }
        }
    } else {
        fprintf(stderr, "micro: unknown op %s\n", op);
        return 2;
    }
    close(dfd);
    printf("%ld\n", ok);
    return ok == n ? 0 : 1;
}
