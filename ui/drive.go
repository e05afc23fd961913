package ui

import (
	"log"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
)

// Environment variables that drive the real app without a person, for the
// GUI smoke test (scripts/gui-smoke) and for measurements:
//
//	MASKINV_FOLDER=DIR       analyse DIR at start instead of the demo
//	MASKINV_AUTOEXPORT=FILE  when that first analysis ends, tap the Export
//	                         PNG button, answering its file dialog with
//	                         FILE: the path a user's click takes
//	MASKINV_PROBE=1          measure how long the UI goroutine takes to
//	                         run an empty fyne.DoAndWait, every 20 ms, and
//	                         log the distribution after each job
const (
	envFolder     = "MASKINV_FOLDER"
	envAutoExport = "MASKINV_AUTOEXPORT"
	envProbe      = "MASKINV_PROBE"
)

// driveFromEnv starts the first analysis as the environment says. Call it
// on the UI goroutine before the window runs.
func driveFromEnv(wb *Workbench, getenv func(string) string) {
	var probe *latencyProbe
	if getenv(envProbe) != "" {
		probe = startProbe()
	}
	auto := getenv(envAutoExport)
	first := true
	wb.jobDone = func(name string, err error) {
		if probe != nil {
			probe.report(name, wb.lastApply)
		}
		if !first {
			return
		}
		first = false
		if err != nil {
			log.Printf("maskinv: %s: %v", name, err)
		}
		if auto == "" || err != nil {
			return
		}
		// The user's path: the Export PNG button, whose file dialog
		// answers with auto.
		picker := wb.pickSave
		wb.pickSave = func(title, name, ext string, done func(string)) {
			wb.pickSave = picker
			done(auto)
		}
		wb.exportPNGButton.Tapped(&fyne.PointEvent{})
	}
	if dir := getenv(envFolder); dir != "" {
		wb.openDir(dir)
	} else {
		wb.openDemo()
	}
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
