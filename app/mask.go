package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/progress"
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

// ErrNestedDirs reports an output folder inside the input tree, or the
// other way round: outputs could then overwrite inputs.
var ErrNestedDirs = errors.New("input and output folders overlap")

// MaskOptions configures MaskDataset.
type MaskOptions struct {
	In, Out string
	Config  maskgen.Config // style, colour, seed
	// Shift, when not nil, replaces the paper style's random shift of
	// every mask (other styles have no shift and ignore it).
	Shift *MaskShift
	// Aligned says the images are aligned crops: the mask is placed by
	// maskgen.AlignedFace (the ArcFace template, scaled by height/112 and
	// centred), and Finder is not used.
	Aligned bool
	Finder  LandmarkFinder // required unless Aligned
	// Workers is how many images are masked at once; 0 means
	// runtime.GOMAXPROCS(0).
	Workers  int
	Progress progress.Func // nil: no progress reports
}

// MaskSummary counts what MaskDataset did.
type MaskSummary struct {
	Images   int      // images found under In
	Masked   int      // masked in this run
	Skipped  int      // already done with the same parameters
	Failed   int      // recorded with an error
	Copied   int      // other files copied verbatim
	Manifest string   // path of manifest.json
	Notes    []string // things the caller may want to print
}

// ManifestName is the manifest's file name, at the root of the output.
const ManifestName = "manifest.json"

// manifestVersion is the manifest format's version.
const manifestVersion = 1

// MaskManifest is manifest.json: the run's settings and one record per
// image, sorted by key. It holds no times or durations, so that a resumed
// run writes the same bytes as an uninterrupted one.
type MaskManifest struct {
	Tool      string       `json:"tool"`
	Version   int          `json:"version"`
	Algorithm string       `json:"algorithm"`
	Style     string       `json:"style"`
	Color     string       `json:"color"`
	Seed      uint64       `json:"seed"`
	Shift     *MaskShift   `json:"shift,omitempty"`
	Aligned   bool         `json:"aligned"`
	Images    []MaskRecord `json:"images"`
}

// MaskShift is a fixed shift of the paper style's template key points, in
// template pixels (12 per pixel of a 112×112 aligned crop; a positive Y
// moves the mask up), instead of the protocol's random shift (X in
// [−10, 10), Y in [−40, 40)). See maskgen.Params.
type MaskShift struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// MaxMaskShift bounds a fixed shift on either axis: 240 template pixels
// are 20 pixels of an aligned crop.
const MaxMaskShift = 240

// ErrMaskShift reports a fixed shift out of range.
var ErrMaskShift = errors.New("mask shift out of range")

func (s *MaskShift) check() error {
	if s != nil && (s.X < -MaxMaskShift || s.X > MaxMaskShift || s.Y < -MaxMaskShift || s.Y > MaxMaskShift) {
		return fmt.Errorf("%w: (%d, %d), want each within ±%d template pixels", ErrMaskShift, s.X, s.Y, MaxMaskShift)
	}
	return nil
}

// String is "random" for nil, else "X,Y" (what ParseMaskShift reads).
func (s *MaskShift) String() string {
	if s == nil {
		return "random"
	}
	return fmt.Sprintf("%d,%d", s.X, s.Y)
}

// maskFlags are the synthetic-mask flags that mask, compare and train share.
// mask names them --style/--color; the others, which have other styles and
// colours to talk about, --mask-style/--mask-color.
type maskFlags struct {
	style, color, shift  *string
	seed                 *uint64
	styleFlag, colorFlag string
}

