package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		done, total int
		elapsed     time.Duration
		want        []string
	}{
		{0, 10, 0, []string{"0/10", "ETA ?"}},
		{5, 10, 5 * time.Second, []string{"5/10", "1.0/s", "ETA 5s"}},
		{10, 10, 2 * time.Second, []string{"10/10", "5.0/s", "ETA 0s"}},
	}
	for _, tc := range tests {
		got := Line("job", tc.done, tc.total, tc.elapsed)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("Line(%d,%d,%v) = %q, missing %q", tc.done, tc.total, tc.elapsed, got, w)
			}
		}
	}
}

func TestTerminalEndsWithNewline(t *testing.T) {
	var buf bytes.Buffer
	p := Terminal(&buf, "x")
	p(1, 2)
	p(2, 2)
	if !strings.HasSuffix(buf.String(), "\n") || !strings.Contains(buf.String(), "2/2") {
		t.Fatalf("final update not drawn: %q", buf.String())
	}
}

// TestLinesRateLimitedPlain drives Lines with a fake clock: the first
// report, then at most one per interval, and the final one, each a whole
// line with no terminal control characters.
func TestLinesRateLimitedPlain(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	now := func() time.Time { return clock }
	p := lines(&buf, "embed shard 2/4", 10*time.Second, now)
	steps := []struct {
		at   time.Duration
		done int
	}{{0, 0}, {time.Second, 10}, {9 * time.Second, 90}, {10 * time.Second, 100}, {15 * time.Second, 150}, {20 * time.Second, 200}, {21 * time.Second, 1000}, {22 * time.Second, 1000}}
	for _, s := range steps {
		clock = time.Unix(0, 0).Add(s.at)
		p(s.done, 1000)
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{"0/1000", "100/1000", "200/1000", "1000/1000"}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], "embed shard 2/4: "+w+" ") {
			t.Errorf("line %d = %q, want the count %s", i, got[i], w)
		}
	}
	if !strings.Contains(got[1], "(10.0%) 10.0/s elapsed 10s ETA 1m30s") {
		t.Errorf("line 1 = %q: share, rate or ETA wrong", got[1])
	}
	for _, r := range buf.String() {
		if r == '\r' || r == '\x1b' || r > 0x7e && r != '\n' {
			t.Fatalf("control or non-ASCII character %q in %q", r, buf.String())
		}
	}
}

// TestForFileWritesLines: a job's log file gets plain lines, not a bar.
func TestForFileWritesLines(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Fatal("a regular file taken for a terminal")
	}
	p := For(f, "mask")
	p(0, 2)
	p(2, 2)
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if want := "mask: 0/2 (0.0%)"; !strings.HasPrefix(string(b), want) || strings.ContainsAny(string(b), "\r█") || strings.Count(string(b), "\n") != 2 {
		t.Fatalf("log = %q, want two plain lines starting %q", b, want)
	}
	var buf bytes.Buffer // not a file at all: lines too
	For(&buf, "embed")(1, 1)
	if got := buf.String(); !strings.HasPrefix(got, "embed: 1/1 (100.0%)") || strings.Contains(got, "\r") {
		t.Fatalf("For(buffer) wrote %q", got)
	}
}
