package ui

import (
	"cmp"
	"log"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/engine"
)

// Environment variables that drive the real app without a person, for the
// GUI smoke test (scripts/gui-smoke) and for measurements:
//
//	MASKINV_FOLDER=DIR         analyse DIR at start instead of the demo
//	MASKINV_MODEL_B=FILE       when that first analysis, and the jobs
//	                           it starts, end, add the ONNX FILE
//	                           through the Models screen's Add button
//	                           (its file dialog answered with FILE),
//	                           make it model B and wait for the photos
//	                           to be embedded with it
//	MASKINV_AUTOEXPORT=FILE    then tap the Export PNG button, answering
//	                           its file dialog with FILE: the path a
//	                           user's click takes
//	MASKINV_AUTOEXPORT_CSV=FILE  then the Export CSV button, likewise
//	MASKINV_PROBE=1            measure how long the UI goroutine takes to
//	                           run an empty fyne.DoAndWait, every 20 ms,
//	                           and log the distribution after each job
const (
	envFolder        = "MASKINV_FOLDER"
	envModelB        = "MASKINV_MODEL_B"
	envAutoExport    = "MASKINV_AUTOEXPORT"
	envAutoExportCSV = "MASKINV_AUTOEXPORT_CSV"
	envProbe         = "MASKINV_PROBE"
)

// start opens the folder and models opt names (else the demo, or the
// environment's folder), then drives the steps the environment asks for.
// Call it on the UI goroutine before the window runs.
func start(wb *Workbench, opt Options, getenv func(string) string) {
	var probe *latencyProbe
	if getenv(envProbe) != "" {
		probe = startProbe()
	}
	chooseStartModels(wb, opt)
	steps := envSteps(wb, getenv) // each returns whether it started a job to wait for
	wb.jobDone = func(name string, err error) {
		if probe != nil {
			probe.report(name, wb.lastApply)
		}
		if err != nil {
			log.Printf("maskinv: %s: %v", name, err)
			if len(steps) > 0 {
				log.Printf("maskinv: drive: stopped after %q failed", name)
			}
			steps = nil // the driven run stops at the first failure
		}
		if wb.job.cancel != nil {
			// What this job's result started (the default model B's
			// embedding after the first analysis) runs now: a step's job
			// would cancel it, so the steps go on when it ends.
			return
		}
		for len(steps) > 0 {
			step := steps[0]
			steps = steps[1:]
			if step() {
				return
			}
		}
	}
	if dir := cmp.Or(opt.Folder, getenv(envFolder)); dir != "" {
		wb.openDir(dir)
	} else {
		wb.openDemo()
	}
}

// chooseStartModels puts opt's models in their slots before the first
// analysis, which embeds them.
func chooseStartModels(wb *Workbench, opt Options) {
	if len(opt.Models) == 0 {
		return
	}
	slot := slotB - len(opt.Models) + 1 // one model: B; two: A and B
	for _, m := range opt.Models {
		wb.models.chosen[slot] = m.SHA256
		slot++
	}
	if sha, err := engine.Teacher().SHA256(); err == nil && wb.models.chosen[slotA] == sha {
		wb.models.chosen[slotA] = "" // the teacher is slot A's default
	}
	wb.models.defaulted = true // the student is no default over a choice
	wb.notifyModels()
}

// envSteps are the steps the environment drives after the first
// analysis (the GUI smoke test).
func envSteps(wb *Workbench, getenv func(string) string) []func() bool {
	var steps []func() bool
	if f := getenv(envModelB); f != "" {
		steps = append(steps, func() bool { return driveAddModel(wb, f) }, func() bool { return driveChooseB(wb, f) })
	}
	if f := getenv(envAutoExport); f != "" {
		steps = append(steps, func() bool { driveExport(wb, wb.exportPNGButton, f); return false })
	}
	if f := getenv(envAutoExportCSV); f != "" {
		steps = append(steps, func() bool { driveExport(wb, wb.exportCSVButton, f); return false })
	}
	return steps
}

// driveAddModel taps the Models screen's Add button, its file dialog
// answered with path.
func driveAddModel(wb *Workbench, path string) bool {
	if wb.modelsView == nil {
		log.Printf("maskinv: drive: %s: no Models screen", envModelB)
		return false
	}
	picker := wb.pickOpen
	wb.pickOpen = func(title, desc, ext string, done func(string)) {
		wb.pickOpen = picker
		done(path)
	}
	wb.modelsView.add.Tapped(&fyne.PointEvent{})
	return true
}

// driveChooseB makes the model added from path model B; it reports
// whether that started the job embedding the photos with it.
func driveChooseB(wb *Workbench, path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		log.Printf("maskinv: drive: %s: %v", envModelB, err)
		return false
	}
	for _, e := range wb.models.list {
		if e.Path == abs {
			started := wb.job.id
			wb.chooseModel(slotB, e.SHA256)
			return wb.job.id != started
		}
	}
	log.Printf("maskinv: drive: %s: %s is not on the model list", envModelB, abs)
	return false
}

// driveExport taps an export button, its file dialog answered with path.
func driveExport(wb *Workbench, button *widget.Button, path string) {
	picker := wb.pickSave
	wb.pickSave = func(title, name, ext string, done func(string)) {
		wb.pickSave = picker
		done(path)
	}
	button.Tapped(&fyne.PointEvent{})
}

// latencyProbe times round trips to the UI goroutine: a window that keeps
// answering them within a frame or two is responsive.
type latencyProbe struct {
	mu      sync.Mutex
	samples []time.Duration
}

func startProbe() *latencyProbe {
	p := &latencyProbe{}
	go func() {
		// The first round trip waits for the window to start: not counted.
		fyne.DoAndWait(func() {})
		for {
			time.Sleep(20 * time.Millisecond)
			t := time.Now()
			fyne.DoAndWait(func() {})
			d := time.Since(t)
			p.mu.Lock()
			p.samples = append(p.samples, d)
			p.mu.Unlock()
		}
	}()
	return p
}

// report logs the samples since the last report and starts afresh.
func (p *latencyProbe) report(job string, apply time.Duration) {
	p.mu.Lock()
	s := p.samples
	p.samples = nil
	p.mu.Unlock()
	if len(s) == 0 {
		return
	}
	slices.Sort(s)
	q := func(f float64) time.Duration { return s[min(len(s)-1, int(f*float64(len(s))))] }
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	log.Printf("maskinv: probe: %s: %d UI round trips: median %v, p95 %v, p99 %v, max %v; showing the result took %v on the UI goroutine",
		job, len(s), r(q(0.5)), r(q(0.95)), r(q(0.99)), r(s[len(s)-1]), r(apply))
}
