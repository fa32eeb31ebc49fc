/* small_stack sig|thread KIB OP [ARG...]: runs one call on a small stack and says how much of
 * it was used.
 *
 *   sig     from a signal handler on an alternate stack of KIB KiB (the kernel's signal frame
 *           included, as for any handler);
 *   thread  from a thread whose stack is KIB KiB.
 *
 * Either stack is mapped right above an unreadable guard page, so a call that needs more
 * crashes (SIGSEGV) instead of writing over whatever lies below, and it is painted first, so
 * the deepest byte written can be found afterwards.
 *
 * OP: stat PATH | open PATH | mkdir PATH | readlink PATH | getcwd | chdir PATH | opendir PATH
 *     | rename FROM TO | exec PATH (vfork, then execve(PATH, {PATH, NULL}) in the child, which
 *     runs on the same stack; the parent waits).
 * Prints "ok RESULT used BYTES" or "err ERRNO-NAME used BYTES"; RESULT is the inode for stat,
 * the answer for getcwd and readlink, the child's exit status for exec, 0 otherwise. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAINT 0xa5

static char **args;
static int ret = -2, err;
static char answer[4096];
/* Formatted after the call, off the small stack (printf's own frames are large). */
static unsigned long number;
static int has_number;

static void op(void) {
    const char *o = args[0];
    struct stat st;
    if (strcmp(o, "stat") == 0) {
        ret = stat(args[1], &st);
        number = (unsigned long)st.st_ino;
        has_number = ret == 0;
    } else if (strcmp(o, "open") == 0) {
        int fd = open(args[1], O_RDONLY);
        ret = fd < 0 ? -1 : close(fd);
    } else if (strcmp(o, "append") == 0) {
        int fd = open(args[1], O_WRONLY | O_APPEND);
        ret = fd < 0 ? -1 : (write(fd, "x", 1) == 1 ? close(fd) : -1);
    } else if (strcmp(o, "unlink") == 0) {
        ret = unlink(args[1]);
    } else if (strcmp(o, "mkdir") == 0) {
        ret = mkdir(args[1], 0755);
    } else if (strcmp(o, "readlink") == 0) {
        ssize_t n = readlink(args[1], answer, sizeof answer - 1);
        ret = n < 0 ? -1 : 0;
        if (n >= 0) answer[n] = 0;
    } else if (strcmp(o, "getcwd") == 0) {
        ret = getcwd(answer, sizeof answer) ? 0 : -1;
    } else if (strcmp(o, "chdir") == 0) {
        ret = chdir(args[1]);
    } else if (strcmp(o, "opendir") == 0) {
        DIR *d = opendir(args[1]);
        ret = d ? closedir(d) : -1;
    } else if (strcmp(o, "rename") == 0) {
        ret = rename(args[1], args[2]);
    } else if (strcmp(o, "exec") == 0) {
        char *argv[] = {args[1], NULL};
        pid_t pid = vfork();
        if (pid == 0) {
            execve(args[1], argv, environ);
            _exit(127);
        }
        int status = 0;
        ret = pid < 0 ? -1 : (waitpid(pid, &status, 0) < 0 ? -1 : 0);
        number = (unsigned long)(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        has_number = 1;
    } else {
        fprintf(stderr, "small_stack: unknown op %s\n", o);
        _exit(2);
    }
    err = errno;
}

static void on_signal(int sig) { (void)sig; op(); }
static void *in_thread(void *a) { (void)a; op(); return NULL; }

/* KIB KiB of painted stack right above a guard page; returns its lowest byte. */
static unsigned char *painted_stack(size_t size) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0) { perror("mmap"); exit(2); }
    memset(m + page, PAINT, size);
    return m + page;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    size_t size = (size_t)atoi(argv[2]) * 1024;
    args = argv + 3;
    unsigned char *stack = painted_stack(size);
    if (strcmp(argv[1], "sig") == 0) {
        stack_t ss = {.ss_sp = stack, .ss_size = size, .ss_flags = 0};
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
        if (pthread_attr_setstack(&a, stack, size) != 0) { fputs("pthread_attr_setstack failed\n", stderr); return 2; }
        if (pthread_create(&t, &a, in_thread, NULL) != 0) { fputs("pthread_create failed\n", stderr); return 2; }
        pthread_join(t, NULL);
    } else {
        return 2;
    }
    size_t low = 0;
    while (low < size && stack[low] == PAINT) low++;
    if (has_number) snprintf(answer, sizeof answer, "%lu", number);
    if (ret == 0)
        printf("ok %s used %zu\n", answer[0] ? answer : "0", size - low);
    else
        printf("err %s used %zu\n", ret == -2 ? "not-run" : strerrorname_np(err), size - low);
    return 0;
}
