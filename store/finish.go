package store

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/maskinv/workbench/imageio"
)

// Finish writes the store of exactly the images keys (a shard's part of
// the input; nil or empty: none): every key must have a record, from this
// run or an earlier one, and records of other keys (images since removed
// from the input) are dropped. Records are sorted by path. It then removes
// the journal and closes the writer. When a key has no record it writes
// nothing and returns an ErrIncomplete error; the writer stays open.
func (w *Writer) Finish(keys []string) (Meta, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return Meta{}, fmt.Errorf("store %s: Finish after Finish or Close", w.dir)
	}
	if err := w.j.sync(); err != nil {
		return Meta{}, err
	}
	all := append(slices.Clone(w.done), w.added...)
	slices.SortStableFunc(all, func(a, b entry) int { return cmp.Compare(a.path, b.path) })
	all, err := selectKeys(lastOfEach(all), keys)
	if err != nil {
		return Meta{}, fmt.Errorf("store %s: %w", w.dir, err)
	}
	// The journal is read back through a map: a pread per record and
	// vector cost more than the rest of Finish.
	jmap, err := mapFile(w.jf, w.j.end())
	if err != nil {
		return Meta{}, fmt.Errorf("store %s: map journal: %w", w.dir, err)
	}
	i := 0
	next := func() (Record, []byte, error) {
		e := all[i]
		i++
		return w.read(jmap, e)
	}
	meta, err := writeFiles(w.dir, w.params, len(all), next)
	if uerr := unmapFile(jmap); err == nil {
		err = uerr
	}
	if err != nil {
		return Meta{}, err
	}
	if err := w.closeLocked(); err != nil {
		return meta, err
	}
	if err := os.Remove(filepath.Join(w.dir, JournalName)); err != nil {
		return meta, fmt.Errorf("store %s: %w", w.dir, err)
	}
	removeStaleTemps(w.dir)
	return meta, nil
}

// selectKeys keeps the entries of keys, in path order, or names the keys
// without one.
func selectKeys(all []entry, keys []string) ([]entry, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make([]entry, 0, len(keys))
	var missing []string
	j := 0
	for _, k := range keys {
		for j < len(all) && all[j].path < k {
			j++
		}
		if j < len(all) && all[j].path == k {
			out = append(out, all[j])
			continue
		}
		missing = append(missing, k)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %d of %d images (%s)", ErrIncomplete, len(missing), len(keys), listSome(missing))
	}
	return out, nil
}

// listSome names the first few of names and counts the others.
func listSome(names []string) string {
	const shown = 5
	s := strings.Join(names[:min(len(names), shown)], ", ")
	if n := len(names) - shown; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

// read returns an entry's record and its vector's bytes (nil on error),
// from the finished store or from the journal (mapped as journal).
func (w *Writer) read(journal []byte, e entry) (Record, []byte, error) {
	src := journal
	if e.old {
		src = w.old.index
	}
	end := e.recOff + int64(e.recLen)
	if e.vecOff >= 0 && !e.old {
		end = e.vecOff + 4*int64(w.params.Dim)
	}
	if end > int64(len(src)) {
		return Record{}, nil, fmt.Errorf("store %s: %w: %s lies beyond the end of its file", w.dir, ErrCorrupt, e.path)
	}
	recB := src[e.recOff : e.recOff+int64(e.recLen)]
	var vec []byte
	if e.vecOff >= 0 {
		if e.old {
			src = w.old.npy
		}
		vec = src[e.vecOff : e.vecOff+4*int64(w.params.Dim)]
	}
	rec, err := parseRecord(recB)
	if err == nil && rec.Path != e.path {
		err = fmt.Errorf("record of %q where %q was written", rec.Path, e.path)
	}
	if err != nil {
		return Record{}, nil, fmt.Errorf("store %s: %w: reading back %s: %v", w.dir, ErrCorrupt, e.path, err)
	}
	return rec, vec, nil
}

// writeFiles writes a store of n records, taken in order from next (a
// record and its vector's bytes, nil for an error record), into dir:
// meta.json is removed first and written last, each file atomically. It
// is the one writer of stores, so Finish and Merge write the same bytes
// for the same records.
func writeFiles(dir string, p Params, n int, next func() (Record, []byte, error)) (Meta, error) {
	meta := Meta{
		Format: FormatName, Version: FormatVersion, Model: p.Model, Pipeline: p.Pipeline,
		Settings: p.Settings, Dim: p.Dim, Shard: p.Shard.String(), Count: n,
	}
	if err := os.Remove(filepath.Join(dir, MetaName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return meta, fmt.Errorf("store %s: %w", dir, err)
	}
	npy, err := newTempFile(dir, EmbeddingsName)
	if err != nil {
		return meta, err
	}
	defer npy.abort()
	idx, err := newTempFile(dir, IndexName)
	if err != nil {
		return meta, err
	}
	defer idx.abort()
	if _, err := npy.Write(npyHeader(n, p.Dim)); err != nil {
		return meta, err
	}
	zeros := make([]byte, 4*p.Dim)
	for range n {
		rec, vec, err := next()
		if err != nil {
			return meta, err
		}
		line, err := recordLine(rec)
		if err != nil {
			return meta, fmt.Errorf("store %s: %w", dir, err)
		}
		if rec.Status == StatusError {
			meta.Failed++
			vec = zeros
		}
		if len(vec) != len(zeros) {
			return meta, fmt.Errorf("store %s: %s: vector of %d bytes, want %d", dir, rec.Path, len(vec), len(zeros))
		}
		if _, err := idx.Write(line); err != nil {
			return meta, err
		}
		if _, err := npy.Write(vec); err != nil {
			return meta, err
		}
	}
	if meta.EmbeddingsSHA256, err = npy.commit(); err != nil {
		return meta, err
	}
	if meta.IndexSHA256, err = idx.commit(); err != nil {
		return meta, err
	}
	err = writeAtomic(dir, MetaName, func(w io.Writer) error {
		_, err := w.Write(metaBytes(meta))
		return err
	})
	return meta, err
}

// tempFile is a file written atomically (imageio.AtomicFile) and hashed as
// it goes; commit renames it into place.
type tempFile struct {
	*imageio.AtomicFile
	*hashWriter
	dir string
}

func newTempFile(dir, name string) (*tempFile, error) {
	a, err := imageio.CreateAtomic(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return &tempFile{AtomicFile: a, hashWriter: newHashWriter(a), dir: dir}, nil
}

// Write hashes and writes p.
func (t *tempFile) Write(p []byte) (int, error) { return t.hashWriter.Write(p) }

// commit renames the file into place, durably; it returns the SHA-256 of
// what was written.
func (t *tempFile) commit() (string, error) {
	if err := t.Commit(); err != nil {
		return "", err
	}
	return t.sum(), syncDir(t.dir)
}

// abort removes the temporary file unless it was committed.
func (t *tempFile) abort() { t.Abort() }

func jsonCompact(v any) ([]byte, error) { return json.Marshal(v) }
