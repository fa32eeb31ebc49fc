/* complete_libc OP ARGS...: the libc twin of cdylib-tests/go/probe.go, the same operations
 * through libc (which a view sees without complete mode) printing the same lines, so that the
 * Go probe under `--complete` can be compared with it under the same view. Operations: read P,
 * stat P, lstat P, owner P, ls P, readlink P, ids (as probe.go describes them). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EFAULT: return "EFAULT";
    default: {
        static char buf[16];
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
    }
    }
}

static const char *base(const char *p) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    static char buf[4096];
    snprintf(buf, sizeof buf, "%.*s", (int)n, p);
    char *s = strrchr(buf, '/');
    return s && s[1] ? s + 1 : buf;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    for (int i = 1; i < argc;) {
        const char *op = argv[i];
        if (!strcmp(op, "ids")) {
            printf("ids: ok uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
            i++;
            continue;
        }
        if (i + 1 >= argc) return 2;
        const char *p = argv[i + 1];
        i += 2;
        printf("%s %s: ", op, base(p));
        struct stat st;
        if (!strcmp(op, "read")) {
            FILE *f = fopen(p, "r");
            if (!f) {
                printf("%s\n", errname(errno));
                continue;
            }
            printf("ok ");
            int c;
            while ((c = getc(f)) != EOF) c == '\n' ? printf("\\n") : putchar(c);
            printf("\n");
            fclose(f);
        } else if (!strcmp(op, "stat") || !strcmp(op, "lstat") || !strcmp(op, "owner")) {
            int r = !strcmp(op, "stat") ? stat(p, &st) : lstat(p, &st);
            if (r)
                printf("%s\n", errname(errno));
            else if (!strcmp(op, "owner"))
                printf("ok %d:%d\n", (int)st.st_uid, (int)st.st_gid);
            else
                printf("ok size=%ld mode=%o\n", (long)st.st_size, (unsigned)st.st_mode);
        } else if (!strcmp(op, "ls")) {
            DIR *d = opendir(p);
            if (!d) {
                printf("%s\n", errname(errno));
                continue;
            }
            char *names[1024];
            int n = 0;
            struct dirent *e;
            while ((e = readdir(d)) && n < 1024) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                int type = e->d_type;
                if (type == DT_UNKNOWN) { /* as Go does: ask lstat */
                    struct stat es;
                    if (fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) == 0)
                        type = S_ISDIR(es.st_mode) ? DT_DIR : S_ISLNK(es.st_mode) ? DT_LNK : DT_REG;
                }
                char *s = malloc(strlen(e->d_name) + 2);
                sprintf(s, "%s%s", e->d_name, type == DT_DIR ? "/" : type == DT_LNK ? "@" : "");
                names[n++] = s;
            }
            closedir(d);
            qsort(names, n, sizeof *names, cmp);
            printf("ok ");
            for (int k = 0; k < n; k++) printf("%s%s", k ? "," : "", names[k]);
            printf("\n");
        } else if (!strcmp(op, "readlink")) {
            char buf[4096];
            ssize_t n = readlink(p, buf, sizeof buf);
            if (n < 0)
                printf("%s\n", errname(errno));
            else
                printf("ok %.*s\n", (int)n, buf);
        } else {
            fprintf(stderr, "complete_libc: bad operation %s\n", op);
            return 2;
        }
    }
    return 0;
}
