package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/parallel"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/maskshard"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/shard"
)

// LandmarkFinder finds the face of a raw photo and its landmarks (the face
// engine implements it). MaskDataset calls Find from several goroutines at
// once, so implementations must be safe for concurrent use. A photo with no
// face returns an error wrapping ErrNoFace.
type LandmarkFinder interface {
	Find(img image.Image) (maskgen.Face, error)
}

// ErrNoFace is what a LandmarkFinder returns, wrapped, for a photo in which
// it finds no face: the face engine's own sentinel.
var ErrNoFace = face.ErrNoFace

// MaskOptions configures MaskDataset.
type MaskOptions struct {
	In, Out string
	// Config chooses the masks: style, colour, seed and, when its Shift is
	// not nil, a fixed shift for the styles that have one.
	Config maskgen.Config
	// Aligned says the images are aligned crops: the mask is placed by
	// maskgen.AlignedFace (the ArcFace template, scaled by height/112 and
	// centred), and Finder is not used.
	Aligned bool
	Finder  LandmarkFinder // required unless Aligned
	// Workers is how many images are masked at once; 0 means
	// runtime.GOMAXPROCS(0).
	Workers  int
	Progress progress.Func // nil: no progress reports
	// Force allows replacing files in Out that no record of ours says we
	// wrote (see folder.ErrForeignFiles); without it the run refuses to start.
	Force bool
	// Shard is the part of the input this run masks (the zero value: the
	// whole set). Every shard of a split writes into the same Out, its own
	// images and its own manifest and journal (maskshard.ManifestName,
	// maskshard.JournalName); maskshard.MergeDir then writes the
	// manifest.json one run over the whole set would have.
	Shard shard.Spec
}

// MaskSummary counts what MaskDataset did.
type MaskSummary struct {
	Images   int      // images found under In
	Masked   int      // masked in this run
	Skipped  int      // already done with the same parameters
	Failed   int      // recorded with an error
	Copied   int      // other files copied verbatim
	Manifest string   // path of manifest.json (of the shard's manifest)
	Notes    []string // things the caller may want to print

	// Unreadable counts the paths under In that could not be read
	// (folders, broken links); each is in Notes.
	Unreadable int
}

// ManifestName is the manifest's file name, at the root of the output
// (maskshard.ManifestName of the whole set).
const ManifestName = "manifest.json"

// manifestVersion is the manifest format's version.
const manifestVersion = 1

// maskTool is the manifest's and the journal's "tool".
const maskTool = "maskinv mask"

// MaskManifest is manifest.json: the run's settings and one record per
// image, sorted by key. It holds no times or durations, so that a resumed
// run writes the same bytes as an uninterrupted one.
type MaskManifest struct {
	Tool      string         `json:"tool"`
	Version   int            `json:"version"`
	Algorithm string         `json:"algorithm"`
	Style     string         `json:"style"`
	Color     string         `json:"color"`
	Seed      uint64         `json:"seed"`
	Shift     *maskgen.Shift `json:"shift,omitempty"`
	Aligned   bool           `json:"aligned"`
	Images    []MaskRecord   `json:"images"`
	// Copies are the other files, copied verbatim, sorted by path.
	Copies []CopyRecord `json:"copies,omitempty"`
}

// CopyRecord is a file of the input copied as it is to Path (slash path
// under both folders), with the SHA-256 of its bytes.
type CopyRecord struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// ReadMaskManifestFile reads the manifest.json that MaskDataset wrote in
// the folder out.
func ReadMaskManifestFile(out string) (*MaskManifest, error) {
	name := filepath.Join(out, ManifestName)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadMaskManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// MaskRecord is one image of the manifest. Key is the image's path under
// the input folder, slash-separated: the random choices derive from (seed,
// key). Output is the masked copy's path under the output folder (empty on
// error). Coverage is the share of the image's pixels the mask covers.
// Points5 are the key points used (raw photos only).
type MaskRecord struct {
	Key          string            `json:"key"`
	Source       string            `json:"source"`
	SourceSHA256 string            `json:"source_sha256,omitempty"`
	Output       string            `json:"output,omitempty"`
	OutputSHA256 string            `json:"output_sha256,omitempty"`
	Style        string            `json:"style"`
	Color        string            `json:"color"`
	Seed         uint64            `json:"seed"`
	Params       maskgen.Params    `json:"params"`
	Points5      *[5]maskgen.Point `json:"points5,omitempty"`
	Coverage     float64           `json:"coverage"`
	Error        string            `json:"error,omitempty"`
}

// ReadMaskManifest parses and checks a manifest.
func ReadMaskManifest(r io.Reader) (*MaskManifest, error) {
	var m MaskManifest
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("manifest: format version %d, want %d", m.Version, manifestVersion)
	}
	seen := make(map[string]bool, len(m.Images))
	for i, rec := range m.Images {
		if err := checkMaskRecord(rec); err != nil {
			return nil, fmt.Errorf("manifest: image %d: %w", i, err)
		}
		if seen[rec.Key] {
			return nil, fmt.Errorf("manifest: key %q twice", rec.Key)
		}
		seen[rec.Key] = true
	}
	copied := make(map[string]bool, len(m.Copies))
	for i, c := range m.Copies {
		if !validKey(c.Path) || copied[c.Path] {
			return nil, fmt.Errorf("manifest: copy %d: bad or repeated path %q", i, c.Path)
		}
		copied[c.Path] = true
	}
	return &m, nil
}

