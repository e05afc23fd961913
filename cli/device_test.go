package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/internal/childtest"
	"github.com/maskinv/workbench/internal/opencl"
	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/train"
)

// TestDeviceFlagSpec: --device wins over MASKINV_DEVICE, which wins over
// the default, auto; a bad value is a usage error naming where it came
// from.
func TestDeviceFlagSpec(t *testing.T) {
	tests := []struct {
		flag, env string
		want      string // the spec, or the start of the usage error
	}{
		{"", "", "auto"},
		{"cpu", "", "cpu"},
		{"", "cpu", "cpu"},
		{"opencl", "cpu", "opencl"},
		{"opencl:1.2", "", "opencl:1.2"},
		{"", "OpenCL:0.1", "opencl:0.1"},
		{" CPU ", "opencl", "cpu"},
		{"auto", "cpu", "auto"},
		{"cpu", "bogus", "cpu"}, // the flag wins: the variable is not even read
		{"gpu", "", `--device: bad device "gpu"`},
		{"opencl:0", "cpu", `--device: bad device "opencl:0"`},
		{"", "cuda", `MASKINV_DEVICE: bad device "cuda"`},
		{"", "opencl:a.b", `MASKINV_DEVICE: bad device "opencl:a.b"`},
	}
	for _, tc := range tests {
		t.Run(tc.flag+"|"+tc.env, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			d := addDeviceFlag(fs)
			d.getenv = func(k string) string {
				if k != model.DeviceEnv {
					t.Errorf("read %s", k)
				}
				return tc.env
			}
			if err := fs.Parse([]string{"--device", tc.flag}); err != nil {
				t.Fatal(err)
			}
			spec, err := d.spec()
			switch {
			case err != nil && !errors.Is(err, ErrUsage):
				t.Fatalf("%v is not a usage error", err)
			case err != nil && !strings.HasPrefix(strings.TrimPrefix(err.Error(), "usage: "), tc.want):
				t.Fatalf("error %q, want %q…", err, tc.want)
			case err == nil && spec.String() != tc.want:
				t.Fatalf("spec %s, want %s", spec, tc.want)
			}
		})
	}
}

