package model

import (
	"fmt"
	"strings"

	"github.com/maskinv/workbench/internal/opencl"
)

// openCLDevices loads the OpenCL loader and lists every device of every
// platform. It fails, wrapping ErrNoDevice, when there is no loader, no
// driver or no device, saying which.
func openCLDevices() ([]*opencl.Device, error) {
	lib, err := opencl.Load()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	devs, err := lib.Devices()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	return devs, nil
}

func deviceInfo(d *opencl.Device) DeviceInfo {
	return DeviceInfo{
		Spec: fmt.Sprintf("opencl:%d.%d", d.Platform.Index, d.Index), Platform: d.Platform.Name,
		Name: d.Name, Vendor: d.Vendor, Version: d.Version, Driver: d.DriverVersion, Type: d.Type.String(), GPU: d.GPU(),
		GlobalMemory: d.GlobalMemory, MaxAlloc: d.MaxAlloc, ComputeUnits: d.ComputeUnits, ClockMHz: d.ClockMHz,
	}
}

// Devices lists the OpenCL devices (the CPU engine, always there, is not
// listed). With none it returns an error wrapping ErrNoDevice that says
// why: no OpenCL loader, no driver (ICD), or no device.
func Devices() ([]DeviceInfo, error) {
	devs, err := openCLDevices()
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, len(devs))
	for i, d := range devs {
		out[i] = deviceInfo(d)
	}
	return out, nil
}

// OpenDevice opens the device spec names. "auto" never fails: without an
// OpenCL GPU it returns the CPU engine and Fallback says why. An explicit
// OpenCL choice that cannot be used is an error wrapping ErrNoDevice.
func OpenDevice(spec DeviceSpec, opt DeviceOptions) (*Device, error) {
	if spec.Kind == DeviceCPU {
		return CPU(), nil
	}
	dev, err := openOpenCL(spec, opt)
	if err != nil && spec.Kind == DeviceAuto {
		cpu := CPU()
		cpu.fallback = err.Error()
		return cpu, nil
	}
	return dev, err
}

func openOpenCL(spec DeviceSpec, opt DeviceOptions) (*Device, error) {
	devs, err := openCLDevices()
	if err != nil {
		return nil, err
	}
	chosen, err := pickDevice(devs, spec)
	if err != nil {
		return nil, err
	}
	be, err := newOpenCLBackend(chosen, opt.GEMM)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoDevice, chosen, err)
	}
	d := &Device{spec: spec, info: deviceInfo(chosen), be: be, limit: opt.MemoryLimit, maxBatch: opt.MaxBatch}
	if d.limit <= 0 {
		d.limit = chosen.GlobalMemory / 10 * 8
	}
	if d.maxBatch <= 0 {
		d.maxBatch = defaultMaxBatch
	}
	return d, nil
}

// pickDevice applies a spec: an explicit platform and device ("opencl:P.D";
// "auto" has none, whatever its indices say), else the first GPU, else (for
// "opencl", not "auto") the first device.
func pickDevice(devs []*opencl.Device, spec DeviceSpec) (*opencl.Device, error) {
	if spec.Kind == DeviceOpenCL && spec.Platform >= 0 {
		for _, d := range devs {
			if d.Platform.Index == spec.Platform && d.Index == spec.Device {
				return d, nil
			}
		}
		return nil, fmt.Errorf("%w: no OpenCL device %s; there are %s", ErrNoDevice, spec, listSpecs(devs))
	}
	for _, d := range devs {
		if d.GPU() {
			return d, nil
		}
	}
	if spec.Kind == DeviceAuto {
		return nil, fmt.Errorf("%w: no OpenCL GPU (found %s)", ErrNoDevice, listSpecs(devs))
	}
	return devs[0], nil
}

func listSpecs(devs []*opencl.Device) string {
	s := make([]string, len(devs))
	for i, d := range devs {
		s[i] = deviceInfo(d).String()
	}
	return strings.Join(s, "; ")
}