// checkMaskRecord refuses keys and output paths that leave their folder.
func checkMaskRecord(rec MaskRecord) error {
	if !validKey(rec.Key) {
		return fmt.Errorf("bad key %q", rec.Key)
	}
	if rec.Output != "" && !validKey(rec.Output) {
		return fmt.Errorf("%s: bad output path %q", rec.Key, rec.Output)
	}
	return nil
}

// validKey accepts clean, relative, slash-separated paths that stay inside
// their folder.
func validKey(k string) bool {
	return k != "" && k != "." && fs.ValidPath(k) && !strings.Contains(k, "\\")
}

// MaskDataset writes a masked copy of the images under opt.In to opt.Out,
// mirroring the folder tree, with manifest.json at its root. Inputs are
// never modified; each output file is written atomically (a temporary file
// renamed into place). It never replaces a file in opt.Out that its own
// records (manifest.json, the journal) do not say it wrote, byte for byte:
// it refuses to start, naming them (folder.ErrForeignFiles), unless opt.Force.
// Each image done is appended to the journal (JournalName) before its
// file is renamed into place, so a rerun after a kill, a crash or a
// cancellation skips what was done with the same parameters and source
// and finishes the rest: the result is the same as an uninterrupted run.
// PNG images are written as PNG; JPEG images as JPEG at quality 95,
// keeping their names (the encoders are deterministic, so outputs are
// byte-identical between runs). Other files are copied as they are (except
// a manifest.json at the input's root). Bad images (unreadable, no face,
// unwritable output) are recorded with their error and the run goes on.
// When every image has been tried, manifest.json is written and the
// journal removed; cancelling ctx stops after the images in progress and
// leaves the journal for the rerun. A shard (opt.Shard) does the same for
// its own images and other files, with its own manifest and journal.
func MaskDataset(ctx context.Context, opt MaskOptions) (MaskSummary, error) {
	if opt.Shard == (shard.Spec{}) {
		opt.Shard = shard.Whole
	}
	sum := MaskSummary{Manifest: filepath.Join(opt.Out, maskshard.ManifestName(opt.Shard))}
	if err := opt.Shard.Check(); err != nil {
		return sum, err
	}
	if !opt.Aligned && opt.Finder == nil {
		return sum, errors.New("raw photos need a landmark finder (the face engine); use --aligned for aligned crops")
	}
	if err := opt.Config.Validate(); err != nil {
		return sum, err
	}
	if err := folder.CheckDisjoint(opt.In, opt.Out); err != nil {
		return sum, err
	}
	scan, err := folder.ScanAvoiding(opt.In, opt.Out)
	if err != nil {
		return sum, err
	}
	images := opt.Shard.Filter(scan.Images)
	sum.Images = len(images)
	for _, s := range scan.Skipped {
		sum.Notes = append(sum.Notes, "skipped "+s.String())
		if !errors.Is(s.Err, folder.ErrLinkNotFollowed) {
			sum.Unreadable++
		}
	}
	// The manifest at the input's root is an earlier run's, not data.
	others := slices.DeleteFunc(scan.Others, func(k string) bool { return k == ManifestName || !opt.Shard.Has(k) })
	run := &maskRun{opt: opt, images: images, others: others, records: make([]*MaskRecord, len(images))}
	run.man = MaskManifest{
		Tool: maskTool, Version: manifestVersion, Algorithm: maskgen.Algorithm,
		Style: opt.Config.Style.String(), Color: opt.Config.Color.String(),
		Seed: opt.Config.Seed, Shift: opt.Config.Shift, Aligned: opt.Aligned,
	}
	if err := run.prepare(&sum); err != nil {
		return sum, err
	}
	run.copyOthers(&sum)
	runErr := run.process(ctx)
	if err := run.finish(runErr); err != nil {
		return sum, errors.Join(runErr, err)
	}
	for _, rec := range run.records {
		switch {
		case rec == nil:
		case rec.Error != "":
			sum.Failed++
		case run.skipped[rec.Key]:
			sum.Skipped++
		default:
			sum.Masked++
		}
	}
	return sum, runErr
}

