package cpu

import (
	"testing"

	mrt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
)

func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"1thread-sequential", Options{Threads: 1, ChunkRows: -1}},
		{"3threads-chunked", Options{Threads: 3, ChunkRows: 2, Chunk: 8}},
		{"default", Options{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) mrt.Backend { return New(c.o) })
		})
	}
}
