package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
)

// TestGUICommand: `maskinv gui` checks its flags, resolves its models
// (adding a model file to the list, refusing a corrupt one without
// touching the list) and hands the desktop what it resolved.
func TestGUICommand(t *testing.T) {
	dir := t.TempDir()
	listPath := filepath.Join(dir, "models.json")
	t.Setenv(app.ModelsEnv, listPath)
	second := writeSecondModel(t, dir)
	corrupt := filepath.Join(dir, "corrupt.onnx")
	if err := os.WriteFile(corrupt, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	student, err := engine.Student().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	teacher, err := engine.Teacher().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		wantModels []string // sha256 prefixes; "second": the file's
		stderr     string
	}{
		{"nothing", nil, 0, nil, ""},
		{"student as B", []string{"--model", "student"}, 0, []string{student}, ""},
		{"teacher and a file", []string{"--model", "teacher", "--model", second, "--folder", dir}, 0, []string{teacher, "second"}, ""},
		{"three models", []string{"--model", "teacher", "--model", "student", "--model", second}, 2, nil, "compares two models"},
		{"no such folder", []string{"--folder", filepath.Join(dir, "nope")}, 2, nil, "--folder"},
		{"a file as folder", []string{"--folder", second}, 2, nil, "is not a folder"},
		{"unknown model", []string{"--model", "nosuch"}, 2, nil, "unknown model"},
		{"corrupt model", []string{"--model", corrupt}, 1, nil, "corrupt.onnx"},
		{"an argument", []string{dir}, 2, nil, "no arguments"},
	}
	for _, tt := range tests {
		before := readFileOrEmpty(listPath)
		var got *GUIOptions
		desktop := func(_ context.Context, opt GUIOptions) error { got = &opt; return nil }
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"gui"}, tt.args...), Stdio{Out: &out, Err: &errb, Desktop: desktop})
		if code != tt.code || !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tt.name, code, errb.String(), tt.code, tt.stderr)
			continue
		}
		if code != 0 {
			if got != nil || readFileOrEmpty(listPath) != before {
				t.Errorf("%s: the desktop ran (%v) or the list changed", tt.name, got != nil)
			}
			continue
		}
		if got == nil || len(got.Models) != len(tt.wantModels) {
			t.Errorf("%s: desktop got %+v, want %d models", tt.name, got, len(tt.wantModels))
			continue
		}
		for i, want := range tt.wantModels {
			if want == "second" {
				want = listedSHA(t, "perturbed.onnx")
			}
			if got.Models[i].SHA256 != want {
				t.Errorf("%s: model %d is %+v, want sha256 %.12s", tt.name, i, got.Models[i], want)
			}
		}
	}
	var errb bytes.Buffer
	if err := runGUI(context.Background(), nil, Stdio{Err: &errb}); !errors.Is(err, ErrNoDesktop) {
		t.Errorf("without a desktop: %v", err)
	}
}

// listedSHA is the sha256 of the model named name on the model list.
func listedSHA(t *testing.T, name string) string {
	t.Helper()
	for _, e := range modelList(t) {
		if e.Name == name {
			return e.SHA256
		}
	}
	t.Fatalf("%s is not on the model list", name)
	return ""
}
