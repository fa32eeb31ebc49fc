/* chdir_race DIR_A DIR_B SECONDS: two threads move the working directory between DIR_A and
 * DIR_B as fast as they can while the main thread asks getcwd; every answer must be DIR_A or
 * DIR_B (the kernel's are, whichever thread moved last). Prints "ok N" (answers checked) or the
 * first wrong answer. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *dirs[2];
static volatile int stop;

static void *mover(void *arg) {
    const char *d = arg;
    while (!stop)
        if (chdir(d) != 0) { perror("chdir"); exit(3); }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    dirs[0] = argv[1];
    dirs[1] = argv[2];
    if (chdir(dirs[0]) != 0) { perror("chdir"); return 3; }
    pthread_t a, b;
    pthread_create(&a, NULL, mover, (void *)dirs[0]);
    pthread_create(&b, NULL, mover, (void *)dirs[1]);
    time_t end = time(NULL) + atoi(argv[3]);
    long n = 0;
    char buf[4096];
    while (time(NULL) < end) {
        if (!getcwd(buf, sizeof buf)) { perror("getcwd"); stop = 1; return 1; }
        if (strcmp(buf, dirs[0]) != 0 && strcmp(buf, dirs[1]) != 0) {
            stop = 1;
            printf("getcwd said %s after %ld answers\n", buf, n);
            return 1;
        }
        n++;
    }
    stop = 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("ok %ld\n", n);
    return 0;
}
