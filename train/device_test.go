package train

import (
	"context"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/model"
)

// testDevice is the OpenCL device of this test binary, opened once (PoCL
// builds the engine's kernels in seconds): MASKINV_TEST_OPENCL (a device
// spec) or the first OpenCL device. Without one the test skips, or fails
// under MASKINV_REQUIRE_OPENCL=1.
var testDevice struct {
	once sync.Once
	dev  *model.Device
	err  error
}

func openCLDevice(t testing.TB) *model.Device {
	t.Helper()
	testDevice.once.Do(func() {
		spec := model.DeviceSpec{Kind: model.DeviceOpenCL, Platform: -1, Device: -1}
		if s := os.Getenv("MASKINV_TEST_OPENCL"); s != "" {
			if spec, testDevice.err = model.ParseDeviceSpec(s); testDevice.err != nil {
				return
			}
		}
		testDevice.dev, testDevice.err = model.OpenDevice(spec, model.DeviceOptions{})
	})
	if testDevice.err != nil {
		opencltest.Unavailable(t, testDevice.err)
	}
	return testDevice.dev
}

// deviceTrainer is newTestTrainerWith on dev: the student trains there and
// the teacher runs there, as train.Run does.
func deviceTrainer(t *testing.T, root, out string, dev *model.Device, edit func(*Config)) *Trainer {
	t.Helper()
	return newTestTrainerWith(t, root, out, func(c *Config) {
		c.Device = dev
		edit(c)
	})
}

// TestTrainOnDeviceMatchesCPU is the check: 20 steps of the real
// recogniser (the trainer's margin loss and distillation, the teacher on
// the device, SGD with momentum, weight decay and clipping) on the OpenCL
// device and on the CPU engine from the same seed give losses equal to
// 1e-3 relative. Batch 2, as PoCL trains a few images a second, and a
// learning rate of 1e-4: at batch 2 a PReLU input that crosses zero
// between two float32 computations changes a gradient by a finite step,
// and at the default 0.003 that alone moves the losses of two CPU runs
// whose clip factors differ by 1e-8 apart by 1.4e-3 within 20 steps
// (docs/training.md); at 1e-4 such CPU runs agree to 1e-4, and the loss
// still falls from 26 to 11.
func TestTrainOnDeviceMatchesCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser for 20 steps on the CPU and on the device")
	}
	dev := openCLDevice(t)
	root := synthFolder(t, 3, 2)
	cfg := func(c *Config) { c.Epochs, c.MaxSteps, c.CheckpointEvery, c.LR = 7, 20, 1000, 1e-4 }
	run := func(tr *Trainer) []Stats {
		var stats []Stats
		start := time.Now()
		if err := tr.Run(context.Background(), func(s Stats) { stats = append(stats, s) }); err != nil {
			t.Fatal(err)
		}
		t.Logf("%T: %d steps in %v", tr.Student(), len(stats), time.Since(start))
		return stats
	}
	want := run(newTestTrainerWith(t, root, t.TempDir(), cfg))
	d := deviceTrainer(t, root, t.TempDir(), dev, cfg)
	defer d.Close()
	got := run(d)
	if len(got) != 20 || len(want) != 20 {
		t.Fatalf("%d and %d steps, want 20", len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		e := math.Abs(got[i].Loss-want[i].Loss) / want[i].Loss
		if e > 1e-3 || math.IsNaN(e) {
			t.Errorf("step %d: loss %.6f on the device, %.6f on the CPU (relative %.2g > 1e-3)", i+1, got[i].Loss, want[i].Loss, e)
		}
		worst = max(worst, e)
	}
	if want[19].Loss > 0.8*want[0].Loss {
		t.Errorf("loss %.4f → %.4f: the run did not learn, the comparison proves little", want[0].Loss, want[19].Loss)
	}
	t.Logf("loss %.4f → %.4f on the CPU, %.4f → %.4f on the device; largest relative difference %.2g",
		want[0].Loss, want[19].Loss, got[0].Loss, got[19].Loss, worst)
}

// TestDeviceResumeMatchesUninterrupted: on the device, a run resumed from
// its checkpoint (weights and momentum come down, go back up) ends with
// exactly the weights of the uninterrupted run; the checkpoint also
// resumes on the CPU engine; the exported student decodes and computes
// what the device computes.
func TestDeviceResumeMatchesUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser for a few steps on the device")
	}
	dev := openCLDevice(t)
	root := synthFolder(t, 3, 2)
	ctx := context.Background()
	cfg := func(c *Config) { c.MaxSteps = 2 }
	outA, outB := t.TempDir(), t.TempDir()
	a := deviceTrainer(t, root, outA, dev, cfg)
	defer a.Close()
	if err := a.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	b := deviceTrainer(t, root, outB, dev, cfg)
	defer b.Close()
	if err := b.RunUntil(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	c := deviceTrainer(t, root, outB, dev, cfg)
	defer c.Close()
	if ok, err := c.Resume(); err != nil || !ok || c.Step() != 1 {
		t.Fatalf("resume: ok=%v step=%d err=%v", ok, c.Step(), err)
	}
	if err := c.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []*Trainer{a, c} {
		if err := tr.Student().Pull(); err != nil {
			t.Fatal(err)
		}
	}
	sameStudent(t, "resumed on the device", c, a)
	if !velocityMoved(a) {
		t.Error("the student's momentum is zero after 2 steps: the resume did not test it")
	}

	onCPU := newTestTrainerWith(t, root, outB, cfg)
	if ok, err := onCPU.Resume(); err != nil || !ok {
		t.Fatalf("the device's checkpoint on the CPU engine: ok=%v err=%v", ok, err)
	}
	sameStudent(t, "device checkpoint loaded on the CPU", onCPU, c)

	exportMatches(t, a, outA, "device")
}

func velocityMoved(tr *Trainer) bool {
	for _, p := range tr.Student().Params() {
		for _, v := range p.Velocity {
			if v != 0 {
				return true
			}
		}
	}
	return false
}
