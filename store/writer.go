package store

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/maskinv/workbench/internal/appendlog"
)

// ErrMismatch marks stores (or a store and a run) made with different
// Params.
var ErrMismatch = errors.New("made with other parameters")

// ErrIncomplete marks a Finish for images the store has no record of.
var ErrIncomplete = errors.New("images without a record")

// ErrLocked marks a store another process is writing.
var ErrLocked = errors.New("store in use by another process")

// Options configure Create and Merge.
type Options struct {
	// Force replaces what is in the folder: files no store wrote, a store
	// or journal made with other Params, a damaged journal.
	Force bool
}

// Writer builds a store; see the package documentation. Add is safe for
// concurrent use.
type Writer struct {
	dir    string
	params Params
	jf     *os.File
	j      *journal
	old    *Store // a finished store found in the folder, or nil

	mu    sync.Mutex
	done  []entry // what earlier runs left, sorted by path, one per path
	added []entry // this run's, in order
	notes []string
	shut  bool
}

// Create opens the store in dir for writing (creating dir), resuming what
// an earlier run of the same Params left there: a journal, a finished
// store, or both. It refuses, naming the files, to replace files that no
// store wrote (folder.ErrForeignFiles), or a store or journal made with other
// Params (ErrMismatch), unless opt.Force, which starts afresh.
func Create(dir string, p Params, opt Options) (*Writer, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	if err := claim(dir, opt.Force); err != nil {
		return nil, err
	}
	w := &Writer{dir: dir, params: p}
	jname := filepath.Join(dir, JournalName)
	f, err := os.OpenFile(jname, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	w.jf = f
	if _, err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%v)", jname, ErrLocked, err)
	}
	if err := w.loadOld(opt.Force); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.openJournal(opt.Force); err != nil {
		w.Close()
		return nil, err
	}
	slices.SortStableFunc(w.done, func(a, b entry) int { return cmp.Compare(a.path, b.path) })
	w.done = lastOfEach(w.done)
	return w, nil
}

