//go:build cgo

// With cgo the probe is a dynamically linked program (it loads libc), which an LD_PRELOAD
// library enters; without it (CGO_ENABLED=0) this file is left out and the probe is static.
package main

/*
static int kmview_probe_cgo(void) { return 1; }
*/
import "C"

var _ = C.kmview_probe_cgo
