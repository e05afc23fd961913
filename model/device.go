package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DeviceEnv is the environment variable through which a user picks the
// compute device (same syntax as ParseDeviceSpec); the command layer reads
// it, this package never does.
const DeviceEnv = "MASKINV_DEVICE"

// Errors of device selection and use, for errors.Is.
var (
	// ErrDeviceSpec: a device choice that does not parse.
	ErrDeviceSpec = errors.New("bad device")
	// ErrNoDevice: the chosen device is not there or cannot be used; the
	// error says why (no OpenCL loader, no driver, no device, no such index).
	ErrNoDevice = errors.New("device unavailable")
	// ErrDeviceMemory: a batch does not fit in the device's memory; see
	// DeviceMemoryError for the batch size that does.
	ErrDeviceMemory = errors.New("out of device memory")
)

// DeviceKind says which engine runs a model.
type DeviceKind int

const (
	// DeviceAuto takes the first OpenCL GPU, else the CPU engine.
	DeviceAuto DeviceKind = iota
	// DeviceCPU is the CPU engine (*Net itself).
	DeviceCPU
	// DeviceOpenCL is an OpenCL device: a given one, or the first GPU,
	// else the first device of any type.
	DeviceOpenCL
)

// DeviceSpec is a parsed device choice. Platform and Device are indices in
// the order Devices lists them, or -1 for "the first suitable".
type DeviceSpec struct {
	Kind             DeviceKind
	Platform, Device int
}

// ParseDeviceSpec parses "cpu", "opencl", "opencl:P.D" (platform and device
// indices as `maskinv devices` lists them) or "auto"; case and surrounding
// space are ignored, and "" means auto.
func ParseDeviceSpec(s string) (DeviceSpec, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "", "auto":
		return DeviceSpec{Kind: DeviceAuto, Platform: -1, Device: -1}, nil
	case "cpu":
		return DeviceSpec{Kind: DeviceCPU, Platform: -1, Device: -1}, nil
	case "opencl":
		return DeviceSpec{Kind: DeviceOpenCL, Platform: -1, Device: -1}, nil
	}
	rest, ok := strings.CutPrefix(t, "opencl:")
	if !ok {
		return DeviceSpec{}, fmt.Errorf("%w %q: want cpu, opencl, opencl:P.D or auto", ErrDeviceSpec, s)
	}
	ps, ds, ok := strings.Cut(rest, ".")
	p, errP := strconv.ParseUint(ps, 10, 16)
	d, errD := strconv.ParseUint(ds, 10, 16)
	if !ok || errP != nil || errD != nil {
		return DeviceSpec{}, fmt.Errorf("%w %q: want opencl:P.D with platform and device numbers, e.g. opencl:0.0", ErrDeviceSpec, s)
	}
	return DeviceSpec{Kind: DeviceOpenCL, Platform: int(p), Device: int(d)}, nil
}

func (s DeviceSpec) String() string {
	switch s.Kind {
	case DeviceCPU:
		return "cpu"
	case DeviceOpenCL:
		if s.Platform >= 0 && s.Device >= 0 {
			return fmt.Sprintf("opencl:%d.%d", s.Platform, s.Device)
		}
		return "opencl"
	}
	return "auto"
}

// DeviceInfo describes one compute device.
type DeviceInfo struct {
	Spec     string // how to choose it: "cpu" or "opencl:P.D"
	Platform string // the OpenCL platform (driver), "" for the CPU engine
	Name     string
	Vendor   string
	Version  string // the device's OpenCL version
	Driver   string // the driver's version
	Type     string // "GPU", "CPU", "accelerator" …
	GPU      bool
	// GlobalMemory and MaxAlloc are the device's memory and its largest
	// single buffer, in bytes; ComputeUnits its parallel cores (SMs, CUs).
	GlobalMemory, MaxAlloc int64
	ComputeUnits           int
	ClockMHz               int
}

func (d DeviceInfo) String() string {
	if d.Spec == "cpu" || d.Spec == "" {
		return "cpu (CPU engine)"
	}
	return fmt.Sprintf("%s: %s (%s; %s, %d compute units, %d MiB)", d.Spec, d.Name, d.Platform, d.Type, d.ComputeUnits, d.GlobalMemory>>20)
}

// DeviceMemoryError is a batch that did not fit in device memory.
type DeviceMemoryError struct {
	Device string
	Model  string
	Batch  int // the batch size that failed
	Fits   int // the largest batch size estimated to fit (0: not even one)
	Err    error
}

func (e *DeviceMemoryError) Error() string {
	if e.Fits < 1 {
		return fmt.Sprintf("model %s on %s: out of device memory even for a batch of 1: %v", e.Model, e.Device, e.Err)
	}
	return fmt.Sprintf("model %s on %s: out of device memory at batch %d; a batch of %d fits: %v", e.Model, e.Device, e.Batch, e.Fits, e.Err)
}

func (e *DeviceMemoryError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDeviceMemory) true.
func (e *DeviceMemoryError) Is(target error) bool { return target == ErrDeviceMemory }
