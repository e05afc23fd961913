package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/render"
)

// Workbench is the state behind the main window: the face engine, the
// analysed folder (a compare.Comparison), the selected photo, the mask settings
// being edited, and the one background job that may be running. Its fields
// are touched only on the UI goroutine; jobs run in goroutines and hand
// their results back through fyne.Do.
type Workbench struct {
	win  fyne.Window
	tabs *container.AppTabs

	// do and doAndWait run a function on the UI goroutine: fyne.Do and
	// fyne.DoAndWait. (Fyne's test driver runs them on the caller's
	// goroutine; the tests swap in versions that take a lock they also
	// hold, to keep one UI goroutine in effect.)
	do, doAndWait func(func())

	// engine loads the models once, on first use, from any goroutine;
	// engines holds it, and replaces it on another device (device.go).
	engine  func() (*engine.Engine, error)
	engines *engineSlot
	// fonts write the text of every picture the views draw, and exports.
	fonts *render.Fonts

	src     fs.FS  // the folder analysed: os.DirFS(dir), or the demo
	srcName string // for titles
	dir     string // the folder on disk; "" for the demo until copied
	tmpDirs []string

	cmp *compare.Comparison // model A's; nil until the first analysis ends
	// byModel are the folder's comparisons under the current masks, one
	// per model embedded so far (twomodel.go); byModelGen counts their
	// replacements, so a job's late result for older ones is dropped.
	byModel    map[string]*compare.Comparison
	byModelGen int
	duo        *compare.Duo // models A and B, when B is chosen; nil with one
	selected   int          // row of the photo in the mask panel, -1 for none
	mask       maskgen.Config
	diff       compare.DiffKind

	changed []func() // views to refresh when cmp or selected change

	// models are the model list and the two models compared; recs the
	// recognisers loaded for them besides the engine's.
	models     modelState
	recs       recognisers
	teacherSHA func() string // the embedded teacher's hash, computed once
	// occlusion holds the occlusion maps computed on the analysed folder.
	occlusion occlusionCache

	job struct {
		cancel context.CancelFunc
		id     int
		views  jobViews // where the running job shows itself
		after  func()   // runs when the running job ends (queued work)
	}
	status   *widget.Label
	bar      *widget.ProgressBar
	cancelBt *widget.Button

	// The file pickers; tests and the headless driver replace them.
	pickFolder func(title string, done func(path string))
	pickSave   func(title, name, ext string, done func(path string))
	pickOpen   func(title, desc, ext string, done func(path string))

	// jobDone is called on the UI goroutine when a job ends (err nil on
	// success); exportDone when an export has been written.
	jobDone    func(name string, err error)
	exportDone func(path string, err error)
	lastApply  time.Duration // how long the last job's result took to show

	exportPNGButton, exportCSVButton *widget.Button

	// Views that tests reach into.
	heatmaps    []*heatmap
	maskPanel   *maskPanel
	modelsView  *modelsView
	compareView *compareView
	inspector   *inspector
	trainDialog *trainDialog
}

// newWorkbench makes a Workbench for window w with no folder loaded.
func newWorkbench(w fyne.Window) *Workbench {
	wb := &Workbench{win: w, selected: -1, do: fyne.Do, doAndWait: fyne.DoAndWait, fonts: render.NewFonts(), occlusion: occlusionCache{}}
	wb.engines = newEngineSlot(os.Getenv)
	wb.engine = wb.engines.get
	wb.pickFolder = wb.nativeFolderPicker
	wb.pickSave = wb.nativeSavePicker
	wb.pickOpen = wb.nativeOpenPicker
	wb.teacherSHA = sync.OnceValue(teacherSHA256)
	if path, err := app.ModelListPath(os.Getenv); err != nil {
		wb.models.regErr = err
	} else {
		wb.models.reg = modelreg.Open(path)
	}
	wb.engines.setBeforeClose(func(old *engine.Engine) {
		_ = wb.recs.retire(old) // the user has moved on; a failed release cannot be acted on
	})
	wb.status = widget.NewLabel("Starting…")
	wb.status.Truncation = fyne.TextTruncateEllipsis
	wb.bar = widget.NewProgressBar()
	wb.bar.Hide()
	wb.cancelBt = widget.NewButton("Cancel", wb.cancelJob)
	wb.cancelBt.Hide()
	wb.exportPNGButton = widget.NewButton("Export PNG…", wb.onExportPNG)
	wb.exportCSVButton = widget.NewButton("Export CSV…", wb.onExportCSV)
	wb.exportPNGButton.Disable()
	wb.exportCSVButton.Disable()
	return wb
}

