package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/shard"
)

// engineFlags are the flags of the commands that run the face engine:
// --model, --device and, for those that decide "same person", --threshold.
// compare and occlusion take --model twice (two models side by side).
type engineFlags struct {
	models     *listFlag
	thresholds *listFlag // nil: the command decides nothing
	device     deviceFlag
	most       int // --model given at most this often
	// thresholdOptional: a model without a threshold decides nothing
	// (threshold 0) instead of being a usage error.
	thresholdOptional bool

	chosen []chosenModel // check's result
}

// chosenModel is a --model resolved, with the threshold it decides at
// (0 for a command that decides nothing).
type chosenModel struct {
	app.ModelChoice
	threshold float64
}

// listFlag is a flag that may be given several times, values in order.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// modelHelp describes what --model takes.
const modelHelp = "recogniser: an ONNX file (N×3×112×112 input), teacher (the embedded one; the default), student (the embedded mask-invariant student), or a name or sha256 prefix from 'maskinv models list'"

func addEngineFlags(fs *flag.FlagSet, decides bool) *engineFlags {
	return addModelFlags(fs, decides, 1)
}

// addModelFlags is addEngineFlags for a command that takes up to most
// models.
func addModelFlags(fs *flag.FlagSet, decides bool, most int) *engineFlags {
	e := &engineFlags{models: &listFlag{}, device: addDeviceFlag(fs), most: most}
	help := modelHelp
	if most > 1 {
		help += fmt.Sprintf("; give it up to %d times to compare models side by side", most)
	}
	fs.Var(e.models, "model", help)
	if decides {
		e.thresholds = &listFlag{}
		fs.Var(e.thresholds, "threshold", fmt.Sprintf("decision threshold on cosine similarity, one per --model in their order (default: the model list's: %.4f for the teacher, %.4f for the student)", engine.DefaultThreshold, engine.StudentThreshold))
	}
	return e
}

// check resolves the models (app.ResolveModel on the model list of
// $MASKINV_MODELS or the user's config) and their thresholds, and parses
// the device: a model named nowhere, a model without a threshold and a device that does not parse are usage errors.
func (e *engineFlags) check(stdio Stdio) error {
	if e.chosen != nil {
		return nil
	}
	if _, err := e.device.spec(); err != nil {
		return err
	}
	refs := []string(*e.models)
	switch {
	case len(refs) == 0:
		refs = []string{""}
	case len(refs) > e.most && e.most == 1:
		return usagef("--model given %d times; this command takes one model", len(refs))
	case len(refs) > e.most:
		return usagef("--model given %d times; this command takes at most %d", len(refs), e.most)
	}
	var ts []float64
	if e.thresholds != nil {
		if n := len(*e.thresholds); n > 0 && n != len(refs) {
			return usagef("%d --threshold for %d models: give one per --model, in their order, or none", n, len(refs))
		}
		for _, v := range *e.thresholds {
			t, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(t) || t < -1 || t > 1 {
				return usagef("--threshold %q: want a cosine within [-1, 1]", v)
			}
			ts = append(ts, t)
		}
	}
	reg, err := openModelList(stdio)
	if err != nil {
		return err
	}
	chosen := make([]chosenModel, len(refs))
	for k, ref := range refs {
		c, err := app.ResolveModel(reg, ref)
		if err != nil {
			return modelRefError(err)
		}
		if c.ListErr != nil {
			fmt.Fprintf(stdio.Err, "warning: model list not read (%v); model %s taken without it\n", c.ListErr, c.Label)
		}
		chosen[k].ModelChoice = c
		switch {
		case e.thresholds == nil:
		case ts != nil:
			chosen[k].threshold = ts[k]
		case c.ThresholdSource != modelreg.ThresholdNone:
			chosen[k].threshold = c.Threshold
		case e.thresholdOptional:
		default:
			return usagef("model %s (%s) has no threshold: %s", c.Label, c.Source.Name, c.ThresholdHelp())
		}
	}
	e.chosen = chosen
	return nil
}

