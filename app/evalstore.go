package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// PlainSource holds unmasked embeddings made before Evaluate runs (an
// embedding store written by `maskinv embed --out`), by image key.
type PlainSource interface {
	// Plain returns key's entry, a vector or the failure recorded for it;
	// ok is false when the source has no record of key.
	Plain(key string) (e CacheEntry, ok bool, err error)
}

// ErrNotInStore marks images an evaluation needs that its PlainSource
// has no record of.
var ErrNotInStore = errors.New("images not in the embedding store")

// StoreSource is an embedding store as a PlainSource.
type StoreSource struct{ St *store.Store }

// OpenStoreSource opens the store in dir for an evaluation whose
// recogniser has SHA-256 modelHash and whose crops are made by pipeline
// (engine.PipelineID): a store made otherwise holds other numbers and is
// refused (store.ErrMismatch), naming both.
func OpenStoreSource(dir, modelHash, pipeline string) (StoreSource, error) {
	st, err := store.Open(dir)
	if err != nil {
		return StoreSource{}, err
	}
	var why []string
	if st.Meta.Model != modelHash {
		why = append(why, fmt.Sprintf("made by the recogniser %s, not %s", st.Meta.Model, modelHash))
	}
	if st.Meta.Pipeline != pipeline {
		why = append(why, fmt.Sprintf("made by the pipeline %q, not %q", st.Meta.Pipeline, pipeline))
	}
	if sp, err := shard.Parse(st.Meta.Shard); err != nil || !sp.IsWhole() {
		why = append(why, fmt.Sprintf("shard %s of a split, not the whole set (merge the shards first: maskinv merge)", st.Meta.Shard))
	}
	if len(why) > 0 {
		st.Close()
		return StoreSource{}, fmt.Errorf("embedding store %s: %w: %s", dir, store.ErrMismatch, strings.Join(why, "; "))
	}
	return StoreSource{St: st}, nil
}

// Plain implements PlainSource: the record whose path is key, its row
// copied out of the map (an error record gives its error).
func (s StoreSource) Plain(key string) (CacheEntry, bool, error) {
	i, ok, err := s.St.Find(key)
	if err != nil || !ok {
		return CacheEntry{}, false, err
	}
	r, err := s.St.Record(i)
	if err != nil {
		return CacheEntry{}, false, err
	}
	if r.Status == store.StatusError {
		return CacheEntry{Failure: r.Error}, true, nil
	}
	return CacheEntry{Vec: slices.Clone(s.St.Row(i))}, true, nil
}

// Close closes the store.
func (s StoreSource) Close() error { return s.St.Close() }

// takePlain takes from src the plain variant of every image that needs
// one, clearing that need, and returns the entries by image (nil where
// not taken). Every image must be in src: the missing ones are an error
// wrapping ErrNotInStore, naming the first few.
func takePlain(set *dataset.EvalSet, need []uint8, src PlainSource) ([]*CacheEntry, error) {
	taken := make([]*CacheEntry, len(need))
	var missing []string
	for i, n := range need {
		if n&(1<<eval.Plain) == 0 {
			continue
		}
		e, ok, err := src.Plain(set.Images[i].Key)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, set.Images[i].Key)
			continue
		}
		taken[i] = &e
		need[i] &^= 1 << eval.Plain
	}
	if len(missing) > 0 {
		shown := missing[:min(len(missing), 5)]
		more := ""
		if len(missing) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(missing)-len(shown))
		}
		return nil, fmt.Errorf("%w: %d of the images the pairs use (%s%s): embed the folder the dataset reads (its keys are paths under %s)",
			ErrNotInStore, len(missing), strings.Join(shown, ", "), more, set.Path)
	}
	return taken, nil
}

// EvalShard embeds, into opt.Cache, every image variant the protocols
// need of the images of shard sp (by key), and scores nothing: N array
// tasks fill the cache, then one Evaluate over the whole set finds every
// variant there. The counts are those of Evaluate's stats.
func EvalShard(ctx context.Context, eng EvalEngine, set *dataset.EvalSet, opt EvalOptions, sp shard.Spec) (EvalStats, error) {
	if opt.Cache == nil {
		return EvalStats{}, errors.New("a shard's embeddings go to the embedding cache, and there is none (--no-cache?)")
	}
	if err := checkProtocols(set, opt.Protocols); err != nil {
		return EvalStats{}, err
	}
	set, _, _, err := completePairs(set, opt.AllowMissing)
	if err != nil {
		return EvalStats{}, err
	}
	need := neededVariants(set, opt)
	for i := range need {
		if !sp.Has(set.Images[i].Key) {
			need[i] = 0
		}
	}
	_, stats, err := embedPlainAndVariants(ctx, eng, set, need, opt)
	return stats, err
}

// embedPlainAndVariants is embedVariants with the plain variants taken
// from opt.Plain, when there is one.
func embedPlainAndVariants(ctx context.Context, eng EvalEngine, set *dataset.EvalSet, need []uint8, opt EvalOptions) ([][2]CacheEntry, EvalStats, error) {
	images := 0
	for _, n := range need {
		if n != 0 {
			images++
		}
	}
	var taken []*CacheEntry
	if opt.Plain != nil {
		var err error
		if taken, err = takePlain(set, need, opt.Plain); err != nil {
			return nil, EvalStats{}, err
		}
	}
	emb, stats, err := embedVariants(ctx, eng, set, need, opt)
	if err != nil {
		return nil, stats, err
	}
	for i, e := range taken {
		if e != nil {
			emb[i][eval.Plain] = *e
			stats.Stored++
		}
	}
	stats.Images = images
	return emb, stats, nil
}
