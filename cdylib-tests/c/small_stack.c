/* small_stack sig|thread PATH: stat(PATH) on a small stack, from a signal handler running on
 * an alternate stack of exactly 8 KiB (`sig`), or from a thread created with a 32 KiB stack
 * (`thread`). Prints "ok INODE" or "err ERRNO-NAME"; a crash is the library's. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *path;
static int ret = -2, err;
static struct stat st;

static void on_signal(int sig) {
    (void)sig;
    ret = stat(path, &st);
    err = errno;
}

static void *in_thread(void *arg) {
    (void)arg;
    ret = stat(path, &st);
    err = errno;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    path = argv[2];
    if (strcmp(argv[1], "sig") == 0) {
        static char alt[8192];
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
        if (sigaltstack(&ss, NULL) != 0) { perror("sigaltstack"); return 2; }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL) != 0) { perror("sigaction"); return 2; }
        raise(SIGUSR1);
    } else if (strcmp(argv[1], "thread") == 0) {
        pthread_attr_t a;
        pthread_t t;
        pthread_attr_init(&a);
        if (pthread_attr_setstacksize(&a, 32768) != 0) { fputs("pthread_attr_setstacksize failed\n", stderr); return 2; }
        if (pthread_create(&t, &a, in_thread, NULL) != 0) { fputs("pthread_create failed\n", stderr); return 2; }
        pthread_join(t, NULL);
    } else {
        return 2;
    }
    if (ret == 0)
        printf("ok %lu\n", (unsigned long)st.st_ino);
    else
        printf("err %s\n", ret == -2 ? "not-run" : strerrorname_np(err));
    return 0;
}
