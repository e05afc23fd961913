package compare

import (
	"context"
	"errors"
	"image"
	"slices"
	"sync"

	"github.com/maskinv/workbench/internal/parallel"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
)

// Remask returns the comparison with new mask settings. The unmasked crops,
// embeddings and SettingUU scores are shared with c; only the masked crops
// are redrawn and embedded, and embeddings of settings seen before are
// reused. Progress counts rows.
func (c *Comparison) Remask(ctx context.Context, eng Engine, mask maskgen.Config, prog progress.Func) (*Comparison, error) {
	if err := mask.Validate(); err != nil {
		return nil, err
	}
	if prog == nil {
		prog = progress.Nop
	}
	nc := &Comparison{
		Source: c.Source, Photos: slices.Clone(c.Photos), Rows: c.Rows, Blocks: c.Blocks, Known: c.Known,
		Mask: mask, Model: c.Model, Threshold: c.Threshold, cache: c.cache,
	}
	nc.Scores[SettingUU] = c.Scores[SettingUU]
	n := nc.N()
	cached := c.cache.get(mask.String())
	prog(0, n)
	const batch = 32
	for start := 0; start < n; start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+batch, n)
		errs := make([]error, end-start)
		cancelled := parallel.Each(ctx, end-start, 0, func(k int) {
			p := nc.Row(start + k)
			m, err := maskAligned(mask, p.Aligned, p.Key)
			if err != nil {
				errs[k] = err
				return
			}
			p.Masked, p.Params, p.Coverage = m.Image, m.Params, m.CoveredFraction()
			p.MaskedEmbedding = nil
			if cached != nil {
				p.MaskedEmbedding = cached[p.Key]
			}
		})
		if err := errors.Join(append(errs, cancelled)...); err != nil {
			return nil, err
		}
		var crops []*image.NRGBA
		var rows []int
		for i := start; i < end; i++ {
			if nc.Row(i).MaskedEmbedding == nil {
				crops = append(crops, nc.Row(i).Masked)
				rows = append(rows, i)
			}
		}
		if len(crops) > 0 {
			vecs, err := eng.Embed(ctx, crops)
			if err != nil {
				return nil, err
			}
			for k, i := range rows {
				nc.Row(i).MaskedEmbedding = vecs[k]
			}
		}
		prog(end, n)
	}
	nc.cache.put(nc)
	return nc, nc.score(ctx)
}

// maskedCache keeps the masked embeddings of the last few mask settings of
// a folder (2 KB per photo and setting), so that going back to earlier
// settings costs no recogniser runs.
type maskedCache struct {
	mu      sync.Mutex
	order   []string
	entries map[string]map[string][]float32 // settings → photo key → embedding
}

const maskedCacheSize = 8

func newMaskedCache() *maskedCache {
	return &maskedCache{entries: map[string]map[string][]float32{}}
}

func (mc *maskedCache) get(key string) map[string][]float32 {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	return mc.entries[key]
}

func (mc *maskedCache) put(c *Comparison) {
	e := make(map[string][]float32, c.N())
	for _, i := range c.Rows {
		e[c.Photos[i].Key] = c.Photos[i].MaskedEmbedding
	}
	key := c.Mask.String()
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if _, ok := mc.entries[key]; !ok {
		mc.order = append(mc.order, key)
	}
	mc.entries[key] = e
	for len(mc.order) > maskedCacheSize {
		delete(mc.entries, mc.order[0])
		mc.order = mc.order[1:]
	}
}
