/* fork_chdir DIR_A DIR_B ROUNDS: one thread moves the working directory between DIR_A and
 * DIR_B (each holds a file named after it: `a` and `b`) as fast as it can, while the main thread
 * forks ROUNDS times; each child, caught at any point of a chdir, must see a working directory
 * it can use: getcwd answers DIR_A or DIR_B, and the file of that directory opens relative to
 * it. Prints "ok" or the first failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dirs[2];
static volatile int stop;

static void *mover(void *arg) {
    (void)arg;
    for (unsigned i = 0; !stop; i++)
        if (chdir(dirs[i & 1]) != 0) { perror("chdir"); exit(3); }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    dirs[0] = argv[1];
    dirs[1] = argv[2];
    int rounds = atoi(argv[3]);
    if (chdir(dirs[0]) != 0) { perror("chdir"); return 3; }
    pthread_t t;
    pthread_create(&t, NULL, mover, NULL);
    for (int r = 0; r < rounds; r++) {
        pid_t pid = fork();
        if (pid == 0) {
            char buf[4096];
            if (!getcwd(buf, sizeof buf)) _exit(10);
            const char *name = strcmp(buf, dirs[0]) == 0 ? "a" : strcmp(buf, dirs[1]) == 0 ? "b" : NULL;
            if (!name) { fprintf(stderr, "getcwd said %s\n", buf); _exit(11); }
            int fd = open(name, O_RDONLY);
            if (fd < 0) { fprintf(stderr, "open %s in %s: %s\n", name, buf, strerror(errno)); _exit(12); }
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            stop = 1;
            printf("round %d: child status %d\n", r, st);
            return 1;
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("ok\n");
    return 0;
}