// addMaskFlags defines the flags; withShift adds --shift (a fixed paper
// shift), which training does not offer.
func addMaskFlags(fs *flag.FlagSet, prefix, seedHelp string, withShift bool) maskFlags {
	m := maskFlags{styleFlag: prefix + "style", colorFlag: prefix + "color"}
	m.style = fs.String(m.styleFlag, "paper", "mask style: "+strings.Join(maskgen.Styles(), ", ")+", random, or mix:NAME=W,... (e.g. mix:surgical=0.5,n95=0.3,cloth=0.2)")
	m.color = fs.String(m.colorFlag, "auto", "mask colour: auto (each style's own), random, a name ("+strings.Join(maskgen.ColorNames(), ", ")+") or #RRGGBB")
	m.seed = fs.Uint64("seed", 0, seedHelp)
	if withShift {
		m.shift = fs.String("shift", "random", "paper style: X,Y fixed shift of the template in template pixels (12 per aligned-crop pixel; +Y moves the mask up), or random (the protocol's)")
	}
	return m
}

// config parses the flags' values; errors are usage errors naming the flag.
func (m maskFlags) config() (maskgen.Config, *MaskShift, error) {
	spec, err := maskgen.ParseStyle(*m.style)
	if err != nil {
		return maskgen.Config{}, nil, usageError("--%s: %v", m.styleFlag, err)
	}
	cs, err := maskgen.ParseColor(*m.color)
	if err != nil {
		return maskgen.Config{}, nil, usageError("--%s: %v", m.colorFlag, err)
	}
	var sh *MaskShift
	if m.shift != nil {
		if sh, err = ParseMaskShift(*m.shift); err != nil {
			return maskgen.Config{}, nil, usageError("--shift: %v", err)
		}
	}
	return maskgen.Config{Style: spec, Color: cs, Seed: *m.seed}, sh, nil
}

// ParseMaskShift reads "X,Y" (template pixels); "" and "random" give nil,
// the protocol's random shift.
func ParseMaskShift(v string) (*MaskShift, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "random" {
		return nil, nil
	}
	xs, ys, ok := strings.Cut(v, ",")
	x, errx := strconv.Atoi(strings.TrimSpace(xs))
	y, erry := strconv.Atoi(strings.TrimSpace(ys))
	if !ok || errx != nil || erry != nil {
		return nil, fmt.Errorf("%w: %q is not X,Y in template pixels", ErrMaskShift, v)
	}
	s := &MaskShift{X: x, Y: y}
	return s, s.check()
}

// MaskParams is cfg's choices for the image called key, with the paper
// style's random shift replaced by shift when shift is not nil. Every
// masked image of the app (datasets, comparisons, the GUI's preview) is
// drawn from it.
func MaskParams(cfg maskgen.Config, shift *MaskShift, key string) maskgen.Params {
	p := cfg.Choose(key)
	if shift != nil && p.Style == "paper" {
		p.ShiftX, p.ShiftY = shift.X, shift.Y
	}
	return p
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
		if !validKey(rec.Key) {
			return nil, fmt.Errorf("manifest: image %d: bad key %q", i, rec.Key)
		}
		if seen[rec.Key] {
			return nil, fmt.Errorf("manifest: key %q twice", rec.Key)
		}
		seen[rec.Key] = true
		if rec.Output != "" && !validKey(rec.Output) {
			return nil, fmt.Errorf("manifest: %s: bad output path %q", rec.Key, rec.Output)
		}
	}
	return &m, nil
}

// validKey accepts clean, relative, slash-separated paths that stay inside
// their folder.
func validKey(k string) bool {
	return k != "" && k != "." && fs.ValidPath(k) && !strings.Contains(k, "\\")
}