// modelRefError makes a model reference that names nothing a usage error
// (exit 2), keeping the cause for errors.Is.
func modelRefError(err error) error {
	if errors.Is(err, app.ErrUnknownModel) {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return err
}

// openModelList opens the model list: $MASKINV_MODELS, else the user's.
func openModelList(stdio Stdio) (*modelreg.Registry, error) {
	path, err := app.ModelListPath(stdio.getenv)
	if err != nil {
		return nil, err
	}
	return modelreg.Open(path), nil
}

// resolveRef resolves one model reference on the model list (what
// check does for --model), warning on stderr when the list cannot be
// read.
func resolveRef(stdio Stdio, ref string) (app.ModelChoice, error) {
	reg, err := openModelList(stdio)
	if err != nil {
		return app.ModelChoice{}, err
	}
	c, err := app.ResolveModel(reg, ref)
	if err != nil {
		return c, modelRefError(err)
	}
	if c.ListErr != nil {
		fmt.Fprintf(stdio.Err, "warning: model list not read (%v); model %s taken without it\n", c.ListErr, c.Label)
	}
	return c, nil
}

// load checks the flags (see check) and loads the engine with the first
// model, on the chosen device, deciding at its threshold; the device is
// named on stderr. The caller closes the engine.
func (e *engineFlags) load(stdio Stdio) (*engine.Engine, error) {
	if err := e.check(stdio); err != nil {
		return nil, err
	}
	spec, err := e.device.spec()
	if err != nil {
		return nil, err
	}
	eng, err := e.device.load(engine.Options{Recogniser: e.chosen[0].Source, Device: &spec})
	if err != nil {
		return nil, err
	}
	if e.thresholds != nil {
		eng.Threshold = e.chosen[0].threshold
	}
	return eng, nil
}

// compareModel is chosen model k as compare names it.
func (e *engineFlags) compareModel(k int) compare.Model {
	c := e.chosen[k]
	return compare.Model{Label: c.Label, Name: c.Source.Name, SHA256: c.SHA256}
}

// deviceFlag is --device: where the models run. Without the flag the
// environment variable model.DeviceEnv (MASKINV_DEVICE) chooses, and
// without either "auto" (the first OpenCL GPU, else the CPU engine).
type deviceFlag struct {
	value  *string
	getenv func(string) string // os.Getenv; tests pass their own
	log    io.Writer           // where load names the device: stderr
}

// addDeviceFlag defines --device on fs. The device line goes where fs
// writes its errors, which newFlagSet makes the command's stderr.
func addDeviceFlag(fs *flag.FlagSet) deviceFlag {
	return deviceFlag{
		value:  fs.String("device", "", "where the models run: cpu, opencl (the first OpenCL GPU, else the first OpenCL device), opencl:P.D (as 'maskinv devices' lists them) or auto (the first GPU, else the CPU); default: $"+model.DeviceEnv+", else auto"),
		getenv: os.Getenv,
		log:    fs.Output(),
	}
}

// spec parses the flag, else the environment; a bad value is a usage
// error naming where it came from.
func (d deviceFlag) spec() (model.DeviceSpec, error) {
	v, from := d.source()
	spec, err := model.ParseDeviceSpec(v)
	if err != nil {
		return spec, usagef("%s: %v", from, err)
	}
	return spec, nil
}

// source is the device's value and where it came from: the flag, else
// the environment.
func (d deviceFlag) source() (value, from string) {
	if *d.value != "" {
		return *d.value, "--device"
	}
	return d.getenv(model.DeviceEnv), model.DeviceEnv
}

// load loads the engine with opt and says on stderr which device it
// runs on and, when "auto" fell back to the CPU engine, why.
func (d deviceFlag) load(opt engine.Options) (*engine.Engine, error) {
	eng, err := engine.Load(opt)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(d.log, eng.DeviceSummary())
	return eng, nil
}

// announceDevice names the device of eng on w when eng says which it is
// (a stand-in engine of the tests does not), and returns what closes it.
func announceDevice(w io.Writer, eng any) (closeEngine func()) {
	d, ok := eng.(interface {
		DeviceSummary() string
		Close() error
	})
	if !ok {
		return func() {}
	}
	fmt.Fprintln(w, d.DeviceSummary())
	return func() { _ = d.Close() } // releasing the device at exit cannot be acted on
}

// addAlignedFlag is --aligned: inputs are aligned crops, no detection.
func addAlignedFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("aligned", false, "inputs are 112×112 crops already aligned to the ArcFace template")
}

