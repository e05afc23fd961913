package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/maskgen"
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

	cmp      *compare.Comparison // nil until the first analysis ends
	selected int                 // row of the photo in the mask panel, -1 for none
	mask     maskgen.Config
	diff     compare.DiffKind

	changed []func() // views to refresh when cmp or selected change

	job struct {
		cancel context.CancelFunc
		id     int
	}
	status   *widget.Label
	bar      *widget.ProgressBar
	cancelBt *widget.Button

	// The file pickers; tests and the headless driver replace them.
	pickFolder func(title string, done func(path string))
	pickSave   func(title, name, ext string, done func(path string))

	// jobDone is called on the UI goroutine when a job ends (err nil on
	// success); exportDone when an export has been written.
	jobDone    func(name string, err error)
	exportDone func(path string, err error)
	lastApply  time.Duration // how long the last job's result took to show

	exportPNGButton, exportCSVButton *widget.Button

	// Views that tests reach into.
	heatmaps  []*heatmap
	maskPanel *maskPanel
}

// newWorkbench makes a Workbench for window w with no folder loaded.
func newWorkbench(w fyne.Window) *Workbench {
	wb := &Workbench{win: w, selected: -1, do: fyne.Do, doAndWait: fyne.DoAndWait, fonts: render.NewFonts()}
	wb.engines = newEngineSlot(os.Getenv)
	wb.engine = wb.engines.get
	wb.pickFolder = wb.nativeFolderPicker
	wb.pickSave = wb.nativeSavePicker
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

// runJob starts work in a goroutine, cancelling the job already running.
// The status bar shows label and the progress work reports, with a Cancel
// button. When work succeeds, apply (if not nil) runs on the UI goroutine.
func (wb *Workbench) runJob(label string, work func(ctx context.Context, prog progress.Func) (apply func(), err error)) {
	wb.cancelJob()
	ctx, cancel := context.WithCancel(context.Background())
	wb.job.id++
	id := wb.job.id
	wb.job.cancel = cancel
	wb.status.SetText(label + "…")
	wb.bar.SetValue(0)
	wb.bar.Show()
	wb.cancelBt.Show()
	wb.cancelBt.Enable()

	prog, stopPump := wb.progressPump(func(d, n int) {
		if wb.job.id == id {
			wb.bar.SetValue(float64(d) / float64(n))
			wb.status.SetText(fmt.Sprintf("%s… %d of %d", label, d, n))
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
				wb.bar.Hide()
				wb.cancelBt.Hide()
			}
			switch {
			case errors.Is(err, context.Canceled):
				if wb.job.id == id {
					wb.status.SetText(label + ": cancelled")
				}
			case err != nil:
				wb.status.SetText(label + ": failed")
				dialog.ShowError(fmt.Errorf("%s: %w", label, err), wb.win)
			default:
				if apply != nil {
					t := time.Now()
					apply()
					wb.lastApply = time.Since(t)
				}
				if wb.job.id == id && apply == nil {
					wb.status.SetText(fmt.Sprintf("%s: done in %.1f s", label, elapsed.Seconds()))
				}
			}
			if wb.jobDone != nil {
				wb.jobDone(label, err)
			}
		})
	}()
}

// cancelJob cancels the running job, if any.
func (wb *Workbench) cancelJob() {
	if wb.job.cancel != nil {
		wb.job.cancel()
		wb.job.cancel = nil
		wb.cancelBt.Disable()
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
	wb.runJob("Analysing "+name, func(ctx context.Context, prog progress.Func) (func(), error) {
		eng, err := wb.engine()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		c, err := compare.Folder(ctx, eng, src, compare.Options{Source: name, Mask: mask, Threshold: eng.Threshold, Progress: prog})
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		return func() {
			wb.src, wb.srcName, wb.dir = src, name, dir
			wb.selected = -1
			wb.setComparison(c)
			wb.status.SetText(fmt.Sprintf("%s: %s Analysed in %.1f s.", name, c.Summary(), elapsed.Seconds()))
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
	c, mask := wb.cmp, wb.mask
	if c == nil {
		return
	}
	wb.runJob("Masking", func(ctx context.Context, prog progress.Func) (func(), error) {
		eng, err := wb.engine()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		nc, err := c.Remask(ctx, eng, mask, prog)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		return func() {
			wb.setComparison(nc)
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
	c, opt := wb.cmp, wb.renderOptions()
	wb.export(path, func() error { return c.WritePNG(path, opt) })
}

// onExportCSV is the Export CSV button.
func (wb *Workbench) onExportCSV() {
	if wb.cmp == nil {
		return
	}
	wb.pickSave("Export the scores as CSV", "scores.csv", "csv", func(path string) {
		if path != "" {
			c := wb.cmp
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
