/* The "ten-line C shim" bench/instructions holds kmview against: the least an LD_PRELOAD
 * library can do on a call. Each hooked function calls the next definition, resolved once
 * with dlsym(RTLD_NEXT) at load. (glibc >= 2.33 exports stat itself: no __xstat.)
 *
 *   gcc -O2 -shared -fPIC -o shim.so shim.c                # "bare": pass every call on
 *   gcc -O2 -shared -fPIC -DREMAP -o shim-remap.so shim.c  # "with a prefix remap":
 *                                                         # /unreal/X is /X for stat, open, opendir
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*next_stat)(const char *, struct stat *);
static int (*next_open)(const char *, int, ...);
static DIR *(*next_opendir)(const char *);
static char *(*next_getcwd)(char *, size_t);

__attribute__((constructor)) static void init(void)
{
    next_stat = dlsym(RTLD_NEXT, "stat");
    next_open = dlsym(RTLD_NEXT, "open");
    next_opendir = dlsym(RTLD_NEXT, "opendir");
    next_getcwd = dlsym(RTLD_NEXT, "getcwd");
}

#ifdef REMAP /* /unreal/X -> /X, into a buffer on the caller's stack */
#define MAP(p) char buf_[4096]; size_t len_; \
    if (strncmp(p, "/unreal/", 8) == 0 && (len_ = strlen(p + 7)) < sizeof buf_) \
        p = memcpy(buf_, p + 7, len_ + 1);
#else
#define MAP(p)
#endif

int stat(const char *p, struct stat *st) { MAP(p) return next_stat(p, st); }
DIR *opendir(const char *p) { MAP(p) return next_opendir(p); }
char *getcwd(char *b, size_t n) { return next_getcwd(b, n); }
int open(const char *p, int flags, ...)
{
    mode_t mode = 0;
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    MAP(p) return next_open(p, flags, mode);
}
