package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/internal/appendlog"
	"github.com/maskinv/workbench/maskshard"
)

// JournalName is the journal of a mask run over the whole set
// (maskshard.JournalName of it), next to manifest.json: one
// JSON object per line, appended as the run goes, so that a run killed at
// any point (kill -9, power cut) keeps what it finished. A finished run
// folds it into manifest.json and removes it.
const JournalName = ".maskinv-journal.jsonl"

// journalLine is one line of the journal: exactly one of a run's settings
// (Run, the first line each run appends, without records), an image done
// (Image), or a file copied (Copy). Records belong to the run above them.
type journalLine struct {
	Run   *MaskManifest `json:"run,omitempty"`
	Image *MaskRecord   `json:"image,omitempty"`
	Copy  *CopyRecord   `json:"copy,omitempty"`
}

// maxJournalLine bounds a journal line; a record is well under 2 KB.
const maxJournalLine = 64 << 10

// errJournal marks a journal that is damaged other than by a torn last
// line.
var errJournal = errors.New("damaged journal")

// readMaskJournal parses a journal into its runs, in order: each has the
// run's settings, and its records in Images and Copies in the order they
// were appended (a key may come back, retried). A last line without a
// newline that does not parse is a write torn by a kill or a crash: it is
// dropped and torn says so. Any other bad line is an error naming the line.
// valid is the length of the whole lines read, where appending resumes.
func readMaskJournal(r io.Reader) (runs []MaskManifest, valid int64, torn bool, err error) {
	br := bufio.NewReaderSize(r, maxJournalLine)
	for n := 1; ; n++ {
		line, rerr := br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			return nil, 0, false, fmt.Errorf("%w: line %d is longer than %d bytes", errJournal, n, br.Size())
		}
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, 0, false, rerr
		}
		if len(line) == 0 {
			return runs, valid, false, nil
		}
		last := rerr != nil // no newline: the file ends inside this line
		if err := addJournalLine(&runs, line); err != nil {
			if last {
				return runs, valid, true, nil
			}
			return nil, 0, false, fmt.Errorf("%w: line %d: %v", errJournal, n, err)
		}
		valid += int64(len(line))
		if last {
			return runs, valid, false, nil
		}
	}
}

// addJournalLine checks one line and adds it to runs.
func addJournalLine(runs *[]MaskManifest, line []byte) error {
	var l journalLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	n := 0
	for _, set := range []bool{l.Run != nil, l.Image != nil, l.Copy != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New(`want exactly one of "run", "image" and "copy"`)
	}
	switch {
	case l.Run != nil:
		if l.Run.Tool != maskTool || l.Run.Version != manifestVersion || len(l.Run.Images) > 0 || len(l.Run.Copies) > 0 {
			return fmt.Errorf("run header of %q version %d with records, want %q version %d without", l.Run.Tool, l.Run.Version, maskTool, manifestVersion)
		}
		*runs = append(*runs, *l.Run)
		return nil
	case len(*runs) == 0:
		return errors.New("a record before any run header")
	}
	run := &(*runs)[len(*runs)-1]
	if l.Image != nil {
		if err := checkMaskRecord(*l.Image); err != nil {
			return err
		}
		run.Images = append(run.Images, *l.Image)
		return nil
	}
	if !validKey(l.Copy.Path) || len(l.Copy.SHA256) != 64 {
		return fmt.Errorf("bad copy record %+v", *l.Copy)
	}
	run.Copies = append(run.Copies, *l.Copy)
	return nil
}

// Journal syncs: after this many records, or this long after the last
// sync, whichever comes first (see internal/appendlog).
const (
	journalSyncEvery    = 32
	journalSyncInterval = time.Second
)

// journalWriter appends lines to the journal; safe for concurrent use.
type journalWriter struct{ log *appendlog.Log }

// openJournal opens the journal called name for appending after its first
// valid bytes (what a torn last line left is cut off) and writes run's
// header line.
func openJournal(name string, valid int64, run MaskManifest) (*journalWriter, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	log, err := appendlog.New(f, valid, journalSyncEvery, journalSyncInterval)
	if err != nil {
		f.Close()
		return nil, err
	}
	j := &journalWriter{log: log}
	run.Images, run.Copies = nil, nil
	if err := j.append(journalLine{Run: &run}); err != nil {
		log.Close()
		return nil, err
	}
	return j, nil
}

