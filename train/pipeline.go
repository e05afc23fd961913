package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
	"github.com/maskinv/workbench/progress"
)

// Options is one training run: `maskinv train`.
type Options struct {
	// Teacher is the frozen teacher's ONNX: a file or an embedded model
	// (engine.Teacher, engine.Student); the zero Source is the embedded
	// recogniser. The student has the teacher's architecture.
	Teacher engine.Source
	// Data is an identity folder (DIR or folder=DIR), lfw=DIR, or rec=DIR
	// (MXNet RecordIO rec + idx of aligned crops).
	Data string
	// TrainFolds are the LFW folds (0-based) whose people may be trained
	// on; everyone in the other folds is held out.
	TrainFolds []int
	Out        string
	// CropCache keeps aligned crops of raw photos (and their photo-masked
	// crops); empty: the user cache dir (maskinv/aligned/<hash of the data
	// path>).
	CropCache string
	Resume    bool
	Config    Config
	Log       io.Writer

	// Device is where the run computes, as engine.Options.Device: the
	// engine's models (detector and landmarker aligning the photos, the
	// teacher) and, unless Config.Device names another, the student's
	// training steps; nil is the CPU engine. The margin head stays on the
	// CPU. DeviceOptions tune an OpenCL device.
	Device        *model.DeviceSpec
	DeviceOptions model.DeviceOptions

	// Force allows replacing files in Out that no earlier train run wrote
	// (a folder without its marker); without it Train refuses at once.
	Force bool
}

// Result summarises a finished (or interrupted) run.
type Result struct {
	Student         string // path of the exported ONNX ("" if not finished)
	Steps, Done     int
	Images, Classes int
	Failed          int // photos without a usable face
	ImagesPerSecond float64
}

// ParseData splits a --data value into its kind and path: DIR is an
// identity folder, KIND=DIR a dataset kind of dataset.Builtin() that has
// identities to train on (folder, lfw, rec). An unknown kind is an error
// wrapping dataset.ErrUnknownKind.
func ParseData(s string) (kind, path string, err error) {
	kind, path, ok := strings.Cut(s, "=")
	if !ok {
		return "folder", s, nil
	}
	if _, err := dataset.Builtin().Lookup(kind, dataset.ForTrain); err != nil {
		return "", "", fmt.Errorf("--data %q: want DIR or KIND=DIR: %w", s, err)
	}
	return kind, path, nil
}

// Run trains a student from a teacher: it aligns (and photo-masks) the
// data once, with caches, then runs template-level knowledge distillation
// (see Trainer), with checkpoints and resume, and exports the student.
func Run(ctx context.Context, opt Options) (Result, error) {
	var res Result
	ts := &session{opt: opt}
	kind, root, err := ParseData(opt.Data)
	if err != nil {
		return res, err
	}
	written := outFiles(opt.Out, opt.Config.ExportCheckpoints)
	// A run resumed from its checkpoint proves the folder its own once
	// tr.Resume accepts that checkpoint's fingerprint, so the check waits
	// for it: runs made before folders were marked resume without --force.
	_, statErr := os.Stat(filepath.Join(opt.Out, CheckpointFile))
	resuming := opt.Resume && statErr == nil
	if !resuming {
		if err := folder.Check(opt.Out, "train", written, opt.Force); err != nil {
			return res, err
		}
	}
	d, err := Open(dataset.Builtin(), kind, root, opt.TrainFolds)
	if err != nil {
		return res, err
	}
	defer d.CloseRecords()
	if ts.eng, err = engine.Load(engine.Options{Recogniser: opt.teacher(), Device: opt.Device, DeviceOptions: opt.DeviceOptions}); err != nil {
		return res, err
	}
	defer ts.eng.Close()
	ts.logf("%s", ts.eng.DeviceSummary())
	cache := opt.CropCache
	if cache == "" {
		if cache, err = defaultCropCache(root); err != nil {
			return res, err
		}
	}
	ts.logf("data: %d photos of %d people in %s; aligned crops cached in %s", len(d.Items), d.Classes(), root, cache)
	crops, err := ts.alignCrops(ctx, d, cache)
	if err != nil {
		return res, err
	}
	res.Images, res.Classes, res.Failed = len(d.Items), d.Classes(), crops.Failed
	if crops.Failed > 0 {
		ts.logf("note: %d photos without a usable face were left out", crops.Failed)
	}
	if opt.Config.PhotoMasks > 0 && opt.Config.PhotoMaskShare > 0 {
		if err := ts.maskPhotos(ctx, d, crops, cache); err != nil {
			return res, err
		}
	}
	tr, err := ts.newTrainer(ctx, d, crops)
	if err != nil {
		return res, err
	}
	defer tr.Close() // before the engine closes the device
	res.Steps = tr.Steps()
	resumed, err := ts.resumeOrPrepare(ctx, tr)
	if err != nil {
		return res, err
	}
	if err := folder.Claim(opt.Out, "train", written, opt.Force || resumed); err != nil {
		return res, err
	}
	err = ts.run(ctx, tr, &res)
	res.Done = tr.Step()
	if err != nil {
		return res, err
	}
	res.Student = filepath.Join(opt.Out, StudentFile)
	ts.logf("student written to %s", res.Student)
	return res, nil
}

