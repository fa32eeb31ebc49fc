/* How much of an alternate signal stack the SIGSYS handler of complete mode uses for calls
 * through a view: the stack is filled with a pattern, raw system calls are made from ordinary
 * code (each trapped, so the handler runs on this stack), and the deepest byte changed is found.
 * A plain handler's use on the same stack (the kernel's signal frame, which depends on the CPU's
 * register state) is measured the same way and taken off.
 *
 *   complete_stack DIR   raw openat, newfstatat, getdents64, readlinkat and read under DIR
 *   prints: "frame=N handler=M" (bytes) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SIZE (64 * 1024)
static char *stack;

static inline long raw4(long n, long a, long b, long c, long d) {
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}

static void fill(void) { memset(stack, 0xA5, SIZE); }

static size_t used(void) {
    size_t i = 0;
    while (i < SIZE && (unsigned char)stack[i] == 0xA5) i++;
    return SIZE - i;
}

static void plain(int sig) { (void)sig; }

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    stack = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = {.ss_sp = stack, .ss_size = SIZE, .ss_flags = 0};
    if (stack == MAP_FAILED || sigaltstack(&ss, NULL)) return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = plain;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    fill();
    raise(SIGUSR1);
    size_t frame = used();

    char path[4096], buf[8192];
    fill();
    snprintf(path, sizeof path, "%s/a.txt", argv[1]);
    long fd = raw4(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
    long n = fd >= 0 ? raw4(SYS_read, fd, (long)buf, sizeof buf, 0) : fd;
    if (fd >= 0) raw4(SYS_close, fd, 0, 0, 0);
    struct stat st;
    long s = raw4(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0);
    snprintf(path, sizeof path, "%s/link", argv[1]);
    long l = raw4(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, sizeof buf);
    long dfd = raw4(SYS_openat, AT_FDCWD, (long)argv[1], O_RDONLY | O_DIRECTORY, 0);
    long g = dfd >= 0 ? raw4(SYS_getdents64, dfd, (long)buf, sizeof buf, 0) : dfd;
    if (n <= 0 || s != 0 || l <= 0 || g <= 0) {
        printf("failed: read=%ld stat=%ld readlink=%ld getdents=%ld\n", n, s, l, g);
        return 1;
    }
    size_t all = used();
    printf("frame=%zu handler=%zu\n", frame, all > frame ? all - frame : 0);
    return 0;
}