// statusBar is the strip under the screens: what is going on, a progress
// bar and a Cancel button while a job runs.
func (wb *Workbench) statusBar() fyne.CanvasObject {
	right := container.NewHBox(wb.cancelBt)
	barBox := container.NewGridWrap(fyne.NewSize(220, wb.bar.MinSize().Height), wb.bar)
	return container.NewBorder(nil, nil, nil, container.NewHBox(barBox, right), wb.status)
}

// onChange registers fn to run after the comparison or the selection
// changes.
func (wb *Workbench) onChange(fn func()) { wb.changed = append(wb.changed, fn) }

func (wb *Workbench) notify() {
	for _, fn := range wb.changed {
		fn()
	}
}

// setComparison shows c everywhere.
func (wb *Workbench) setComparison(c *compare.Comparison) {
	wb.cmp = c
	wb.mask = c.Mask
	if wb.selected < 0 || wb.selected >= c.N() {
		wb.selected = 0
	}
	if c.N() == 0 {
		wb.selected = -1
	}
	wb.exportPNGButton.Enable()
	wb.exportCSVButton.Enable()
	wb.notify()
}

// selectRow makes row i the photo of the mask panel.
func (wb *Workbench) selectRow(i int) {
	if wb.cmp == nil || i < 0 || i >= wb.cmp.N() || i == wb.selected {
		return
	}
	wb.selected = i
	wb.notify()
}

// progressTick is how often a running job's progress reaches the UI: the
// workers report as often as they like, the UI sees at most 10 updates a
// second, so a big folder cannot flood the UI goroutine.
const progressTick = 100 * time.Millisecond

// progressPump returns a progress.Func for worker goroutines and a stop
// function. Every progressTick while it runs, the latest (done, total)
// with total > 0 is handed to show on the UI goroutine. stop ends the pump
// and waits until no more calls to show can start, so that a final UI update
// made after it is not overwritten.
func (wb *Workbench) progressPump(show func(done, total int)) (prog progress.Func, stop func()) {
	var done, total atomic.Int64
	prog = func(d, t int) { done.Store(int64(d)); total.Store(int64(t)) }
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(progressTick)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				d, n := int(done.Load()), int(total.Load())
				if n > 0 {
					wb.doAndWait(func() { show(d, n) })
				}
			}
		}
	}()
	return prog, func() { close(quit); <-exited }
}

// jobView is where a job shows its label, progress and Cancel button: the
// status bar, and a panel of a dialog open over the window (a modal
// dialog covers the status bar).
type jobView struct {
	status   *widget.Label
	bar      *widget.ProgressBar
	cancelBt *widget.Button
}

// newJobView makes a view whose Cancel button cancels the running job.
func (wb *Workbench) newJobView() *jobView {
	v := &jobView{status: widget.NewLabel(""), bar: widget.NewProgressBar(), cancelBt: widget.NewButton("Cancel", wb.cancelJob)}
	v.status.Truncation = fyne.TextTruncateEllipsis
	v.bar.Hide()
	v.cancelBt.Hide()
	return v
}

// jobViews are the views of one job, shown and updated together.
type jobViews []*jobView

func (vs jobViews) start(label string) {
	for _, v := range vs {
		v.status.SetText(label + "…")
		v.bar.SetValue(0)
		v.bar.Show()
		v.cancelBt.Show()
		v.cancelBt.Enable()
	}
}

func (vs jobViews) progress(text string, value float64) {
	for _, v := range vs {
		v.bar.SetValue(value)
		v.status.SetText(text)
	}
}

func (vs jobViews) setText(text string) {
	for _, v := range vs {
		v.status.SetText(text)
	}
}

