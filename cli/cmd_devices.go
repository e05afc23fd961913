package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"

	"github.com/maskinv/workbench/internal/opencl"
	"github.com/maskinv/workbench/model"
)

func runDevices(ctx context.Context, args []string, stdio Stdio) error {
	fs := newFlagSet("devices", stdio.Err, "devices [--json]\n\n"+
		"Lists the devices --device (and "+model.DeviceEnv+") can choose: the CPU engine, always there, and every\n"+
		"OpenCL device with the spec that picks it; says which one auto takes, and why no OpenCL device is\n"+
		"usable when none is (no OpenCL loader, no driver, no device). Exit status 0 either way.\n")
	asJSON := fs.Bool("json", false, `write {"devices":[…],"auto","opencl_missing","opencl_error"} as JSON`)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	l := listDevices(model.Devices)
	if *asJSON {
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdio.Out, "%s\n", b)
		return err
	}
	return l.write(stdio.Out)
}

// deviceList is what `maskinv devices` reports; its JSON is the --json
// output.
type deviceList struct {
	Devices []deviceJSON `json:"devices"`
	// Auto is the spec of the device "auto" takes: the first OpenCL GPU,
	// else "cpu".
	Auto string `json:"auto"`
	// OpenCLMissing says what is missing when no OpenCL device is usable:
	// "loader", "driver", "device" or "error" (anything else); OpenCLError
	// is the whole reason.
	OpenCLMissing string `json:"opencl_missing,omitempty"`
	OpenCLError   string `json:"opencl_error,omitempty"`
}

// deviceJSON is model.DeviceInfo with the names the JSON output promises.
type deviceJSON struct {
	Spec          string `json:"spec"` // what --device takes
	Name          string `json:"name"`
	Type          string `json:"type"` // GPU, CPU, accelerator…
	GPU           bool   `json:"gpu"`
	Platform      string `json:"platform,omitempty"`
	Vendor        string `json:"vendor,omitempty"`
	Version       string `json:"version,omitempty"`
	Driver        string `json:"driver,omitempty"`
	MemoryBytes   int64  `json:"memory_bytes,omitempty"`
	MaxAllocBytes int64  `json:"max_alloc_bytes,omitempty"`
	ComputeUnits  int    `json:"compute_units"`
	ClockMHz      int    `json:"clock_mhz,omitempty"`
}

func toJSON(d model.DeviceInfo) deviceJSON {
	return deviceJSON{Spec: d.Spec, Name: d.Name, Type: d.Type, GPU: d.GPU, Platform: d.Platform, Vendor: d.Vendor,
		Version: d.Version, Driver: d.Driver, MemoryBytes: d.GlobalMemory, MaxAllocBytes: d.MaxAlloc,
		ComputeUnits: d.ComputeUnits, ClockMHz: d.ClockMHz}
}

// listDevices lists the CPU engine (its compute units are the cores) and
// what list (model.Devices) finds, and picks auto's choice the way
// model.OpenDevice does, without opening anything.
func listDevices(list func() ([]model.DeviceInfo, error)) deviceList {
	cpu := toJSON(model.CPU().Info())
	cpu.ComputeUnits = runtime.NumCPU()
	l := deviceList{Devices: []deviceJSON{cpu}, Auto: cpu.Spec}
	infos, err := list()
	if err != nil {
		l.OpenCLMissing, l.OpenCLError = missingPart(err), err.Error()
	}
	for _, d := range infos {
		l.Devices = append(l.Devices, toJSON(d))
		if d.GPU && l.Auto == cpu.Spec {
			l.Auto = d.Spec
		}
	}
	return l
}

// missingPart names what stands between the program and an OpenCL device.
func missingPart(err error) string {
	switch {
	case errors.Is(err, opencl.ErrNoLoader):
		return "loader"
	case errors.Is(err, opencl.ErrNoPlatform):
		return "driver"
	case errors.Is(err, opencl.ErrNoDevice):
		return "device"
	}
	return "error"
}

// missingAdvice is what a user does about each missing part.
func missingAdvice(part string) string {
	switch part {
	case "loader":
		return "no OpenCL loader (libOpenCL.so.1): install the ICD loader (Debian: ocl-icd-libopencl1) and a driver"
	case "driver":
		return "the OpenCL loader found no driver (ICD): install your GPU's OpenCL driver (NVIDIA, AMD ROCm, Intel), or pocl-opencl-icd for the CPU"
	case "device":
		return "the OpenCL drivers offer no device (is the GPU visible to this user and container?)"
	}
	return "OpenCL failed"
}

// write prints the list as a table, then auto's choice, then why no
// OpenCL device is usable when none is.
func (l deviceList) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SPEC\tTYPE\tCOMPUTE UNITS\tMEMORY\tNAME\tPLATFORM")
	for _, d := range l.Devices {
		mem, plat := "-", d.Platform
		if d.MemoryBytes > 0 {
			mem = fmt.Sprintf("%d MiB", d.MemoryBytes>>20)
		}
		if plat == "" {
			plat = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", d.Spec, d.Type, d.ComputeUnits, mem, d.Name, plat)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	why := ""
	if l.Auto == "cpu" {
		why = " (no OpenCL GPU)"
	}
	if _, err := fmt.Fprintf(w, "auto: %s%s\n", l.Auto, why); err != nil {
		return err
	}
	if l.OpenCLMissing != "" {
		_, err := fmt.Fprintf(w, "no OpenCL device: %s\n  %s\n", missingAdvice(l.OpenCLMissing), l.OpenCLError)
		return err
	}
	return nil
}
