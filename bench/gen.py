#!/usr/bin/env python3
"""Deterministic generator of the kmview benchmark data.

    python3 bench/gen.py DIR

makes, under DIR (which must not exist or be empty):

  tree/    40 top directories x 49 subdirectories = 2,000 directories (+ tree/ itself),
           20,000 regular files (10 per subdirectory), 200 symbolic links
           (file links, directory links, absolute-in-tree links and dangling ones)
  cproj/   50 C files + Makefile (W4, `make -j2`)
  gitrepo/ a git repository of 3,000 files in 100 directories, committed and packed,
           then 20 files modified and 10 untracked files added (W6)

Same input, same bytes: contents come from random.Random(seed) and every mtime is fixed
(2020-09-13), so git's racy-clean check never fires and tar streams are stable.
"""
import os
import random
import subprocess
import sys

MTIME = 1_600_000_000  # fixed, well in the past
TOP_DIRS = 40
SUB_DIRS = 49  # 40 + 40*49 = 2,000 directories
FILES_PER_DIR = 10  # 1,960 * 10 = 19,600, plus 10 in each top directory: 20,000
SYMLINKS = 200
C_FILES = 50
GIT_FILES = 3000
GIT_DIRS = 100

WORDS = ("alpha beta gamma delta view mount bind overlay stack layer path kernel "
         "process file descriptor symbol library launcher facet trace").split()


def text(rng, size):
    out = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return (" ".join(out)[:size] + "\n").encode()


def file_size(rng):
    r = rng.random()
    if r < 0.05:
        return 0
    if r < 0.90:
        return rng.randint(1, 4096)
    if r < 0.99:
        return rng.randint(4097, 32768)
    return rng.randint(32769, 262144)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def gen_tree(root, rng):
    os.mkdir(root)
    files = []
    dirs = []
    for t in range(TOP_DIRS):
        top = os.path.join(root, "d%02d" % t)
        os.mkdir(top)
        dirs.append(top)
        for k in range(FILES_PER_DIR):
            p = os.path.join(top, "top%02d.txt" % k)
            write(p, text(rng, file_size(rng)))
            files.append(p)
        for s in range(SUB_DIRS):
            sub = os.path.join(top, "s%02d" % s)
            os.mkdir(sub)
            dirs.append(sub)
            for k in range(FILES_PER_DIR):
                ext = rng.choice((".txt", ".c", ".h", ".dat", ".md"))
                p = os.path.join(sub, "f%02d%s" % (k, ext))
                write(p, text(rng, file_size(rng)))
                files.append(p)
    assert len(dirs) == 2000 and len(files) == 20000, (len(dirs), len(files))
    links = []
    for i in range(SYMLINKS):
        d = rng.choice(dirs[1:])
        name = os.path.join(d, "link%03d" % i)
        kind = i % 4
        if kind == 0:  # relative link to a file of the same directory tree
            target = os.path.relpath(rng.choice(files), d)
        elif kind == 1:  # relative link to a directory
            target = os.path.relpath(rng.choice(dirs), d)
        elif kind == 2:  # link up and across
            target = "../" + os.path.basename(rng.choice(dirs[:TOP_DIRS]))
        else:  # dangling
            target = "missing-%d" % i
        os.symlink(target, name)
        links.append(name)
    return files, dirs, links


C_TEMPLATE = """\
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "common.h"

struct rec%(i)d { int a; double b; char name[32]; };

static int cmp%(i)d(const void *x, const void *y)
{
    const struct rec%(i)d *p = x, *q = y;
    if (p->b < q->b) return -1;
    if (p->b > q->b) return 1;
    return strcmp(p->name, q->name);
}

%(funcs)s

int unit%(i)d(int n)
{
    struct rec%(i)d r[64];
    int acc = 0;
    for (int k = 0; k < 64; k++) {
        r[k].a = k * %(m)d;
        r[k].b = (double)((k * 7919 + %(m)d) %% 101);
        snprintf(r[k].name, sizeof r[k].name, "u%(i)d-%%d", k);
    }
    qsort(r, 64, sizeof r[0], cmp%(i)d);
    for (int k = 0; k < n && k < 64; k++)
        acc += r[k].a + helper%(i)d_0(k);
    return acc + COMMON_MAGIC;
}
"""

