package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/progress"
)

// useDevice picks the option of spec in the panel, taps the button and
// waits for the job that loads the models there; it returns the job's
// name.
func useDevice(t *testing.T, wb *Workbench, ui func(func()), p *devicePanel, spec string) string {
	t.Helper()
	done := make(chan struct{})
	var name string
	var jobErr error
	ui(func() {
		i := slices.Index(p.specs, spec)
		if i < 0 {
			t.Fatalf("no option for %s in %v", spec, p.specs)
		}
		p.choice.SetSelectedIndex(i)
		if p.use.Disabled() {
			t.Fatalf("the button is disabled with %s chosen", spec)
		}
		wb.jobDone = func(n string, err error) { name, jobErr = n, err; wb.jobDone = nil; close(done) }
		test.Tap(p.use)
	})
	wait(t, done, "loading the models on "+spec)
	if jobErr != nil {
		t.Fatalf("%s: %v", name, jobErr)
	}
	return name
}

// embedDemo runs the whole pipeline of eng on a demo photo.
func embedDemo(eng *engine.Engine) error {
	img, err := imageio.DecodeFS(assets.Demo(), "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
	if err != nil {
		return err
	}
	_, err = eng.Process(context.Background(), img)
	return err
}

// TestDeviceScreen: the About screen's device panel shows where the models
// run and, without an OpenCL GPU, that auto fell back to the CPU engine;
// it offers auto, the CPU and every OpenCL device (or says why there is
// none), and loads the models on the chosen one in a job, after which jobs
// run there. An engine replaced while a job still runs on it is closed
// only when that job ends.
func TestDeviceScreen(t *testing.T) {
	t.Setenv(model.DeviceEnv, "")
	w, wb := newMainWindow(test.NewTempApp(t))
	defer w.Close()
	ui := serialize(wb)
	var p *devicePanel
	ui(func() { p = newDevicePanel(wb) })
	ui(func() {
		if !strings.HasPrefix(p.inUse.Text, "Not loaded yet; the models load on auto") || p.choice.SelectedIndex() != 0 || !slices.Equal(p.specs, []string{"auto", "cpu"}) || !p.use.Disabled() {
			t.Errorf("before the first load: %q, option %d of %v", p.inUse.Text, p.choice.SelectedIndex(), p.specs)
		}
	})

	// The first job to need the engine loads it on auto.
	done, jobErr := jobWaiter(wb)
	ui(func() {
		wb.runJob("Loading", func(context.Context, progress.Func) (func(), error) {
			_, err := wb.engine()
			return nil, err
		})
	})
	wait(t, done, "the first load")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	infos, listErr := model.Devices()
	want := []string{"auto", "cpu"}
	gpu := -1
	for i, d := range infos {
		want = append(want, d.Spec)
		if d.GPU && gpu < 0 {
			gpu = i
		}
	}
	ui(func() {
		if !slices.Equal(p.specs, want) || len(p.choice.Options) != len(want) || p.choice.SelectedIndex() != 0 {
			t.Errorf("options %v (%q, option %d), want %v", p.specs, p.choice.Options, p.choice.SelectedIndex(), want)
		}
		if gpu < 0 {
			if p.inUse.Text != "In use: cpu (CPU engine)" || p.fallback.Hidden || !strings.Contains(p.fallback.Text, "auto fell back to the CPU engine") {
				t.Errorf("auto without a GPU: %q, fallback %q (hidden %v)", p.inUse.Text, p.fallback.Text, p.fallback.Hidden)
			}
		} else if p.inUse.Text != "In use: "+infos[gpu].String() || !p.fallback.Hidden {
			t.Errorf("auto with GPU %s: %q, fallback %q", infos[gpu].Spec, p.inUse.Text, p.fallback.Text)
		}
		if (listErr != nil) == p.opencl.Hidden || (listErr != nil && !strings.Contains(p.opencl.Text, listErr.Error())) {
			t.Errorf("OpenCL note %q (hidden %v) for listing error %v", p.opencl.Text, p.opencl.Hidden, listErr)
		}
	})

	if name := useDevice(t, wb, ui, p, "cpu"); name != "Loading the models on cpu" {
		t.Errorf("job %q", name)
	}
	ui(func() {
		if p.inUse.Text != "In use: cpu (CPU engine)" || !p.fallback.Hidden || p.choice.Selected != "cpu: the CPU engine" || wb.status.Text != "Models loaded on cpu." {
			t.Errorf("on the CPU: %q, fallback %q, chosen %q, status %q", p.inUse.Text, p.fallback.Text, p.choice.Selected, wb.status.Text)
		}
	})
	if eng, err := wb.engine(); err != nil || !eng.Device().IsCPU() {
		t.Fatalf("jobs get an engine not on the CPU (%v)", err)
	}

	if listErr != nil {
		opencltest.Unavailable(t, listErr)
	}
	dev := infos[0]
	useDevice(t, wb, ui, p, dev.Spec)
	ui(func() {
		if p.inUse.Text != "In use: "+dev.String() || !p.fallback.Hidden || p.choice.Selected != dev.String() || !strings.HasPrefix(wb.status.Text, "Models loaded on "+dev.Spec) {
			t.Errorf("on %s: %q, fallback %q, chosen %q, status %q", dev.Spec, p.inUse.Text, p.fallback.Text, p.choice.Selected, wb.status.Text)
		}
	})
	clEng, err := wb.engine()
	if err != nil || clEng.Device().Info().Spec != dev.Spec {
		t.Fatalf("jobs get an engine not on %s (%v)", dev.Spec, err)
	}

	// A job still running on the OpenCL engine keeps it while the models
	// move back to the CPU, and it is closed once that job ends. (The CPU
	// engine replaced above is closed first: until then a new job waits,
	// as it would for the cancelled job still running on it.)
	wb.engines.retiring.Wait()
	release := wb.engines.hold()
	useDevice(t, wb, ui, p, "cpu")
	if err := embedDemo(clEng); err != nil {
		t.Errorf("the replaced engine failed under a running job: %v", err)
	}
	release()
	wb.engines.retiring.Wait()
	if err := embedDemo(clEng); !errors.Is(err, model.ErrNoDevice) {
		t.Errorf("the replaced engine still runs after its jobs ended: %v", err)
	}
	if eng, err := wb.engine(); err != nil || !eng.Device().IsCPU() || embedDemo(eng) != nil {
		t.Errorf("jobs get an engine not on the CPU, or one that fails (%v)", err)
	}
}

// TestDeviceFromEnvironment: MASKINV_DEVICE chooses the workbench's device
// as it does the commands'; a value that does not parse is shown in the
// panel, and auto is used.
func TestDeviceFromEnvironment(t *testing.T) {
	tests := []struct{ env, spec, note string }{
		{"", "auto", ""},
		{"cpu", "cpu", ""},
		{"opencl:1.0", "opencl:1.0", ""},
		{"cuda", "auto", `MASKINV_DEVICE: bad device "cuda"`},
	}
	for _, tc := range tests {
		s := newEngineSlot(func(k string) string {
			if k != model.DeviceEnv {
				t.Errorf("read %s", k)
			}
			return tc.env
		})
		spec, specErr, _, _, _, _ := s.state()
		if spec.String() != tc.spec || (specErr == nil) != (tc.note == "") || (specErr != nil && !strings.HasPrefix(specErr.Error(), tc.note)) {
			t.Errorf("%s=%q: spec %s, note %v", model.DeviceEnv, tc.env, spec, specErr)
		}
	}
	t.Setenv(model.DeviceEnv, "cuda")
	w, wb := newMainWindow(test.NewTempApp(t))
	defer w.Close()
	p := newDevicePanel(wb)
	if p.fallback.Hidden || !strings.Contains(p.fallback.Text, `bad device "cuda"`) || !strings.Contains(p.inUse.Text, "load on auto") {
		t.Errorf("panel with %s=cuda: %q, %q", model.DeviceEnv, p.inUse.Text, p.fallback.Text)
	}
}
