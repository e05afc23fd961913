package model

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// deviceNet binds a shared model to the test device.
func deviceNet(t *testing.T, d *Device, name string) (*Net, *DeviceNet) {
	t.Helper()
	net := loadShared(t, name)
	dn, err := d.NewDeviceNet(net)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dn.Close(); err != nil {
			t.Error(err)
		}
	})
	return net, dn
}

func runBoth(t *testing.T, cpu *Net, dev *DeviceNet, in Tensor) (want, got []Tensor) {
	t.Helper()
	want, err := cpu.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	got, err = dev.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d outputs on the device, %d on the CPU", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].Shape, want[i].Shape) {
			t.Fatalf("output %d: shape %v on the device, %v on the CPU", i, got[i].Shape, want[i].Shape)
		}
	}
	return want, got
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

// TestOpenCLRecogniserGolden: the golden crops through the recogniser on
// the device, as one batch and one by one, against the CPU engine (cosine
// ≥ 0.99999) and the reference runtime (≥ 0.9999).
func TestOpenCLRecogniserGolden(t *testing.T) {
	d := openCLDevice(t)
	dir, faces := loadGolden(t)
	cpu, dev := deviceNet(t, d, "fr_feature.onnx")
	batch := NewTensor(len(faces), 3, 112, 112)
	for i, f := range faces {
		copy(batch.Data[i*3*112*112:], crop112(t, filepath.Join(dir, f.Aligned)))
	}
	want, got := runBoth(t, cpu, dev, batch)
	worst, worstRef := 1.0, 1.0
	for i, f := range faces {
		g := got[0].Data[i*512 : (i+1)*512]
		c := cosine(g, toF64(want[0].Data[i*512:(i+1)*512]))
		worst = math.Min(worst, c)
		if c < 0.99999 {
			t.Errorf("%s: cosine %.7f between device and CPU, want ≥ 0.99999", f.Aligned, c)
		}
		worstRef = math.Min(worstRef, cosine(g, f.Embedding))
	}
	if worstRef < 0.9999 {
		t.Errorf("worst cosine with the reference runtime %.6f, want ≥ 0.9999", worstRef)
	}
	one := Tensor{Shape: []int{1, 3, 112, 112}, Data: batch.Data[:3*112*112]}
	want1, got1 := runBoth(t, cpu, dev, one)
	if c := cosine(got1[0].Data, toF64(want1[0].Data)); c < 0.99999 {
		t.Errorf("batch of 1: cosine %.7f between device and CPU", c)
	}
	t.Logf("%s: worst cosine with the CPU engine %.8f, with the reference %.7f", d, worst, worstRef)
}

// TestOpenCLDetectorLandmarker compares the raw outputs of the detector and
// the landmarker on the device and the CPU on random inputs and a real
// face, tightly enough for boxes and landmarks to agree within 0.01 px:
// both output coordinates in 0..1 of at most a few hundred pixels.
func TestOpenCLDetectorLandmarker(t *testing.T) {
	d := openCLDevice(t)
	dir, faces := loadGolden(t)
	for _, tc := range []struct {
		name string
		tol  float64 // largest difference of a raw output value
	}{{"fr_detect.onnx", 2e-5}, {"fr_landmark.onnx", 2e-5}} {
		cpu, dev := deviceNet(t, d, tc.name)
		in := netInput(cpu, 2, 3)
		if tc.name == "fr_landmark.onnx" {
			// a real face: the golden crop, grey, shrunk to 64×64
			rgb := crop112(t, filepath.Join(dir, faces[0].Aligned))
			for y := 0; y < 64; y++ {
				for x := 0; x < 64; x++ {
					sy, sx := y*112/64, x*112/64
					var v float32
					for c := 0; c < 3; c++ {
						v += rgb[(c*112+sy)*112+sx] / 3
					}
					in.Data[y*64+x] = (v*128 + 127) / 256
				}
			}
		}
		want, got := runBoth(t, cpu, dev, in)
		for i := range want {
			diff := maxAbsDiff(got[i].Data, want[i].Data)
			t.Logf("%s output %d %v: largest difference %.2g", tc.name, i, want[i].Shape, diff)
			if diff > tc.tol {
				t.Errorf("%s output %d: device and CPU differ by %.3g, want ≤ %g", tc.name, i, diff, tc.tol)
			}
		}
	}
}

// TestOpenCLBatchSplit: a batch larger than the device run's maximum is
// split and gives what the CPU gives; a memory limit too small for one
// image is a DeviceMemoryError, not a crash.
func TestOpenCLBatchSplit(t *testing.T) {
	shared := openCLDevice(t)
	small := sharingBackend(t, shared, shared.limit, 3)
	cpu, dev := deviceNet(t, small, "fr_landmark.onnx")
	if mb, err := dev.MaxBatch(); err != nil || mb != 3 {
		t.Fatalf("MaxBatch = %d, %v; want 3", mb, err)
	}
	in := netInput(cpu, 7, 4)
	want, got := runBoth(t, cpu, dev, in)
	if diff := maxAbsDiff(got[0].Data, want[0].Data); diff > 2e-5 {
		t.Errorf("split batch: device and CPU differ by %.3g", diff)
	}
	// A memory limit that leaves room for two images' activations beside
	// the weights: batches run two at a time.
	rec := loadShared(t, "fr_feature.onnx")
	p1, err := rec.devicePlan(1)
	if err != nil {
		t.Fatal(err)
	}
	var weights int64
	for _, v := range p1.values {
		weights += 4 * int64(len(v.konst))
	}
	limited := sharingBackend(t, shared, weights+p1.bytes()*5/2, 64)
	recDev, err := limited.NewDeviceNet(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer recDev.Close()
	if mb, err := recDev.MaxBatch(); err != nil || mb != 2 {
		t.Errorf("MaxBatch with room for 2.5 images = %d, %v; want 2", mb, err)
	}
	want, got = runBoth(t, rec, recDev, netInput(rec, 5, 6))
	if c := cosine(got[0].Data, toF64(want[0].Data)); c < 0.99999 {
		t.Errorf("recogniser in chunks of 2: cosine %.7f with the CPU", c)
	}
	// No room for one image: a clear error.
	tiny := sharingBackend(t, shared, weights+p1.bytes()/2, 64)
	tinyDev, err := tiny.NewDeviceNet(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer tinyDev.Close()
	_, err = tinyDev.Run(context.Background(), netInput(rec, 1, 5))
	var me *DeviceMemoryError
	if !errors.As(err, &me) || !errors.Is(err, ErrDeviceMemory) || me.Fits != 0 {
		t.Fatalf("recogniser without room for one image: got %v, want a DeviceMemoryError", err)
	}
	t.Logf("as expected: %v", err)
}

// sharingBackend is a Device on the shared test device's backend (its
// program is built once) with its own memory limit and largest batch.
func sharingBackend(t *testing.T, shared *Device, limit int64, maxBatch int) *Device {
	d := &Device{spec: shared.spec, info: shared.info, be: shared.be, limit: limit, maxBatch: maxBatch}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.trim()
	})
	return d
}