// maskRun is one MaskDataset call.
type maskRun struct {
	opt            MaskOptions
	images, others []string // keys, sorted
	man            MaskManifest
	state          *maskState
	// existing maps each output path that exists to the SHA-256 of its
	// bytes ("" when it is not a readable regular file).
	existing map[string]string
	journal  *journalWriter
	copies   []CopyRecord
	mu       sync.Mutex
	records  []*MaskRecord // per image, nil until done
	skipped  map[string]bool
}

// prepare reads what earlier runs left in the output folder, refuses to
// go on when a file it would write there is not theirs, and opens the
// journal. Nothing is written before it returns.
func (r *maskRun) prepare(sum *MaskSummary) error {
	st, err := loadMaskState(r.opt, r.man)
	if err != nil {
		return err
	}
	r.state = st
	sum.Notes = append(sum.Notes, st.notes...)
	targets := append(slices.Clone(r.images), r.others...)
	r.existing = hashFiles(r.opt.Out, targets)
	if err := folder.Refuse(r.opt.Out, targets, r.owns); err != nil {
		var fe *folder.ForeignFilesError
		if !r.opt.Force || !errors.As(err, &fe) {
			return err
		}
		sum.Notes = append(sum.Notes, fmt.Sprintf("--force: replacing %d files maskinv did not write (%s)", len(fe.Paths), fe.List()))
	}
	if err := os.MkdirAll(r.opt.Out, 0o755); err != nil {
		return err
	}
	r.journal, err = openJournal(filepath.Join(r.opt.Out, maskshard.JournalName(r.opt.Shard)), st.valid, r.man)
	return err
}

// owns reports whether the file at output path rel is ours: a version our
// records say we wrote, or, for a copied file, the same bytes as its
// source (nothing would be replaced).
func (r *maskRun) owns(rel string) bool {
	sum := r.existing[rel]
	if sum == "" {
		return false
	}
	if r.state.owned[rel][sum] {
		return true
	}
	if folder.IsImage(rel) {
		return false
	}
	src, err := os.ReadFile(filepath.Join(r.opt.In, filepath.FromSlash(rel)))
	return err == nil && sha256Hex(src) == sum
}

// hashFiles maps each of rels (slash paths under dir) that exists to the
// SHA-256 of its bytes, or to "" when it is not a readable regular file.
func hashFiles(dir string, rels []string) map[string]string {
	sums := make([]string, len(rels))
	found := make([]bool, len(rels))
	parallel.For(len(rels), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			name := filepath.Join(dir, filepath.FromSlash(rels[i]))
			st, err := os.Lstat(name)
			if err != nil {
				continue
			}
			found[i] = true
			if st.Mode().IsRegular() {
				if b, err := os.ReadFile(name); err == nil {
					sums[i] = sha256Hex(b)
				}
			}
		}
	})
	m := map[string]string{}
	for i, rel := range rels {
		if found[i] {
			m[rel] = sums[i]
		}
	}
	return m
}

// copyOthers copies the files that are not images, unless the output
// already holds the same bytes.
func (r *maskRun) copyOthers(sum *MaskSummary) {
	for _, key := range r.others {
		rec, err := r.copyOne(key)
		if err != nil {
			sum.Notes = append(sum.Notes, fmt.Sprintf("not copied: %v", err))
			continue
		}
		r.copies = append(r.copies, rec)
		sum.Copied++
	}
}

func (r *maskRun) copyOne(key string) (CopyRecord, error) {
	data, err := os.ReadFile(filepath.Join(r.opt.In, filepath.FromSlash(key)))
	if err != nil {
		return CopyRecord{}, err
	}
	rec := CopyRecord{Path: key, SHA256: sha256Hex(data)}
	if r.existing[key] == rec.SHA256 {
		return rec, nil
	}
	if err := r.journal.append(journalLine{Copy: &rec}); err != nil {
		return rec, err
	}
	dst := filepath.Join(r.opt.Out, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return rec, err
	}
	return rec, imageio.WriteFile(dst, data)
}

// process masks every image on opt.Workers goroutines; cancelling ctx
// stops it after the images in progress.
func (r *maskRun) process(ctx context.Context) error {
	report := r.opt.Progress
	if report == nil {
		report = progress.Nop
	}
	r.skipped = map[string]bool{}
	done := 0
	report(0, len(r.images))
	return parallel.Each(ctx, len(r.images), r.opt.Workers, func(i int) {
		rec, skipped := r.one(r.images[i])
		r.mu.Lock()
		defer r.mu.Unlock()
		r.records[i] = &rec
		if skipped {
			r.skipped[rec.Key] = true
		}
		done++
		report(done, len(r.images))
	})
}