// loadOld takes the records of a finished store in the folder as done.
func (w *Writer) loadOld(force bool) error {
	if _, err := os.Stat(filepath.Join(w.dir, MetaName)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old, err := Open(w.dir)
	if err == nil {
		var op Params
		if op, err = old.Meta.Params(); err == nil && (op.mismatch(w.params) != "" || op.Shard != w.params.Shard) {
			err = fmt.Errorf("%w: %s, shard %s (this run: shard %s)", ErrMismatch, op.mismatch(w.params), op.Shard, w.params.Shard)
		}
	}
	if err != nil {
		if old != nil {
			old.Close()
		}
		if force {
			w.notes = append(w.notes, fmt.Sprintf("replacing the store in %s: %v (--force)", w.dir, err))
			return nil
		}
		return fmt.Errorf("store %s: %w; use another folder, or --force to replace it", w.dir, err)
	}
	w.old = old
	rowBytes := int64(4 * old.Meta.Dim)
	dataStart := int64(len(old.npy)) - int64(old.Meta.Count)*rowBytes
	for i := range old.Meta.Count {
		r, err := old.Record(i)
		if err != nil {
			return err
		}
		e := entry{path: r.Path, old: true, recOff: int64(old.lines[i]), recLen: int32(old.lines[i+1] - old.lines[i] - 1), vecOff: -1}
		if r.Status == StatusOK {
			e.vecOff = dataStart + int64(i)*rowBytes
		}
		w.done = append(w.done, e)
	}
	return nil
}

// openJournal reads what the journal holds, cuts off a torn end, and
// starts it afresh when it is empty (or forced).
func (w *Writer) openJournal(force bool) error {
	jname := w.jf.Name()
	st, err := w.jf.Stat()
	if err != nil {
		return err
	}
	var jc journalContents
	if st.Size() > 0 {
		jc, err = readJournal(w.jf)
		if err == nil && (jc.params.mismatch(w.params) != "" || jc.params.Shard != w.params.Shard) {
			err = fmt.Errorf("%w: %s, shard %s (this run: shard %s)", ErrMismatch, jc.params.mismatch(w.params), jc.params.Shard, w.params.Shard)
		}
		switch {
		case err != nil && force:
			w.notes = append(w.notes, fmt.Sprintf("starting %s afresh: %v (--force)", jname, err))
			jc = journalContents{}
		case err != nil:
			return fmt.Errorf("%s: %w; remove it to start over, or use --force", jname, err)
		case jc.torn:
			w.notes = append(w.notes, fmt.Sprintf("%s: dropped a torn last frame (an interrupted write); its image is redone", jname))
		}
	}
	log, err := appendlog.New(w.jf, jc.valid, journalSyncEvery, journalSyncInterval)
	if err != nil {
		return err
	}
	w.j = &journal{log: log}
	w.done = append(w.done, jc.entries...)
	if jc.valid > 0 {
		return nil
	}
	hb, err := jsonCompact(headerOf(w.params))
	if err != nil {
		return err
	}
	_, err = w.j.appendFrame(append([]byte{'P'}, hb...))
	return err
}

// lastOfEach keeps, of each run of equal paths, the last entry.
func lastOfEach(es []entry) []entry {
	out := es[:0]
	for i, e := range es {
		if i+1 < len(es) && es[i+1].path == e.path {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Notes says what Create found and did that the caller may print (a torn
// journal frame dropped, a store replaced under --force).
func (w *Writer) Notes() []string { return w.notes }

// Done is the status of key's record left by earlier runs (the journal
// of an interrupted one, a finished store): StatusOK, StatusError, or ""
// when there is none. A resumed command skips the images with StatusOK
// and does the rest.
func (w *Writer) Done(key string) string {
	if i, ok := slices.BinarySearchFunc(w.done, key, func(e entry, k string) int { return cmp.Compare(e.path, k) }); ok {
		return statusOf(w.done[i])
	}
	return ""
}

func statusOf(e entry) string {
	if e.vecOff < 0 {
		return StatusError
	}
	return StatusOK
}

// Add journals one image: rec with its vector, or, when rec.Error is set,
// a failure (vec is then ignored and its row will be zeros). rec.Status is
// set from rec.Error. A key added again replaces its earlier record.
func (w *Writer) Add(rec Record, vec []float32) error {
	rec.Status = StatusOK
	if rec.Error != "" {
		rec.Status, vec = StatusError, nil
	} else if len(vec) != w.params.Dim {
		return fmt.Errorf("store %s: %s: embedding of length %d, want %d", w.dir, rec.Path, len(vec), w.params.Dim)
	}
	for _, v := range vec {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("store %s: %s: embedding is not finite", w.dir, rec.Path)
		}
	}
	line, err := recordLine(rec)
	if err != nil {
		return fmt.Errorf("store %s: %w", w.dir, err)
	}
	line = line[:len(line)-1]
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shut {
		return fmt.Errorf("store %s: Add after Finish or Close", w.dir)
	}
	at, err := w.j.appendFrame(recordPayload(line, vec))
	if err != nil {
		return err
	}
	e := entry{path: rec.Path, recOff: at + 1 + 4, recLen: int32(len(line)), vecOff: -1}
	if vec != nil {
		e.vecOff = e.recOff + int64(len(line))
	}
	w.added = append(w.added, e)
	return nil
}

// Close syncs and closes the journal without finishing: a rerun resumes.
// It is safe to call after Finish, and more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeLocked()
}

func (w *Writer) closeLocked() error {
	if w.shut && w.jf == nil {
		return nil
	}
	w.shut = true
	var errs []error
	if w.j != nil {
		errs = append(errs, w.j.sync())
	}
	if w.jf != nil {
		errs = append(errs, w.jf.Close())
		w.jf = nil
	}
	if w.old != nil {
		errs = append(errs, w.old.Close())
		w.old = nil
	}
	return errors.Join(errs...)
}
