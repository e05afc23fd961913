package engine

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/model"
)

// process runs the whole pipeline on a demo photo.
func process(t *testing.T, eng *Engine) face.Result {
	t.Helper()
	img, err := imageio.DecodeFS(assets.Demo(), "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
	if err != nil {
		t.Fatal(err)
	}
	r, err := eng.Process(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// TestLoadDeviceCPU: an explicit "cpu" and no device at all are the same
// CPU engine, the models run by *model.Net itself, and Close has nothing to
// release.
func TestLoadDeviceCPU(t *testing.T) {
	cpu := model.DeviceSpec{Kind: model.DeviceCPU, Platform: -1, Device: -1}
	for _, spec := range []*model.DeviceSpec{nil, &cpu} {
		var steps [][2]int
		eng, err := Load(Options{Device: spec, Progress: func(d, n int) { steps = append(steps, [2]int{d, n}) }})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := eng.Recogniser.(*model.Net); !ok {
			t.Errorf("device %v: recogniser is %T, want *model.Net", spec, eng.Recogniser)
		}
		if got := eng.DeviceSummary(); got != "device: cpu (CPU engine)" || !eng.Device().IsCPU() || eng.Fallback() != "" {
			t.Errorf("device %v: summary %q, fallback %q", spec, got, eng.Fallback())
		}
		if len(steps) == 0 || steps[len(steps)-1][0] != steps[len(steps)-1][1] {
			t.Errorf("device %v: progress %v does not end done", spec, steps)
		}
		for i := 1; i < len(steps); i++ {
			if steps[i][0] < steps[i-1][0] {
				t.Errorf("device %v: progress went back: %v", spec, steps)
			}
		}
		if err := errors.Join(eng.Close(), eng.Close()); err != nil {
			t.Errorf("device %v: Close: %v", spec, err)
		}
	}
}

// TestLoadDeviceMissing: an explicit OpenCL device that is not there is an
// error naming it, wrapping model.ErrNoDevice (whether or not OpenCL is
// installed), never a silent CPU engine.
func TestLoadDeviceMissing(t *testing.T) {
	spec := model.DeviceSpec{Kind: model.DeviceOpenCL, Platform: 99, Device: 0}
	eng, err := Load(Options{Device: &spec})
	if err == nil {
		eng.Close()
		t.Fatal("opencl:99.0 loaded")
	}
	if !errors.Is(err, model.ErrNoDevice) || !strings.Contains(err.Error(), "opencl:99.0") {
		t.Fatalf("opencl:99.0: %v", err)
	}
}

// TestLoadDeviceOpenCL: the whole pipeline on an OpenCL device (PoCL in
// CI) finds the same face as the CPU engine and the same embedding
// (cosine ≥ 0.99999), all three models bound to the device.
func TestLoadDeviceOpenCL(t *testing.T) {
	if _, err := model.Devices(); err != nil {
		opencltest.Unavailable(t, err)
	}
	cpuEng, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec := model.DeviceSpec{Kind: model.DeviceOpenCL, Platform: -1, Device: -1}
	devEng, err := Load(Options{Device: &spec})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := devEng.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if devEng.Device().IsCPU() || !strings.HasPrefix(devEng.DeviceSummary(), "device: opencl:") {
		t.Fatalf("summary %q", devEng.DeviceSummary())
	}
	for _, r := range []face.Runner{devEng.Detector.Net, devEng.Landmarker.Net, devEng.Embedder.Net} {
		if m, ok := r.(model.Model); !ok || !strings.HasPrefix(m.Device(), "opencl:") {
			t.Errorf("%T runs on the CPU", r)
		}
	}
	want, got := process(t, cpuEng), process(t, devEng)
	c := cosine(got.Embedding, want.Embedding)
	t.Logf("%s: cosine %.7f to the CPU's embedding, box %v (CPU %v)", devEng.DeviceSummary(), c, got.Box, want.Box)
	if c < 0.99999 {
		t.Errorf("cosine %.7f between the device's embedding and the CPU's", c)
	}
	if d := math.Abs(got.Box[0]-want.Box[0]) + math.Abs(got.Box[1]-want.Box[1]) + math.Abs(got.Box[2]-want.Box[2]); d > 0.01 {
		t.Errorf("box %v on the device, %v on the CPU", got.Box, want.Box)
	}
}
