/* complete_raw MODE ARGS...: system calls made with the program's own `syscall` instruction
 * (inline assembly, never libc's), for the complete mode tests (tests/complete.rs). Without
 * complete mode a view never sees them; with it they must go through the view as libc's do.
 *
 *   tour DIR               openat+read DIR/a.txt, newfstatat DIR/a.txt DIR/sub, lstat DIR/link,
 *                          readlinkat DIR/link, getdents64 of DIR (sorted), openat DIR/missing,
 *                          then fork and raw execve DIR/hello.sh (the view's script)
 *   sigsys FILE WANT       with the program's own SIGSYS handler (sigaction): raw reads of FILE
 *                          around raise(SIGSYS) and kill(getpid(), SIGSYS), which reach the handler
 *   sigsys-raw FILE WANT   the same, the handler installed by a raw rt_sigaction
 *   blocked FILE WANT      every signal blocked (sigprocmask, then a raw rt_sigprocmask): raw reads
 *   threads N ITER FILE WANT
 *                          N threads made by a raw clone (CLONE_VM|CLONE_THREAD|..., own stacks,
 *                          no TLS of their own), all at once, each reading FILE ITER times raw
 *   threads-seq N ITER FILE WANT
 *                          the same, one thread at a time
 *   forks N FILE WANT      N children at once, by raw fork and raw clone(SIGCHLD) in turn, each
 *                          reading FILE raw and exiting 0 if it read WANT
 *   chain N SELF FILE WANT a raw read of FILE, then a raw execve of SELF (a path in the view) with
 *                          N-1, down to 0
 *   chain-noenv N SELF FILE WANT
 *                          the same, each execve with an empty environment
 *   uring                  a raw io_uring_setup
 *   clone3 FILE WANT       a raw clone3 (a child as fork makes); where it fails, a raw clone: the
 *                          child reads FILE raw
 *   altstack KIB FILE WANT a raw read of FILE from a signal handler running on an alternate stack
 *                          of KIB KiB (a guard page below)
 *
 * A raw read of FILE is openat + read + close, each raw; it prints (or counts) `ok` when the
 * contents are WANT, else the errno's name, or `differs`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static inline long raw6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}
#define RAW(n, a, b, c, d) raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static const char *errname(long e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ELOOP: return "ELOOP";
    case ENOMEM: return "ENOMEM";
    default: {
        static char buf[16];
        snprintf(buf, sizeof buf, "E%ld", e);
        return buf;
    }
    }
}

/* A raw read of `file`, compared with `want`: 0 when it matched, a positive errno, or -1 when
 * the contents differ. Uses no libc (it runs in raw threads and raw children). */
