package model

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/maskinv/workbench/internal/childtest"
	"github.com/maskinv/workbench/internal/opencltest"
)

func TestParseDeviceSpec(t *testing.T) {
	tests := []struct {
		in   string
		want DeviceSpec
		err  bool
	}{
		{"cpu", DeviceSpec{DeviceCPU, -1, -1}, false},
		{" CPU ", DeviceSpec{DeviceCPU, -1, -1}, false},
		{"", DeviceSpec{DeviceAuto, -1, -1}, false},
		{"auto", DeviceSpec{DeviceAuto, -1, -1}, false},
		{"opencl", DeviceSpec{DeviceOpenCL, -1, -1}, false},
		{"opencl:0.0", DeviceSpec{DeviceOpenCL, 0, 0}, false},
		{"opencl:2.13", DeviceSpec{DeviceOpenCL, 2, 13}, false},
		{"opencl:1", DeviceSpec{}, true},
		{"opencl:-1.0", DeviceSpec{}, true},
		{"opencl:a.b", DeviceSpec{}, true},
		{"opencl:0.0.0", DeviceSpec{}, true},
		{"cuda", DeviceSpec{}, true},
		{"gpu", DeviceSpec{}, true},
	}
	for _, tc := range tests {
		got, err := ParseDeviceSpec(tc.in)
		if tc.err {
			if !errors.Is(err, ErrDeviceSpec) || !strings.Contains(err.Error(), tc.in) {
				t.Errorf("%q: error %v, want ErrDeviceSpec naming the input", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := ParseDeviceSpec(got.String()); err != nil || back != got {
			t.Errorf("%q: %q does not parse back (%+v, %v)", tc.in, got.String(), back, err)
		}
	}
}

func FuzzParseDeviceSpec(f *testing.F) {
	for _, s := range []string{"cpu", "auto", "", "opencl", "opencl:0.0", "opencl:99.1", "opencl:.", "OPENCL:1.2 ", "opencl:65536.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseDeviceSpec(s)
		if err != nil {
			if !errors.Is(err, ErrDeviceSpec) {
				t.Fatalf("%q: error %v does not wrap ErrDeviceSpec", s, err)
			}
			return
		}
		back, err := ParseDeviceSpec(spec.String())
		if err != nil || back != spec {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, spec, spec.String(), back, err)
		}
	})
}

// TestNoOpenCLDriver runs the device functions in a child process whose
// OpenCL loader finds no driver: Devices says why, "auto" falls back to the
// CPU engine saying why, and "opencl" is an error.
func TestNoOpenCLDriver(t *testing.T) {
	if os.Getenv("MASKINV_CHILD_NO_DRIVER") == "1" {
		noDriverChild(t)
		return
	}
	c := childtest.Start(t, []string{"MASKINV_CHILD_NO_DRIVER=1", "OCL_ICD_VENDORS=" + t.TempDir()}, "-test.run=^TestNoOpenCLDriver$", "-test.v")
	var out []string
	c.Each(func(line string) bool { out = append(out, line); return true })
	if code, err := c.Wait(); err != nil || code != 0 {
		t.Fatalf("child failed (%d, %v):\n%s\n%s", code, err, strings.Join(out, "\n"), c.Stderr.String())
	}
	t.Log(strings.Join(out, "\n"))
}

func noDriverChild(t *testing.T) {
	devs, err := Devices()
	if err == nil {
		t.Skipf("an OpenCL device is visible despite OCL_ICD_VENDORS: %v (the loader is not ocl-icd)", devs)
	}
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "no ") {
		t.Fatalf("Devices without a driver: %v", err)
	}
	t.Logf("Devices: %v", err)
	d, err := OpenDevice(DeviceSpec{Kind: DeviceAuto, Platform: -1, Device: -1}, DeviceOptions{})
	if err != nil || !d.IsCPU() || d.Fallback() == "" {
		t.Fatalf("auto without a driver: %v, %v, fallback %q", d, err, d.Fallback())
	}
	t.Logf("auto: %s (fallback: %s)", d, d.Fallback())
	if _, err := OpenDevice(DeviceSpec{Kind: DeviceOpenCL, Platform: -1, Device: -1}, DeviceOptions{}); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("opencl without a driver: %v", err)
	}
}

func TestOpenDeviceCPU(t *testing.T) {
	d, err := OpenDevice(DeviceSpec{Kind: DeviceCPU}, DeviceOptions{})
	if err != nil || !d.IsCPU() || d.String() != "cpu" {
		t.Fatalf("cpu: %v, %v", d, err)
	}
	net := loadShared(t, "fr_landmark.onnx")
	m, err := d.Bind(net)
	if err != nil || m != Model(net) || m.Device() != "cpu" {
		t.Fatalf("Bind on the CPU engine: %v, %v", m, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenDeviceMissingIndex: an explicit device that is not there is an
// error listing those that are.
func TestOpenDeviceMissingIndex(t *testing.T) {
	openCLDevice(t) // skips without OpenCL
	_, err := OpenDevice(DeviceSpec{Kind: DeviceOpenCL, Platform: 99, Device: 0}, DeviceOptions{})
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "opencl:99.0") || !strings.Contains(err.Error(), "opencl:0.0") {
		t.Fatalf("opencl:99.0: %v", err)
	}
}

// TestDevicesListed logs the OpenCL devices (scripts/gpu-check prints
// them), and checks their properties are plausible.
func TestDevicesListed(t *testing.T) {
	devs, err := Devices()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	for _, d := range devs {
		t.Logf("device %s", d)
		if d.Name == "" || d.GlobalMemory <= 0 || d.ComputeUnits < 1 || !strings.HasPrefix(d.Spec, "opencl:") {
			t.Errorf("implausible device %+v", d)
		}
		if _, err := ParseDeviceSpec(d.Spec); err != nil {
			t.Errorf("%s: %v", d.Spec, err)
		}
	}
}

// TestAutoIgnoresIndices: "auto" takes the first GPU whatever indices its
// spec carries, so the zero DeviceSpec (auto, platform 0, device 0) never
// picks a CPU OpenCL device such as PoCL's.
func TestAutoIgnoresIndices(t *testing.T) {
	devs, _ := Devices()
	for _, d := range devs {
		if d.GPU {
			t.Skipf("SKIP: an OpenCL GPU is present (%s): auto takes it, whatever the spec's indices", d.Spec)
		}
	}
	d, err := OpenDevice(DeviceSpec{}, DeviceOptions{})
	if err != nil || !d.IsCPU() {
		t.Fatalf("the zero spec (auto) opened %v, %v; want the CPU engine (no GPU here)", d, err)
	}
	d.Close()
}
