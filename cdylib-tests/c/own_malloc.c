/* own_malloc [PATH]: a program with its own allocator that, like jemalloc, calls hooked
 * functions (readlink of /etc/malloc.conf, stat) on its first call while holding its own
 * non-recursive lock. If a hook allocates (or resolves a symbol in a way that allocates) while the lock is held, the
 * allocator is re-entered: it says so and aborts instead of deadlocking. Prints what the
 * allocator's own calls returned, then stat(PATH): the same lines natively and in a view
 * (for PATH and its name in the view). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Alignas(64) unsigned char arena[64 << 20];
static size_t top;
static int locked;
static int initialized;
static int init_readlink_ret = 99, init_readlink_errno, init_stat_ret = 99;
static ino_t init_stat_ino;

static void die(const char *m) {
    (void)!write(2, m, strlen(m));
    abort();
}

static void lock(void) {
    /* Single-threaded program: a held lock can only mean re-entry. */
    if (__atomic_exchange_n(&locked, 1, __ATOMIC_ACQUIRE))
        die("own_malloc: allocator re-entered while its lock is held (a hooked call allocated)\n");
}

static void unlock(void) { __atomic_store_n(&locked, 0, __ATOMIC_RELEASE); }

static void init_locked(void) {
    char buf[256];
    struct stat st;
    initialized = 1;
    ssize_t n = readlink("/etc/malloc.conf", buf, sizeof buf);
    init_readlink_ret = (int)n;
    init_readlink_errno = n < 0 ? errno : 0;
    init_stat_ret = stat("/", &st);
    init_stat_ino = init_stat_ret == 0 ? st.st_ino : 0;
}

static void *bump(size_t n, size_t align) {
    size_t at = (top + sizeof(size_t) + align - 1) & ~(align - 1);
    if (at + n > sizeof arena) return NULL;
    ((size_t *)(arena + at))[-1] = n;
    top = at + n;
    return arena + at;
}

void *malloc(size_t n) {
    lock();
    if (!initialized) init_locked();
    void *p = bump(n, 16);
    unlock();
    if (!p) errno = ENOMEM;
    return p;
}

void free(void *p) {
    /* A bump allocator never reuses; a pointer from elsewhere is a bug worth a message. */
    if (p && ((unsigned char *)p < arena || (unsigned char *)p >= arena + sizeof arena))
        die("own_malloc: free of a pointer this allocator never gave\n");
}

void *calloc(size_t a, size_t b) {
    if (b && a > SIZE_MAX / b) { errno = ENOMEM; return NULL; }
    void *p = malloc(a * b);
    if (p) memset(p, 0, a * b); /* the arena is zeroed, but a reused block would not be */
    return p;
}

void *realloc(void *old, size_t n) {
    void *p = malloc(n);
    if (p && old) {
        size_t was = ((size_t *)old)[-1];
        memcpy(p, old, was < n ? was : n);
    }
    return p;
}

void *memalign(size_t align, size_t n) {
    lock();
    if (!initialized) init_locked();
    void *p = bump(n, align < 16 ? 16 : align);
    unlock();
    return p;
}
void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n) {
    void *p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void *valloc(size_t n) { return memalign(4096, n); }
void *pvalloc(size_t n) { return memalign(4096, (n + 4095) & ~(size_t)4095); }
size_t malloc_usable_size(void *p) { return p ? ((size_t *)p)[-1] : 0; }

int main(int argc, char **argv) {
    char *s = strdup(argc > 1 ? argv[1] : "/");
    struct stat st, root;
    int r = stat(s, &st);
    stat("/", &root);
    printf("init readlink=%d errno=%s init stat=%d root-ino-match=%s\n", init_readlink_ret,
           init_readlink_errno == ENOENT ? "ENOENT" : strerror(init_readlink_errno), init_stat_ret,
           init_stat_ino == root.st_ino ? "yes" : "no");
    printf("stat=%d ino=%lu\n", r, r == 0 ? (unsigned long)st.st_ino : 0UL);
    return 0;
}