// finish closes the journal and, when every image was tried (runErr is
// nil), writes the (shard's) manifest, removes the journal and what interrupted
// writes of earlier runs left. After a cancellation the journal stays, for
// the rerun; the manifest of the last finished run is left as it was.
func (r *maskRun) finish(runErr error) error {
	if err := r.journal.close(); err != nil || runErr != nil {
		return err
	}
	b, err := r.manifestBytes()
	if err != nil {
		return err
	}
	manifest := maskshard.ManifestName(r.opt.Shard)
	if err := imageio.WriteFile(filepath.Join(r.opt.Out, manifest), b); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(r.opt.Out, maskshard.JournalName(r.opt.Shard))); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	removeStaleTemps(r.opt.Out, append(append(slices.Clone(r.images), r.others...), manifest))
	return nil
}

// manifestBytes renders the records; the workers have stopped.
func (r *maskRun) manifestBytes() ([]byte, error) {
	m := r.man
	m.Images = []MaskRecord{}
	for _, rec := range r.records {
		if rec != nil {
			m.Images = append(m.Images, *rec)
		}
	}
	m.Copies = r.copies
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// staleTemp matches the temporary files of imageio.WriteAtomic, "." +
// base + "." + random digits + ".tmp", which a kill can leave behind.
var staleTemp = regexp.MustCompile(`^\.(.+)\.[0-9]+\.tmp$`)

// removeStaleTemps removes the temporary files of interrupted writes of
// the files rels (slash paths under out), so that a resumed run leaves the
// same folder as an uninterrupted one.
func removeStaleTemps(out string, rels []string) {
	bases := map[string]map[string]bool{}
	for _, rel := range rels {
		d, b := path.Split(rel)
		if bases[d] == nil {
			bases[d] = map[string]bool{}
		}
		bases[d][b] = true
	}
	for d, names := range bases {
		dir := filepath.Join(out, filepath.FromSlash(d))
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if m := staleTemp.FindStringSubmatch(e.Name()); m != nil && names[m[1]] && e.Type().IsRegular() {
				_ = os.Remove(filepath.Join(dir, e.Name())) // best effort: a leftover is harmless
			}
		}
	}
}

// one masks the image called key, or finds it done already.
func (r *maskRun) one(key string) (rec MaskRecord, skipped bool) {
	cfg := r.opt.Config
	p := cfg.Choose(key)
	rec = MaskRecord{
		Key: key, Source: key, Style: p.Style, Color: p.Color.String(),
		Seed: cfg.Seed, Params: p,
	}
	fail := func(err error) (MaskRecord, bool) {
		rec.Error = err.Error()
		return rec, false
	}
	srcPath := filepath.Join(r.opt.In, filepath.FromSlash(key))
	data, err := os.ReadFile(srcPath)
	if err != nil {
		return fail(err)
	}
	rec.SourceSHA256 = sha256Hex(data)
	if out := r.existing[key]; out != "" {
		for _, old := range r.state.prev[key] {
			if old.Params == p && old.SourceSHA256 == rec.SourceSHA256 && old.Output == key && old.OutputSHA256 == out {
				return old, true
			}
		}
	}
	img, err := imageio.DecodeReader(bytes.NewReader(data), srcPath)
	if err != nil {
		return fail(err)
	}
	res, err := r.mask(img, key, &rec)
	if err != nil {
		return fail(err)
	}
	var buf bytes.Buffer
	switch strings.ToLower(path.Ext(key)) {
	case ".png":
		err = png.Encode(&buf, res.Image)
	default:
		err = jpeg.Encode(&buf, res.Image, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		return fail(err)
	}
	outPath := filepath.Join(r.opt.Out, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return fail(err)
	}
	done := rec
	done.Output, done.OutputSHA256, done.Coverage = key, sha256Hex(buf.Bytes()), res.CoveredFraction()
	// Journalled before the file is renamed into place: after a kill in
	// between, the file there is the one an earlier record vouches for,
	// and a rerun, finding the new one missing, redoes the image.
	if err := r.journal.append(journalLine{Image: &done}); err != nil {
		return fail(err)
	}
	if err := imageio.WriteFile(outPath, buf.Bytes()); err != nil {
		return fail(err)
	}
	return done, false
}

// mask masks a copy of img, the image called key: an aligned crop on the
// template, a photo on the face the finder locates (whose key points it
// records in rec).
func (r *maskRun) mask(img image.Image, key string, rec *MaskRecord) (maskgen.Result, error) {
	if r.opt.Aligned {
		return r.opt.Config.ApplyAligned(img, key)
	}
	f, err := r.opt.Finder.Find(img)
	if err != nil {
		return maskgen.Result{}, err
	}
	pts := f.Points5
	rec.Points5 = &pts
	return r.opt.Config.Apply(img, f, key)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
