package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/render"
	"github.com/maskinv/workbench/train"
)

// trainDialog runs `maskinv train` (train.Run) on a folder of identities
// from the Models screen: the teacher is the embedded one, the student is
// written to the output folder, and, once written, added to the model
// list. A run cancelled, or killed, resumes from its last checkpoint when
// started again on the same output folder.
type trainDialog struct {
	wb     *Workbench
	dlg    *dialog.CustomDialog
	kind   *widget.Select
	data   *widget.Entry
	out    *widget.Entry
	epochs *widget.Entry
	batch  *widget.Entry
	resume *widget.Check
	start  *widget.Button
	job    *jobView
	last   *widget.Label  // the run's latest log line
	curve  *canvas.Raster // the loss at each logged step

	mu     sync.Mutex // guards losses: the run's log writes from its goroutine
	losses []float64

	// config is the training configuration before the dialog's epochs
	// and batch (tests shorten the run).
	config func() train.Config
}

// onTrainStudent opens the Train student dialog.
func (wb *Workbench) onTrainStudent() {
	td := &trainDialog{wb: wb, job: wb.newJobView(), last: widget.NewLabel(""), config: train.DefaultConfig}
	td.kind = widget.NewSelect([]string{"folder", "lfw", "rec"}, nil)
	td.kind.SetSelected("folder")
	td.data, td.out = widget.NewEntry(), widget.NewEntry()
	td.data.SetPlaceHolder("one subfolder of photos per person")
	td.out.SetPlaceHolder("where student.onnx and the checkpoint go")
	cfg := train.DefaultConfig()
	td.epochs, td.batch = widget.NewEntry(), widget.NewEntry()
	td.epochs.SetText(strconv.Itoa(cfg.Epochs))
	td.batch.SetText(strconv.Itoa(cfg.Batch))
	td.resume = widget.NewCheck("Resume from the output folder's last checkpoint (a cancelled run goes on)", nil)
	td.resume.SetChecked(true)
	td.start = widget.NewButton("Train", td.run)
	td.start.Importance = widget.HighImportance
	td.last.Truncation = fyne.TextTruncateEllipsis
	td.curve = imageView(fyne.NewSize(480, 140), td.drawCurve)
	browse := func(e *widget.Entry, title string) fyne.CanvasObject {
		return container.NewBorder(nil, nil, nil, widget.NewButton("Choose…", func() {
			wb.pickFolder(title, func(p string) {
				if p != "" {
					e.SetText(p)
				}
			})
		}), e)
	}
	form := widget.NewForm(
		widget.NewFormItem("Data", container.NewBorder(nil, nil, td.kind, nil, browse(td.data, "Choose the training photos"))),
		widget.NewFormItem("Output", browse(td.out, "Choose the output folder")),
		widget.NewFormItem("Epochs", td.epochs),
		widget.NewFormItem("Batch", td.batch),
		widget.NewFormItem("", td.resume))
	progressRow := container.NewBorder(nil, nil, nil, container.NewHBox(
		container.NewGridWrap(fyne.NewSize(200, td.job.bar.MinSize().Height), td.job.bar), td.job.cancelBt), td.job.status)
	content := container.NewVBox(form, container.NewHBox(td.start), progressRow, td.last, td.curve)
	td.dlg = dialog.NewCustom("Train a student (teacher: the embedded model)", "Close", content, wb.win)
	td.dlg.Resize(fyne.NewSize(720, 560))
	td.dlg.Show()
	wb.trainDialog = td
}

// options reads the dialog into train.Options.
func (td *trainDialog) options() (train.Options, error) {
	cfg := td.config()
	var err error
	if cfg.Epochs, err = strconv.Atoi(strings.TrimSpace(td.epochs.Text)); err != nil || cfg.Epochs < 1 {
		return train.Options{}, fmt.Errorf("epochs %q: want a whole number of at least 1", td.epochs.Text)
	}
	if cfg.Batch, err = strconv.Atoi(strings.TrimSpace(td.batch.Text)); err != nil || cfg.Batch < 2 {
		return train.Options{}, fmt.Errorf("batch %q: want a whole number of at least 2", td.batch.Text)
	}
	data, out := strings.TrimSpace(td.data.Text), strings.TrimSpace(td.out.Text)
	if data == "" || out == "" {
		return train.Options{}, errors.New("choose the training data and the output folder")
	}
	return train.Options{Data: td.kind.Selected + "=" + data, Out: out, Resume: td.resume.Checked, Config: cfg}, nil
}

