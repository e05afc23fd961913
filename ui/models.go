package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/progress"
)

// Model slots: the two models a comparison shows side by side.
const (
	slotA = 0
	slotB = 1
)

// modelState is the model list as the workbench last read it and the
// models chosen for the comparison.
type modelState struct {
	reg    *modelreg.Registry // nil when there is no config folder (regErr)
	regErr error
	list   []modelreg.Entry // the teacher first
	// listErr is why the list could not be read (a corrupt file: the
	// teacher alone is listed then).
	listErr error
	// chosen are the sha256 of model A and model B; "" means the teacher
	// for A, and no second model for B.
	chosen  [2]string
	changed []func() // views to refresh when the list or the choice changes

	// opDone is called on the UI goroutine when a change to the list
	// (threshold, removal) has been written, or failed; for tests.
	opDone    func(err error)
	defaulted bool // the default model B has been chosen

	// thresholdEntry is the open threshold dialog's field, and pickers
	// every model picker by slot, for tests.
	thresholdEntry *widget.Entry
	pickers        [2][]*widget.Select
}

// onModels registers fn to run after the list or the chosen models change.
func (wb *Workbench) onModels(fn func()) { wb.models.changed = append(wb.models.changed, fn) }

func (wb *Workbench) notifyModels() {
	for _, fn := range wb.models.changed {
		fn()
	}
}

// setRegistry makes reg the model list the workbench uses (tests give one
// in a temporary folder) and reads it; the channel closes once the list
// is shown.
func (wb *Workbench) setRegistry(reg *modelreg.Registry) <-chan struct{} {
	wb.models.reg, wb.models.regErr = reg, nil
	return wb.reloadModels()
}

// reloadModels reads the list in the background (decoding the teacher
// for its entry takes a moment) and shows it; the channel closes once it
// is shown. Without a config folder the teacher alone is listed.
func (wb *Workbench) reloadModels() <-chan struct{} {
	reg := wb.models.reg
	if reg == nil {
		reg = modelreg.Open("") // no file: List gives the teacher; nothing is written
	}
	shown := make(chan struct{})
	go func() {
		list, err := reg.List()
		wb.do(func() {
			wb.showModels(list, err)
			close(shown)
		})
	}()
	return shown
}

// showModels shows a list just read. A chosen model no longer on it is
// dropped from the comparison.
func (wb *Workbench) showModels(list []modelreg.Entry, err error) {
	if list == nil && err != nil {
		wb.models.regErr = err // not even the teacher: nothing to list
	}
	wb.models.list, wb.models.listErr = list, err
	changed := false
	if !wb.models.defaulted {
		wb.models.defaulted = true
		changed = wb.defaultStudent()
	}
	dropped := false
	for slot, sha := range wb.models.chosen {
		if _, ok := wb.entry(sha); sha != "" && !ok {
			wb.models.chosen[slot] = ""
			dropped = true
		}
	}
	wb.notifyModels()
	if dropped || changed {
		wb.showChosen() // a folder analysed already is embedded with model B now
	}
	wb.syncThresholds()
}

// defaultStudent makes the embedded student model B when the list is
// first read, unless the user has chosen a model B already; it reports
// whether it did.
func (wb *Workbench) defaultStudent() bool {
	if wb.models.chosen[slotB] != "" {
		return false
	}
	sha, err := engine.Student().SHA256()
	if err != nil {
		return false
	}
	if _, ok := wb.entry(sha); !ok {
		return false
	}
	wb.models.chosen[slotB] = sha
	return true
}

// entry is the listed model with this sha256.
func (wb *Workbench) entry(sha string) (modelreg.Entry, bool) {
	for _, e := range wb.models.list {
		if e.SHA256 == sha {
			return e, true
		}
	}
	return modelreg.Entry{}, false
}

// chosenEntry is the model in slot; ok is false for an empty slot B, or
// for slot A before the list is read (the teacher is used then).
func (wb *Workbench) chosenEntry(slot int) (modelreg.Entry, bool) {
	sha := wb.models.chosen[slot]
	if sha == "" {
		if slot == slotA && len(wb.models.list) > 0 {
			return wb.models.list[0], true
		}
		return modelreg.Entry{}, false
	}
	return wb.entry(sha)
}