// session carries what every stage of Train shares: the options, the
// teacher's engine and the log.
type session struct {
	opt Options
	eng *engine.Engine
}

func (ts *session) logf(format string, a ...any) {
	if ts.opt.Log != nil {
		fmt.Fprintf(ts.opt.Log, format+"\n", a...)
	}
}

// progress shows a stage's progress on the log, or nowhere without one.
func (ts *session) progress(stage string) progress.Func {
	if ts.opt.Log != nil {
		return progress.For(ts.opt.Log, stage)
	}
	return progress.Nop
}

// newTrainer makes the run's trainer: the teacher is the engine's
// recogniser, the student a second decode of the teacher's bytes (so that
// the teacher's Net and its inference graphs stay untouched) trained on
// the engine's device unless the Config names another.
func (ts *session) newTrainer(ctx context.Context, d *Dataset, crops *Crops) (*Trainer, error) {
	studentNet, err := ts.opt.teacher().Decode()
	if err != nil {
		return nil, err
	}
	cfg := ts.opt.Config
	if cfg.Device == nil {
		cfg.Device = ts.eng.Device()
	}
	return New(ctx, ts.eng.Recogniser, studentNet, d, crops, cfg, ts.opt.Out)
}

// alignCrops aligns every photo with the teacher's detector; the crops are
// cached in cache so later runs skip the detector.
func (ts *session) alignCrops(ctx context.Context, d *Dataset, cache string) (*Crops, error) {
	align := func(ctx context.Context, img image.Image) (*image.NRGBA, error) {
		r, err := ts.eng.Locate(ctx, img)
		if err != nil {
			return nil, err
		}
		return r.Aligned, nil
	}
	return LoadCrops(ctx, d, align, cache, ts.progress("align"))
}

// maskPhotos masks the photos themselves and aligns them again, so that the
// student also sees masks as the detector and aligner see them.
func (ts *session) maskPhotos(ctx context.Context, d *Dataset, crops *Crops, cache string) error {
	cfg := ts.opt.Config
	dir := filepath.Join(cache, "photo-masks", photoMaskID(ts.eng, cfg))
	ts.logf("photo masks: %d per photo, masked then aligned again; cached in %s", cfg.PhotoMasks, dir)
	prog := ts.progress("photo masks")
	if err := LoadPhotoMasks(ctx, d, crops, photoMasker(ts.eng, cfg.Mask), cfg.PhotoMasks, dir, prog); err != nil {
		return err
	}
	if crops.MaskFailed > 0 {
		ts.logf("note: %d photos have no face the detector finds again once masked; their crops are masked instead", crops.MaskFailed)
	}
	if crops.NoPhoto > 0 {
		ts.logf("note: %d images are aligned crops, with no photo to mask; their crops are masked instead", crops.NoPhoto)
	}
	return nil
}

