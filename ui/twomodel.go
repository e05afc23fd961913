package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/progress"
)

// Two models side by side. The workbench keeps, for the analysed folder
// under the current masks, one compare.Comparison per model embedded so
// far (byModel): the faces are found, aligned and masked once, by the
// first analysis, and each further model only embeds the same crops
// (compare.Comparison.WithModel). Choosing models shows their
// comparisons from that cache; only a model not yet in it is embedded, in
// a job. wb.cmp is model A's comparison, which every one-model view
// shows, and wb.duo pairs it with model B's.

// modelKey is e's key in byModel.
func modelKey(e modelreg.Entry) string { return e.SHA256 }

// slotModel is the model in slot; model A is the teacher until the list
// is read. ok is false for an empty slot B.
func (wb *Workbench) slotModel(slot int) (modelreg.Entry, bool) {
	if e, ok := wb.chosenEntry(slot); ok || slot == slotB {
		return e, ok
	}
	return modelreg.Entry{Name: modelreg.TeacherName, SHA256: wb.teacherSHA(), Embedded: true, Threshold: modelreg.TeacherThreshold, ThresholdSource: modelreg.ThresholdDefault}, true
}

// teacherSHA256 is the embedded teacher's hash.
func teacherSHA256() string {
	sum := sha256.Sum256(assets.Recognizer())
	return hex.EncodeToString(sum[:])
}

// slotChoice is the model in a slot as a job needs it: its entry and its
// name in comparisons, read on the UI goroutine before the job starts
// (the list belongs to the UI goroutine).
type slotChoice struct {
	entry modelreg.Entry
	model compare.Model
}

// choice is slotChoice of e.
func (wb *Workbench) choice(e modelreg.Entry) slotChoice {
	return slotChoice{entry: e, model: compare.Model{Label: wb.shortLabel(e), Name: e.Name, SHA256: e.SHA256}}
}

// firstEngine is the engine a comparison of model A runs: the engine
// itself for the teacher, else its face finding with A's recogniser.
func (wb *Workbench) firstEngine(eng *engine.Engine, a modelreg.Entry) (compare.Engine, error) {
	if a.SHA256 == wb.teacherSHA() {
		return eng, nil
	}
	rec, err := wb.recs.get(eng, a)
	if err != nil {
		return nil, err
	}
	return pipelineWith{eng, rec}, nil
}

// analyse is the work of analysing src: model A's comparison, and model
// B's from the same crops when one is chosen. It runs in a job.
func (wb *Workbench) analyse(ctx context.Context, src fs.FS, opt compare.Options, a slotChoice, b *slotChoice) (map[string]*compare.Comparison, error) {
	eng, err := wb.engine()
	if err != nil {
		return nil, err
	}
	engA, err := wb.firstEngine(eng, a.entry)
	if err != nil {
		return nil, err
	}
	opt.Model, opt.Threshold = a.model, a.entry.Threshold
	if b == nil {
		c, err := compare.Folder(ctx, engA, src, opt)
		if err != nil {
			return nil, err
		}
		return map[string]*compare.Comparison{modelKey(a.entry): c}, nil
	}
	rec, err := wb.recs.get(eng, b.entry)
	if err != nil {
		return nil, err
	}
	d, err := compare.FolderDuo(ctx, engA, src, opt, compare.Second{Recogniser: rec, Model: b.model, Threshold: b.entry.Threshold})
	if err != nil {
		return nil, err
	}
	return map[string]*compare.Comparison{modelKey(a.entry): d.Models[0], modelKey(b.entry): d.Models[1]}, nil
}

// remask is the work of redoing the masked half with mask: model A's
// comparison, and model B's with it when two are compared.
func (wb *Workbench) remask(ctx context.Context, c *compare.Comparison, d *compare.Duo, a, b modelreg.Entry, mask maskgen.Config, prog progress.Func) (map[string]*compare.Comparison, error) {
	eng, err := wb.engine()
	if err != nil {
		return nil, err
	}
	engA, err := wb.firstEngine(eng, a)
	if err != nil {
		return nil, err
	}
	if d == nil {
		nc, err := c.Remask(ctx, engA, mask, prog)
		if err != nil {
			return nil, err
		}
		return map[string]*compare.Comparison{modelKey(a): nc}, nil
	}
	rec, err := wb.recs.get(eng, b)
	if err != nil {
		return nil, err
	}
	nd, err := d.Remask(ctx, engA, rec, mask, prog)
	if err != nil {
		return nil, err
	}
	return map[string]*compare.Comparison{modelKey(a): nd.Models[0], modelKey(b): nd.Models[1]}, nil
}

// setComparisons makes cmps the analysed folder's comparisons and shows
// the chosen models'.
func (wb *Workbench) setComparisons(cmps map[string]*compare.Comparison) {
	wb.byModel = cmps
	wb.byModelGen++
	wb.showChosen()
}

