//go:build cgo

package vulkan

/*
#cgo LDFLAGS: -ldl
#include "glue.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func check(op string, r C.int) error {
	if r == 0 {
		return nil
	}
	return &Error{Op: op, Result: int32(r)}
}

// load opens the loader and creates the instance once per process.
func load() error {
	if err := check("load", C.mmb_init()); err != nil {
		return fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	return nil
}

func deviceInfo(i int) (DeviceInfo, C.mmb_devinfo, error) {
	var ci C.mmb_devinfo
	if err := check("device info", C.mmb_device_info(C.int(i), &ci)); err != nil {
		return DeviceInfo{}, ci, err
	}
	typ, rank := typeName(uint32(ci._type))
	api := uint32(ci.api)
	d := DeviceInfo{
		Index:              i,
		Name:               C.GoString(&ci.name[0]),
		Type:               typ,
		APIVersion:         fmt.Sprintf("%d.%d.%d", api>>22&0x7f, api>>12&0x3ff, api&0xfff),
		VendorID:           uint32(ci.vendor),
		DeviceID:           uint32(ci.device_id),
		MemoryBytes:        uint64(ci.device_local_bytes),
		SubgroupSize:       int(ci.subgroup_size),
		SubgroupArithmetic: ci.subgroup_stages&0x20 != 0 && ci.subgroup_ops&0x5 == 0x5, // compute stage; basic+arithmetic
		Float16:            ci.float16 != 0,
		Int8:               ci.int8 != 0,
		Storage16:          ci.storage16 != 0,
		Storage8:           ci.storage8 != 0,
		CoopMatrix:         ci.coopmat_nv != 0,
		AtomicFloatAdd:     ci.atomic_add_f32 != 0,
		mmDeviceScope:      ci.mm_device_scope != 0,
		SubgroupShuffle:    ci.subgroup_stages&0x20 != 0 && ci.subgroup_ops&0x10 != 0,
		typeRank:           rank,
	}
	return d, ci, nil
}

// ListDevices lists the Vulkan devices in the loader's order; the indices
// are what Options.Device takes.
func ListDevices() ([]DeviceInfo, error) {
	if err := load(); err != nil {
		return nil, err
	}
	n := int(C.mmb_device_count())
	devs := make([]DeviceInfo, 0, n)
	for i := 0; i < n; i++ {
		d, _, err := deviceInfo(i)
		if err != nil {
			return nil, err
		}
		devs = append(devs, d)
	}
	return devs, nil
}

var _ = unsafe.Pointer(nil)