// TestDeviceFlagOnCommands: embed, verify, compare, eval, find and train all take
// --device and MASKINV_DEVICE, and refuse a bad one before any work with
// exit status 2, naming where it came from.
func TestDeviceFlagOnCommands(t *testing.T) {
	dir := t.TempDir()
	copyDemo(t, dir, "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
	photo := filepath.Join(dir, "Aaron_Peirsol_0001.jpg")
	commands := [][]string{
		{"embed", photo},
		{"verify", photo, photo},
		{"compare", "--demo", "--out", filepath.Join(dir, "c.png")},
		{"eval", "--dataset", "lfw=" + dir},
		{"train", "--data", dir, "--out", filepath.Join(dir, "t")},
		{"find", "--gallery", dir, photo},
	}
	for _, args := range commands {
		t.Run(args[0], func(t *testing.T) {
			if _, stderr, code := runCLI(t, append([]string{args[0], "--device", "tpu"}, args[1:]...)...); code != 2 || !strings.Contains(stderr, `--device: bad device "tpu"`) {
				t.Errorf("--device tpu: exit %d, stderr %q", code, stderr)
			}
			t.Setenv(model.DeviceEnv, "tpu")
			if _, stderr, code := runCLI(t, args...); code != 2 || !strings.Contains(stderr, model.DeviceEnv+`: bad device "tpu"`) {
				t.Errorf("%s=tpu: exit %d, stderr %q", model.DeviceEnv, code, stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "c.png")); err == nil {
				t.Error("compare wrote its PNG despite the bad device")
			}
		})
	}
}

// TestVerifyDeviceFlagWins: --device cpu runs on the CPU engine whatever
// MASKINV_DEVICE says, and stderr names the device in one line.
func TestVerifyDeviceFlagWins(t *testing.T) {
	dir := t.TempDir()
	copyDemo(t, dir, "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0002.jpg")
	t.Setenv(model.DeviceEnv, "opencl:99.0")
	stdout, stderr, code := runCLI(t, "verify", "--device", "cpu", filepath.Join(dir, "Aaron_Peirsol_0001.jpg"), filepath.Join(dir, "Aaron_Peirsol_0002.jpg"))
	if code != 0 || !strings.Contains(stdout, "same person") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if stderr != "device: cpu (CPU engine)\n" {
		t.Errorf("stderr %q, want the device line", stderr)
	}
	// Without the flag the variable chooses, and opencl:99.0 is not there.
	_, stderr, code = runCLI(t, "verify", filepath.Join(dir, "Aaron_Peirsol_0001.jpg"), filepath.Join(dir, "Aaron_Peirsol_0002.jpg"))
	if code != 1 || !strings.Contains(stderr, "opencl:99.0") {
		t.Errorf("%s=opencl:99.0: exit %d, stderr %q", model.DeviceEnv, code, stderr)
	}
}

// TestEvalPassesDevice: eval hands the device it was given to the engine
// loader.
func TestEvalPassesDevice(t *testing.T) {
	stop := errors.New("loaded")
	tests := []struct{ flag, env, want string }{
		{"", "", "auto"},
		{"cpu", "opencl", "cpu"},
		{"", "opencl:0.1", "opencl:0.1"},
	}
	for _, tc := range tests {
		t.Setenv(model.DeviceEnv, tc.env)
		var got *model.DeviceSpec
		load := func(opt engine.Options, _ bool, _ int) (app.EvalEngine, string, string, string, error) {
			got = opt.Device
			return nil, "", "", "", stop
		}
		args := []string{"--dataset", "lfw=" + lfwFixture(t, missingPairs, allMissingKeys, personPhoto), "--no-cache"}
		if tc.flag != "" {
			args = append(args, "--device", tc.flag)
		}
		err := evalCommand(load).Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
		if !errors.Is(err, stop) || got == nil || got.String() != tc.want {
			t.Errorf("--device %q, %s=%q: device %v (%v), want %s", tc.flag, model.DeviceEnv, tc.env, got, err, tc.want)
		}
	}
}

// TestTrainPassesDevice: train hands the device it was given (the flag,
// else MASKINV_DEVICE, else auto) to the run, for the engine and the
// student.
func TestTrainPassesDevice(t *testing.T) {
	stop := errors.New("ran")
	tests := []struct{ flag, env, want string }{
		{"", "", "auto"},
		{"cpu", "opencl", "cpu"},
		{"opencl", "", "opencl"},
		{"", "opencl:0.1", "opencl:0.1"},
	}
	for _, tc := range tests {
		t.Setenv(model.DeviceEnv, tc.env)
		var got *model.DeviceSpec
		run := func(_ context.Context, opt train.Options) (train.Result, error) {
			got = opt.Device
			return train.Result{}, stop
		}
		args := []string{"--data", t.TempDir(), "--out", t.TempDir()}
		if tc.flag != "" {
			args = append(args, "--device", tc.flag)
		}
		err := trainCommand(run).Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
		if !errors.Is(err, stop) || got == nil || got.String() != tc.want {
			t.Errorf("--device %q, %s=%q: device %v (%v), want %s", tc.flag, model.DeviceEnv, tc.env, got, err, tc.want)
		}
	}
}

// TestTrainOnOpenCL: `train --device opencl` (PoCL in CI) runs a step with
// the engine and the student on the OpenCL device, says so on stderr, and
// exports a student that loads.
func TestTrainOnOpenCL(t *testing.T) {
	if testing.Short() {
		t.Skip("aligns photos and trains a step on the OpenCL device")
	}
	if _, err := model.Devices(); err != nil {
		opencltest.Unavailable(t, err)
	}
	data, out := t.TempDir(), t.TempDir()
	for _, p := range []string{"Colin_Powell/Colin_Powell_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"} {
		dir := filepath.Join(data, filepath.Dir(p))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		copyDemo(t, dir, p)
	}
	stdout, stderr, code := runCLI(t, "train", "--device", "opencl", "--data", data, "--out", out, "--crops", t.TempDir(),
		"--batch", "2", "--max-steps", "1", "--photo-masks", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "device: opencl:") || !regexp.MustCompile(`training: 1 steps .* on opencl:`).MatchString(stderr) {
		t.Errorf("stderr does not name the OpenCL device for the engine and the student:\n%s", stderr)
	}
	if _, err := model.Load(filepath.Join(out, train.StudentFile)); err != nil {
		t.Errorf("the exported student: %v", err)
	}
}

// embedJSON runs `embed --json` on one photo and returns its embedding and
// the command's stderr.
func embedJSON(t *testing.T, photo string, args ...string) ([]float32, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append(append([]string{"embed", "--json"}, args...), photo)...)
	if code != 0 {
		t.Fatalf("embed %v: exit %d: %s", args, code, stderr)
	}
	var rec struct {
		Embedding []float32 `json:"embedding"`
	}
	if err := json.Unmarshal([]byte(stdout), &rec); err != nil || len(rec.Embedding) != 512 {
		t.Fatalf("embed %v: %v: %q", args, err, stdout)
	}
	return rec.Embedding, stderr
}