// modelLabel names a model in pickers and titles: its name, with the
// start of its hash when another listed model has the same name.
func (wb *Workbench) modelLabel(e modelreg.Entry) string {
	for _, o := range wb.models.list {
		if o.Name == e.Name && o.SHA256 != e.SHA256 {
			return fmt.Sprintf("%s (%.8s)", e.Name, e.SHA256)
		}
	}
	return e.Name
}

// shortLabel names a model in captions and table headings: "teacher" and
// "student" for the embedded ones, else its file name without .onnx
// (with the start of its hash when another listed model has the same
// name).
func (wb *Workbench) shortLabel(e modelreg.Entry) string {
	l := app.EntryLabel(e)
	if e.Embedded {
		return l
	}
	for _, o := range wb.models.list {
		if o.Name == e.Name && o.SHA256 != e.SHA256 {
			return fmt.Sprintf("%s (%.8s)", l, e.SHA256)
		}
	}
	return l
}

// noModel is slot B's option for comparing one model only.
const noModel = "none: one model"

// modelPicker is a select for slot's model, kept in step with the list
// and with the other pickers of the same slot.
func (wb *Workbench) modelPicker(slot int) *widget.Select {
	var shas []string
	syncing := false
	sel := widget.NewSelect(nil, nil)
	sel.PlaceHolder = "(choose a model)"
	refresh := func() {
		syncing = true
		defer func() { syncing = false }()
		var opts []string
		shas = shas[:0]
		if slot == slotB {
			opts, shas = append(opts, noModel), append(shas, "")
		}
		if slot == slotA && len(wb.models.list) == 0 {
			opts, shas = append(opts, modelreg.TeacherName), append(shas, "") // until the list is read
		}
		for i, e := range wb.models.list {
			opts = append(opts, wb.modelLabel(e))
			sha := e.SHA256
			if slot == slotA && i == 0 {
				sha = "" // the teacher, the default
			}
			shas = append(shas, sha)
		}
		sel.SetOptions(opts)
		switch e, ok := wb.chosenEntry(slot); {
		case ok:
			sel.SetSelected(wb.modelLabel(e))
		case slot == slotA:
			sel.SetSelected(modelreg.TeacherName)
		default:
			sel.SetSelected(noModel)
		}
	}
	sel.OnChanged = func(string) {
		if syncing {
			return
		}
		if i := sel.SelectedIndex(); i >= 0 && i < len(shas) {
			wb.chooseModel(slot, shas[i])
		}
	}
	wb.onModels(refresh)
	refresh()
	wb.models.pickers[slot] = append(wb.models.pickers[slot], sel)
	return sel
}

// chooseModel puts the model with this sha256 ("" for the default) in
// slot and has the comparison follow.
func (wb *Workbench) chooseModel(slot int, sha string) {
	if slot == slotA && len(wb.models.list) > 0 && sha == wb.models.list[0].SHA256 {
		sha = ""
	}
	if wb.models.chosen[slot] == sha {
		return
	}
	wb.models.chosen[slot] = sha
	wb.notifyModels()
	wb.modelChosen(slot)
}

// modelsView is the model manager screen.
type modelsView struct {
	wb       *Workbench
	table    *widget.Table
	detail   *widget.Label
	file     *widget.Label
	selected int // index into the list, -1 for none

	add, threshold, calibrate, remove, train *widget.Button
}

// modelColumns are the table's headings and widths.
var modelColumns = []struct {
	title string
	width float32
}{{"Model", 250}, {"SHA-256", 125}, {"Input", 115}, {"Output", 75}, {"GFLOPs", 80}, {"Threshold", 95}, {"Source", 120}}