// run trains in a job, with the steps as progress and the loss curve.
func (td *trainDialog) run() {
	wb := td.wb
	opt, err := td.options()
	if err != nil {
		dialog.ShowError(err, wb.win)
		return
	}
	reg := wb.models.reg
	td.mu.Lock()
	td.losses = nil
	td.mu.Unlock()
	td.curve.Refresh()
	wb.runJobIn(td.job, "Training a student", func(ctx context.Context, prog progress.Func) (func(), error) {
		opt.Log = &lineWriter{line: func(l string) { td.logLine(l, prog) }}
		res, err := train.Run(ctx, opt)
		if err != nil {
			return nil, err
		}
		var e modelreg.Entry
		if reg != nil {
			if e, _, err = reg.Add(ctx, res.Student); err != nil {
				return nil, err
			}
		}
		list, lerr := listOf(reg)
		return func() {
			wb.showModels(list, lerr)
			if v := wb.modelsView; v != nil && reg != nil {
				v.selectModel(e.SHA256)
			}
			msg := fmt.Sprintf("Student written to %s (%d steps, %d photos of %d people) and added to the model list.", res.Student, res.Done, res.Images, res.Classes)
			td.job.status.SetText(msg)
			wb.status.SetText(msg)
		}, nil
	})
}

// listOf reads reg's list (nil: no list).
func listOf(reg *modelreg.Registry) ([]modelreg.Entry, error) {
	if reg == nil {
		return nil, errors.New("no model list")
	}
	return reg.List()
}

// stepLine matches train's log line of a step: "step 12/300 epoch 1  loss 3.2100 = …".
var stepLine = regexp.MustCompile(`^step (\d+)/(\d+) epoch \d+\s+loss (\S+)`)

// logLine takes one line of the run's log (from its goroutine): a step
// reports progress and a point of the loss curve; every line is shown.
func (td *trainDialog) logLine(l string, prog progress.Func) {
	if m := stepLine.FindStringSubmatch(l); m != nil {
		done, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		if loss, err := strconv.ParseFloat(m[3], 64); err == nil {
			td.mu.Lock()
			td.losses = append(td.losses, loss)
			td.mu.Unlock()
		}
		prog(done, total)
	}
	// Lines come seconds apart (train logs a step at most every 10 s).
	td.wb.do(func() {
		td.last.SetText(l)
		td.curve.Refresh()
	})
}

// drawCurve draws the losses logged so far, oldest left.
func (td *trainDialog) drawCurve(dst *image.NRGBA) {
	td.mu.Lock()
	losses := append([]float64(nil), td.losses...)
	td.mu.Unlock()
	fg := theme.Color(theme.ColorNameForeground)
	title := "loss at each logged step"
	if len(losses) > 0 {
		title += fmt.Sprintf(": %.4f", losses[len(losses)-1])
	}
	td.wb.fonts.Draw(dst, 4, 2, title, render.TextStyle{Size: render.StyleSmall.Size, Color: fg}, dst.Rect.Dx()-8)
	plot := image.Rect(4, 4+render.StyleSmall.LineHeight(), dst.Rect.Dx()-4, dst.Rect.Dy()-4)
	if len(losses) < 2 || plot.Dx() < 2 || plot.Dy() < 2 {
		return
	}
	lo, hi := losses[0], losses[0]
	for _, v := range losses {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi == lo {
		hi = lo + 1
	}
	at := func(k int) image.Point {
		x := plot.Min.X + k*(plot.Dx()-1)/(len(losses)-1)
		y := plot.Max.Y - 1 - int((losses[k]-lo)/(hi-lo)*float64(plot.Dy()-1))
		return image.Pt(x, y)
	}
	line := color.NRGBA{230, 120, 40, 255}
	for k := 1; k < len(losses); k++ {
		drawSegment(dst, at(k-1), at(k), line)
	}
}

// drawSegment draws a one-pixel line from a to b.
func drawSegment(dst *image.NRGBA, a, b image.Point, c color.NRGBA) {
	n := max(abs(b.X-a.X), abs(b.Y-a.Y), 1)
	for i := 0; i <= n; i++ {
		dst.SetNRGBA(a.X+(b.X-a.X)*i/n, a.Y+(b.Y-a.Y)*i/n, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// lineWriter hands each complete line written to it to line.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		w.line(l)
	}
}