// TestEmbedOnOpenCL: `embed --device opencl` (PoCL in CI) gives the
// embedding `--device cpu` gives, within cosine 0.99999, and says on
// stderr that it ran on the OpenCL device.
func TestEmbedOnOpenCL(t *testing.T) {
	if _, err := model.Devices(); err != nil {
		opencltest.Unavailable(t, err)
	}
	dir := t.TempDir()
	copyDemo(t, dir, "Colin_Powell/Colin_Powell_0001.jpg")
	photo := filepath.Join(dir, "Colin_Powell_0001.jpg")
	cpu, cpuErr := embedJSON(t, photo, "--device", "cpu")
	dev, devErr := embedJSON(t, photo, "--device", "opencl")
	if !strings.HasPrefix(cpuErr, "device: cpu (CPU engine)\n") {
		t.Errorf("cpu stderr %q", cpuErr)
	}
	if !strings.HasPrefix(devErr, "device: opencl:") || strings.Count(devErr, "device:") != 1 {
		t.Errorf("opencl stderr %q", devErr)
	}
	var ab, aa, bb float64
	for i := range cpu {
		ab += float64(cpu[i]) * float64(dev[i])
		aa += float64(cpu[i]) * float64(cpu[i])
		bb += float64(dev[i]) * float64(dev[i])
	}
	c := ab / math.Sqrt(aa*bb)
	t.Logf("%s: cosine %.7f to the CPU engine's embedding", strings.SplitN(devErr, "\n", 2)[0], c)
	if c < 0.99999 {
		t.Errorf("cosine %.7f between the OpenCL and CPU embeddings, want ≥ 0.99999", c)
	}
}

