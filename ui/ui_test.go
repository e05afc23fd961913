package ui

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/goldentest"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/modelreg"
)

// iconApp records SetIcon, which fyne's test app discards.
type iconApp struct {
	fyne.App
	icon fyne.Resource
}

var update = flag.Bool("update", false, "rewrite the golden captures in testdata/")

func (a *iconApp) SetIcon(r fyne.Resource) { a.icon = r }

// demo is the demo folder analysed once for the tests that only need a
// comparison to show (the engine is deterministic).
var demo = sync.OnceValues(func() (*compare.Comparison, error) {
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		return nil, err
	}
	teacher := compare.Model{Label: "teacher", Name: modelreg.TeacherName, SHA256: teacherSHA256()}
	return compare.Folder(context.Background(), eng, assets.Demo(), compare.Options{Source: "embedded demo", Model: teacher, Threshold: eng.Threshold})
})

// demoWorkbench is a main window showing the analysed demo folder.
func demoWorkbench(t testing.TB) (fyne.Window, *Workbench) {
	t.Helper()
	c, err := demo()
	if err != nil {
		t.Fatal(err)
	}
	w, wb := newMainWindow(test.NewTempApp(t))
	t.Cleanup(w.Close)
	wb.src, wb.srcName = assets.Demo(), "embedded demo"
	wb.setComparisons(map[string]*compare.Comparison{teacherSHA256(): c})
	wb.status.SetText("Ready.")
	return w, wb
}

// serialize makes wb's calls to the UI goroutine take a lock and returns a
// function that runs f under the same lock. Fyne's test driver runs
// fyne.Do on the calling goroutine, so without it a job finishing while a
// test taps a button would touch widgets from two goroutines at once,
// which the real driver never does.
func serialize(wb *Workbench) (ui func(f func())) {
	var mu sync.Mutex
	ui = func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	wb.do, wb.doAndWait = ui, ui
	return ui
}

// wait blocks until ch is closed or fails the test after a minute.
func wait(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not finish within a minute", what)
	}
}

// jobWaiter returns a channel closed when the next job ends, and where its
// error will be.
func jobWaiter(wb *Workbench) (<-chan struct{}, *error) {
	done := make(chan struct{})
	var jobErr error
	wb.jobDone = func(name string, err error) {
		jobErr = err
		wb.jobDone = nil
		close(done)
	}
	return done, &jobErr
}

// The main window is checked against goldens in testdata/ (markup for
// structure, PNG for looks, both with fyne's test theme), after the demo
// folder has been analysed in the background exactly as at start-up. On a
// mismatch fyne writes what it got to testdata/failed/; after a deliberate
// change, review that file and copy it over the golden.
func TestMainWindowGolden(t *testing.T) {
	a := &iconApp{App: test.NewTempApp(t)}
	w, wb := newMainWindow(a)
	defer w.Close()

	if got := w.Title(); got != Title {
		t.Errorf("title %q, want %q", got, Title)
	}
	if a.icon == nil || !bytes.Equal(a.icon.Content(), assets.Icon()) {
		t.Error("the app icon is not the embedded icon")
	}
	ui := serialize(wb)
	done, jobErr := jobWaiter(wb)
	ui(wb.openDemo)
	wait(t, done, "the demo analysis")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	if wb.cmp == nil || wb.cmp.N() != 12 || !strings.Contains(wb.status.Text, "Analysed in") {
		t.Fatalf("after the demo analysis: comparison %v, status %q", wb.cmp, wb.status.Text)
	}
	if !wb.bar.Hidden || !wb.cancelBt.Hidden {
		t.Error("progress bar and Cancel must hide when the job ends")
	}
	wb.status.SetText("Ready.") // the real text holds a timing
	test.AssertRendersToMarkup(t, "main_window.xml", w.Canvas())
	assertCapture(t, "main_window.png", w.Canvas())
}