func (vs jobViews) end() {
	for _, v := range vs {
		v.bar.Hide()
		v.cancelBt.Hide()
	}
}

// runJob starts work in a goroutine, cancelling the job already running.
// The status bar shows label and the progress work reports, with a Cancel
// button. When work succeeds, apply (if not nil) runs on the UI goroutine.
func (wb *Workbench) runJob(label string, work func(ctx context.Context, prog progress.Func) (apply func(), err error)) {
	wb.runJobIn(nil, label, work)
}

// runJobIn is runJob that also shows the job in extra (when not nil): the
// view of a dialog that covers the status bar.
func (wb *Workbench) runJobIn(extra *jobView, label string, work func(ctx context.Context, prog progress.Func) (apply func(), err error)) {
	wb.cancelJob()
	ctx, cancel := context.WithCancel(context.Background())
	wb.job.id++
	id := wb.job.id
	wb.job.cancel = cancel
	views := jobViews{{wb.status, wb.bar, wb.cancelBt}}
	if extra != nil {
		views = append(views, extra)
	}
	wb.job.views = views
	views.start(label)

	prog, stopPump := wb.progressPump(func(d, n int) {
		if wb.job.id == id {
			views.progress(fmt.Sprintf("%s… %d of %d", label, d, n), float64(d)/float64(n))
		}
	})
	go func() {
		start := time.Now()
		release := wb.engines.hold() // the engine is not closed under a job
		apply, err := work(ctx, prog)
		release()
		stopPump() // no progress update may land after the result
		elapsed := time.Since(start)
		wb.do(func() {
			cancel()
			if wb.job.id == id {
				wb.job.cancel = nil
				views.end()
			}
			switch {
			case errors.Is(err, context.Canceled):
				if wb.job.id == id {
					views.setText(label + ": cancelled")
				}
			case err != nil:
				views.setText(label + ": failed")
				dialog.ShowError(fmt.Errorf("%s: %w", label, err), wb.win)
			default:
				if apply != nil {
					t := time.Now()
					apply()
					wb.lastApply = time.Since(t)
				}
				if wb.job.id == id && apply == nil {
					views.setText(fmt.Sprintf("%s: done in %.1f s", label, elapsed.Seconds()))
				}
			}
			if wb.jobDone != nil {
				wb.jobDone(label, err)
			}
			if after := wb.job.after; after != nil && wb.job.cancel == nil {
				wb.job.after = nil
				after()
			}
		})
	}()
}

// cancelJob cancels the running job, if any.
func (wb *Workbench) cancelJob() {
	if wb.job.cancel != nil {
		wb.job.cancel()
		wb.job.cancel = nil
		for _, v := range wb.job.views {
			v.cancelBt.Disable()
		}
	}
}

// openDemo analyses the embedded demo folder.
func (wb *Workbench) openDemo() {
	wb.open(assets.Demo(), "embedded demo", "")
}

// openDir analyses the photo folder dir.
func (wb *Workbench) openDir(dir string) {
	wb.open(os.DirFS(dir), filepath.Base(filepath.Clean(dir)), dir)
}

func (wb *Workbench) open(src fs.FS, name, dir string) {
	mask := wb.mask
	ea, _ := wb.slotModel(slotA)
	a := wb.choice(ea)
	var b *slotChoice
	if e, ok := wb.slotModel(slotB); ok {
		ch := wb.choice(e)
		b = &ch
	}
	wb.runJob("Analysing "+name, func(ctx context.Context, prog progress.Func) (func(), error) {
		start := time.Now()
		cmps, err := wb.analyse(ctx, src, compare.Options{Source: name, Mask: mask, Progress: prog}, a, b)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		return func() {
			wb.src, wb.srcName, wb.dir = src, name, dir
			wb.occlusion = occlusionCache{} // keyed by photo paths of this folder
			wb.selected = -1
			wb.setComparisons(cmps)
			if wb.cmp != nil {
				wb.status.SetText(fmt.Sprintf("%s: %s Analysed in %.1f s.", name, wb.cmp.Summary(), elapsed.Seconds()))
			}
		}, nil
	})
}

