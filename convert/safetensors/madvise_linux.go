package safetensors

import (
	"os"

	"golang.org/x/sys/unix"
)

func adviseSequential(m []byte) { _ = unix.Madvise(m, unix.MADV_SEQUENTIAL) }

// dontNeed drops the pages of m[begin:end] from this process's resident set.
// For a read-only file mapping the data stays in the page cache and is read
// back on the next access, so this is only a hint about memory.
func dontNeed(m []byte, begin, end int64) {
	page := int64(os.Getpagesize())
	b := (begin + page - 1) &^ (page - 1) // whole pages only: neighbours may still be in use
	e := end &^ (page - 1)
	if e > b {
		_ = unix.Madvise(m[b:e], unix.MADV_DONTNEED)
	}
}

// populate maps m[begin:end] in one call (MADV_POPULATE_READ, Linux 5.14+)
// instead of one page fault per page; older kernels ignore it and fault.
func populate(m []byte, begin, end int64) {
	_ = unix.Madvise(m[begin:end], unix.MADV_POPULATE_READ)
}
