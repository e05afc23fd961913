// Package standin is a stand-in for the maskinv command line in the
// Slurm and Kubernetes tests, until the real mask, embed and merge
// commands take --shard and write stores: it has their flags and runs
// the real sharding, store, manifest-merge and progress code, with
// trivial payloads (a "masked" image is the image with a line appended;
// an "embedding" is 16 numbers from the SHA-256 of the file). A file whose
// bytes start "not an image" fails, as an unreadable photo does.
// MASKINV_STANDIN_DELAY (a duration) is slept per image, so that a test
// can kill a task midway.
//
//	mask  --in IN --out OUT [--shard I/N | --shards N] [--seed S]
//	embed --out DIR [--shard I/N | --shards N] IN
//	merge --out DST SRC...     (shard stores)
//	merge --masks OUT          (shard manifests of a mask output folder)
package standin

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/maskinv/workbench/maskshard"
	"github.com/maskinv/workbench/progress"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// Env is what a command sees of its process.
type Env struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer
}

// Run runs one command line (args without the program name).
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return errors.New("usage: maskinv mask|embed|merge [flags]")
	}
	switch args[0] {
	case "mask":
		return runMask(ctx, args[1:], env)
	case "embed":
		return runEmbed(ctx, args[1:], env)
	case "merge":
		return runMerge(ctx, args[1:], env)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// shardFlags adds --shard and --shards; resolve detects the shard.
func shardFlags(fs *flag.FlagSet) func(env Env) (shard.Spec, error) {
	spec := fs.String("shard", "", "this task's shard, I/N (numbered from 1); default: from the scheduler's environment")
	count := fs.Int("shards", 0, "number of shards (required with JOB_COMPLETION_INDEX)")
	return func(env Env) (shard.Spec, error) {
		sp, src, err := shard.Detect(*spec, *count, env.Getenv)
		if err == nil && src != "" {
			fmt.Fprintf(env.Stderr, "shard %s (%s)\n", sp, src)
		}
		return sp, err
	}
}

// scan lists the files under root as sorted slash keys, hidden names
// left out, split into images and others.
func scan(root string) (images, others []string, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		switch strings.ToLower(filepath.Ext(key)) {
		case ".jpg", ".jpeg", ".png":
			images = append(images, key)
		default:
			if key != "manifest.json" {
				others = append(others, key)
			}
		}
		return nil
	})
	slices.Sort(images)
	slices.Sort(others)
	return images, others, err
}

