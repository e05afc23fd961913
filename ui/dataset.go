package ui

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/maskgen"
)

// onCreateDataset asks for an output folder and writes a masked copy of
// the analysed folder there with the panel's settings: app.MaskDataset,
// the code behind `maskinv mask`, on the raw photos (masks placed from the
// 68 landmarks), with a progress dialog and Cancel.
func (wb *Workbench) onCreateDataset() {
	if wb.cmp == nil {
		return
	}
	in, err := wb.sourceDir()
	if err != nil {
		dialog.ShowError(err, wb.win)
		return
	}
	mask := wb.mask
	wb.pickFolder("Choose the output folder for the masked dataset", func(out string) {
		if out != "" {
			wb.createDataset(in, out, mask)
		}
	})
}

// createDataset runs app.MaskDataset from in to out in a goroutine, with a
// modal progress dialog.
func (wb *Workbench) createDataset(in, out string, mask maskgen.Config) *datasetRun {
	run := &datasetRun{label: widget.NewLabel(fmt.Sprintf("Masking %s into %s…", in, out)), bar: widget.NewProgressBar(), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	run.cancel = widget.NewButton("Cancel", func() {
		cancel()
		run.cancel.Disable()
		run.label.SetText("Cancelling after the photos in progress…")
	})
	run.dlg = dialog.NewCustomWithoutButtons("Create masked dataset",
		container.NewVBox(run.label, widget.NewLabel("Settings: "+mask.String()), run.bar, container.NewCenter(run.cancel)), wb.win)
	run.dlg.Resize(fyne.NewSize(520, 200))
	run.dlg.Show()
	prog, stopPump := wb.progressPump(func(d, n int) {
		run.bar.SetValue(float64(d) / float64(n))
		run.label.SetText(fmt.Sprintf("Masking… %d of %d photos", d, n))
	})
	go func() {
		defer cancel()
		var sum app.MaskSummary
		eng, err := wb.engine()
		if err == nil {
			sum, err = app.MaskDataset(ctx, app.MaskOptions{
				In: in, Out: out, Config: mask, Finder: eng, Progress: prog,
			})
		}
		stopPump()
		wb.do(func() {
			run.dlg.Hide()
			run.sum, run.err = sum, err
			msg := fmt.Sprintf("%d images: %d masked, %d already done, %d failed; %d other files copied.\nManifest: %s",
				sum.Images, sum.Masked, sum.Skipped, sum.Failed, sum.Copied, sum.Manifest)
			switch {
			case errors.Is(err, context.Canceled):
				wb.status.SetText("Masked dataset: cancelled (run it again to resume)")
				dialog.ShowInformation("Masked dataset cancelled", msg+"\nRun it again with the same settings to finish.", wb.win)
			case err != nil:
				wb.status.SetText("Masked dataset: failed")
				dialog.ShowError(err, wb.win)
			default:
				wb.status.SetText(fmt.Sprintf("Masked dataset written to %s", out))
				dialog.ShowInformation("Masked dataset written", msg, wb.win)
			}
			close(run.done)
		})
	}()
	return run
}

// datasetRun is one createDataset call, for tests.
type datasetRun struct {
	dlg    *dialog.CustomDialog
	label  *widget.Label
	bar    *widget.ProgressBar
	cancel *widget.Button
	done   chan struct{}
	sum    app.MaskSummary
	err    error
}
