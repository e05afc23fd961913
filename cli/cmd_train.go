package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/train"
)

// trainRunner runs a training run: train.Run, or a test's stand-in.
type trainRunner func(context.Context, train.Options) (train.Result, error)

// trainCommand is `maskinv train` running its run with run.
func trainCommand(run trainRunner) Command {
	return Command{
		Name:    "train",
		Summary: "distil a mask-invariant student from a recogniser (ElasticFace + template KD)",
		Run: func(ctx context.Context, args []string, stdio Stdio) error {
			return runTrain(ctx, args, stdio, run)
		},
	}
}

func runTrain(ctx context.Context, args []string, stdio Stdio, run trainRunner) error {
	def := train.DefaultConfig()
	fs := newFlagSet("train", stdio.Err, "train [--teacher F] --data DIR|lfw=DIR|rec=DIR --out DIR [--epochs N] [--batch N] [--lr X] [--w X] [--loss L] [--mask-style S] [--photo-masks K] [--seed N] [--resume]")
	teacher := fs.String("teacher", "", "teacher "+modelHelp)
	data := fs.String("data", "", "training photos: DIR or folder=DIR (one subfolder per person), lfw=DIR (with pairs.txt; see --train-folds), or rec=DIR (train.rec + train.idx of aligned crops)")
	folds := fs.String("train-folds", "1-9", "lfw: folds whose people may be trained on (everyone in the other folds is held out)")
	out := fs.String("out", "", "output folder: checkpoint.gob and student.onnx (required)")
	cache := fs.String("crops", "", "folder caching aligned crops of raw photos (default: user cache dir)")
	epochs := fs.Int("epochs", def.Epochs, "passes over the data")
	maxSteps := fs.Int("max-steps", 0, "stop after this many steps (0: all epochs); the schedule fits the steps run")
	batch := fs.Int("batch", def.Batch, "images per step")
	lr := fs.Float64("lr", def.LR, "learning rate (÷10 at 60% and 85% of the run)")
	w := fs.Float64("w", def.KDWeight, "weight of the template distillation term")
	loss := fs.String("loss", def.LossName, "margin loss: "+strings.Join(train.LossNames, ", "))
	mf := addMaskFlags(fs, "mask-", "random seed (data order, flips, masks, margins, head)", false)
	maskProb := fs.Float64("mask-prob", def.MaskProb, "probability that a student input is masked")
	photoMasks := fs.Int("photo-masks", def.PhotoMasks, "masked variants per raw photo, masked before alignment and aligned again (as real masked photos are); 0: none")
	photoShare := fs.Float64("photo-mask-share", def.PhotoMaskShare, "share of masked inputs taken from the photo masks rather than masked on the aligned crop")
	scratch := fs.Bool("scratch", false, "initialise the student randomly instead of from the teacher")
	resume := fs.Bool("resume", false, "continue from --out's checkpoint if there is one")
	every := fs.Int("checkpoint-every", def.CheckpointEvery, "steps between checkpoints")
	interval := fs.Duration("checkpoint-interval", def.CheckpointInterval, "also checkpoint when this long has passed since the last checkpoint")
	exportAll := fs.Bool("export-checkpoints", false, "also export student-stepNNNNNN.onnx at every checkpoint")
	force := fs.Bool("force", false, "let --out replace files that an earlier train did not write there")
	device := addDeviceFlag(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	case *data == "" || *out == "":
		return usagef("--data and --out are required")
	case *epochs < 1 || *batch < 2 || *lr <= 0 || *w < 0 || *maxSteps < 0 || *every < 1 || *interval <= 0:
		return usagef("need --epochs ≥ 1, --batch ≥ 2, --lr > 0, --w ≥ 0, --max-steps ≥ 0, --checkpoint-every ≥ 1, --checkpoint-interval > 0")
	case *maskProb < 0 || *maskProb > 1 || *photoShare < 0 || *photoShare > 1:
		return usagef("--mask-prob and --photo-mask-share must be in [0, 1]")
	case *photoMasks < 0:
		return usagef("--photo-masks must be ≥ 0")
	}
	spec, err := device.spec()
	if err != nil {
		return err
	}
	cfg := def
	cfg.Epochs, cfg.MaxSteps, cfg.Batch, cfg.LR, cfg.KDWeight, cfg.MaskProb = *epochs, *maxSteps, *batch, *lr, *w, *maskProb
	cfg.Seed, cfg.FromScratch, cfg.CheckpointEvery, cfg.LossName = *mf.seed, *scratch, *every, *loss
	cfg.ExportCheckpoints, cfg.CheckpointInterval = *exportAll, *interval
	cfg.PhotoMasks, cfg.PhotoMaskShare = *photoMasks, *photoShare
	if cfg.Loss, err = train.ParseMargin(*loss); err != nil {
		return usagef("--loss: %v", err)
	}
	if cfg.Mask, err = mf.config(); err != nil {
		return err
	}
	trainFolds, err := eval.ParseFolds(*folds)
	if err != nil {
		return usagef("--train-folds: %v", err)
	}
	if _, _, err := train.ParseData(*data); err != nil {
		return usagef("%v", err)
	}
	tc, err := resolveRef(stdio, *teacher)
	if err != nil {
		return fmt.Errorf("--teacher: %w", err)
	}
	res, err := run(ctx, train.Options{Teacher: tc.Source, Data: *data, TrainFolds: trainFolds, Out: *out,
		CropCache: *cache, Resume: *resume, Force: *force, Config: cfg, Log: stdio.Err, Device: &spec})
	if err != nil {
		if res.Done > 0 {
			fmt.Fprintf(stdio.Err, "stopped at step %d of %d; checkpoint in %s (--resume continues)\n", res.Done, res.Steps, *out)
		}
		return err
	}
	fmt.Fprintf(stdio.Out, "trained %d steps on %d photos of %d people (%.1f img/s); student: %s\n",
		res.Done, res.Images, res.Classes, res.ImagesPerSecond, res.Student)
	return nil
}
