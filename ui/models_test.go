package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/modelreg"
)

// A small recogniser-shaped ONNX model for tests, written with protowire
// (as modelreg's tests do): input x (1×c×h×w) → Conv with d k×k filters
// at stride k → Flatten. seed varies the weights, and so the file's hash.
func convModel(c, h, w, d, k int, seed float32) []byte {
	type pb = []byte
	varint := func(p pb, num protowire.Number, v uint64) pb {
		return protowire.AppendVarint(protowire.AppendTag(p, num, protowire.VarintType), v)
	}
	bytesField := func(p pb, num protowire.Number, b []byte) pb {
		return protowire.AppendBytes(protowire.AppendTag(p, num, protowire.BytesType), b)
	}
	str := func(p pb, num protowire.Number, s string) pb { return bytesField(p, num, []byte(s)) }
	valueInfo := func(name string, dims ...int) pb {
		var shape pb
		for _, x := range dims {
			shape = bytesField(shape, 1, varint(nil, 1, uint64(x)))
		}
		return bytesField(str(nil, 1, name), 2, bytesField(nil, 1, bytesField(varint(nil, 1, 1), 2, shape)))
	}
	ints := func(name string, v ...int) pb {
		p := str(nil, 1, name)
		for _, x := range v {
			p = varint(p, 8, uint64(x))
		}
		return varint(p, 20, 7)
	}
	node := func(op string, in, out []string, attrs ...pb) pb {
		var p pb
		for _, s := range in {
			p = str(p, 1, s)
		}
		for _, s := range out {
			p = str(p, 2, s)
		}
		p = str(str(p, 3, op+"_0"), 4, op)
		for _, a := range attrs {
			p = bytesField(p, 5, a)
		}
		return p
	}
	var weights pb
	n := d * c * k * k
	for i := range n {
		v := float32(math.Sin(float64(seed) + float64(i)*0.37))
		weights = binary.LittleEndian.AppendUint32(weights, math.Float32bits(v))
	}
	tensor := bytesField(str(varint(varint(varint(varint(varint(nil, 1, uint64(d)), 1, uint64(c)), 1, uint64(k)), 1, uint64(k)), 2, 1), 8, "W"), 9, weights)
	var g pb
	g = bytesField(g, 1, node("Conv", []string{"x", "W"}, []string{"y"}, ints("kernel_shape", k, k), ints("strides", k, k)))
	g = bytesField(g, 1, node("Flatten", []string{"y"}, []string{"out"}))
	g = str(g, 2, "test")
	g = bytesField(g, 5, tensor)
	g = bytesField(g, 11, valueInfo("x", 1, c, h, w))
	g = bytesField(g, 12, valueInfo("out", 1, d*(h/k)*(w/k)))
	return bytesField(bytesField(varint(nil, 1, 3), 7, g), 8, varint(nil, 2, 9))
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// modelsWorkbench is a main window with no folder analysed, using the
// model list in regPath, shown.
func modelsWorkbench(t *testing.T, regPath string) (fyne.Window, *Workbench, func(func())) {
	t.Helper()
	w, wb := newMainWindow(test.NewTempApp(t))
	t.Cleanup(w.Close)
	ui := serialize(wb)
	var shown <-chan struct{}
	ui(func() { shown = wb.setRegistry(modelreg.Open(regPath)) })
	wait(t, shown, "reading the model list")
	return w, wb, ui
}

// addThroughButton adds the ONNX at path as a user does: the Models
// screen's Add button, its file dialog answered with path. It returns
// the job's error.
func addThroughButton(t *testing.T, wb *Workbench, ui func(func()), path string) error {
	t.Helper()
	wb.pickOpen = func(title, desc, ext string, done func(string)) {
		if ext != "onnx" {
			t.Errorf("the file dialog asks for .%s files", ext)
		}
		done(path)
	}
	done, jobErr := jobWaiter(wb)
	ui(func() { test.Tap(wb.modelsView.add) })
	wait(t, done, "adding "+path)
	return *jobErr
}

// listOpThroughButton taps b, then the button called confirm in the
// dialog b opens, after edit (if not nil) has filled it in, and waits for
// the change to the list to be written.
func listOpThroughButton(t *testing.T, w fyne.Window, wb *Workbench, ui func(func()), b *widget.Button, edit func(), confirm string) error {
	t.Helper()
	done := make(chan struct{})
	var opErr error
	wb.models.opDone = func(err error) { opErr = err; wb.models.opDone = nil; close(done) }
	ui(func() {
		test.Tap(b)
		if edit != nil {
			edit()
		}
		ok := findButton(w.Canvas().Overlays().Top(), confirm)
		if ok == nil {
			t.Fatalf("no %q button in the dialog", confirm)
		}
		test.Tap(ok)
	})
	wait(t, done, "the change to the model list")
	return opErr
}

// walk calls fn on o and every object under it.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil {
		return
	}
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, fn)
		}
	}
}