// maskFlags are the synthetic-mask flags that mask, compare and train share.
// mask names them --style/--color; the others, which have other styles and
// colours to talk about, --mask-style/--mask-color.
type maskFlags struct {
	style, color, shift  *string
	seed                 *uint64
	styleFlag, colorFlag string
}

// addMaskFlags defines the flags; withShift adds --shift (a fixed paper
// shift), which training does not offer.
func addMaskFlags(fs *flag.FlagSet, prefix, seedHelp string, withShift bool) maskFlags {
	m := maskFlags{styleFlag: prefix + "style", colorFlag: prefix + "color"}
	m.style = fs.String(m.styleFlag, maskgen.StyleSpec{}.String(), "mask style: "+strings.Join(maskgen.Styles(), ", ")+", random, or mix:NAME=W,... (e.g. mix:surgical=0.5,n95=0.3,cloth=0.2)")
	m.color = fs.String(m.colorFlag, "auto", "mask colour: auto (each style's own), random, a name ("+strings.Join(maskgen.ColorNames(), ", ")+") or #RRGGBB")
	m.seed = fs.Uint64("seed", 0, seedHelp)
	if withShift {
		m.shift = fs.String("shift", "random", fmt.Sprintf("%s style: X,Y fixed shift of the template in template pixels (%d per aligned-crop pixel; +Y moves the mask up), or random (the protocol's)",
			strings.Join(maskgen.ShiftStyles(), ", "), maskgen.TemplateScale))
	}
	return m
}

// config parses the flags' values; errors are usage errors naming the flag.
func (m maskFlags) config() (maskgen.Config, error) {
	spec, err := maskgen.ParseStyle(*m.style)
	if err != nil {
		return maskgen.Config{}, usagef("--%s: %v", m.styleFlag, err)
	}
	cs, err := maskgen.ParseColor(*m.color)
	if err != nil {
		return maskgen.Config{}, usagef("--%s: %v", m.colorFlag, err)
	}
	var sh *maskgen.Shift
	if m.shift != nil {
		if sh, err = maskgen.ParseShift(*m.shift); err != nil {
			return maskgen.Config{}, usagef("--shift: %v", err)
		}
	}
	return maskgen.Config{Style: spec, Color: cs, Seed: *m.seed, Shift: sh}, nil
}

// shardFlags are --shard and --shards, of the commands whose input an
// array job splits over its tasks (mask, embed, eval).
type shardFlags struct {
	shard  *string
	shards *int
}

func addShardFlags(fs *flag.FlagSet) shardFlags {
	return shardFlags{
		shard:  fs.String("shard", "", "do shard I/N of the input (numbered from 1; a photo's shard is a hash of its path under the input folder); default: from the scheduler's environment (SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --shards), else the whole input"),
		shards: fs.Int("shards", 0, "number of shards, with the shard taken from the environment: required with JOB_COMPLETION_INDEX (Kubernetes), checked against a Slurm array's size"),
	}
}

// spec is the shard to do (shard.Detect on the flags and stdio's
// environment); where it came from, when not the whole input, goes to
// stderr, as a task's log should say what it did.
func (s shardFlags) spec(stdio Stdio) (shard.Spec, error) {
	sp, src, err := shard.Detect(*s.shard, *s.shards, stdio.getenv)
	if err != nil {
		return sp, usagef("%v", err)
	}
	if src != "" {
		fmt.Fprintf(stdio.Err, "shard %s (%s)\n", sp, src)
	}
	return sp, nil
}

// progressLabel is label, with the shard when there is one ("embed shard
// 2/4"): the logs of an array's tasks are read side by side.
func progressLabel(label string, sp shard.Spec) string {
	if sp.IsWhole() {
		return label
	}
	return label + " shard " + sp.String()
}

// progressFor reports progress on stderr: a bar on a terminal, plain
// lines in a log file (a scheduler's).
func progressFor(stdio Stdio, label string, sp shard.Spec) progress.Func {
	return progress.For(stdio.Err, progressLabel(label, sp))
}

// addKeepGoingFlag is --keep-going: images that fail, recorded in what the
// command writes, do not make its exit status 1.
func addKeepGoingFlag(fs *flag.FlagSet, where string) *bool {
	return fs.Bool("keep-going", false, "exit 0 when some images fail (each is recorded in "+where+"), so that one bad photo does not fail an array task and block the merge after it; errors that stop the run still exit 1")
}