// append writes one line with a single write, so that a kill leaves whole
// lines (or, at worst, a torn last one).
func (j *journalWriter) append(l journalLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = j.log.Append(append(b, '\n'))
	return err
}

// close syncs and closes the journal.
func (j *journalWriter) close() error { return j.log.Close() }

// maskState is what an output folder says of earlier runs: its manifest
// and journal.
type maskState struct {
	// prev holds, per key, the error-free records of runs with this run's
	// algorithm and input mode: candidates for skipping.
	prev map[string][]MaskRecord
	// owned holds, per output path, the SHA-256 of every version our
	// records say we wrote there.
	owned map[string]map[string]bool
	valid int64 // journal bytes to keep
	notes []string
}

// loadMaskState reads the manifest and the journal of opt.Out (the
// shard's own, for a shard), and, for a shard, also manifest.json: a
// merged or whole run's, whose files the shard may find in its way. A
// manifest that is not ours, or a damaged journal, is an error (it names
// the file) unless opt.Force, which ignores them.
func loadMaskState(opt MaskOptions, cur MaskManifest) (*maskState, error) {
	st := &maskState{prev: map[string][]MaskRecord{}, owned: map[string]map[string]bool{}}
	var runs []MaskManifest
	manifests := []string{maskshard.ManifestName(opt.Shard)}
	if !opt.Shard.IsWhole() {
		manifests = append(manifests, ManifestName)
	}
	for _, name := range manifests {
		manPath := filepath.Join(opt.Out, name)
		m, err := readManifestFile(manPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil && opt.Force:
			verb := "replacing"
			if name != maskshard.ManifestName(opt.Shard) {
				verb = "ignoring" // a shard does not write it; merge does
			}
			st.notes = append(st.notes, fmt.Sprintf("%s %s, not a manifest of ours (%v) (--force)", verb, manPath, err))
		case err != nil:
			return nil, fmt.Errorf("%s is not a manifest of %s (%v): %w", manPath, maskTool, err, folder.ErrForeignFiles)
		default:
			runs = append(runs, *m)
		}
	}
	jr, err := st.readJournal(filepath.Join(opt.Out, maskshard.JournalName(opt.Shard)), opt.Force)
	if err != nil {
		return nil, err
	}
	for _, run := range append(runs, jr...) {
		st.add(run, cur)
	}
	return st, nil
}

// readJournal reads the journal jPath, if there is one, and notes where
// appending resumes.
func (st *maskState) readJournal(jPath string, force bool) ([]MaskManifest, error) {
	f, err := os.Open(jPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	jr, valid, torn, jerr := readMaskJournal(f)
	f.Close()
	switch {
	case jerr != nil && force:
		st.notes = append(st.notes, fmt.Sprintf("starting %s afresh: %v (--force)", jPath, jerr))
		return nil, nil
	case jerr != nil:
		return nil, fmt.Errorf("%s: %w; remove it to start over, or use --force", jPath, jerr)
	case torn:
		st.notes = append(st.notes, fmt.Sprintf("%s: dropped a torn last line (an interrupted write); its image is redone", jPath))
	}
	st.valid = valid
	return jr, nil
}

func (st *maskState) add(run, cur MaskManifest) {
	own := func(p, sum string) {
		if st.owned[p] == nil {
			st.owned[p] = map[string]bool{}
		}
		st.owned[p][sum] = true
	}
	for _, rec := range run.Images {
		if rec.Output != "" && rec.OutputSHA256 != "" {
			own(rec.Output, rec.OutputSHA256)
		}
		if rec.Error == "" && run.Algorithm == cur.Algorithm && run.Aligned == cur.Aligned {
			st.prev[rec.Key] = append(st.prev[rec.Key], rec)
		}
	}
	for _, c := range run.Copies {
		own(c.Path, c.SHA256)
	}
}

func readManifestFile(name string) (*MaskManifest, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadMaskManifest(f)
	if err == nil && m.Tool != maskTool {
		err = fmt.Errorf("written by %q", m.Tool)
	}
	return m, err
}