func TestMaskPanelGolden(t *testing.T) {
	w, wb := demoWorkbench(t)
	wb.tabs.SelectIndex(2)
	wb.selectRow(6)
	mp := wb.maskPanel
	mp.style.SetSelected("surgical")
	mp.color.SetSelected("navy")
	mp.seed.SetText("7")
	if wb.mask.Style.String() != "surgical" || wb.mask.Seed != 7 || wb.mask.Color.Mode != maskgen.ColorFixed {
		t.Fatalf("panel settings %s", wb.mask)
	}
	if mp.apply.Disabled() {
		t.Error("Apply must be enabled when the settings differ from the comparison's")
	}
	want, err := wb.mask.ApplyAligned(wb.cmp.Row(6).Aligned, wb.cmp.Row(6).Key)
	if err != nil {
		t.Fatal(err)
	}
	if got := mp.after.Image.(*image.NRGBA); !bytes.Equal(got.Pix, want.Image.Pix) {
		t.Error("the preview is not the selected face masked with the panel's settings")
	}
	assertCapture(t, "mask_panel.png", w.Canvas())

	// A fixed shift moves the paper mask; the sliders follow the check.
	mp.style.SetSelected("paper")
	test.Tap(mp.fixed)
	mp.shiftY.SetValue(96)
	if wb.mask.Shift == nil || *wb.mask.Shift != (maskgen.Shift{X: 0, Y: 96}) || mp.shiftY.Disabled() {
		t.Errorf("shift %v, slider disabled %v", wb.mask.Shift, mp.shiftY.Disabled())
	}
	if p := wb.mask.Choose(wb.cmp.Row(6).Key); p.ShiftY != 96 {
		t.Errorf("params %+v", p)
	}
}

func TestPairInspectorGolden(t *testing.T) {
	w, wb := demoWorkbench(t)
	h := wb.heatmaps[1] // unmasked vs masked
	if got := h.hm.Scores.N; got != 12 || len(wb.cmp.Flips) == 0 {
		t.Fatalf("heatmap of %d rows, %d flips", got, len(wb.cmp.Flips))
	}
	f := wb.cmp.Flips[0] // the inspector of a pair that masks flip
	i, j := int(f.A), int(f.B)
	test.TapAt(h, cellCentre(h, i, j))
	over := w.Canvas().Overlays().Top()
	if over == nil {
		t.Fatal("tapping a cell opened no inspector")
	}
	assertCapture(t, "pair_inspector.png", w.Canvas())
	p := wb.cmp.Pair(i, j)
	if !p.Known || !p.Rows()[1].Flipped || p.A.Key != wb.cmp.Row(i).Key || p.B.Key != wb.cmp.Row(j).Key {
		t.Errorf("pair %+v", p)
	}
}

// assertCapture compares what c renders with testdata/name, like fyne's
// test.AssertRendersToImage but with goldentest's tolerance: the heatmaps
// and scores come from the face engine, whose kernels differ between CPUs
// in the last bits.
func assertCapture(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	goldentest.Assert(t, name, imageio.ToNRGBA(c.Capture()), *update)
}

// cellCentre is the position of cell (i, j)'s centre in h.
func cellCentre(h *heatmap, i, j int) fyne.Position {
	o, side := h.square()
	cs := side / float32(h.hm.Scores.N)
	return fyne.NewPos(o.X+(float32(j)+0.5)*cs, o.Y+(float32(i)+0.5)*cs)
}

func TestHeatmapHover(t *testing.T) {
	w, wb := demoWorkbench(t)
	h := wb.heatmaps[2]
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(h)
	test.MoveMouse(w.Canvas(), abs.Add(cellCentre(h, 3, 7)))
	want := wb.cmp.CellText(compare.SettingMM, compare.DiffNone, 3, 7)
	if !h.hover.on || h.hover.i != 3 || h.hover.j != 7 {
		t.Fatalf("hover %+v, want cell (3, 7)", h.hover)
	}
	r := test.WidgetRenderer(h).(*heatmapRenderer)
	if r.tipText.Text != want || !r.tipText.Visible() {
		t.Errorf("tooltip %q (visible %v), want %q", r.tipText.Text, r.tipText.Visible(), want)
	}
	test.MoveMouse(w.Canvas(), fyne.NewPos(1, 1))
	if h.hover.on || r.tipText.Visible() {
		t.Error("the tooltip must go when the pointer leaves")
	}
}