// findButton is the button labelled text under o, or nil.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	var found *widget.Button
	walk(o, func(c fyne.CanvasObject) {
		if b, ok := c.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	return found
}

// texts is all the text shown under o.
func texts(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(c fyne.CanvasObject) {
		switch x := c.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		}
	})
	return b.String()
}

// TestModelsConfigIsTemporary: the tests never see the user's real model
// list (TestMain moves the config folder).
func TestModelsConfigIsTemporary(t *testing.T) {
	w, wb := newMainWindow(test.NewTempApp(t))
	defer w.Close()
	for what, p := range map[string]string{"the workbench's model list": wb.models.reg.Path(), "the default model list": must(modelreg.DefaultPath()), "the embedding cache": must(app.DefaultCacheDir())} {
		if !strings.Contains(p, "maskinv-ui-config-") {
			t.Errorf("%s is %s, not in the tests' temporary folder", what, p)
		}
	}
}

func must(s string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

// TestModelManagerRoundTrip: a model added, given a threshold by hand and
// removed through the Models screen is on the list file, and a new window
// reading the same file shows it as it was left.
func TestModelManagerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	regPath := filepath.Join(dir, "config", "maskinv", "models.json")
	w, wb, ui := modelsWorkbench(t, regPath)
	v := wb.modelsView
	if len(wb.models.list) != 2 || !wb.models.list[0].Embedded || v.cell(1, 0) != modelreg.TeacherName || v.cell(1, 5) != "0.2797" || v.cell(1, 6) != "published" ||
		!wb.models.list[1].Embedded || v.cell(2, 0) != modelreg.StudentName || v.cell(2, 5) != "0.2756" || v.cell(2, 6) != "published" {
		t.Fatalf("a new list shows %d models: %q, %q, %q; %q, %q, %q", len(wb.models.list), v.cell(1, 0), v.cell(1, 5), v.cell(1, 6), v.cell(2, 0), v.cell(2, 5), v.cell(2, 6))
	}
	// The embedded models cannot be removed.
	for _, e := range wb.models.list {
		ui(func() { v.selectModel(e.SHA256) })
		if !v.remove.Disabled() || v.threshold.Disabled() {
			t.Errorf("%s selected: Remove enabled %v, Set threshold enabled %v", e.Name, !v.remove.Disabled(), !v.threshold.Disabled())
		}
	}
	ui(func() {
		v.table.UnselectAll()
		v.selected = -1
		v.update()
	})
	if !v.remove.Disabled() || !v.threshold.Disabled() || v.add.Disabled() {
		t.Error("with nothing selected only Add may be enabled")
	}

	data := convModel(3, 112, 112, 4, 16, 1)
	path := writeFile(t, dir, "student.onnx", data)
	if err := addThroughButton(t, wb, ui, path); err != nil {
		t.Fatal(err)
	}
	want, _, err := modelreg.Inspect(context.Background(), "student.onnx", data)
	if err != nil {
		t.Fatal(err)
	}
	ui(func() {
		if len(wb.models.list) != 3 || v.selected != 2 {
			t.Fatalf("after Add: %d models, row %d selected", len(wb.models.list), v.selected)
		}
		got := wb.models.list[2]
		if got.SHA256 != want.SHA256 || got.Path != path || got.OutputDim != 4*7*7 || got.ThresholdSource != modelreg.ThresholdNone {
			t.Errorf("added %+v", got)
		}
		row := []string{v.cell(3, 0), v.cell(3, 1), v.cell(3, 2), v.cell(3, 3), v.cell(3, 5), v.cell(3, 6)}
		if strings.Join(row, "|") != "student.onnx|"+want.SHA256[:12]+"…|1×3×112×112|196|—|not set" {
			t.Errorf("table row %q", row)
		}
		if !strings.Contains(v.detail.Text, want.SHA256) || !strings.Contains(v.detail.Text, path) || v.remove.Disabled() {
			t.Errorf("details %q, Remove disabled %v", v.detail.Text, v.remove.Disabled())
		}
	})

	err = listOpThroughButton(t, w, wb, ui, v.threshold, func() { test.Type(wb.models.thresholdEntry, "0.31") }, "Set")
	if err != nil {
		t.Fatal(err)
	}
	ui(func() {
		if e := wb.models.list[2]; e.Threshold != 0.31 || e.ThresholdSource != modelreg.ThresholdManual || v.cell(3, 5) != "0.3100" || v.cell(3, 6) != "by hand" {
			t.Errorf("after Set threshold: %v (%s), shown %q %q", e.Threshold, e.ThresholdSource, v.cell(3, 5), v.cell(3, 6))
		}
	})

	// A new window on the same file shows the list as it was left.
	w2, wb2, ui2 := modelsWorkbench(t, regPath)
	v2 := wb2.modelsView
	ui2(func() {
		if len(wb2.models.list) != 3 || v2.cell(3, 0) != "student.onnx" || v2.cell(3, 5) != "0.3100" || v2.cell(3, 6) != "by hand" || wb2.models.list[2].Path != path {
			t.Fatalf("reopened: %d models, row %q %q %q", len(wb2.models.list), v2.cell(3, 0), v2.cell(3, 5), v2.cell(3, 6))
		}
		v2.selectModel(want.SHA256)
	})
	if err := listOpThroughButton(t, w2, wb2, ui2, v2.remove, nil, "Yes"); err != nil {
		t.Fatal(err)
	}
	list, err := modelreg.Open(regPath).List()
	if err != nil || len(list) != 2 || len(wb2.models.list) != 2 {
		t.Errorf("after Remove: the file lists %d models (%v), the window %d", len(list), err, len(wb2.models.list))
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Remove must leave the model file: %v", err)
	}
}

