// Package progress reports how far long-running work has got, to a terminal
// or to any other sink (the GUI binds its progress bars to the same Func).
package progress

import (
	"fmt"
	"io"
	"os"
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

// LogInterval is how often Lines reports by default: often enough to
// follow a job's log file, rarely enough that a day's run logs a few
// thousand lines.
const LogInterval = 30 * time.Second

// Lines returns a Func for a log rather than a terminal (a scheduler's
// output file, a pipe): one plain line per report, with no carriage
// returns, bar or colour, at most one every interval, always the first
// report and the final one. label should say which part of a job this is
// ("embed shard 2/4"), since several tasks' logs are read side by side.
func Lines(w io.Writer, label string, interval time.Duration) Func {
	return lines(w, label, interval, time.Now)
}

func lines(w io.Writer, label string, interval time.Duration, now func() time.Time) Func {
	var mu sync.Mutex
	start := now()
	var last time.Time
	first, finished := true, false
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		final := total > 0 && done >= total
		if finished || (!first && !final && t.Sub(last) < interval) {
			return
		}
		first, finished, last = false, final, t
		fmt.Fprintln(w, PlainLine(label, done, total, t.Sub(start)))
	}
}

// PlainLine formats one log line: label, counts, share, rate and ETA, in
// ASCII.
func PlainLine(label string, done, total int, elapsed time.Duration) string {
	pct, rate, eta := 0.0, 0.0, "?"
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	if rate > 0 && total >= done {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s: %d/%d (%.1f%%) %.1f/s elapsed %s ETA %s", label, done, total, pct, rate, elapsed.Round(time.Second), eta)
}

// For returns Terminal(w, label) when w is a terminal (an *os.File on a
// character device), and otherwise Lines(w, label, LogInterval): a batch
// job's stderr is a file, where a redrawn bar would leave one long line of
// carriage returns.
func For(w io.Writer, label string) Func {
	if f, ok := w.(*os.File); ok && IsTerminal(f) {
		return Terminal(w, label)
	}
	return Lines(w, label, LogInterval)
}

// IsTerminal reports whether f is a character device, as a terminal is
// (so is /dev/null, where what is drawn does not matter).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
