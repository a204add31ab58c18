//go:build !cgo

package vulkan

import rt "github.com/mmbformat/mmb/runtime"

// Backend is unavailable in a build without cgo; New always fails.
type Backend struct{ rt.Backend }

// New reports ErrUnavailable: this binary was built with CGO_ENABLED=0.
func New(opts Options) (*Backend, error) { return nil, ErrUnavailable }

// ListDevices reports ErrUnavailable: this binary was built with CGO_ENABLED=0.
func ListDevices() ([]DeviceInfo, error) { return nil, ErrUnavailable }