// imageExts are the extensions masked; everything else is copied.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// MaskDataset writes a masked copy of the images under opt.In to opt.Out,
// mirroring the folder tree, with manifest.json at its root. Inputs are
// never modified; each output file is written atomically (a temporary file
// renamed into place). A rerun skips images already done with the same
// parameters and source, and finishes the rest: the result is the same as
// an uninterrupted run. PNG images are written as PNG; JPEG images as JPEG
// at quality 95, keeping their names (the encoders are deterministic, so
// outputs are byte-identical between runs). Other files are copied as they
// are (except a manifest.json at the input's root). Bad images (unreadable,
// no face, unwritable output) are recorded with their error and the run
// goes on. Cancelling ctx stops after the images in progress; the manifest
// then records what was done, and a rerun resumes.
func MaskDataset(ctx context.Context, opt MaskOptions) (MaskSummary, error) {
	sum := MaskSummary{Manifest: filepath.Join(opt.Out, ManifestName)}
	if !opt.Aligned && opt.Finder == nil {
		return sum, errors.New("raw photos need a landmark finder (the face engine); use --aligned for aligned crops")
	}
	if err := opt.Shift.check(); err != nil {
		return sum, err
	}
	if err := checkDirs(opt.In, opt.Out); err != nil {
		return sum, err
	}
	images, others, err := scanTree(opt.In)
	if err != nil {
		return sum, err
	}
	sum.Images = len(images)
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return sum, err
	}
	run := &maskRun{opt: opt, images: images, records: make([]*MaskRecord, len(images))}
	run.man = MaskManifest{
		Tool: "maskinv mask", Version: manifestVersion, Algorithm: maskgen.Algorithm,
		Style: opt.Config.Style.String(), Color: opt.Config.Color.String(),
		Seed: opt.Config.Seed, Shift: opt.Shift, Aligned: opt.Aligned,
	}
	run.prev, err = run.previous()
	if err != nil {
		sum.Notes = append(sum.Notes, fmt.Sprintf("ignoring the old manifest (%v): every image is redone", err))
	}
	for _, key := range others {
		if err := copyFile(filepath.Join(opt.In, filepath.FromSlash(key)), filepath.Join(opt.Out, filepath.FromSlash(key))); err != nil {
			sum.Notes = append(sum.Notes, fmt.Sprintf("not copied: %v", err))
			continue
		}
		sum.Copied++
	}
	runErr := run.process(ctx)
	if err := run.writeManifest(); err != nil {
		return sum, err
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
	opt     MaskOptions
	images  []string // keys, sorted
	man     MaskManifest
	prev    map[string]MaskRecord // the last run's records, when its settings match
	mu      sync.Mutex
	records []*MaskRecord // per image, nil until done
	skipped map[string]bool
}

