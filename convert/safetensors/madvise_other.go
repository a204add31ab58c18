//go:build !linux

package safetensors

func adviseSequential(m []byte)           {}
func dontNeed(m []byte, begin, end int64) {}
func populate(m []byte, begin, end int64) {}
