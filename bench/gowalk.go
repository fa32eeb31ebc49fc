// W8 of bench/run: a Go program walking the tree, what `find TREE` does plus an Lstat of every
// entry (what `find -ls` needs), with Go's own system calls (no libc: the `syscall`
// instructions are in the Go runtime), so that an LD_PRELOAD library sees them only when it
// traps them (kmview --complete).
//
//	gowalk TREE
//
// filepath.WalkDir over TREE (lexical order, symlinks not followed), os.Lstat of every entry
// (TREE included). Prints one deterministic line: the number of entries, directories, symlinks
// and the total size of the regular files. Exit 1 with the error on the first failing call (the
// tree's path written TREE).
//
// `import "C"` (a trivial C preamble) makes it a cgo program: dynamically linked, so that the
// dynamic loader runs and an LD_PRELOAD library enters it. Without cgo a Go program is static
// and no LD_PRELOAD library ever sees it.
package main

/*
static int gowalk_cgo(void) { return 1; }
*/
import "C"

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

var _ = C.gowalk_cgo

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gowalk TREE")
		os.Exit(2)
	}
	var entries, dirs, links, bytes int64
	err := filepath.WalkDir(os.Args[1], func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(path)
		if err != nil {
			return err
		}
		entries++
		switch m := st.Mode(); {
		case m.IsDir():
			dirs++
		case m&fs.ModeSymlink != 0:
			links++
		case m.IsRegular():
			bytes += st.Size()
		}
		return nil
	})
	if err != nil {
		// TREE for the tree's path, so that the message is the same wherever the tree is
		fmt.Fprintln(os.Stderr, "gowalk:", strings.ReplaceAll(err.Error(), os.Args[1], "TREE"))
		os.Exit(1)
	}
	fmt.Printf("entries %d dirs %d symlinks %d bytes %d\n", entries, dirs, links, bytes)
}
