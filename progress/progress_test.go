package progress

import (
	"bytes"
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