FUNC_TEMPLATE = """\
static int helper%(i)d_%(j)d(int x)
{
    int s = 0;
    for (int k = 0; k < x; k++) {
        switch ((k + %(j)d) %% 5) {
        case 0: s += k * %(a)d; break;
        case 1: s ^= k << %(b)d; break;
        case 2: s -= k / (%(b)d + 1); break;
        case 3: s += (s >> 3) + %(a)d; break;
        default: s = s * 31 + k;
        }
    }
    return s%(next)s;
}
"""


def gen_cproj(root, rng):
    os.mkdir(root)
    write(os.path.join(root, "common.h"), b"#define COMMON_MAGIC 42\n")
    objs = []
    protos = []
    for i in range(C_FILES):
        nf = 12
        funcs = []
        for j in reversed(range(nf)):
            nxt = " + helper%d_%d(x / 2)" % (i, j + 1) if j + 1 < nf else ""
            funcs.append(FUNC_TEMPLATE % dict(i=i, j=j, a=rng.randint(2, 99),
                                              b=rng.randint(1, 9), next=nxt))
        src = C_TEMPLATE % dict(i=i, m=rng.randint(3, 999), funcs="\n".join(funcs))
        write(os.path.join(root, "u%02d.c" % i), src.encode())
        objs.append("u%02d.o" % i)
        protos.append("int unit%d(int n);" % i)
    calls = " + ".join("unit%d(argc)" % i for i in range(C_FILES))
    main = "#include <stdio.h>\n%s\nint main(int argc, char **argv)\n{\n    (void)argv;\n" \
           "    printf(\"%%d\\n\", %s);\n    return 0;\n}\n" % ("\n".join(protos), calls)
    write(os.path.join(root, "main.c"), main.encode())
    objs.append("main.o")
    mk = ("CC = gcc\nCFLAGS = -O2 -Wall\nOBJS = %s\n\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n"
          "%%.o: %%.c common.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n"
          "clean:\n\trm -f $(OBJS) prog\n" % " ".join(objs))
    write(os.path.join(root, "Makefile"), mk.encode())


def git(repo, *args):
    env = dict(os.environ)
    env.update(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid",
               GIT_AUTHOR_DATE="2020-09-13T12:26:40Z", GIT_COMMITTER_DATE="2020-09-13T12:26:40Z",
               GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    subprocess.run(["git", "-C", repo, "-c", "init.defaultBranch=main",
                    "-c", "gc.auto=0", "-c", "core.fsmonitor=false"] + list(args),
                   check=True, env=env, stdout=subprocess.DEVNULL)


def gen_git(root, rng):
    os.mkdir(root)
    git(root, "init", "-q")
    paths = []
    for d in range(GIT_DIRS):
        dd = os.path.join(root, "pkg%02d" % (d // 10), "mod%02d" % d)
        os.makedirs(dd)
        for k in range(GIT_FILES // GIT_DIRS):
            p = os.path.join(dd, "src%02d.%s" % (k, rng.choice(("c", "h", "py", "txt"))))
            write(p, text(rng, rng.randint(100, 3000)))
            paths.append(p)
    fix_mtimes(root, skip_git=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "gc", "-q")
    for p in rng.sample(paths, 20):
        with open(p, "ab") as f:
            f.write(b"modified\n")
    for k in range(10):
        write(os.path.join(root, "pkg00", "new%02d.txt" % k), text(rng, 500))
    fix_mtimes(root, skip_git=True)


def fix_mtimes(root, skip_git=False):
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        if skip_git and "/.git" in dirpath + "/":
            continue
        for n in filenames + dirnames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                os.utime(p, (MTIME, MTIME), follow_symlinks=False)
            elif n in filenames:
                os.utime(p, (MTIME, MTIME))
        os.utime(dirpath, (MTIME, MTIME), follow_symlinks=False)


def main(dest):
    os.makedirs(dest, exist_ok=True)
    rng = random.Random(20240601)
    gen_tree(os.path.join(dest, "tree"), rng)
    fix_mtimes(os.path.join(dest, "tree"))
    gen_cproj(os.path.join(dest, "cproj"), rng)
    fix_mtimes(os.path.join(dest, "cproj"))
    gen_git(os.path.join(dest, "gitrepo"), rng)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gen.py DIR")
    main(sys.argv[1])