// TestExportThroughButton exports as a user does: the Export PNG button,
// its file dialog answered with a path.
func TestExportThroughButton(t *testing.T) {
	_, wb := demoWorkbench(t)
	ui := serialize(wb)
	path := filepath.Join(t.TempDir(), "out")
	wb.pickSave = func(title, name, ext string, done func(string)) { done(withExt(path, ext)) }
	exported := make(chan struct{})
	wb.exportDone = func(string, error) { close(exported) }
	ui(func() { test.Tap(wb.exportPNGButton) })
	wait(t, exported, "the export")
	img, err := imageio.Decode(path + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if want := wb.cmp.Render(compare.RenderOptions{}); img.Rect != want.Rect || !bytes.Equal(img.Pix, want.Pix) {
		t.Errorf("exported %v, not the comparison rendered at full resolution (%v)", img.Rect, want.Rect)
	}
	exported = make(chan struct{})
	ui(func() { test.Tap(wb.exportCSVButton) })
	wait(t, exported, "the CSV export")
	b, err := os.ReadFile(path + ".csv")
	if err != nil || bytes.Count(b, []byte("\n")) != 67 {
		t.Errorf("CSV: %d lines, err %v", bytes.Count(b, []byte("\n")), err)
	}
}

func TestApplyMaskToAll(t *testing.T) {
	_, wb := demoWorkbench(t)
	ui := serialize(wb)
	before := wb.cmp
	wb.maskPanel.style.SetSelected("n95")
	done, jobErr := jobWaiter(wb)
	ui(func() { test.Tap(wb.maskPanel.apply) })
	wait(t, done, "remasking")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	if wb.cmp == before || wb.cmp.Mask.String() != wb.mask.String() || wb.cmp.Row(0).Params.Style != "n95" {
		t.Fatalf("after Apply: masks %s, first photo %q", wb.cmp.Mask, wb.cmp.Row(0).Params.Style)
	}
	if !wb.maskPanel.apply.Disabled() {
		t.Error("Apply must disable once the settings are applied")
	}
	if got := wb.heatmaps[2].hm.Scores.Data[1]; got != wb.cmp.Scores[compare.SettingMM].Data[1] {
		t.Error("the masked heatmap still shows the old scores")
	}
}

func TestCancelAnalysis(t *testing.T) {
	w, wb := newMainWindow(test.NewTempApp(t))
	defer w.Close()
	ui := serialize(wb)
	done, jobErr := jobWaiter(wb)
	ui(func() {
		wb.openDemo()
		if wb.cancelBt.Hidden || wb.bar.Hidden {
			t.Error("a running job must show its progress bar and Cancel")
		}
		test.Tap(wb.cancelBt)
	})
	wait(t, done, "the cancelled analysis")
	if !errors.Is(*jobErr, context.Canceled) || wb.cmp != nil || !strings.Contains(wb.status.Text, "cancelled") {
		t.Errorf("after Cancel: err %v, comparison %v, status %q", *jobErr, wb.cmp, wb.status.Text)
	}
}

// datasetWorkbench is the demo workbench, serialised for a test goroutine,
// and the demo folder on disk that "Create masked dataset…" reads.
func datasetWorkbench(t *testing.T) (*Workbench, func(func()), string) {
	t.Helper()
	_, wb := demoWorkbench(t)
	ui := serialize(wb)
	in, err := wb.sourceDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wb.cleanup)
	return wb, ui, in
}

