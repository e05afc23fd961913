// The face stages on an OpenCL device (PoCL in CI) against the CPU engine
// on the golden photos: the device path must not move a box, a landmark or
// an embedding.

package face

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/internal/sharedtest"
	"github.com/maskinv/workbench/model"
)

// testDevice is this test binary's OpenCL device, opened once (building
// the engine's kernels takes seconds on PoCL).
var testDevice struct {
	once sync.Once
	dev  *model.Device
	err  error
}

// onDevice returns the CPU model name and the same model on the OpenCL
// test device, or skips (fails under MASKINV_REQUIRE_OPENCL=1).
func onDevice(t *testing.T, name string) (cpu, dev Runner) {
	t.Helper()
	testDevice.once.Do(func() {
		testDevice.dev, testDevice.err = model.OpenDevice(model.DeviceSpec{Kind: model.DeviceOpenCL, Platform: -1, Device: -1}, model.DeviceOptions{})
	})
	if testDevice.err != nil {
		opencltest.Unavailable(t, testDevice.err)
	}
	net, err := model.Load(filepath.Join(sharedtest.Dir(t), "models", "faceplugin", name))
	if err != nil {
		t.Fatal(err)
	}
	dn, err := testDevice.dev.NewDeviceNet(net)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dn.Close() })
	return net, dn
}

// TestDeviceDetectLandmarks: on each golden photo the detector's boxes and
// scores, and the 68 landmarks on the golden box (subpixel), agree between
// device and CPU within 0.01 px (and 1e-5 in score).
func TestDeviceDetectLandmarks(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	detCPU, detDev := onDevice(t, "fr_detect.onnx")
	lmkCPU, lmkDev := onDevice(t, "fr_landmark.onnx")
	ctx := context.Background()
	var worstBox, worstPt float64
	for _, it := range g.Items {
		src := mustDecode(t, filepath.Join(shared, it.Source))
		cfg := DetectorConfig{Fallback: true, ScoreThreshold: 0.05}
		want, err := (&Detector{Net: detCPU, Config: cfg}).Detect(ctx, src)
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		got, err := (&Detector{Net: detDev, Config: cfg}).Detect(ctx, src)
		if err != nil {
			t.Fatalf("%s on the device: %v", it.Key, err)
		}
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("%s: %d detections on the device, %d on the CPU", it.Key, len(got), len(want))
		}
		for i := range want {
			d := boxDiff(got[i].Box, want[i].Box)
			worstBox = math.Max(worstBox, d)
			if d > 0.01 || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5 {
				t.Errorf("%s detection %d: %v (%.6f) on the device, %v (%.6f) on the CPU", it.Key, i, got[i].Box, got[i].Score, want[i].Box, want[i].Score)
			}
		}
		box := Box{it.Box[0], it.Box[1], it.Box[2], it.Box[3]}
		pw, err := (&Landmarker{Net: lmkCPU, Subpixel: true}).Landmarks(ctx, src, box)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := (&Landmarker{Net: lmkDev, Subpixel: true}).Landmarks(ctx, src, box)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pw {
			d := math.Hypot(pg[i].X-pw[i].X, pg[i].Y-pw[i].Y)
			worstPt = math.Max(worstPt, d)
			if d > 0.01 {
				t.Errorf("%s landmark %d: %v on the device, %v on the CPU", it.Key, i, pg[i], pw[i])
			}
		}
	}
	t.Logf("%d photos: boxes within %.2g px, landmarks within %.2g px of the CPU engine's", len(g.Items), worstBox, worstPt)
}

func boxDiff(a, b Box) float64 {
	return math.Max(math.Max(math.Abs(a.X1-b.X1), math.Abs(a.Y1-b.Y1)), math.Max(math.Abs(a.X2-b.X2), math.Abs(a.Y2-b.Y2)))
}

// TestDeviceEmbeddings: the golden crops embedded on the device in one
// batch agree with the CPU engine (cosine ≥ 0.99999) and the reference.
func TestDeviceEmbeddings(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	cpu, dev := onDevice(t, "fr_feature.onnx")
	crops := make([]*image.NRGBA, len(g.Items))
	for i, it := range g.Items {
		crops[i] = mustDecode(t, filepath.Join(shared, "golden", it.Aligned))
	}
	want, err := (&Embedder{Net: cpu}).Embed(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Embedder{Net: dev}).Embed(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	worst := 1.0
	for i, it := range g.Items {
		c := Cosine(got[i], want[i])
		worst = math.Min(worst, c)
		if c < 0.99999 {
			t.Errorf("%s: cosine %.7f between device and CPU", it.Key, c)
		}
		if r := Cosine(got[i], it.Embedding); r < 0.9999 {
			t.Errorf("%s: cosine %.6f with the reference", it.Key, r)
		}
	}
	t.Logf("%d crops: worst cosine with the CPU engine %.8f", len(g.Items), worst)
}