// TestAddRefusedModel: a corrupt or wrong-shape ONNX given to the Models
// screen shows the engine's error in a dialog and leaves the list, and
// its file, unchanged.
func TestAddRefusedModel(t *testing.T) {
	dir := t.TempDir()
	regPath := filepath.Join(dir, "models.json")
	w, wb, ui := modelsWorkbench(t, regPath)
	if err := addThroughButton(t, wb, ui, writeFile(t, dir, "good.onnx", convModel(3, 112, 112, 2, 16, 1))); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(regPath)
	if err != nil {
		t.Fatal(err)
	}
	truncated := assets.Recognizer()
	tests := []struct {
		name  string
		data  []byte
		isErr error // nil: any decode error
	}{
		{"garbage.onnx", []byte("this is not an ONNX model"), nil},
		{"truncated.onnx", truncated[:len(truncated)/3], nil},
		{"small-input.onnx", convModel(3, 64, 64, 2, 16, 1), engine.ErrModelInput},
		{"grey-input.onnx", convModel(1, 112, 112, 2, 16, 1), engine.ErrModelInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, want := modelreg.Inspect(context.Background(), tc.name, tc.data)
			if want == nil {
				t.Fatal("the engine accepts the model")
			}
			err := addThroughButton(t, wb, ui, writeFile(t, dir, tc.name, tc.data))
			if err == nil || (tc.isErr != nil && !errors.Is(err, tc.isErr)) || !strings.Contains(err.Error(), want.Error()) {
				t.Fatalf("job error %v, want one carrying %v", err, want)
			}
			ui(func() {
				top := w.Canvas().Overlays().Top()
				if shown := texts(top); !strings.Contains(shown, want.Error()) {
					t.Errorf("the dialog shows %q, not the engine's error %q", shown, want)
				}
				if len(wb.models.list) != 3 || wb.models.list[2].Name != "good.onnx" {
					t.Errorf("the list changed: %d models", len(wb.models.list))
				}
				if ok := findButton(top, "OK"); ok != nil {
					test.Tap(ok)
				} else {
					w.Canvas().Overlays().Remove(top)
				}
			})
			if after, err := os.ReadFile(regPath); err != nil || !bytes.Equal(after, before) {
				t.Errorf("the list file changed (%v)", err)
			}
		})
	}
}

