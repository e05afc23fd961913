package ui

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/occlusion"
)

// twoModelWorkbench is the demo workbench with a second model on a
// temporary list (a small convolutional stand-in for a student, threshold
// 0.9 set by hand), chosen as model B through the Compare screen's picker
// instead of the default embedded student; it returns once the photos
// are embedded with it.
func twoModelWorkbench(t testing.TB) (fyne.Window, *Workbench, func(func()), modelreg.Entry) {
	t.Helper()
	dir := t.TempDir()
	reg := modelreg.Open(filepath.Join(dir, "models.json"))
	e, _, err := reg.Add(context.Background(), writeFile(t, dir, "student.onnx", convModel(3, 112, 112, 8, 16, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if e, err = reg.SetThreshold(e.SHA256, 0.9, modelreg.ThresholdManual, nil); err != nil {
		t.Fatal(err)
	}
	w, wb := demoWorkbench(t)
	ui := serialize(wb)
	var shown <-chan struct{}
	ui(func() {
		// This test chooses its model B itself, below; the embedded
		// student as the default model B is TestDefaultStudent's.
		wb.models.defaulted = true
		shown = wb.setRegistry(reg)
	})
	wait(t, shown, "reading the model list")
	done, jobErr := jobWaiter(wb)
	ui(func() {
		if !wb.compareView.modelRow.Visible() {
			t.Error("the model pickers are hidden with a second model listed")
		}
		wb.models.pickers[slotB][0].SetSelected("student.onnx")
	})
	wait(t, done, "embedding the photos with model B")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	return w, wb, ui, e
}

// TestDefaultStudent: when the model list is first read, the embedded
// student becomes model B, and the folder analysed already is embedded
// with it: the Compare screen shows the teacher above the student, each
// at its published threshold.
func TestDefaultStudent(t *testing.T) {
	_, wb := demoWorkbench(t)
	ui := serialize(wb)
	done, jobErr := jobWaiter(wb)
	var shown <-chan struct{}
	ui(func() { shown = wb.setRegistry(modelreg.Open(filepath.Join(t.TempDir(), "models.json"))) })
	wait(t, shown, "reading the model list")
	wait(t, done, "embedding the photos with the default model B")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	studentSHA, err := engine.Student().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	ui(func() {
		d := wb.duo
		if d == nil || d.Models[0] != wb.cmp || d.Models[1].Model.SHA256 != studentSHA || d.Models[1].Threshold != modelreg.StudentThreshold ||
			d.Models[0].Threshold != modelreg.TeacherThreshold || d.Labels() != [2]string{"teacher", "student"} {
			t.Fatalf("duo %+v, want the teacher and the embedded student", d)
		}
		if got := wb.models.pickers[slotB][0].Selected; got != modelreg.StudentName {
			t.Errorf("model B's picker shows %q", got)
		}
		if v := wb.compareView; len(v.grid.Objects) != 6 || v.panels[5].title.Text != "student: unmasked vs masked" {
			t.Errorf("%d maps shown, model B's row titled %q", len(v.grid.Objects), v.panels[5].title.Text)
		}
		// Choosing "none" sticks: the default is not applied again.
		wb.models.pickers[slotB][0].SetSelected(noModel)
		wb.showModels(wb.models.list, nil)
		if wb.duo != nil || wb.models.chosen[slotB] != "" {
			t.Error("model B came back after the user chose none")
		}
	})
}

// TestTwoModelCompare: with model B chosen, the Compare screen shows both
// models' maps at their own thresholds; switching what it shows, or
// between models already embedded, re-renders from the comparisons held
// without a job; Export PNG/CSV write the two-model picture and columns.
func TestTwoModelCompare(t *testing.T) {
	w, wb, ui, e := twoModelWorkbench(t)
	d := wb.duo
	if d == nil || d.Models[0] != wb.cmp || d.Models[1].Model.SHA256 != e.SHA256 || d.Models[1].Threshold != 0.9 || d.Models[0].Threshold != modelreg.TeacherThreshold {
		t.Fatalf("duo %+v", d)
	}
	same := func(a, b compare.ScoreMatrix) bool { return len(a.Data) > 0 && &a.Data[0] == &b.Data[0] }
	v := wb.compareView
	ui(func() {
		if len(v.grid.Objects) != 6 || !same(v.panels[0].map_.hm.Scores, d.Models[0].Scores[compare.SettingUU]) ||
			!same(v.panels[6].map_.hm.Scores, d.Models[1].Scores[compare.SettingMM]) {
			t.Fatalf("%d maps shown, not model A's above model B's", len(v.grid.Objects))
		}
		if v.panels[5].title.Text != "student: unmasked vs masked" || !v.legends[1].Visible() {
			t.Errorf("model B's row: title %q, its legend shown %v", v.panels[5].title.Text, v.legends[1].Visible())
		}
	})
	assertCapture(t, "compare_two_models.png", w.Canvas())
	if min, size := w.Content().MinSize(), defaultSize(); min.Width > size.Width || min.Height > size.Height {
		t.Errorf("with two models the window's content needs %v, more than %v", min, size)
	}

	// Switching re-renders from the comparisons held: no job, no new
	// comparison.
	jobs, held := wb.job.id, wb.byModel[e.SHA256]
	ui(func() {
		v.show.SetSelectedIndex(int(showChange))
		if len(v.grid.Objects) != 3 || !same(v.panels[1].map_.hm.Scores, d.Change(compare.SettingUM)) || v.legends[0].Visible() || !v.diffLegend.Visible() {
			t.Errorf("change view: %d maps, not the change B − A", len(v.grid.Objects))
		}
		if got, want := v.panels[2].tip(3, 7), d.ChangeText(compare.SettingMM, 3, 7); got != want {
			t.Errorf("change tooltip %q, want %q", got, want)
		}
		v.show.SetSelectedIndex(int(showB))
		if len(v.grid.Objects) != 3 || !same(v.panels[0].map_.hm.Scores, d.Models[1].Scores[compare.SettingUU]) {
			t.Error("model B's view does not show model B's scores")
		}
		wb.models.pickers[slotB][0].SetSelected(noModel)
		if wb.duo != nil || len(v.grid.Objects) != 3 || !same(v.panels[0].map_.hm.Scores, wb.cmp.Scores[compare.SettingUU]) {
			t.Error("with one model the screen does not show model A alone")
		}
		wb.models.pickers[slotB][1].SetSelected("student.onnx") // the Models screen's picker
		if wb.duo == nil || wb.duo.Models[1] != held || wb.models.pickers[slotB][0].Selected != "student.onnx" {
			t.Error("choosing model B again does not show its comparison held, or the pickers disagree")
		}
		v.show.SetSelectedIndex(int(showBoth))
	})
	if wb.job.id != jobs {
		t.Errorf("switching models started %d jobs", wb.job.id-jobs)
	}

	path := filepath.Join(t.TempDir(), "two")
	wb.pickSave = func(title, name, ext string, done func(string)) { done(withExt(path, ext)) }
	for _, b := range []func(){func() { test.Tap(wb.exportPNGButton) }, func() { test.Tap(wb.exportCSVButton) }} {
		exported := make(chan struct{})
		wb.exportDone = func(_ string, err error) {
			if err != nil {
				t.Error(err)
			}
			close(exported)
		}
		ui(b)
		wait(t, exported, "the export")
	}
	img, err := imageio.Decode(path + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if want := wb.duo.Render(compare.RenderOptions{}); img.Rect != want.Rect || !bytes.Equal(img.Pix, want.Pix) {
		t.Errorf("exported %v, not the two-model picture (%v)", img.Rect, want.Rect)
	}
	var want bytes.Buffer
	if err := wb.duo.WriteCSV(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path + ".csv")
	if err != nil || !bytes.Equal(got, want.Bytes()) || !bytes.Contains(got, []byte("teacher_unmasked")) || !bytes.Contains(got, []byte("student_masked")) {
		t.Errorf("CSV is not the two models' columns (%v): %.200s", err, got)
	}
}

// TestTwoModelStatistics: the Statistics screen shows both models' rows,
// histograms and flips.
func TestTwoModelStatistics(t *testing.T) {
	_, wb, ui, _ := twoModelWorkbench(t)
	d := wb.duo
	ui(func() {
		flips := modelFlips(wb)
		if len(flips) != len(d.Models[0].Flips)+len(d.Models[1].Flips) {
			t.Errorf("%d flips listed, want both models' %d + %d", len(flips), len(d.Models[0].Flips), len(d.Models[1].Flips))
		}
		for _, f := range flips[len(d.Models[0].Flips):] {
			if !strings.HasPrefix(f.text, "student: ") {
				t.Errorf("model B's flip %q", f.text)
			}
		}
	})
	rows := d.StatsTable()
	if len(rows) != 1+2*len(d.Models[0].Stats) || rows[0][0] != "Model" || rows[len(rows)-1][0] != "student" {
		t.Errorf("statistics table %q", rows)
	}
}

// TestInspectorOcclusion: the pair inspector shows both models' scores,
// computes the occlusion maps of both in a job with the chosen grid (the
// unoccluded scores are the comparison's), caches them so that reopening
// the pair shows them at once, and Cancel stops a computation without
// caching anything.
func TestInspectorOcclusion(t *testing.T) {
	w, wb, ui, e := twoModelWorkbench(t)
	h := wb.heatmaps[1]
	f := wb.cmp.Flips[0]
	i, j := int(f.A), int(f.B)
	ui(func() { test.TapAt(h, cellCentre(h, i, j)) })
	in := wb.inspector
	if in == nil || len(in.occ.models) != 2 {
		t.Fatal("no two-model inspector")
	}
	if shown := texts(in.tabs.Items[0].Content); !strings.Contains(shown, "student − teacher") || !strings.Contains(shown, "Masks flip") {
		t.Errorf("the scores tab shows %q", shown)
	}
	occ := in.occ
	done, jobErr := jobWaiter(wb)
	ui(func() {
		in.tabs.SelectIndex(1)
		occ.patch.SetSelected("16")
		occ.stride.SetSelected("16")
		if occ.compute.Disabled() || len(occ.overlays) != 0 {
			t.Error("nothing computed yet, but the button is disabled or maps are shown")
		}
		test.Tap(occ.compute)
		if occ.job.bar.Hidden || occ.job.cancelBt.Hidden {
			t.Error("the inspector shows no progress and Cancel while the maps are computed")
		}
	})
	wait(t, done, "the occlusion maps")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	if len(wb.occlusion) != 2 {
		t.Fatalf("%d results cached, want 2", len(wb.occlusion))
	}
	p := wb.cmp.Pair(i, j)
	pb := wb.duo.Models[1].Pair(i, j)
	for k, r := range wb.occlusion {
		if r.Grid != (occlusion.Grid{Size: 112, Patch: 16, Stride: 16}) || len(r.Settings) != 3 || k.a != p.A.Key || k.b != p.B.Key {
			t.Fatalf("result %+v for %+v", r.Grid, k)
		}
		want := p.Scores
		if k.sha == e.SHA256 {
			want = pb.Scores
		}
		for s, m := range r.Settings {
			if math.Abs(m.Score-want[s]) > 1e-4 {
				t.Errorf("model %.8s, %s: unoccluded score %v, the comparison's %v", k.sha, m.Setting, m.Score, want[s])
			}
		}
	}
	ui(func() {
		if len(occ.overlays) != 3*6 || !occ.compute.Disabled() {
			t.Errorf("%d faces shown, want 3 settings × (2 faces + 2 models × 2 maps)", len(occ.overlays))
		}
	})
	assertCapture(t, "inspector_occlusion.png", w.Canvas())

	reopenAndCancel(t, wb, ui, i, j)
}

// reopenAndCancel: reopened, the pair shows the occlusion maps held at
// once; a computation cancelled caches nothing.
func reopenAndCancel(t *testing.T, wb *Workbench, ui func(func()), i, j int) {
	in, h := wb.inspector, wb.heatmaps[1]
	var occ *occlusionPanel
	jobs := wb.job.id
	ui(func() {
		in.dlg.Hide()
		test.TapAt(h, cellCentre(h, i, j))
		occ = wb.inspector.occ
		occ.patch.SetSelected("16")
		occ.stride.SetSelected("16")
		if len(occ.overlays) != 18 || wb.job.id != jobs {
			t.Errorf("reopened: %d faces shown, %d jobs started", len(occ.overlays), wb.job.id-jobs)
		}
		occ.which.SetSelectedIndex(1) // model B alone
		if len(occ.overlays) != 3*4 {
			t.Errorf("model B alone: %d faces shown", len(occ.overlays))
		}
	})

	// Cancelled: nothing is cached.
	done, jobErr := jobWaiter(wb)
	ui(func() {
		occ.stride.SetSelected("8")
		test.Tap(occ.compute)
		test.Tap(occ.job.cancelBt)
	})
	wait(t, done, "the cancelled occlusion maps")
	if !errors.Is(*jobErr, context.Canceled) || len(wb.occlusion) != 2 {
		t.Errorf("after Cancel: %v, %d results cached", *jobErr, len(wb.occlusion))
	}
}

// TestTwoModelRemaskAndSwap: Apply to all photos remasks both models (model
// B's masked scores are B's embeddings of A's new masked crops), and
// swapping the models between the slots shows the comparisons held.
func TestTwoModelRemaskAndSwap(t *testing.T) {
	_, wb, ui, e := twoModelWorkbench(t)
	ui(func() { wb.maskPanel.style.SetSelected("n95") })
	done, jobErr := jobWaiter(wb)
	ui(func() { test.Tap(wb.maskPanel.apply) })
	wait(t, done, "remasking both models")
	if *jobErr != nil {
		t.Fatal(*jobErr)
	}
	d := wb.duo
	if d == nil || d.Models[0] != wb.cmp || d.Models[0].Mask.String() != wb.mask.String() || d.Models[1].Mask.String() != wb.mask.String() {
		t.Fatalf("after Apply: duo %v, masks %v", d, wb.mask)
	}
	data, err := os.ReadFile(e.Path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := occlusion.NewNetEmbedder("student.onnx", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Models[0].WithModel(context.Background(), rec, d.Models[1].Model, 0.9, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range compare.Settings() {
		got, w := d.Models[1].Scores[s].Data, want.Scores[s].Data
		for k := range w {
			if math.Abs(float64(got[k]-w[k])) > 1e-5 {
				t.Fatalf("%s: model B's score %d is %v, its embeddings of the new crops give %v", s, k, got[k], w[k])
			}
		}
	}

	jobs := wb.job.id
	ui(func() {
		wb.models.pickers[slotA][0].SetSelected("student.onnx")
		wb.models.pickers[slotB][0].SetSelected(modelreg.TeacherName)
	})
	if l := wb.duo.Labels(); wb.job.id != jobs || l != [2]string{"student", "teacher"} || wb.cmp != d.Models[1] || wb.duo.Models[1] != d.Models[0] {
		t.Errorf("swapped: labels %v, %d jobs started, comparisons held reused %v", l, wb.job.id-jobs, wb.cmp == d.Models[1])
	}
}

// Switching model B between none and a model already embedded redraws the
// Compare screen from the comparisons held; the peer is what choosing a
// model not held yet costs: embedding the demo's 24 crops with it (the
// teacher's weights under another hash).
func BenchmarkSwitchHeldModel(b *testing.B) {
	_, wb, ui, e := twoModelWorkbench(b)
	for b.Loop() {
		ui(func() {
			wb.chooseModel(slotB, "")
			wb.chooseModel(slotB, e.SHA256)
		})
	}
	if wb.duo == nil {
		b.Fatal("model B not shown")
	}
}

func BenchmarkEmbedNewModel(b *testing.B) {
	c, err := demo()
	if err != nil {
		b.Fatal(err)
	}
	rec, err := occlusion.NewNetEmbedder("other.onnx", append(assets.Recognizer(), 0x32, 0x01, 'x'), nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.WithModel(context.Background(), rec, compare.Model{Label: "other"}, 0.3, nil); err != nil {
			b.Fatal(err)
		}
	}
}