// showChosen shows the chosen models' comparisons. A chosen model not yet
// embedded is embedded in a job (after the running one, if any), and
// shown when it ends.
func (wb *Workbench) showChosen() {
	if wb.byModel == nil {
		return // nothing analysed yet: the analysis embeds the chosen models
	}
	a, _ := wb.slotModel(slotA)
	ca := wb.byModel[modelKey(a)]
	b, hasB := wb.slotModel(slotB)
	var cb *compare.Comparison
	if hasB {
		cb = wb.byModel[modelKey(b)]
	}
	wb.duo = nil
	if ca == nil || (hasB && cb == nil) {
		// Model A alone (the one held, if the new one is not embedded
		// yet) until the job below ends: never a pair of other models.
		if ca != nil {
			wb.setComparison(ca)
		} else if wb.cmp != nil {
			wb.notify()
		}
		wb.embedChosen()
		return
	}
	if hasB {
		d, err := compare.NewDuo(ca, cb)
		if err != nil { // cannot happen: both come from one analysis
			wb.status.SetText("Model B: " + err.Error())
		}
		wb.duo = d
	}
	wb.setComparison(ca)
}

// embedChosen embeds the analysed photos with the chosen models that have
// no comparison yet, in a job; if another job runs, once it ends.
func (wb *Workbench) embedChosen() {
	if wb.job.cancel != nil {
		wb.whenIdle(wb.showChosen)
		wb.status.SetText("The photos are embedded with the chosen model when the running job ends.")
		return
	}
	var todo []slotChoice
	for slot := range 2 {
		if e, ok := wb.slotModel(slot); ok && wb.byModel[modelKey(e)] == nil {
			todo = append(todo, wb.choice(e))
		}
	}
	var base *compare.Comparison
	for _, c := range wb.byModel {
		base = c
		break
	}
	gen, names := wb.byModelGen, make([]string, len(todo))
	for i, ch := range todo {
		names[i] = ch.model.Label
	}
	wb.runJob("Embedding the photos with "+strings.Join(names, " and "), func(ctx context.Context, prog progress.Func) (func(), error) {
		eng, err := wb.engine()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		made := make([]*compare.Comparison, len(todo))
		for i, ch := range todo {
			rec, err := wb.recs.get(eng, ch.entry)
			if err != nil {
				return nil, err
			}
			part := func(done, total int) { prog(i*total+done, len(todo)*total) }
			if made[i], err = base.WithModel(ctx, rec, ch.model, ch.entry.Threshold, part); err != nil {
				return nil, err
			}
		}
		elapsed := time.Since(start)
		return func() {
			if wb.byModelGen != gen {
				return // another folder or other masks since: their job embeds what they need
			}
			for i, ch := range todo {
				wb.byModel[modelKey(ch.entry)] = made[i]
			}
			wb.showChosen()
			wb.status.SetText(fmt.Sprintf("Embedded %d photos with %s in %.1f s.", base.N(), strings.Join(names, " and "), elapsed.Seconds()))
		}, nil
	})
}

// whenIdle runs f once no job runs: now, or when the running one ends
// (after whatever was queued before it).
func (wb *Workbench) whenIdle(f func()) {
	if wb.job.cancel == nil {
		f()
		return
	}
	if prev := wb.job.after; prev != nil {
		wb.job.after = func() { prev(); wb.whenIdle(f) }
		return
	}
	wb.job.after = f
}

// modelChosen has the comparison follow the model now in slot.
func (wb *Workbench) modelChosen(int) { wb.showChosen() }

// syncThresholds redoes the decisions of every cached comparison whose
// model's threshold has changed on the list (statistics and flips from
// the scores: no embedding), in a job.
func (wb *Workbench) syncThresholds() {
	type change struct {
		key string
		c   *compare.Comparison
		t   float64
	}
	var todo []change
	for key, c := range wb.byModel {
		for _, e := range wb.models.list {
			if modelKey(e) == key && e.Threshold != c.Threshold {
				todo = append(todo, change{key, c, e.Threshold})
			}
		}
	}
	if len(todo) == 0 {
		return
	}
	if wb.job.cancel != nil {
		wb.whenIdle(wb.syncThresholds)
		return
	}
	gen := wb.byModelGen
	wb.runJob("Applying the new threshold", func(ctx context.Context, _ progress.Func) (func(), error) {
		made := make([]*compare.Comparison, len(todo))
		for i, ch := range todo {
			var err error
			if made[i], err = ch.c.WithThreshold(ctx, ch.t); err != nil {
				return nil, err
			}
		}
		return func() {
			if wb.byModelGen != gen {
				return
			}
			for i, ch := range todo {
				wb.byModel[ch.key] = made[i]
			}
			wb.showChosen()
			wb.status.SetText("Decisions redone at the new threshold.")
		}, nil
	})
}

// shownThreshold is the threshold to mark for c's model: NaN (no mark)
// when the model has none yet, rather than the 0 its decisions use.
func (wb *Workbench) shownThreshold(c *compare.Comparison) float64 {
	if e, ok := wb.entry(c.Model.SHA256); ok && e.ThresholdSource == modelreg.ThresholdNone {
		return math.NaN()
	}
	return c.Threshold
}

// secondComparison is model B's comparison, or nil with one model.
func (wb *Workbench) secondComparison() *compare.Comparison {
	if wb.duo == nil {
		return nil
	}
	return wb.duo.Models[1]
}