// devicesOutput runs `maskinv devices` and `devices --json`.
func devicesOutput(t *testing.T) (text string, list deviceList) {
	t.Helper()
	text, stderr, code := runCLI(t, "devices")
	if code != 0 {
		t.Fatalf("devices: exit %d: %s", code, stderr)
	}
	js, stderr, code := runCLI(t, "devices", "--json")
	if code != 0 {
		t.Fatalf("devices --json: exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(js), &list); err != nil {
		t.Fatalf("devices --json: %v: %q", err, js)
	}
	return text, list
}

// TestDevicesCommand lists the CPU engine and every OpenCL device with the
// spec that chooses it, in text and JSON.
func TestDevicesCommand(t *testing.T) {
	infos, err := model.Devices()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	text, list := devicesOutput(t)
	if len(list.Devices) != 1+len(infos) || list.Devices[0].Spec != "cpu" || list.OpenCLMissing != "" || list.OpenCLError != "" {
		t.Fatalf("devices --json: %+v", list)
	}
	auto := "cpu"
	for i, d := range infos {
		got := list.Devices[1+i]
		if got.Spec != d.Spec || got.Name != d.Name || got.ComputeUnits != d.ComputeUnits || got.MemoryBytes != d.GlobalMemory || got.GPU != d.GPU {
			t.Errorf("device %d: %+v, want %+v", i, got, d)
		}
		if _, err := model.ParseDeviceSpec(got.Spec); err != nil {
			t.Errorf("device %d: spec %q does not parse: %v", i, got.Spec, err)
		}
		line := fmt.Sprintf("%d MiB", d.GlobalMemory>>20)
		if !strings.Contains(text, d.Spec) || !strings.Contains(text, d.Name) || !strings.Contains(text, line) {
			t.Errorf("text lacks %s (%s, %s):\n%s", d.Spec, d.Name, line, text)
		}
		if d.GPU && auto == "cpu" {
			auto = d.Spec
		}
	}
	if list.Auto != auto || !strings.Contains(text, "auto: "+auto) {
		t.Errorf("auto: %q in JSON, want %s:\n%s", list.Auto, auto, text)
	}
	if strings.Contains(text, "no OpenCL device") {
		t.Errorf("text says no device:\n%s", text)
	}
}

// TestNoOpenCL runs the commands in a child process whose OpenCL loader
// finds no driver (an empty OCL_ICD_VENDORS): devices lists only the CPU
// engine and says the driver is missing, embed on auto falls back to the
// CPU saying why, and embed --device opencl is an error.
func TestNoOpenCL(t *testing.T) {
	if os.Getenv("MASKINV_CHILD_NO_OPENCL") == "1" {
		noOpenCLChild(t)
		return
	}
	c := childtest.Start(t, []string{"MASKINV_CHILD_NO_OPENCL=1", "OCL_ICD_VENDORS=" + t.TempDir(), model.DeviceEnv + "="},
		"-test.run=^TestNoOpenCL$", "-test.v")
	var out []string
	c.Each(func(line string) bool { out = append(out, line); return true })
	if code, err := c.Wait(); err != nil || code != 0 {
		t.Fatalf("child failed (%d, %v):\n%s\n%s", code, err, strings.Join(out, "\n"), c.Stderr.String())
	}
	if !strings.Contains(strings.Join(out, "\n"), "--- PASS: TestNoOpenCL") {
		t.Fatalf("child did not pass:\n%s", strings.Join(out, "\n"))
	}
	t.Log(strings.Join(out, "\n"))
}

func noOpenCLChild(t *testing.T) {
	if _, err := opencl.Load(); err != nil {
		t.Skipf("no OpenCL loader here (%v): the no-driver case needs one", err)
	}
	if infos, err := model.Devices(); err == nil {
		t.Skipf("OpenCL devices visible despite OCL_ICD_VENDORS: %v (the loader is not ocl-icd)", infos)
	}
	text, list := devicesOutput(t)
	t.Logf("devices:\n%s", text)
	if len(list.Devices) != 1 || list.Devices[0].Spec != "cpu" || list.Auto != "cpu" || list.OpenCLMissing != "driver" || !strings.Contains(list.OpenCLError, "no OpenCL platform") {
		t.Errorf("devices --json without a driver: %+v", list)
	}
	if !strings.Contains(text, "no OpenCL device: the OpenCL loader found no driver (ICD)") {
		t.Errorf("devices does not say the driver is missing:\n%s", text)
	}
	dir := t.TempDir()
	copyDemo(t, dir, "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
	photo := filepath.Join(dir, "Aaron_Peirsol_0001.jpg")
	_, stderr := embedJSON(t, photo, "--device", "auto")
	if !strings.HasPrefix(stderr, "device: cpu (CPU engine); auto fell back to the CPU: ") || !strings.Contains(stderr, "no OpenCL platform") {
		t.Errorf("auto without a driver: stderr %q", stderr)
	}
	_, stderr, code := runCLI(t, "embed", "--device", "opencl", photo)
	if code != 1 || !strings.Contains(stderr, "device opencl: device unavailable: no OpenCL platform") {
		t.Errorf("--device opencl without a driver: exit %d, stderr %q", code, stderr)
	}
}

// TestMissingPart names the part of OpenCL that is missing from the error
// the device list failed with.
func TestMissingPart(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: %w: libOpenCL.so.1: not found", model.ErrNoDevice, opencl.ErrNoLoader), "loader"},
		{fmt.Errorf("%w: %w: the loader found no installed driver", model.ErrNoDevice, opencl.ErrNoPlatform), "driver"},
		{fmt.Errorf("%w: %w: OpenCL platforms \"x\" have no devices", model.ErrNoDevice, opencl.ErrNoDevice), "device"},
		{fmt.Errorf("%w: clGetPlatformIDs: CL_OUT_OF_HOST_MEMORY", model.ErrNoDevice), "error"},
	}
	for _, tc := range tests {
		l := listDevices(func() ([]model.DeviceInfo, error) { return nil, tc.err })
		if l.OpenCLMissing != tc.want || l.OpenCLError != tc.err.Error() || len(l.Devices) != 1 || l.Auto != "cpu" {
			t.Errorf("%v: %+v, want missing %q", tc.err, l, tc.want)
		}
		var b strings.Builder
		if err := l.write(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "no OpenCL device: "+missingAdvice(tc.want)) || !strings.Contains(b.String(), tc.err.Error()) {
			t.Errorf("%v: text\n%s", tc.err, b.String())
		}
	}
	// A GPU listed after a CPU device is auto's choice.
	l := listDevices(func() ([]model.DeviceInfo, error) {
		return []model.DeviceInfo{{Spec: "opencl:0.0", Type: "CPU"}, {Spec: "opencl:1.0", Type: "GPU", GPU: true}, {Spec: "opencl:1.1", Type: "GPU", GPU: true}}, nil
	})
	if l.Auto != "opencl:1.0" || len(l.Devices) != 4 || l.OpenCLMissing != "" {
		t.Errorf("with a GPU: %+v", l)
	}
}
