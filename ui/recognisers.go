package ui

import (
	"errors"
	"fmt"
	"sync"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/occlusion"
)

// recognisers are the models the workbench runs besides the engine's own
// pipeline: one occlusion.NetEmbedder per model and engine (it embeds
// whole crops for comparisons and patched crops for occlusion maps), bound
// to that engine's device, made at first use and kept, since decoding a
// model and its segment models costs seconds. They are closed before the
// engine they run on (retire).
type recognisers struct {
	mu sync.Mutex
	m  map[recogniserKey]*occlusion.NetEmbedder
}

type recogniserKey struct {
	eng *engine.Engine
	sha string
}

// get returns the embedder of model e on eng's device, loading it the
// first time. Call it from a job (it may take seconds), which holds eng.
func (r *recognisers) get(eng *engine.Engine, e modelreg.Entry) (*occlusion.NetEmbedder, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := recogniserKey{eng, e.SHA256}
	if n, ok := r.m[k]; ok {
		return n, nil
	}
	src, err := e.Source()
	if err != nil {
		return nil, err
	}
	data := src.Data
	n, err := occlusion.NewNetEmbedder(e.Name, data, eng.Device())
	if err != nil {
		return nil, fmt.Errorf("load model %s on %s: %w", e.Name, eng.Device(), err)
	}
	if r.m == nil {
		r.m = map[recogniserKey]*occlusion.NetEmbedder{}
	}
	r.m[k] = n
	return n, nil
}

// retire closes the embedders bound to eng, which is about to close.
func (r *recognisers) retire(eng *engine.Engine) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, n := range r.m {
		if k.eng == eng {
			errs = append(errs, n.Close())
			delete(r.m, k)
		}
	}
	return errors.Join(errs...)
}