static long raw_check(const char *file, const char *want) {
    char buf[256];
    long fd = RAW(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -fd;
    long n = RAW(SYS_read, fd, buf, sizeof buf, 0);
    RAW(SYS_close, fd, 0, 0, 0);
    if (n < 0) return -n;
    long i = 0;
    for (; i < n && want[i] && want[i] == buf[i]; i++) {
    }
    return (i == n && want[i] == 0) ? 0 : -1;
}

static const char *check_text(long r) {
    return r == 0 ? "ok" : r < 0 ? "differs" : errname(r);
}

static char *join(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void raw_stat(const char *label, const char *path, int flags) {
    struct stat st;
    long r = RAW(SYS_newfstatat, AT_FDCWD, path, &st, flags);
    if (r < 0)
        printf("%s: %s\n", label, errname(-r));
    else
        printf("%s: ok size=%ld mode=%o\n", label, (long)st.st_size, (unsigned)st.st_mode);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int tour(const char *dir) {
    char buf[4096];
    char *a = join(dir, "a.txt"), *link = join(dir, "link");
    long fd = RAW(SYS_openat, AT_FDCWD, a, O_RDONLY, 0);
    if (fd < 0) {
        printf("openat a.txt: %s\n", errname(-fd));
    } else {
        long n = RAW(SYS_read, fd, buf, sizeof buf - 1, 0);
        RAW(SYS_close, fd, 0, 0, 0);
        buf[n < 0 ? 0 : n] = 0;
        printf("openat a.txt: ok %s", buf);
    }
    raw_stat("newfstatat a.txt", a, 0);
    raw_stat("newfstatat sub", join(dir, "sub"), 0);
    raw_stat("newfstatat link nofollow", link, AT_SYMLINK_NOFOLLOW);
    long n = RAW(SYS_readlinkat, AT_FDCWD, link, buf, sizeof buf - 1);
    if (n < 0)
        printf("readlinkat link: %s\n", errname(-n));
    else
        printf("readlinkat link: ok %.*s\n", (int)n, buf);
    fd = RAW(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        printf("getdents64: %s\n", errname(-fd));
    } else {
        char *names[256];
        int count = 0;
        for (;;) {
            long got = RAW(SYS_getdents64, fd, buf, sizeof buf, 0);
            if (got < 0) {
                printf("getdents64: %s\n", errname(-got));
                break;
            }
            if (got == 0) break;
            for (long off = 0; off < got;) {
                struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
                if (strcmp(d->name, ".") && strcmp(d->name, "..") && count < 256) names[count++] = strdup(d->name);
                off += d->reclen;
            }
        }
        RAW(SYS_close, fd, 0, 0, 0);
        qsort(names, count, sizeof *names, cmp);
        printf("getdents64:");
        for (int i = 0; i < count; i++) printf(" %s", names[i]);
        printf("\n");
    }
    fd = RAW(SYS_openat, AT_FDCWD, join(dir, "missing"), O_RDONLY, 0);
    printf("openat missing: %s\n", fd < 0 ? errname(-fd) : "ok");
    fflush(stdout);
    char *script = join(dir, "hello.sh");
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {script, NULL};
        long r = RAW(SYS_execve, script, argv, environ, 0);
        printf("execve hello.sh: %s\n", errname(-r));
        fflush(stdout);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("execve hello.sh: exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

static volatile sig_atomic_t handled, last_code, last_signo;
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    handled++;
    last_signo = sig;
    last_code = si->si_code;
}

static const char *code_name(int c) {
    return c == SI_TKILL ? "SI_TKILL" : c == SI_USER ? "SI_USER" : c == SI_QUEUE ? "SI_QUEUE" : "other";
}

/* The kernel's struct sigaction, and a restorer of our own (a raw rt_sigaction needs one). */
struct ksigaction {
    void *handler;
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};
void kmtest_restorer(void);
__asm__(".text\n.globl kmtest_restorer\nkmtest_restorer:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static int sigsys(int use_raw, const char *file, const char *want) {
    if (use_raw) {
        struct ksigaction ka = {(void *)on_sigsys, SA_SIGINFO | SA_RESTORER, kmtest_restorer, 0};
        long r = RAW(SYS_rt_sigaction, SIGSYS, &ka, 0, 8);
        printf("rt_sigaction: %s\n", r < 0 ? errname(-r) : "ok");
        struct ksigaction old;
        memset(&old, 0, sizeof old);
        r = RAW(SYS_rt_sigaction, SIGSYS, 0, &old, 8);
        printf("rt_sigaction query: %s\n", r < 0 ? errname(-r) : old.handler == (void *)on_sigsys ? "ours" : "not ours");
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        printf("sigaction: %s\n", sigaction(SIGSYS, &sa, NULL) == 0 ? "ok" : strerror(errno));
        struct sigaction old;
        sigaction(SIGSYS, NULL, &old);
        printf("sigaction query: %s\n", old.sa_sigaction == on_sigsys && (old.sa_flags & SA_SIGINFO) ? "ours" : "not ours");
    }
    printf("raw read before: %s\n", check_text(raw_check(file, want)));
    raise(SIGSYS);
    printf("raise: handled=%d signo=%s code=%s\n", (int)handled, last_signo == SIGSYS ? "SIGSYS" : "other", code_name(last_code));
    printf("raw read between: %s\n", check_text(raw_check(file, want)));
    kill(getpid(), SIGSYS);
    printf("kill: handled=%d signo=%s code=%s\n", (int)handled, last_signo == SIGSYS ? "SIGSYS" : "other", code_name(last_code));
    printf("raw read after: %s\n", check_text(raw_check(file, want)));
    return 0;
}

static int blocked(const char *file, const char *want) {
    sigset_t all, cur;
    sigfillset(&all);
    printf("sigprocmask: %s\n", sigprocmask(SIG_SETMASK, &all, NULL) == 0 ? "ok" : strerror(errno));
    printf("raw read: %s\n", check_text(raw_check(file, want)));
    unsigned long every = ~0UL;
    long r = RAW(SYS_rt_sigprocmask, SIG_SETMASK, &every, 0, 8);
    printf("raw rt_sigprocmask: %s\n", r < 0 ? errname(-r) : "ok");
    printf("raw read: %s\n", check_text(raw_check(file, want)));
    struct stat st;
    r = RAW(SYS_newfstatat, AT_FDCWD, file, &st, 0);
    printf("raw newfstatat: %s\n", r < 0 ? errname(-r) : "ok");
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("SIGUSR1 blocked: %s\n", sigismember(&cur, SIGUSR1) ? "yes" : "no");
    return 0;
}

/* raw_thread(flags, stack_top, ptid, ctid, fn, arg): a raw clone whose child calls fn(arg) on
 * its new stack and then exits (the thread only) with a raw exit. The parent gets the tid. */
long raw_thread(unsigned long flags, void *stack, int *ptid, int *ctid, void (*fn)(void *), void *arg);
__asm__(".text\n.globl raw_thread\nraw_thread:\n"
        "\tand $-16, %rsi\n"
        "\tsub $16, %rsi\n"
        "\tmov %r8, 8(%rsi)\n" /* fn */
        "\tmov %r9, 0(%rsi)\n" /* arg */
        "\tmov %rcx, %r10\n"   /* ctid */
        "\txor %r8d, %r8d\n"   /* tls: none */
        "\tmov $56, %eax\n"    /* SYS_clone */
        "\tsyscall\n"
        "\ttest %rax, %rax\n"
        "\tjnz 1f\n"
        "\tpop %rdi\n"
        "\tpop %rax\n"
        "\tcall *%rax\n"
        "\tmov $60, %eax\n" /* SYS_exit: this thread */
        "\txor %edi, %edi\n"
        "\tsyscall\n"
        "\thlt\n"
        "1:\tret\n");

struct job {
    const char *file, *want;
    int iter, good;
    long first_error;
    int tid;
};

static void thread_body(void *p) {
    struct job *j = p;
    for (int i = 0; i < j->iter; i++) {
        long r = raw_check(j->file, j->want);
        if (r == 0)
            j->good++;
        else if (!j->first_error)
            j->first_error = r;
    }
}

static void wait_tid(int *tid) {
    for (;;) {
        int v = __atomic_load_n(tid, __ATOMIC_ACQUIRE);
        if (v == 0) return;
        RAW(SYS_futex, tid, 0 /* FUTEX_WAIT: the kernel clears and wakes it (CLONE_CHILD_CLEARTID), so not private */, v, 0);
    }
}

static int threads(int n, int iter, const char *file, const char *want, int sequential) {
    struct job *jobs = calloc(n, sizeof *jobs);
    unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    size_t size = 256 * 1024;
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct job){file, want, iter, 0, 0, 0};
        char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) return 1;
        long r = raw_thread(flags, stack + size, &jobs[i].tid, &jobs[i].tid, thread_body, &jobs[i]);
        if (r < 0) {
            printf("clone: %s\n", errname(-r));
            return 1;
        }
        if (sequential) wait_tid(&jobs[i].tid);
    }
    for (int i = 0; i < n; i++) wait_tid(&jobs[i].tid);
    int all = 0;
    for (int i = 0; i < n; i++) {
        all += jobs[i].good;
        if (jobs[i].good != iter) printf("thread %d: good=%d first=%s\n", i, jobs[i].good, check_text(jobs[i].first_error));
    }
    printf("threads: %d of %d reads good\n", all, n * iter);
    return 0;
}

static int forks(int n, const char *file, const char *want) {
    pid_t *pids = calloc(n, sizeof *pids);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        long r = (i % 2) ? RAW(SYS_clone, SIGCHLD, 0, 0, 0) : RAW(SYS_fork, 0, 0, 0, 0);
        if (r == 0) {
            long c = raw_check(file, want);
            RAW(SYS_exit_group, c == 0 ? 0 : c < 0 ? 99 : c, 0, 0, 0);
        }
        if (r < 0) {
            printf("fork %d: %s\n", i, errname(-r));
            return 1;
        }
        pids[i] = (pid_t)r;
    }
    int good = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        long r = RAW(SYS_wait4, pids[i], &status, 0, 0);
        if (r == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            good++;
        else
            printf("child %d: %s\n", i, r < 0 ? errname(-r) : WIFEXITED(status) ? (WEXITSTATUS(status) == 99 ? "differs" : errname(WEXITSTATUS(status))) : "killed");
    }
    printf("forks: %d of %d good\n", good, n);
    return 0;
}

