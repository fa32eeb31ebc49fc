// probe OP ARGS... [OP ARGS...]...: file system operations done the way Go does them, with the
// system call instruction in Go's own code (no libc), for the complete mode tests
// (cdylib-tests/tests/complete.rs). Built twice: with cgo (cgo.go, `import "C"`), a dynamic
// program the library enters; without (CGO_ENABLED=0), a static one.
//
// One line per operation, naming the path by its last component only (so that runs on
// different paths of the same tree print the same): `OP NAME: RESULT`, RESULT `ok ...` or the
// errno's name. The operations (each takes a fixed number of arguments):
//
//	read P              the file's contents (newlines written \n)
//	write P TEXT        create or truncate P, write TEXT
//	stat P / lstat P    size and st_mode (octal)
//	owner P             uid:gid
//	ls P                the names, sorted, a directory with /, a symlink with @ (getdents64)
//	readlink P          the link's target
//	rename A B / chown P UID GID / chmod P OCTAL / remove P / mkdir P
//	run P               exec P (fork and execve, as os/exec does), its output
//	sh CMD              /bin/sh -c CMD, its output
//	par N A B           N goroutines, each stat A and read B 40 times: how many agreed with
//	                    a read of B made first
//	ids                 uid, euid, gid, egid
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.EACCES: "EACCES", syscall.EBUSY: "EBUSY",
	syscall.EEXIST: "EEXIST", syscall.EXDEV: "EXDEV", syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR",
	syscall.EINVAL: "EINVAL", syscall.EROFS: "EROFS", syscall.ENOSYS: "ENOSYS", syscall.ELOOP: "ELOOP",
	syscall.ENOTEMPTY: "ENOTEMPTY", syscall.EFAULT: "EFAULT",
}

func errName(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		if n, ok := errnoNames[e]; ok {
			return n
		}
		return fmt.Sprintf("E%d", int(e))
	}
	var x *exec.ExitError
	if errors.As(err, &x) {
		return "exit " + strconv.Itoa(x.ExitCode())
	}
	return "error " + err.Error()
}

func esc(b []byte) string {
	return strings.ReplaceAll(string(b), "\n", "\\n")
}

func name(p string) string {
	return filepath.Base(p)
}

func statLine(fi os.FileInfo) string {
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("ok size=%d mode=%o", st.Size, st.Mode)
}

func list(p string) (string, error) {
	entries, err := os.ReadDir(p)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.Type()&os.ModeSymlink != 0:
			n += "@"
		case e.IsDir():
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ","), nil
}

func result(err error, ok string) string {
	if err != nil {
		return errName(err)
	}
	return ok
}

func par(n int, a, b string) string {
	want, err := os.ReadFile(b)
	if err != nil {
		return "first read " + errName(err)
	}
	runtime.GOMAXPROCS(8)
	var mu sync.Mutex
	good, bad := 0, 0
	first := ""
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 40; j++ {
				_, e1 := os.Stat(a)
				got, e2 := os.ReadFile(b)
				mu.Lock()
				if e1 == nil && e2 == nil && string(got) == string(want) {
					good++
				} else {
					bad++
					if first == "" {
						first = fmt.Sprintf(" first=%v/%v", e1, e2)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("ok good=%d bad=%d%s", good, bad, first)
}

// The command's output. Its stdin and stderr are the probe's own: left nil, os/exec would open
// /dev/null, which a small root has not.
func output(c *exec.Cmd) ([]byte, error) {
	c.Stdin = os.Stdin
	c.Stderr = os.Stderr
	return c.Output()
}

func main() {
	args := os.Args[1:]
	arity := map[string]int{
		"read": 1, "write": 2, "stat": 1, "lstat": 1, "owner": 1, "ls": 1, "readlink": 1, "rename": 2,
		"chown": 3, "chmod": 2, "remove": 1, "mkdir": 1, "run": 1, "sh": 1, "par": 3, "ids": 0,
	}
	for len(args) > 0 {
		op := args[0]
		n, known := arity[op]
		if !known || len(args) < 1+n {
			fmt.Fprintf(os.Stderr, "probe: bad operation %q\n", args)
			os.Exit(2)
		}
		a := args[1 : 1+n]
		args = args[1+n:]
		label := op
		if n > 0 && op != "sh" {
			label += " " + name(a[0])
		}
		var out string
		switch op {
		case "read":
			b, err := os.ReadFile(a[0])
			out = result(err, "ok "+esc(b))
		case "write":
			out = result(os.WriteFile(a[0], []byte(a[1]), 0o644), "ok")
		case "stat":
			fi, err := os.Stat(a[0])
			if out = result(err, ""); err == nil {
				out = statLine(fi)
			}
		case "lstat":
			fi, err := os.Lstat(a[0])
			if out = result(err, ""); err == nil {
				out = statLine(fi)
			}
		case "owner":
			fi, err := os.Lstat(a[0])
			if out = result(err, ""); err == nil {
				st := fi.Sys().(*syscall.Stat_t)
				out = fmt.Sprintf("ok %d:%d", st.Uid, st.Gid)
			}
		case "ls":
			l, err := list(a[0])
			out = result(err, "ok "+l)
		case "readlink":
			t, err := os.Readlink(a[0])
			out = result(err, "ok "+t)
		case "rename":
			label += " " + name(a[1])
			out = result(os.Rename(a[0], a[1]), "ok")
		case "chown":
			uid, _ := strconv.Atoi(a[1])
			gid, _ := strconv.Atoi(a[2])
			out = result(os.Lchown(a[0], uid, gid), "ok")
		case "chmod":
			m, _ := strconv.ParseUint(a[1], 8, 32)
			mode := os.FileMode(m & 0o777)
			if m&0o4000 != 0 {
				mode |= os.ModeSetuid
			}
			if m&0o2000 != 0 {
				mode |= os.ModeSetgid
			}
			if m&0o1000 != 0 {
				mode |= os.ModeSticky
			}
			out = result(os.Chmod(a[0], mode), "ok")
		case "remove":
			out = result(os.Remove(a[0]), "ok")
		case "mkdir":
			out = result(os.Mkdir(a[0], 0o755), "ok")
		case "run":
			b, err := output(exec.Command(a[0]))
			out = result(err, "ok "+esc(b))
		case "sh":
			b, err := output(exec.Command("/bin/sh", "-c", a[0]))
			out = result(err, "ok "+esc(b))
		case "par":
			k, _ := strconv.Atoi(a[0])
			out = par(k, a[1], a[2])
		case "ids":
			out = fmt.Sprintf("ok uid=%d euid=%d gid=%d egid=%d", os.Getuid(), os.Geteuid(), os.Getgid(), os.Getegid())
		}
		fmt.Printf("%s: %s\n", label, out)
	}
}
