//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// errNoStats: the backend was not created with Options.PipelineStats, or
// the device lacks VK_KHR_pipeline_executable_properties.
var errNoStats = errors.New("vulkan: no pipeline statistics (Options.PipelineStats, VK_KHR_pipeline_executable_properties)")

// pipelineStats returns the driver's statistics for the pipeline of a
// shader variant and specialisation (created if need be) as
// "executable\tstatistic\tvalue" lines.
func (b *Backend) pipelineStats(name string, spec []uint32) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, err := b.pipeline(name, spec)
	if err != nil {
		return "", err
	}
	buf := make([]byte, 16<<10)
	r := C.mmb_pipeline_stats(b.ctx, p, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if r == C.MMB_ERR_NO_STATS {
		return "", errNoStats
	}
	if err := check("pipeline statistics "+name, r); err != nil {
		return "", err
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0]))), nil
}