// previous reads the old manifest, if any, and returns its records when it
// was made with the same settings.
func (r *maskRun) previous() (map[string]MaskRecord, error) {
	f, err := os.Open(filepath.Join(r.opt.Out, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	old, err := ReadMaskManifest(f)
	if err != nil {
		return nil, err
	}
	if old.Algorithm != r.man.Algorithm || old.Aligned != r.man.Aligned {
		return nil, nil
	}
	prev := make(map[string]MaskRecord, len(old.Images))
	for _, rec := range old.Images {
		if rec.Error == "" {
			prev[rec.Key] = rec
		}
	}
	return prev, nil
}

func (r *maskRun) process(ctx context.Context) error {
	workers := r.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	report := r.opt.Progress
	if report == nil {
		report = progress.Nop
	}
	r.skipped = map[string]bool{}
	jobs := make(chan int)
	var wg sync.WaitGroup
	done := 0
	lastSave := time.Now()
	report(0, len(r.images))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if ctx.Err() != nil {
					continue // cancelled: drain without work
				}
				rec, skipped := r.one(r.images[i])
				r.mu.Lock()
				r.records[i] = &rec
				if skipped {
					r.skipped[rec.Key] = true
				}
				done++
				// Checkpoint now and then, so that an interrupted run
				// keeps most of its work.
				if time.Since(lastSave) > 2*time.Second {
					lastSave = time.Now()
					if b, err := r.manifestBytes(); err == nil {
						_ = writeAtomic(filepath.Join(r.opt.Out, ManifestName), b)
					}
				}
				report(done, len(r.images))
				r.mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for i := range r.images {
		if err = ctx.Err(); err != nil {
			break
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return err
}

// manifestBytes renders the records done so far; the caller holds r.mu,
// or the workers have stopped.
func (r *maskRun) manifestBytes() ([]byte, error) {
	m := r.man
	m.Images = []MaskRecord{}
	for _, rec := range r.records {
		if rec != nil {
			m.Images = append(m.Images, *rec)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (r *maskRun) writeManifest() error {
	r.mu.Lock()
	b, err := r.manifestBytes()
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(r.opt.Out, ManifestName), b)
}

// one masks the image called key, or finds it done already.
func (r *maskRun) one(key string) (rec MaskRecord, skipped bool) {
	cfg := r.opt.Config
	p := MaskParams(cfg, r.opt.Shift, key)
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
	outPath := filepath.Join(r.opt.Out, filepath.FromSlash(key))
	if old, ok := r.prev[key]; ok && old.Params == p && old.SourceSHA256 == rec.SourceSHA256 && old.Output == key {
		if b, err := os.ReadFile(outPath); err == nil && sha256Hex(b) == old.OutputSHA256 {
			return old, true
		}
	}
	img, err := imageio.DecodeReader(bytes.NewReader(data), srcPath)
	if err != nil {
		return fail(err)
	}
	var face maskgen.Face
	if r.opt.Aligned {
		b := img.Bounds()
		face = maskgen.AlignedFace(b.Dx(), b.Dy())
		for i := range face.Points5 {
			face.Points5[i].X += float64(b.Min.X)
			face.Points5[i].Y += float64(b.Min.Y)
		}
	} else {
		face, err = r.opt.Finder.Find(img)
		if err != nil {
			return fail(err)
		}
		pts := face.Points5
		rec.Points5 = &pts
	}
	res := maskgen.Result{Image: maskgen.ToNRGBA(img), Params: p}
	if res.Coverage, err = maskgen.Render(res.Image, face, p); err != nil {
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
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return fail(err)
	}
	if err := writeAtomic(outPath, buf.Bytes()); err != nil {
		return fail(err)
	}
	rec.Output = key
	rec.OutputSHA256 = sha256Hex(buf.Bytes())
	rec.Coverage = res.CoveredFraction()
	return rec, false
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkDirs refuses a missing input and overlapping folders. Both are
// compared as absolute paths with symbolic links resolved (for an output
// that does not exist yet, as far as it exists).
func checkDirs(in, out string) error {
	if in == "" || out == "" {
		return errors.New("need both an input and an output folder")
	}
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", in)
	}
	inReal, err := realPath(in)
	if err != nil {
		return err
	}
	outReal, err := realPath(out)
	if err != nil {
		return err
	}
	switch {
	case within(outReal, inReal):
		return fmt.Errorf("%w: output %s is inside input %s", ErrNestedDirs, out, in)
	case within(inReal, outReal):
		return fmt.Errorf("%w: input %s is inside output %s", ErrNestedDirs, in, out)
	}
	return nil
}

// realPath is p made absolute with symbolic links resolved, for as much of
// it as exists.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return filepath.Join(abs, rest), nil
		}
		rest = filepath.Join(filepath.Base(abs), rest)
		abs = parent
	}
}

// within reports whether p is parent or below it.
func within(p, parent string) bool {
	rel, err := filepath.Rel(parent, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// scanTree lists the input's regular files as slash-separated keys, sorted:
// images to mask and other files to copy. Hidden files and folders (names
// starting with ".") and a manifest.json at the root are left out; symbolic
// links are not followed.
func scanTree(root string) (images, others []string, err error) {
	images, others, err = scanFS(os.DirFS(root))
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: %w", root, err)
	}
	return images, others, nil
}

// scanFS is scanTree over any file system (the GUI reads the embedded demo
// folder through it too).
func scanFS(src fs.FS) (images, others []string, err error) {
	err = fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		switch {
		case imageExts[strings.ToLower(path.Ext(p))]:
			images = append(images, p)
		case p != ManifestName:
			others = append(others, p)
		}
		return nil
	})
	sort.Strings(images)
	sort.Strings(others)
	return images, others, err
}

// writeAtomic writes data through imageio.WriteAtomic (temp file + rename):
// readers see the old file or the new one, never a part.
func writeAtomic(name string, data []byte) error {
	return imageio.WriteAtomic(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// copyFile copies src to dst atomically, unless dst already holds the same
// bytes.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return writeAtomic(dst, data)
}
