package ui

import (
	"context"
	"image"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/occlusion"
	"github.com/maskinv/workbench/progress"
)

// locator finds and aligns a photo's face (the engine's pipeline).
type locator interface {
	Locate(ctx context.Context, img image.Image) (face.Result, error)
}

// pipelineWith runs the engine's detection and alignment with another
// recogniser: a listed model's comparisons and calibration.
type pipelineWith struct {
	loc locator
	emb occlusion.Embedder
}

func (p pipelineWith) Locate(ctx context.Context, img image.Image) (face.Result, error) {
	return p.loc.Locate(ctx, img)
}

func (p pipelineWith) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	return p.emb.Embed(ctx, crops)
}

// calibrateLFW scores the unmasked pairs of the LFW folder dir (pairs.txt
// and one subfolder per person) with model e, whose embedder is emb, on
// eng's faces, and chooses its threshold: app.CalibrateLFW, what `maskinv
// models calibrate` runs. Embeddings go to the embedding cache `maskinv
// eval` keeps (keyed by the model's hash), so a calibration cancelled and
// started again, or run before from the command line, skips what is done.
func calibrateLFW(ctx context.Context, eng *engine.Engine, e modelreg.Entry, emb occlusion.Embedder, dir string, prog progress.Func) (float64, modelreg.Calibration, error) {
	set, err := dataset.Builtin().OpenEval("lfw", dir, dataset.EvalOptions{})
	if err != nil {
		return 0, modelreg.Calibration{}, err
	}
	opt := app.EvalOptions{Progress: prog, ModelHash: e.SHA256, Pipeline: eng.PipelineID(false)}
	if cacheDir, err := app.DefaultCacheDir(); err == nil {
		if cache, err := app.OpenEmbeddingCache(cacheDir, e.SHA256); err == nil {
			defer cache.Close()
			opt.Cache = cache
		} // without a cache, every photo is embedded: slower, the same result
	}
	t, cal, _, err := app.CalibrateLFW(ctx, pipelineWith{eng, emb}, set, opt)
	return t, cal, err
}
