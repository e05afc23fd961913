package opencl

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/maskinv/workbench/internal/opencltest"
)

// testDevices loads the loader and lists every device, or skips (fails
// under MASKINV_REQUIRE_OPENCL=1) when there is none.
func testDevices(t *testing.T) (*Lib, []*Device) {
	t.Helper()
	lib, err := Load()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	devs, err := lib.Devices()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	return lib, devs
}

// firstDevice opens the first device of the first platform that has one.
func firstDevice(t *testing.T) *Context {
	t.Helper()
	_, devs := testDevices(t)
	ctx, err := devs[0].NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ctx.Release(); err != nil {
			t.Error(err)
		}
	})
	return ctx
}

// testKernel builds testSource on ctx and returns its kernel name; both
// are released when the test ends.
func testKernel(t *testing.T, ctx *Context, name string) *Kernel {
	t.Helper()
	prog, err := ctx.Build(testSource, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Release() })
	k, err := prog.Kernel(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Release() })
	return k
}

// testBuffer allocates size bytes on ctx, released when the test ends.
func testBuffer(t *testing.T, ctx *Context, size int64) *Buffer {
	t.Helper()
	b, err := ctx.NewBuffer(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Release() })
	return b
}

func TestLoadMissingLibrary(t *testing.T) {
	_, err := Load("libOpenCL-does-not-exist.so.9")
	if !errors.Is(err, ErrNoLoader) {
		t.Fatalf("got %v, want ErrNoLoader", err)
	}
	if !strings.Contains(err.Error(), "libOpenCL-does-not-exist.so.9") {
		t.Errorf("error %q does not name the library", err)
	}
}

func TestErrorNames(t *testing.T) {
	tests := []struct {
		code       int32
		name       string
		outOfMem   bool
		noPlatform bool
	}{
		{-5, "CL_OUT_OF_RESOURCES", true, false},
		{-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE", true, false},
		{-11, "CL_BUILD_PROGRAM_FAILURE", false, false},
		{-54, "CL_INVALID_WORK_GROUP_SIZE", false, false},
		{-72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED", false, false},
		{-1001, "CL_PLATFORM_NOT_FOUND_KHR", false, true},
	}
	for _, tc := range tests {
		e := &Error{Func: "clX", Code: tc.code}
		if !strings.Contains(e.Error(), tc.name) {
			t.Errorf("code %d: %q lacks %s", tc.code, e.Error(), tc.name)
		}
		if errors.Is(e, ErrOutOfMemory) != tc.outOfMem || errors.Is(e, ErrNoPlatform) != tc.noPlatform {
			t.Errorf("code %d: Is(out of memory) = %v, Is(no platform) = %v", tc.code, errors.Is(e, ErrOutOfMemory), errors.Is(e, ErrNoPlatform))
		}
	}
	for code := int32(-1); code >= -72; code-- {
		if code == -20 || code == -21 || code == -22 || code == -23 || code == -24 || code == -25 || code == -26 || code == -27 || code == -28 || code == -29 {
			continue // unassigned in the specification
		}
		if CodeName(code) == "" {
			t.Errorf("code %d has no name", code)
		}
	}
	if e := (&Error{Func: "clX", Code: -12345}); !strings.Contains(e.Error(), "unknown") {
		t.Errorf("unknown code: %q", e.Error())
	}
}

const testSource = `
__kernel void axpy(__global const float *x, __global float *y, float a, int n) {
	int i = get_global_id(0);
	if (i < n) y[i] += a * x[i];
}
__kernel void shape(__global int *out, int8 v) {
	out[get_global_id(0)] = ((int *)&v)[get_global_id(0)];
}
`

func TestDevicesListed(t *testing.T) {
	ctx := firstDevice(t)
	d := ctx.Device
	if d.Name == "" || d.GlobalMemory <= 0 || d.MaxAlloc <= 0 || d.ComputeUnits < 1 || d.MaxWorkGroup < 1 {
		t.Errorf("implausible device properties: %+v", d)
	}
	t.Logf("device: %s", d)
}

// TestLibDevices: Lib.Devices is every platform's Devices, in order.
func TestLibDevices(t *testing.T) {
	lib, got := testDevices(t)
	plats, err := lib.Platforms()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range plats {
		devs, err := p.Devices()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			want = append(want, fmt.Sprintf("%d.%d %s", p.Index, d.Index, d.Name))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d devices, want %d: %v", len(got), len(want), want)
	}
	for i, d := range got {
		if s := fmt.Sprintf("%d.%d %s", d.Platform.Index, d.Index, d.Name); s != want[i] {
			t.Errorf("device %d: %s, want %s", i, s, want[i])
		}
	}
}

func TestKernelRoundTrip(t *testing.T) {
	ctx := firstDevice(t)
	k := testKernel(t, ctx, "axpy")
	const n = 1000
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i), float32(2*i)
	}
	bx, by := testBuffer(t, ctx, 4*n), testBuffer(t, ctx, 4*n)
	if err := bx.Write(0, x); err != nil {
		t.Fatal(err)
	}
	if err := by.Write(0, y); err != nil {
		t.Fatal(err)
	}
	if err := k.SetArgs(bx, by, float32(0.5), int32(n)); err != nil {
		t.Fatal(err)
	}
	if err := k.Launch([]int{1024}, []int{64}); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	if err := by.Read(0, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if want := 2.5 * float32(i); got[i] != want {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], want)
		}
	}
	// Fill and copy.
	if err := bx.Fill(4*10, 5, 7); err != nil {
		t.Fatal(err)
	}
	if err := bx.CopyTo(by, 4*10, 0, 4*5); err != nil {
		t.Fatal(err)
	}
	if err := by.Read(0, got[:6]); err != nil {
		t.Fatal(err)
	}
	if got[0] != 7 || got[4] != 7 || got[5] != 12.5 {
		t.Errorf("after fill and copy: %v", got[:6])
	}
	if err := by.Read(4*n-4, got[:2]); err == nil {
		t.Error("read past the end of a buffer succeeded")
	}
}

