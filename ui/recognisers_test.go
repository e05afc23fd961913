package ui

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/modelreg"
)

// TestRecognisers: a model's embedder is made once per engine and kept;
// retiring the engine closes and forgets its embedders; a listed file
// whose bytes changed since it was added is refused.
func TestRecognisers(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "m.onnx", convModel(3, 112, 112, 2, 16, 1))
	reg := modelreg.Open(filepath.Join(dir, "models.json"))
	e, _, err := reg.Add(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	eng1, eng2 := &engine.Engine{}, &engine.Engine{} // the CPU engine: Device() is the CPU
	var r recognisers
	a, err := r.get(eng1, e)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := r.get(eng1, e); err != nil || b != a {
		t.Errorf("a second get made another embedder (%v)", err)
	}
	if b, err := r.get(eng2, e); err != nil || b == a {
		t.Errorf("another engine shares the embedder (%v)", err)
	}
	if err := r.retire(eng1); err != nil {
		t.Fatal(err)
	}
	if len(r.m) != 1 {
		t.Errorf("%d embedders after retiring one engine's, want 1", len(r.m))
	}
	if b, err := r.get(eng1, e); err != nil || b == a {
		t.Errorf("a retired embedder came back (%v)", err)
	}

	writeFile(t, dir, "m.onnx", convModel(3, 112, 112, 2, 16, 2))
	if _, err := r.get(&engine.Engine{}, e); !errors.Is(err, modelreg.ErrModelChanged) {
		t.Errorf("a changed file: %v, want ErrModelChanged", err)
	}
}