func TestCreateDataset(t *testing.T) {
	wb, ui, in := datasetWorkbench(t)
	out := filepath.Join(t.TempDir(), "masked")
	mask := maskgen.Config{Seed: 2, Shift: &maskgen.Shift{X: 0, Y: 24}}
	var run *datasetRun
	ui(func() { run = wb.createDataset(in, out, mask) })
	wait(t, run.done, "the masked dataset")
	if run.err != nil || run.sum.Masked != 12 {
		t.Fatalf("summary %+v, err %v", run.sum, run.err)
	}
	f, err := os.Open(filepath.Join(out, app.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := app.ReadMaskManifest(f)
	if err != nil || m.Shift == nil || m.Shift.Y != 24 || m.Seed != 2 {
		t.Errorf("manifest %+v, err %v", m, err)
	}
	// Cancelled at once: the run stops and says so, and a rerun resumes.
	out2 := filepath.Join(t.TempDir(), "masked2")
	ui(func() {
		run = wb.createDataset(in, out2, mask)
		test.Tap(run.cancel)
	})
	wait(t, run.done, "the cancelled masked dataset")
	if run.err != nil && !errors.Is(run.err, context.Canceled) {
		t.Errorf("cancelled run: %v", run.err)
	}
}

// TestCreateDatasetRefusesForeign: a file in the chosen folder that
// maskinv did not write is not replaced, and the refusal is the error the
// window shows.
func TestCreateDatasetRefusesForeign(t *testing.T) {
	wb, ui, in := datasetWorkbench(t)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, app.ManifestName), []byte("my notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	var run *datasetRun
	ui(func() { run = wb.createDataset(in, out, maskgen.Config{}) })
	wait(t, run.done, "the refused masked dataset")
	if !errors.Is(run.err, folder.ErrForeignFiles) || !strings.Contains(wb.status.Text, "failed") {
		t.Errorf("err %v, status %q", run.err, wb.status.Text)
	}
	if b, _ := os.ReadFile(filepath.Join(out, app.ManifestName)); string(b) != "my notes" {
		t.Errorf("manifest.json replaced: %q", b)
	}
}

func TestScreensAreComplete(t *testing.T) {
	w, wb := newMainWindow(test.NewTempApp(t))
	defer w.Close()
	seen := map[string]bool{}
	for _, s := range Screens() {
		if s.Title == "" || s.Intro == "" || s.View == nil {
			t.Errorf("screen %q: title, intro and view are all required", s.Title)
			continue
		}
		if seen[s.Title] {
			t.Errorf("two screens titled %q", s.Title)
		}
		seen[s.Title] = true
		if s.View(wb) == nil {
			t.Errorf("screen %q built no content", s.Title)
			continue
		}
		// A desktop window grows to fit its content's minimum size, and a
		// word-wrapped label's minimum height depends on the width it was
		// last laid out at: squeeze the page to its minimum width first, as
		// the desktop driver may, then measure. (fyne's test window never
		// grows, so the golden alone would miss an oversized page.)
		page := screenPage(wb, s)
		page.Resize(page.MinSize())
		if min, size := page.MinSize(), defaultSize(); min.Width > size.Width || min.Height > size.Height {
			t.Errorf("screen %q needs %v, more than the window's %v: the window would open oversized", s.Title, min, size)
		}
	}
	if min, size := w.Content().MinSize(), defaultSize(); min.Width > size.Width || min.Height > size.Height {
		t.Errorf("the window's content needs %v, more than %v", min, size)
	}
}

// fyne package names the .desktop entry and icon after FyneApp.toml's ID,
// while the running app uses AppID; they must agree for the desktop to match
// the window to its entry.
func TestAppIDMatchesFyneAppToml(t *testing.T) {
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := `ID = "` + AppID + `"`; !strings.Contains(string(b), want) {
		t.Errorf("FyneApp.toml lacks %s", want)
	}
}