func modelsScreen(wb *Workbench) fyne.CanvasObject {
	v := &modelsView{wb: wb, selected: -1, detail: widget.NewLabel(""), file: widget.NewLabel("")}
	wb.modelsView = v
	v.detail.Wrapping = fyne.TextWrapWord
	v.file.Truncation = fyne.TextTruncateEllipsis
	v.table = widget.NewTable(
		func() (int, int) { return len(wb.models.list) + 1, len(modelColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			l.SetText(v.cell(id.Row, id.Col))
		})
	for k, c := range modelColumns {
		v.table.SetColumnWidth(k, c.width)
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		if id.Row == 0 {
			v.table.UnselectAll()
			return
		}
		v.selected = id.Row - 1
		v.update()
	}
	v.add = widget.NewButton("Add ONNX…", wb.onAddModel)
	v.add.Importance = widget.HighImportance
	v.threshold = widget.NewButton("Set threshold…", func() { v.withSelected(wb.onSetThreshold) })
	v.calibrate = widget.NewButton("Calibrate on LFW…", func() { v.withSelected(wb.onCalibrate) })
	v.remove = widget.NewButton("Remove", func() { v.withSelected(wb.onRemoveModel) })
	v.train = widget.NewButton("Train student…", wb.onTrainStudent)
	wb.onModels(v.update)
	v.update()

	pickers := widget.NewForm(
		widget.NewFormItem("Model A", wb.modelPicker(slotA)),
		widget.NewFormItem("Model B", wb.modelPicker(slotB)))
	buttons := container.NewHBox(v.add, v.threshold, v.calibrate, v.remove, v.train)
	top := container.NewVBox(container.NewBorder(nil, nil, buttons, nil, pickers), v.file)
	// Room for the details' five lines under the table.
	detail := withMinHeight(5*widget.NewLabel("X").MinSize().Height*0.75, container.NewVScroll(v.detail))
	return container.NewBorder(top, detail, nil, nil, v.table)
}

// cell is the text of a table cell; row 0 is the header.
func (v *modelsView) cell(row, col int) string {
	if row == 0 {
		return modelColumns[col].title
	}
	e := v.wb.models.list[row-1]
	switch col {
	case 0:
		return v.wb.modelLabel(e)
	case 1:
		return e.SHA256[:12] + "…"
	case 2:
		return strings.Trim(strings.ReplaceAll(fmt.Sprint(e.Input), " ", "×"), "[]")
	case 3:
		return strconv.Itoa(e.OutputDim)
	case 4:
		return fmt.Sprintf("%.3f", e.FLOPs/1e9)
	case 5:
		if e.ThresholdSource == modelreg.ThresholdNone {
			return "—"
		}
		return fmt.Sprintf("%.4f", e.Threshold)
	}
	return sourceText(e.ThresholdSource)
}

// sourceText says how a threshold was obtained.
func sourceText(s modelreg.ThresholdSource) string {
	switch s {
	case modelreg.ThresholdNone:
		return "not set"
	case modelreg.ThresholdDefault:
		return "published"
	case modelreg.ThresholdLFW:
		return "LFW View 2"
	case modelreg.ThresholdManual:
		return "by hand"
	}
	return string(s)
}

// withSelected calls fn with the selected model.
func (v *modelsView) withSelected(fn func(modelreg.Entry)) {
	if v.selected >= 0 && v.selected < len(v.wb.models.list) {
		fn(v.wb.models.list[v.selected])
	}
}

// selectModel selects the model with this sha256 in the table.
func (v *modelsView) selectModel(sha string) {
	for i, e := range v.wb.models.list {
		if e.SHA256 == sha {
			v.table.Select(widget.TableCellID{Row: i + 1, Col: 0})
			return
		}
	}
}

// update shows the list, the selected model's details and what can be
// done with it.
func (v *modelsView) update() {
	wb := v.wb
	ms := wb.models
	switch {
	case ms.regErr != nil:
		v.file.SetText("No model list: " + ms.regErr.Error())
	case ms.listErr != nil:
		v.file.SetText("The model list cannot be read (" + ms.listErr.Error() + "); only the embedded models are listed.")
	case ms.reg != nil:
		v.file.SetText("Model list: " + ms.reg.Path())
	}
	if v.selected >= len(ms.list) {
		v.selected = -1
		v.table.UnselectAll()
	}
	v.table.Refresh()
	for _, b := range []*widget.Button{v.threshold, v.calibrate, v.remove} {
		b.Disable()
	}
	if ms.reg == nil || ms.listErr != nil {
		v.add.Disable()
		v.train.Disable()
	} else {
		v.add.Enable()
		v.train.Enable()
	}
	if v.selected < 0 {
		v.detail.SetText("Select a model to see its details. Add any ArcFace-style recogniser (N×3×112×112 → d), e.g. a student.onnx written by maskinv train.")
		return
	}
	e := ms.list[v.selected]
	v.detail.SetText(entryDetail(e))
	if ms.reg != nil && ms.listErr == nil {
		v.threshold.Enable()
		v.calibrate.Enable()
		if !e.Embedded {
			v.remove.Enable()
		}
	}
}

// entryDetail describes a model in full.
func entryDetail(e modelreg.Entry) string {
	where := e.Path
	if e.Embedded {
		where = "built into this program"
	}
	lines := []string{
		fmt.Sprintf("%s: %s", e.Name, where),
		"SHA-256: " + e.SHA256,
		fmt.Sprintf("Input %v: %s. Output: %d-d embedding. %.3f GFLOPs per face.", e.Input, e.Layout, e.OutputDim, e.FLOPs/1e9),
	}
	switch {
	case e.ThresholdSource == modelreg.ThresholdNone:
		lines = append(lines, "No threshold yet: set one by hand or calibrate it on LFW View 2; until then its decisions are made at 0.")
	case e.Calibration != nil:
		c := e.Calibration
		lines = append(lines, fmt.Sprintf("Threshold %.4f, calibrated on %s: %d pairs, accuracy %.2f%% ± %.2f%% over %d folds.",
			e.Threshold, c.Dataset, c.Pairs, 100*c.Accuracy, 100*c.AccuracyStd, len(c.FoldThresholds)))
	default:
		lines = append(lines, fmt.Sprintf("Threshold %.4f (%s).", e.Threshold, sourceText(e.ThresholdSource)))
	}
	if !e.Added.IsZero() {
		lines = append(lines, "Added "+e.Added.Local().Format("2006-01-02 15:04"))
	}
	return strings.Join(lines, "\n")
}

// onAddModel asks for an ONNX file and adds it.
func (wb *Workbench) onAddModel() {
	wb.pickOpen("Add a recogniser ONNX model", "ONNX models", "onnx", func(path string) {
		if path != "" {
			wb.addModel(path)
		}
	})
}

// addModel adds the ONNX at path to the list in a job: the engine decodes
// and test-runs it; one it refuses (corrupt, wrong input shape) is shown
// with the engine's error, and the list is left as it was.
func (wb *Workbench) addModel(path string) {
	reg := wb.models.reg
	if reg == nil {
		dialog.ShowError(fmt.Errorf("add model: %w", wb.models.regErr), wb.win)
		return
	}
	wb.runJob("Adding "+filepath.Base(path), func(ctx context.Context, _ progress.Func) (func(), error) {
		e, _, err := reg.Add(ctx, path)
		if err != nil {
			return nil, err
		}
		list, err := reg.List()
		return func() {
			wb.showModels(list, err)
			if v := wb.modelsView; v != nil {
				v.selectModel(e.SHA256)
			}
			msg := fmt.Sprintf("Added %s (%.8s): %d-d output.", e.Name, e.SHA256, e.OutputDim)
			if e.ThresholdSource == modelreg.ThresholdNone {
				msg += " Set its threshold, or calibrate it on LFW."
			}
			wb.status.SetText(msg)
		}, nil
	})
}

// listOp runs a quick change to the list (a few file operations) off the
// UI goroutine, then shows the list again; a failure is shown in a dialog.
func (wb *Workbench) listOp(what string, op func(reg *modelreg.Registry) error) {
	reg := wb.models.reg
	go func() {
		err := op(reg)
		list, lerr := reg.List()
		wb.do(func() {
			wb.showModels(list, lerr)
			if err != nil {
				wb.status.SetText(what + ": failed")
				dialog.ShowError(err, wb.win)
			} else {
				wb.status.SetText(what + ".")
			}
			if wb.models.opDone != nil {
				wb.models.opDone(err)
			}
		})
	}()
}

// onSetThreshold asks for a threshold for e, by hand.
func (wb *Workbench) onSetThreshold(e modelreg.Entry) {
	entry := widget.NewEntry()
	if e.ThresholdSource != modelreg.ThresholdNone {
		entry.SetText(strconv.FormatFloat(e.Threshold, 'f', -1, 64))
	}
	entry.Validator = func(s string) error {
		_, err := parseThreshold(s)
		return err
	}
	items := []*widget.FormItem{widget.NewFormItem("Cosine threshold", entry)}
	items[0].HintText = "Same person when the score is at least this, in [−1, 1]."
	d := dialog.NewForm("Threshold of "+wb.modelLabel(e), "Set", "Cancel", items, func(ok bool) {
		if t, err := parseThreshold(entry.Text); ok && err == nil {
			wb.setThreshold(e, t)
		}
	}, wb.win)
	d.Resize(fyne.NewSize(460, 200))
	d.Show()
	wb.models.thresholdEntry = entry
}

// parseThreshold reads a cosine threshold.
func parseThreshold(s string) (float64, error) {
	t, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || t < -1 || t > 1 {
		return 0, errors.New("a number from −1 to 1")
	}
	return t, nil
}

// setThreshold records a hand-set threshold for e.
func (wb *Workbench) setThreshold(e modelreg.Entry, t float64) {
	wb.listOp(fmt.Sprintf("Threshold of %s set to %.4f", e.Name, t), func(reg *modelreg.Registry) error {
		_, err := reg.SetThreshold(e.SHA256, t, modelreg.ThresholdManual, nil)
		return err
	})
}

// onRemoveModel takes e off the list after asking.
func (wb *Workbench) onRemoveModel(e modelreg.Entry) {
	dialog.ShowConfirm("Remove model", fmt.Sprintf("Take %s off the list? The file stays where it is.", wb.modelLabel(e)), func(ok bool) {
		if ok {
			wb.removeModel(e)
		}
	}, wb.win)
}

func (wb *Workbench) removeModel(e modelreg.Entry) {
	wb.listOp("Removed "+e.Name, func(reg *modelreg.Registry) error { return reg.Remove(e.SHA256) })
}

// onCalibrate asks for an LFW folder and calibrates e's threshold there.
func (wb *Workbench) onCalibrate(e modelreg.Entry) {
	wb.pickFolder("Choose the LFW folder (pairs.txt and one folder per person)", func(dir string) {
		if dir != "" {
			wb.calibrate(e, dir)
		}
	})
}

// calibrate scores LFW View 2 with e in a job (minutes: thousands of
// photos), with progress and Cancel, and records the threshold chosen.
func (wb *Workbench) calibrate(e modelreg.Entry, dir string) {
	reg := wb.models.reg
	wb.runJob("Calibrating "+e.Name+" on "+app.CalibrationSet, func(ctx context.Context, prog progress.Func) (func(), error) {
		eng, err := wb.engine()
		if err != nil {
			return nil, err
		}
		emb, err := wb.recs.get(eng, e)
		if err != nil {
			return nil, err
		}
		t, cal, err := calibrateLFW(ctx, eng, e, emb, dir, prog)
		if err != nil {
			return nil, err
		}
		if _, err := reg.SetThreshold(e.SHA256, t, modelreg.ThresholdLFW, &cal); err != nil {
			return nil, err
		}
		list, lerr := reg.List()
		return func() {
			wb.showModels(list, lerr)
			wb.status.SetText(fmt.Sprintf("%s: threshold %.4f on %s (%d pairs, accuracy %.2f%%).", e.Name, t, cal.Dataset, cal.Pairs, 100*cal.Accuracy))
		}, nil
	})
}
