package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// storeFiles reads a store's three data files.
func storeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range []string{store.EmbeddingsName, store.IndexName, store.MetaName} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

func sameStore(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := storeFiles(t, got), storeFiles(t, want)
	for name := range w {
		if !bytes.Equal(g[name], w[name]) {
			t.Errorf("%s: %s differs", what, name)
		}
	}
}

// TestEmbedStore embeds aligned crops (and two that fail) into a store:
// the same bytes from a copy of the input elsewhere (errors name images
// by key), after a cancelled run resumed, and from two shards merged.
func TestEmbedStore(t *testing.T) {
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := apptest.MaskInput(t) // five crops, one of them 224×224: not an aligned crop
	apptest.WriteFile(t, filepath.Join(in, "bob", "broken.png"), "nope")
	copyIn := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.CopyFS(copyIn, os.DirFS(in)); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	opt := EmbedStoreOptions{In: in, Out: filepath.Join(root, "whole"), Aligned: true}
	sum, err := EmbedStore(context.Background(), eng, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Images != 6 || sum.Embedded != 6 || sum.Meta.Count != 6 || sum.Meta.Failed != 2 || sum.Meta.Dim != 512 {
		t.Fatalf("summary %+v", sum)
	}
	index, _ := os.ReadFile(filepath.Join(opt.Out, store.IndexName))
	if bytes.Contains(index, []byte(in)) || !bytes.Contains(index, []byte(`"error":"decode bob/broken.png:`)) {
		t.Errorf("errors should name images by key, not by %s:\n%s", in, index)
	}

	other := opt
	other.In, other.Out = copyIn, filepath.Join(root, "copy")
	if _, err := EmbedStore(context.Background(), eng, other); err != nil {
		t.Fatal(err)
	}
	sameStore(t, "the input copied elsewhere", other.Out, opt.Out)

	cancelled := opt
	cancelled.Out, cancelled.Batch = filepath.Join(root, "cancelled"), 1
	ctx, cancel := context.WithCancel(context.Background())
	cancelled.Progress = func(done, total int) {
		if done >= 2 {
			cancel()
		}
	}
	if _, err := EmbedStore(ctx, eng, cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cancelled.Out, store.MetaName)); err == nil {
		t.Fatal("a cancelled run finished its store")
	}
	cancelled.Progress = nil
	sum, err = EmbedStore(context.Background(), eng, cancelled)
	if err != nil || sum.Resumed < 2 || sum.Resumed+sum.Embedded != 6 {
		t.Fatalf("resumed run: %+v, %v", sum, err)
	}
	sameStore(t, "cancelled and resumed", cancelled.Out, opt.Out)

	var shards []string
	for i := 1; i <= 2; i++ {
		sh := opt
		sh.Shard = shard.Spec{Index: i, Count: 2}
		sh.Out = filepath.Join(root, "shard", sh.Shard.String()[:1])
		if _, err := EmbedStore(context.Background(), eng, sh); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, sh.Out)
	}
	merged := filepath.Join(root, "merged")
	if _, err := store.Merge(context.Background(), merged, shards, store.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	sameStore(t, "two shards merged", merged, opt.Out)

	file := filepath.Join(in, "carol.JPEG")
	if _, err := EmbedStore(context.Background(), eng, EmbedStoreOptions{In: file, Out: filepath.Join(root, "file")}); err == nil || !strings.Contains(err.Error(), file+" is not a folder") {
		t.Errorf("a file as input: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := EmbedStore(context.Background(), eng, EmbedStoreOptions{In: empty, Out: filepath.Join(root, "none")}); err == nil || !strings.Contains(err.Error(), "no images found in "+empty) {
		t.Errorf("empty input: %v", err)
	}
}