func delay(ctx context.Context, env Env) error {
	d, err := time.ParseDuration(env.Getenv("MASKINV_STANDIN_DELAY"))
	if err != nil || d <= 0 {
		return ctx.Err()
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func hexSum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// unreadable says a stand-in image fails.
func unreadable(b []byte) bool { return strings.HasPrefix(string(b), "not an image") }

// manifest has the mask manifest's layout (its members in order).
type manifest struct {
	Tool      string            `json:"tool"`
	Version   int               `json:"version"`
	Algorithm string            `json:"algorithm"`
	Style     string            `json:"style"`
	Color     string            `json:"color"`
	Seed      uint64            `json:"seed"`
	Aligned   bool              `json:"aligned"`
	Images    []json.RawMessage `json:"images"`
	Copies    []json.RawMessage `json:"copies,omitempty"`
}

func runMask(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("mask", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	in, out := fs.String("in", "", "input folder"), fs.String("out", "", "output folder")
	seed := fs.Uint64("seed", 0, "mask seed")
	resolve := shardFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sp, err := resolve(env)
	if err != nil {
		return err
	}
	images, others, err := scan(*in)
	if err != nil {
		return err
	}
	images, others = sp.Filter(images), sp.Filter(others)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	journal := filepath.Join(*out, maskshard.JournalName(sp))
	if err := os.WriteFile(journal, []byte("{}\n"), 0o644); err != nil {
		return err
	}
	m := manifest{Tool: "maskinv mask", Version: 1, Algorithm: "standin/1", Style: "paper", Color: "auto", Seed: *seed, Images: []json.RawMessage{}}
	report := progress.For(env.Stderr, "mask shard "+sp.String())
	for i, key := range images {
		report(i, len(images))
		if err := delay(ctx, env); err != nil {
			return err
		}
		rec, err := maskOne(*in, *out, key, *seed)
		if err != nil {
			return err
		}
		m.Images = append(m.Images, rec)
	}
	report(len(images), len(images))
	for _, key := range others {
		b, err := os.ReadFile(filepath.Join(*in, key))
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(*out, key), b); err != nil {
			return err
		}
		rec, _ := json.Marshal(map[string]string{"path": key, "sha256": hexSum(b)})
		m.Copies = append(m.Copies, rec)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(*out, maskshard.ManifestName(sp)), append(b, '\n')); err != nil {
		return err
	}
	return os.Remove(journal)
}

// maskOne "masks" one image and returns its manifest record.
func maskOne(in, out, key string, seed uint64) (json.RawMessage, error) {
	src, err := os.ReadFile(filepath.Join(in, key))
	if err != nil {
		return nil, err
	}
	type record struct {
		Key          string `json:"key"`
		Source       string `json:"source"`
		SourceSHA256 string `json:"source_sha256"`
		Output       string `json:"output,omitempty"`
		OutputSHA256 string `json:"output_sha256,omitempty"`
		Seed         uint64 `json:"seed"`
		Error        string `json:"error,omitempty"`
	}
	rec := record{Key: key, Source: key, SourceSHA256: hexSum(src), Seed: seed}
	if unreadable(src) {
		rec.Error = fmt.Sprintf("decode %s: not a supported image format", filepath.Join(in, key))
	} else {
		masked := append(slices.Clone(src), fmt.Sprintf("\nmasked seed=%d key=%s\n", seed, key)...)
		if err := writeFile(filepath.Join(out, key), masked); err != nil {
			return nil, err
		}
		rec.Output, rec.OutputSHA256 = key, hexSum(masked)
	}
	return json.Marshal(rec)
}

// writeFile writes atomically, making folders.
func writeFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp := name + ".standin.tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

func runEmbed(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	out := fs.String("out", "", "store folder")
	force := fs.Bool("force", false, "replace what is in --out")
	resolve := shardFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" {
		return errors.New("usage: maskinv embed --out DIR [--shard I/N | --shards N] IN")
	}
	in := fs.Arg(0)
	sp, err := resolve(env)
	if err != nil {
		return err
	}
	images, _, err := scan(in)
	if err != nil {
		return err
	}
	keys := sp.Filter(images)
	model := hexSum([]byte("standin model"))
	w, err := store.Create(*out, store.Params{Model: model, Pipeline: "standin/1", Dim: 16, Shard: sp,
		Settings: map[string]string{"aligned": "false"}}, store.Options{Force: *force})
	if err != nil {
		return err
	}
	defer w.Close()
	for _, n := range w.Notes() {
		fmt.Fprintln(env.Stderr, n)
	}
	var todo []string
	for _, k := range keys {
		if w.Done(k) != store.StatusOK {
			todo = append(todo, k)
		}
	}
	if done := len(keys) - len(todo); done > 0 {
		fmt.Fprintf(env.Stderr, "resuming: %d of %d images already done\n", done, len(keys))
	}
	report := progress.For(env.Stderr, "embed shard "+sp.String())
	for i, key := range todo {
		report(i, len(todo))
		if err := delay(ctx, env); err != nil {
			return err
		}
		rec, vec, err := embedOne(in, key)
		if err != nil {
			return err
		}
		if err := w.Add(rec, vec); err != nil {
			return err
		}
	}
	report(len(todo), len(todo))
	meta, err := w.Finish(keys)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d images, %d failed, shard %s\n", *out, meta.Count, meta.Failed, meta.Shard)
	return nil
}

// embedOne makes the stand-in record and vector of one image.
func embedOne(in, key string) (store.Record, []float32, error) {
	b, err := os.ReadFile(filepath.Join(in, key))
	if err != nil {
		return store.Record{}, nil, err
	}
	rec := store.Record{Path: key}
	if unreadable(b) {
		rec.Error = fmt.Sprintf("decode %s: not a supported image format", filepath.Join(in, key))
		return rec, nil, nil
	}
	h := sha256.Sum256(b)
	vec := make([]float32, 16)
	for i := range vec {
		vec[i] = (float32(h[i]) - 127.5) / 127.5
	}
	rec.Box = []float64{float64(h[16]), float64(h[17]), 100 + float64(h[18]), 120.5}
	for i := range 5 {
		rec.Landmarks5 = append(rec.Landmarks5, [2]float64{float64(h[19+i]) + 0.25, float64(h[24+i]) / 2})
	}
	rec.Face = "1 face"
	return rec, vec, nil
}

func runMerge(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	out := fs.String("out", "", "merged store folder")
	masks := fs.String("masks", "", "mask output folder whose shard manifests to merge")
	force := fs.Bool("force", false, "replace what is in --out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *masks != "" {
		res, err := maskshard.MergeDir(*masks, *force)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: %d shards, %d images, %d copies\n", res.Manifest, res.Shards, res.Images, res.Copies)
		return nil
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("usage: maskinv merge --out DST SRC... | merge --masks DIR")
	}
	meta, err := store.Merge(ctx, *out, fs.Args(), store.MergeOptions{Force: *force, Progress: progress.For(env.Stderr, "merge")})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d images, %d failed, from %d shards\n", *out, meta.Count, meta.Failed, fs.NArg())
	return nil
}

// MakeInput writes a test input folder: n small "photos" in folders of
// ten, one that fails ("not an image"), and a file that is not an image.
func MakeInput(dir string, n int) error {
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("person_%02d", i/10), fmt.Sprintf("person_%02d_%04d.jpg", i/10, i%10+1))
		if err := writeFile(name, []byte(fmt.Sprintf("photo %d\n", i))); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, "broken", "none.jpg"), []byte("not an image\n")); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "notes.txt"), []byte("not a photo\n"))
}
