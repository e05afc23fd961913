package modelreg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/engine"
)

// TestEntrySource: a listed entry gives the embedded bytes or its file's,
// and a file whose bytes no longer match the listed hash is refused.
func TestEntrySource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.onnx")
	data := []byte("some onnx bytes")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	fileSHA := hex.EncodeToString(sum[:])
	student, err := engine.Student().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		entry   Entry
		want    string // the source's name
		wantErr error
		errText string
	}{
		{"embedded student", Entry{Name: StudentName, SHA256: student, Embedded: true}, StudentName, nil, ""},
		{"another build's", Entry{Name: "x (embedded)", SHA256: fileSHA, Embedded: true}, "", nil, "not embedded in this build"},
		{"file", Entry{Name: "m.onnx", Path: file, SHA256: fileSHA}, "m.onnx", nil, ""},
		{"changed file", Entry{Name: "m.onnx", Path: file, SHA256: student}, "", ErrModelChanged, "add it again"},
		{"missing file", Entry{Name: "gone.onnx", Path: filepath.Join(dir, "gone.onnx"), SHA256: fileSHA}, "", os.ErrNotExist, "gone.onnx"},
	}
	for _, tt := range tests {
		src, err := tt.entry.Source()
		if tt.want != "" {
			if err != nil || src.Name != tt.want {
				t.Errorf("%s: %q, %v; want %q", tt.name, src.Name, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errText) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: %v; want an error with %q", tt.name, err, tt.errText)
		}
	}
}
