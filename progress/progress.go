// Package progress reports how far long-running work has got, to a terminal
// or to any other sink (the GUI binds its progress bars to the same Func).
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Func receives the number of items done out of total. Implementations must
// be safe for concurrent use: pipelines call it from worker goroutines.
type Func func(done, total int)

// Nop discards progress.
func Nop(done, total int) {}

// Terminal returns a Func that redraws a one-line bar with rate and ETA on w
// (normally stderr). Redraws are throttled so that a fast loop does not spend
// its time printing; the final update is always drawn, followed by a newline.
func Terminal(w io.Writer, label string) Func {
	var mu sync.Mutex
	start := time.Now()
	var last time.Time
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		final := total > 0 && done >= total
		if !final && now.Sub(last) < 200*time.Millisecond {
			return
		}
		last = now
		fmt.Fprint(w, "\r"+Line(label, done, total, now.Sub(start)))
		if final {
			fmt.Fprintln(w)
		}
	}
}

// Line formats one progress line: label, bar, counts, rate and ETA.
func Line(label string, done, total int, elapsed time.Duration) string {
	const width = 30
	frac := 0.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	if frac > 1 {
		frac = 1
	}
	filled := int(frac * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("·", width-filled)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	eta := "?"
	if rate > 0 && total >= done {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s %s %d/%d %.1f/s ETA %s ", label, bar, done, total, rate, eta)
}
