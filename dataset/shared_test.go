package dataset

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// sharedFile returns a file under shared/, skipping the test if it is
// missing.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(sharedtest.Dir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s missing from shared/: skipping", rel)
	}
	return p
}

// wantParseError checks that err is a *ParseError wrapping sentinel at the
// given line (0: any line).
func wantParseError(t *testing.T, err error, sentinel error, line int) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *ParseError", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v, want %v", err, sentinel)
	}
	if line > 0 && pe.Line != line {
		t.Errorf("error %v at line %d, want line %d", err, pe.Line, line)
	}
}

// wantWrites checks that write writes exactly want (what names the
// output in messages).
func wantWrites(t *testing.T, what string, write func(io.Writer) error, want []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := buf.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("%s: wrote %d bytes, not the %d wanted; it begins %q", what, len(got), len(want), got[:min(len(got), 200)])
	}
}
