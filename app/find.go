package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/store"
)

// SearchGallery is what `maskinv find` searches: embeddings by row, a
// name (a path under the gallery's folder) per row. From a store, the
// rows are its memory map.
type SearchGallery struct {
	Rows  []float32 // row-major, Len×Dim
	Dim   int
	Name  func(row int) (string, error)
	Notes []string // what the caller may print: photos of a folder that failed
	close func() error
}

// Len is the number of rows.
func (g *SearchGallery) Len() int { return len(g.Rows) / g.Dim }

// Close releases the store's map, if any; rows must not be used after.
func (g *SearchGallery) Close() error {
	if g.close == nil {
		return nil
	}
	return g.close()
}

// GalleryOptions configure OpenGallery when it embeds a folder.
type GalleryOptions struct {
	Aligned  bool
	Batch    int
	Progress progress.Func
}

// OpenGallery opens path as a gallery for eng's recogniser: an embedding
// store (a folder with store.MetaName), memory-mapped, which must have been
// made by the same recogniser (store.ErrMismatch otherwise); or a photo
// folder, embedded now (its photos that fail are left out, each noted).
// A store's failed records are rows of zeros, which never match.
func OpenGallery(ctx context.Context, eng *engine.Engine, path string, opt GalleryOptions) (*SearchGallery, error) {
	if _, err := os.Stat(filepath.Join(path, store.MetaName)); err == nil {
		return openStoreGallery(eng, path)
	}
	scan, err := folder.Scan(path)
	if err != nil {
		return nil, err
	}
	if len(scan.Images) == 0 {
		return nil, fmt.Errorf("gallery %s: neither an embedding store (no %s) nor a folder of photos", path, store.MetaName)
	}
	g := &SearchGallery{}
	var names []string
	paths := make([]string, len(scan.Images))
	for i, k := range scan.Images {
		paths[i] = filepath.Join(path, filepath.FromSlash(k))
	}
	next := 0
	emit := func(r EmbedRecord) error {
		key := scan.Images[next]
		next++
		if r.Error != "" {
			g.Notes = append(g.Notes, "gallery photo left out: "+r.Error)
			return nil
		}
		if g.Dim == 0 {
			g.Dim = len(r.Embedding)
		}
		g.Rows = append(g.Rows, r.Embedding...)
		names = append(names, key)
		return nil
	}
	if err := EmbedFiles(ctx, eng, paths, opt.Aligned, opt.Batch, opt.Progress, emit); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("gallery %s: no photo could be embedded", path)
	}
	g.Name = func(row int) (string, error) { return names[row], nil }
	return g, nil
}

func openStoreGallery(eng *engine.Engine, dir string) (*SearchGallery, error) {
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	if h := eng.Recogniser.Hash(); st.Meta.Model != h {
		st.Close()
		return nil, fmt.Errorf("gallery %s: %w: made by the recogniser %s, the queries are embedded by %s (--model)", dir, store.ErrMismatch, st.Meta.Model, h)
	}
	g := &SearchGallery{Rows: st.Matrix(), Dim: st.Dim(), close: st.Close}
	g.Name = func(row int) (string, error) {
		r, err := st.Record(row)
		return r.Path, err
	}
	if st.Unfinished {
		g.Notes = append(g.Notes, fmt.Sprintf("gallery %s: a run of its task is unfinished (journal there); searching the store as it was finished", dir))
	}
	return g, nil
}

// FindResult is one query's answer, a line of `maskinv find --json`.
type FindResult struct {
	Query string        `json:"query"`
	Face  string        `json:"face,omitempty"` // the face chosen in the query photo
	Hits  []gallery.Hit `json:"hits,omitempty"` // best first
	Error string        `json:"error,omitempty"`
}

// FindOptions configure Find.
type FindOptions struct {
	K       int // hits per query; 0: 10
	Aligned bool
	Batch   int
	Kernel  gallery.Kernel // nil: gallery.GoKernel
}

// Find embeds the query photos with eng and returns, for each, the K
// gallery rows most similar by cosine, named: all queries in one scan of
// the gallery. A query that cannot be embedded gets its error, and the
// others go on; none at all is an error.
func Find(ctx context.Context, eng *engine.Engine, g *SearchGallery, queries []string, opt FindOptions) ([]FindResult, error) {
	res := make([]FindResult, 0, len(queries))
	var vecs [][]float32
	var ok []int
	emit := func(r EmbedRecord) error {
		fr := FindResult{Query: r.Path, Face: r.Face, Error: r.Error}
		if r.Error == "" {
			ok = append(ok, len(res))
			vecs = append(vecs, r.Embedding)
		}
		res = append(res, fr)
		return nil
	}
	if err := EmbedFiles(ctx, eng, queries, opt.Aligned, opt.Batch, progress.Nop, emit); err != nil {
		return nil, err
	}
	if len(vecs) == 0 {
		return res, errors.New("no query photo could be embedded")
	}
	gal, err := gallery.New(g.Rows, g.Dim)
	if err != nil {
		return nil, err
	}
	hits, err := gal.Search(ctx, vecs, gallery.Options{K: opt.K, Kernel: opt.Kernel})
	if err != nil {
		return nil, err
	}
	if err := gallery.Name(hits, g.Name); err != nil {
		return nil, err
	}
	for j, i := range ok {
		res[i].Hits = hits[j]
	}
	return res, nil
}