// resumeOrPrepare continues from the checkpoint when asked and one fits;
// otherwise it computes the teacher's embeddings for a fresh run.
func (ts *session) resumeOrPrepare(ctx context.Context, tr *Trainer) (bool, error) {
	if ts.opt.Resume {
		resumed, err := tr.Resume()
		if err != nil {
			return false, err
		}
		if resumed {
			ts.logf("resumed at step %d of %d", tr.Step(), tr.Steps())
			return true, nil
		}
	}
	return false, tr.Prepare(ctx, ts.progress("teacher"))
}

// run trains to the end, logging a step at most every 10 s, except the last
// step and steps that wrote a checkpoint, which are always logged.
func (ts *session) run(ctx context.Context, tr *Trainer, res *Result) error {
	cfg := ts.opt.Config
	ts.logf("training: %d steps of %d images (%s, w=%g, lr %g) on %s; the margin head on the CPU", tr.Steps(), cfg.Batch,
		cfg.LossName, cfg.KDWeight, cfg.LR, tr.Device())
	last := time.Time{}
	return tr.Run(ctx, func(s Stats) {
		res.ImagesPerSecond = s.ImagesPerSecond
		if time.Since(last) < 10*time.Second && s.Step != s.Steps && !s.CheckpointWritten {
			return
		}
		last = time.Now()
		ts.logf("step %d/%d epoch %d  loss %.4f = margin %.4f + kd %.4f  |g| %.1f  lr %.2g  %.1f img/s (head %.0f%%)  elapsed %s  ETA %s",
			s.Step, s.Steps, s.Epoch, s.Loss, s.Margin, s.KD, s.GradNorm, s.LR, s.ImagesPerSecond,
			100*s.HostLoss.Seconds()/max(s.Elapsed.Seconds(), 1e-9), s.Elapsed.Round(time.Second), s.Remaining.Round(time.Second))
	})
}

// outFiles are the files a run may write into out: the checkpoint,
// the student and, with exportAll, the per-checkpoint students, of which
// those already there are listed (which steps a run exports depends on
// the data).
func outFiles(out string, exportAll bool) []string {
	names := []string{CheckpointFile, StudentFile}
	if exportAll {
		found, _ := filepath.Glob(filepath.Join(out, "student-step*.onnx"))
		for _, f := range found {
			names = append(names, filepath.Base(f))
		}
	}
	return names
}

// photoMasker masks a raw photo on the face the engine finds and aligns
// the masked photo again with the same engine (MaskPhoto), as `maskinv
// eval --mask-on photo` does.
func photoMasker(eng *engine.Engine, mask maskgen.Config) PhotoMasker {
	return func(ctx context.Context, img image.Image, keys []string) ([]*image.NRGBA, error) {
		src := imageio.ToNRGBA(img)
		r, err := eng.Locate(ctx, src)
		if err != nil {
			return nil, err
		}
		out := make([]*image.NRGBA, len(keys))
		for k, key := range keys {
			m, err := engine.MaskPhoto(ctx, eng, src, r, mask, key)
			if err != nil {
				return nil, fmt.Errorf("mask %s: %w", key, err)
			}
			out[k] = m.Aligned
		}
		return out, nil
	}
}

// photoMaskID names the photo-mask cache of a run: the crops depend on the
// mask settings, the seed, the detector and landmarker and our numerics.
func photoMaskID(eng *engine.Engine, cfg Config) string {
	s := fmt.Sprintf("%s|%s|%d|%s|%s|%s|%s", cfg.Mask.Style, cfg.Mask.Color, cfg.Seed,
		engine.PipelineVersion, engine.PhotoMaskVersion, engine.RunnerHash(eng.Detector.Net), engine.RunnerHash(eng.Landmarker.Net))
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// teacher is the run's teacher: the embedded recogniser unless Teacher
// names one.
func (o Options) teacher() engine.Source {
	if o.Teacher.Path == "" && o.Teacher.Data == nil {
		return engine.Teacher()
	}
	return o.Teacher
}

func defaultCropCache(root string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, "maskinv", "aligned", hex.EncodeToString(sum[:8])), nil
}