// lfwDemo is the demo folder as a small LFW View 2 set: two folds of two
// genuine and two impostor pairs.
func lfwDemo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lfw")
	if err := os.CopyFS(dir, assets.Demo()); err != nil {
		t.Fatal(err)
	}
	pairs := "2\t2\n" +
		"Angelina_Jolie\t1\t2\nColin_Powell\t1\t3\nAngelina_Jolie\t3\tColin_Powell\t2\nSerena_Williams\t1\tAaron_Peirsol\t2\n" +
		"Serena_Williams\t2\t3\nAaron_Peirsol\t1\t3\nAngelina_Jolie\t2\tSerena_Williams\t3\nColin_Powell\t1\tAaron_Peirsol\t3\n"
	writeFile(t, dir, "pairs.txt", []byte(pairs))
	return dir
}

// TestCalibrateThroughUI: Calibrate on LFW… scores the folder's pairs
// with the model and records the mean of the per-fold thresholds, as a
// reference computed photo by photo with the engine gives them.
func TestCalibrateThroughUI(t *testing.T) {
	dir := lfwDemo(t)
	_, wb, ui := modelsWorkbench(t, filepath.Join(t.TempDir(), "models.json"))
	v := wb.modelsView
	wb.pickFolder = func(title string, done func(string)) { done(dir) }
	done, jobErr := jobWaiter(wb)
	ui(func() {
		v.selectModel(wb.models.list[0].SHA256)
		test.Tap(v.calibrate)
	})
	wait(t, done, "the calibration")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}

	// The reference: each photo through the whole pipeline, one by one.
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type pair struct {
		a, b string
		same bool
		fold int
	}
	ps := []pair{
		{"Angelina_Jolie/Angelina_Jolie_0001.jpg", "Angelina_Jolie/Angelina_Jolie_0002.jpg", true, 0},
		{"Colin_Powell/Colin_Powell_0001.jpg", "Colin_Powell/Colin_Powell_0003.jpg", true, 0},
		{"Angelina_Jolie/Angelina_Jolie_0003.jpg", "Colin_Powell/Colin_Powell_0002.jpg", false, 0},
		{"Serena_Williams/Serena_Williams_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0002.jpg", false, 0},
		{"Serena_Williams/Serena_Williams_0002.jpg", "Serena_Williams/Serena_Williams_0003.jpg", true, 1},
		{"Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0003.jpg", true, 1},
		{"Angelina_Jolie/Angelina_Jolie_0002.jpg", "Serena_Williams/Serena_Williams_0003.jpg", false, 1},
		{"Colin_Powell/Colin_Powell_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0003.jpg", false, 1},
	}
	embed := func(key string) []float32 {
		img, err := imageio.Decode(filepath.Join(dir, key))
		if err != nil {
			t.Fatal(err)
		}
		r, err := eng.Process(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		return r.Embedding
	}
	var scores []float64
	var same []bool
	var folds []int
	for _, p := range ps {
		scores = append(scores, face.Cosine(embed(p.a), embed(p.b)))
		same, folds = append(same, p.same), append(folds, p.fold)
	}
	wantT, wantCal, err := modelreg.Calibrate(app.CalibrationSet, scores, same, folds)
	if err != nil {
		t.Fatal(err)
	}
	ui(func() {
		e := wb.models.list[0]
		if e.ThresholdSource != modelreg.ThresholdLFW || e.Calibration == nil || math.Abs(e.Threshold-wantT) > 1e-5 {
			t.Fatalf("teacher after calibration: %v (%s), want %v", e.Threshold, e.ThresholdSource, wantT)
		}
		if c := e.Calibration; c.Pairs != 8 || c.Dataset != "LFW View 2" || len(c.FoldThresholds) != 2 || math.Abs(c.Accuracy-wantCal.Accuracy) > 1e-9 {
			t.Errorf("calibration record %+v, want %+v", *c, wantCal)
		}
		if v.cell(1, 6) != "LFW View 2" || !strings.Contains(v.detail.Text, "calibrated on LFW View 2: 8 pairs") {
			t.Errorf("shown: %q, %q", v.cell(1, 6), v.detail.Text)
		}
	})
}