func TestInt8Argument(t *testing.T) {
	ctx := firstDevice(t)
	k := testKernel(t, ctx, "shape")
	out := testBuffer(t, ctx, 32)
	want := Int8{3, -1, 4, 1, -5, 9, 2, 6}
	if err := k.SetArgs(out, want); err != nil {
		t.Fatal(err)
	}
	if err := k.Launch([]int{8}, nil); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 8)
	if err := out.Read(0, got); err != nil {
		t.Fatal(err)
	}
	for i, g := range got {
		if v := int32(mathFloat32bits(g)); v != want[i] {
			t.Fatalf("element %d: %d, want %d", i, v, want[i])
		}
	}
}

func TestBuildErrorHasLog(t *testing.T) {
	ctx := firstDevice(t)
	_, err := ctx.Build("__kernel void broken(__global float *x) { x[0] = undefined_name; }", "")
	var e *Error
	if !errors.As(err, &e) || e.Code != -11 {
		t.Fatalf("got %v, want CL_BUILD_PROGRAM_FAILURE", err)
	}
	if !strings.Contains(err.Error(), "undefined_name") {
		t.Errorf("build error lacks the compiler's log: %v", err)
	}
}

func TestBadLaunch(t *testing.T) {
	ctx := firstDevice(t)
	k := testKernel(t, ctx, "axpy")
	if err := k.Launch([]int{100}, []int{64}); err == nil {
		t.Error("global size not a multiple of the local size was accepted")
	}
	if _, err := k.prog.Kernel("no_such_kernel"); err == nil || !strings.Contains(err.Error(), "CL_INVALID_KERNEL_NAME") {
		t.Errorf("unknown kernel: %v", err)
	}
	if _, err := ctx.NewBuffer(ctx.Device.MaxAlloc + 4); err == nil || !strings.Contains(err.Error(), "largest allocation") {
		t.Errorf("a buffer above the device's maximum allocation: %v", err)
	}
}

func mathFloat32bits(f float32) uint32 { return math.Float32bits(f) }
