package opencl

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// OpenCL parameter names (CL/cl.h).
const (
	clPlatformVersion = 0x0901
	clPlatformName    = 0x0902
	clPlatformVendor  = 0x0903

	clDeviceType            = 0x1000
	clDeviceMaxComputeUnits = 0x1002
	clDeviceMaxWorkGroup    = 0x1004
	clDeviceMaxClock        = 0x100C
	clDeviceMaxMemAlloc     = 0x1010
	clDeviceGlobalMemSize   = 0x101F
	clDeviceLocalMemSize    = 0x1023
	clDeviceAvailable       = 0x1027
	clDeviceName            = 0x102B
	clDeviceVendor          = 0x102C
	clDriverVersion         = 0x102D
	clDeviceVersion         = 0x102F

	clDeviceTypeAll = 0xFFFFFFFF
)

// DeviceType is the CL_DEVICE_TYPE bitfield.
type DeviceType uint64

// Device types (a device may have several bits).
const (
	TypeCPU         DeviceType = 1 << 1
	TypeGPU         DeviceType = 1 << 2
	TypeAccelerator DeviceType = 1 << 3
)

func (t DeviceType) String() string {
	var s []string
	for _, b := range []struct {
		bit  DeviceType
		name string
	}{{TypeCPU, "CPU"}, {TypeGPU, "GPU"}, {TypeAccelerator, "accelerator"}} {
		if t&b.bit != 0 {
			s = append(s, b.name)
		}
	}
	if len(s) == 0 {
		return "other"
	}
	return strings.Join(s, "+")
}

// Platform is one installed OpenCL driver (ICD).
type Platform struct {
	lib                   *Lib
	id                    uintptr
	Index                 int // position in the loader's list
	Name, Vendor, Version string
}

// Device is one device of a platform with the properties a compute engine
// sizes its work by.
type Device struct {
	lib      *Lib
	id       uintptr
	Platform *Platform
	Index    int // position in its platform's list

	Name, Vendor, Version, DriverVersion string
	Type                                 DeviceType
	GlobalMemory                         int64 // bytes
	MaxAlloc                             int64 // largest single buffer, bytes
	LocalMemory                          int64 // per work-group, bytes
	ComputeUnits                         int
	MaxWorkGroup                         int // work-items per work-group
	ClockMHz                             int
	Available                            bool
}

// Platforms lists the installed platforms. None is an error wrapping
// ErrNoPlatform.
func (l *Lib) Platforms() ([]*Platform, error) {
	var n uint32
	err := check("clGetPlatformIDs", call(l.fn.getPlatformIDs, 0, 0, uintptr(unsafe.Pointer(&n))))
	if errors.Is(err, ErrNoPlatform) || (err == nil && n == 0) {
		return nil, fmt.Errorf("%w: the loader %s found no installed driver (ICD files in /etc/OpenCL/vendors, or OCL_ICD_VENDORS)", ErrNoPlatform, l.path)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]uintptr, n)
	if err := check("clGetPlatformIDs", call(l.fn.getPlatformIDs, uintptr(n), uintptr(unsafe.Pointer(&ids[0])), 0)); err != nil {
		return nil, err
	}
	out := make([]*Platform, 0, n)
	for i, id := range ids {
		p := &Platform{lib: l, id: id, Index: i}
		for _, f := range []struct {
			dst   *string
			param uint32
		}{{&p.Name, clPlatformName}, {&p.Vendor, clPlatformVendor}, {&p.Version, clPlatformVersion}} {
			s, err := l.infoString(l.fn.getPlatformInfo, "clGetPlatformInfo", id, f.param)
			if err != nil {
				return nil, fmt.Errorf("platform %d: %w", i, err)
			}
			*f.dst = s
		}
		out = append(out, p)
	}
	return out, nil
}

// Devices lists every device of every platform, platform by platform.
// None is an error wrapping ErrNoPlatform (no driver) or ErrNoDevice
// (drivers without devices, naming their platforms).
func (l *Lib) Devices() ([]*Device, error) {
	plats, err := l.Platforms()
	if err != nil {
		return nil, err
	}
	var devs []*Device
	var names []string
	for _, p := range plats {
		ds, err := p.Devices()
		if err != nil {
			return nil, err
		}
		devs = append(devs, ds...)
		names = append(names, fmt.Sprintf("%q", p.Name))
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("%w: OpenCL platforms %s have no devices", ErrNoDevice, strings.Join(names, ", "))
	}
	return devs, nil
}

// Devices lists the platform's devices of every type; a platform without
// devices gives an empty list.
func (p *Platform) Devices() ([]*Device, error) {
	l := p.lib
	var n uint32
	err := check("clGetDeviceIDs", call(l.fn.getDeviceIDs, p.id, clDeviceTypeAll, 0, 0, uintptr(unsafe.Pointer(&n))))
	if errors.Is(err, ErrNoDevice) || (err == nil && n == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("platform %d (%s): %w", p.Index, p.Name, err)
	}
	ids := make([]uintptr, n)
	if err := check("clGetDeviceIDs", call(l.fn.getDeviceIDs, p.id, clDeviceTypeAll, uintptr(n), uintptr(unsafe.Pointer(&ids[0])), 0)); err != nil {
		return nil, fmt.Errorf("platform %d (%s): %w", p.Index, p.Name, err)
	}
	out := make([]*Device, 0, n)
	for i, id := range ids {
		d, err := p.device(i, id)
		if err != nil {
			return nil, fmt.Errorf("platform %d (%s) device %d: %w", p.Index, p.Name, i, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (p *Platform) device(index int, id uintptr) (*Device, error) {
	l := p.lib
	d := &Device{lib: l, id: id, Platform: p, Index: index}
	str := func(param uint32, dst *string) error {
		s, err := l.infoString(l.fn.getDeviceInfo, "clGetDeviceInfo", id, param)
		*dst = s
		return err
	}
	num := func(param uint32, size uintptr) (uint64, error) {
		return l.infoUint(l.fn.getDeviceInfo, "clGetDeviceInfo", id, param, size)
	}
	for _, f := range []struct {
		param uint32
		dst   *string
	}{{clDeviceName, &d.Name}, {clDeviceVendor, &d.Vendor}, {clDeviceVersion, &d.Version}, {clDriverVersion, &d.DriverVersion}} {
		if err := str(f.param, f.dst); err != nil {
			return nil, err
		}
	}
	var vals [8]uint64
	for i, f := range []struct {
		param uint32
		size  uintptr
	}{
		{clDeviceType, 8}, {clDeviceGlobalMemSize, 8}, {clDeviceMaxMemAlloc, 8}, {clDeviceLocalMemSize, 8},
		{clDeviceMaxComputeUnits, 4}, {clDeviceMaxWorkGroup, unsafe.Sizeof(uintptr(0))}, {clDeviceMaxClock, 4}, {clDeviceAvailable, 4},
	} {
		v, err := num(f.param, f.size)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	d.Type = DeviceType(vals[0])
	d.GlobalMemory, d.MaxAlloc, d.LocalMemory = int64(vals[1]), int64(vals[2]), int64(vals[3])
	d.ComputeUnits, d.MaxWorkGroup, d.ClockMHz = int(vals[4]), int(vals[5]), int(vals[6])
	d.Available = vals[7] != 0
	return d, nil
}

// GPU reports whether the device is a GPU.
func (d *Device) GPU() bool { return d.Type&TypeGPU != 0 }

func (d *Device) String() string {
	return fmt.Sprintf("%s (%s, %s, %d compute units, %d MiB)", d.Name, d.Platform.Name, d.Type, d.ComputeUnits, d.GlobalMemory>>20)
}