// onOpenFolder asks for a photo folder and analyses it.
func (wb *Workbench) onOpenFolder() {
	wb.pickFolder("Open a photo folder", func(path string) {
		if path != "" {
			wb.openDir(path)
		}
	})
}

// applyMask redoes the masked half of the comparison with the panel's
// settings.
func (wb *Workbench) applyMask() {
	mask := wb.mask
	a, _ := wb.slotModel(slotA)
	b, hasB := wb.slotModel(slotB)
	// The chosen models' comparisons: none while one is still being
	// embedded (its job remasks nothing; apply again once it is shown).
	c, d := wb.byModel[modelKey(a)], wb.duo
	if c == nil || c != wb.cmp || (hasB && (d == nil || d.Models[1].Model.SHA256 != b.SHA256)) {
		wb.status.SetText("The chosen models are not both embedded yet: apply the masks once they are shown.")
		return
	}
	if !hasB {
		d = nil
	}
	wb.runJob("Masking", func(ctx context.Context, prog progress.Func) (func(), error) {
		start := time.Now()
		cmps, err := wb.remask(ctx, c, d, a, b, mask, prog)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		return func() {
			wb.setComparisons(cmps)
			wb.status.SetText(fmt.Sprintf("Masks applied (%s) in %.1f s.", mask, elapsed.Seconds()))
		}, nil
	})
}

// renderOptions are the export's settings: what the Compare screen shows.
func (wb *Workbench) renderOptions() compare.RenderOptions {
	return compare.RenderOptions{Diff: wb.diff, Fonts: wb.fonts}
}

// onExportPNG is the Export PNG button: ask for a file, then exportPNG.
func (wb *Workbench) onExportPNG() {
	if wb.cmp == nil {
		return
	}
	wb.pickSave("Export the comparison as PNG", "comparison.png", "png", func(path string) {
		if path != "" {
			wb.exportPNG(path)
		}
	})
}

// exportPNG renders the current comparison at full resolution and writes
// it, off the UI goroutine.
func (wb *Workbench) exportPNG(path string) {
	c, d, opt := wb.cmp, wb.duo, wb.renderOptions()
	if d != nil {
		wb.export(path, func() error { return d.WritePNG(path, opt) })
		return
	}
	wb.export(path, func() error { return c.WritePNG(path, opt) })
}

// onExportCSV is the Export CSV button.
func (wb *Workbench) onExportCSV() {
	if wb.cmp == nil {
		return
	}
	wb.pickSave("Export the scores as CSV", "scores.csv", "csv", func(path string) {
		if path != "" {
			c, d := wb.cmp, wb.duo
			if d != nil {
				wb.export(path, func() error { return d.WriteCSVFile(path) })
				return
			}
			wb.export(path, func() error { return c.WriteCSVFile(path) })
		}
	})
}

func (wb *Workbench) export(path string, write func() error) {
	wb.status.SetText("Writing " + path + "…")
	go func() {
		err := write()
		wb.do(func() {
			if err != nil {
				wb.status.SetText("Export failed")
				dialog.ShowError(err, wb.win)
			} else {
				wb.status.SetText("Saved " + path)
				log.Printf("maskinv: exported %s", path)
			}
			if wb.exportDone != nil {
				wb.exportDone(path, err)
			}
		})
	}()
}

// sourceDir is the analysed folder on disk, copying the embedded demo to
// a temporary folder the first time it is needed.
func (wb *Workbench) sourceDir() (string, error) {
	if wb.dir != "" || wb.src == nil {
		return wb.dir, nil
	}
	tmp, err := os.MkdirTemp("", "maskinv-demo-")
	if err != nil {
		return "", err
	}
	wb.tmpDirs = append(wb.tmpDirs, tmp)
	dir := filepath.Join(tmp, "demo")
	if err := os.CopyFS(dir, wb.src); err != nil {
		return "", err
	}
	wb.dir = dir
	return dir, nil
}

// cleanup removes temporary folders.
func (wb *Workbench) cleanup() {
	for _, d := range wb.tmpDirs {
		os.RemoveAll(d)
	}
	wb.tmpDirs = nil
}