static int chain(int noenv, int n, const char *self, const char *file, const char *want) {
    char line[128];
    int len = snprintf(line, sizeof line, "level %d: %s\n", n, check_text(raw_check(file, want)));
    RAW(SYS_write, 1, line, len, 0);
    if (n == 0) return 0;
    char next[16];
    snprintf(next, sizeof next, "%d", n - 1);
    char *argv[] = {(char *)self, noenv ? "chain-noenv" : "chain", next, (char *)self, (char *)file, (char *)want, NULL};
    char *none[] = {NULL};
    long r = RAW(SYS_execve, self, argv, noenv ? none : environ, 0);
    len = snprintf(line, sizeof line, "execve at level %d: %s\n", n, errname(-r));
    RAW(SYS_write, 1, line, len, 0);
    return 1;
}

static int uring(void) {
    char params[120];
    memset(params, 0, sizeof params);
    long r = RAW(SYS_io_uring_setup, 1, params, 0, 0);
    printf("io_uring_setup: %s\n", r >= 0 ? "ok" : errname(-r));
    if (r >= 0) close((int)r);
    return 0;
}

static int clone3(const char *file, const char *want) {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    fflush(stdout);
    long r = RAW(SYS_clone3, &ca, sizeof ca, 0, 0);
    if (r == 0) {
        long c = raw_check(file, want);
        RAW(SYS_exit_group, c == 0 ? 0 : 1, 0, 0, 0);
    }
    printf("clone3: %s\n", r > 0 ? "ok" : errname(-r));
    if (r < 0) {
        r = RAW(SYS_clone, SIGCHLD, 0, 0, 0);
        if (r == 0) {
            long c = raw_check(file, want);
            RAW(SYS_exit_group, c == 0 ? 0 : 1, 0, 0, 0);
        }
        printf("clone: %s\n", r > 0 ? "ok" : errname(-r));
    }
    if (r > 0) {
        int status = 0;
        RAW(SYS_wait4, r, &status, 0, 0);
        printf("child: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
    }
    return 0;
}

static const char *alt_file, *alt_want;
static volatile long alt_result = -100;
static void on_usr1(int sig) {
    (void)sig;
    alt_result = raw_check(alt_file, alt_want);
}

static int altstack(int kib, const char *file, const char *want) {
    long page = sysconf(_SC_PAGESIZE);
    size_t size = (size_t)kib * 1024;
    char *map = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return 1;
    mprotect(map, page, PROT_NONE); /* the guard: a handler that needs more crashes */
    stack_t ss = {.ss_sp = map + page, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL)) return 1;
    alt_file = file;
    alt_want = want;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("on the alternate stack: %s\n", alt_result == -100 ? "not run" : check_text(alt_result));
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) return 2;
    const char *m = argv[1];
    if (!strcmp(m, "tour") && argc == 3) return tour(argv[2]);
    if (!strcmp(m, "sigsys") && argc == 4) return sigsys(0, argv[2], argv[3]);
    if (!strcmp(m, "sigsys-raw") && argc == 4) return sigsys(1, argv[2], argv[3]);
    if (!strcmp(m, "blocked") && argc == 4) return blocked(argv[2], argv[3]);
    if (!strcmp(m, "threads") && argc == 6) return threads(atoi(argv[2]), atoi(argv[3]), argv[4], argv[5], 0);
    if (!strcmp(m, "threads-seq") && argc == 6) return threads(atoi(argv[2]), atoi(argv[3]), argv[4], argv[5], 1);
    if (!strcmp(m, "forks") && argc == 5) return forks(atoi(argv[2]), argv[3], argv[4]);
    if (!strcmp(m, "chain") && argc == 6) return chain(0, atoi(argv[2]), argv[3], argv[4], argv[5]);
    if (!strcmp(m, "chain-noenv") && argc == 6) return chain(1, atoi(argv[2]), argv[3], argv[4], argv[5]);
    if (!strcmp(m, "uring") && argc == 2) return uring();
    if (!strcmp(m, "clone3") && argc == 4) return clone3(argv[2], argv[3]);
    if (!strcmp(m, "altstack") && argc == 5) return altstack(atoi(argv[2]), argv[3], argv[4]);
    fprintf(stderr, "complete_raw: bad arguments\n");
    return 2;
}
