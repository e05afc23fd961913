package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/internal/childtest"
	"github.com/maskinv/workbench/maskshard"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// scaleInput writes copies of the demo photos (copies sets of them, so
// that every shard of four has a few), an unreadable image and a file
// that is not one.
func scaleInput(t testing.TB, copies int) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in")
	err := fs.WalkDir(assets.Demo(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jpg") {
			return err
		}
		b, err := fs.ReadFile(assets.Demo(), p)
		if err != nil {
			return err
		}
		for i := 1; i <= copies; i++ {
			apptest.WriteFile(t, filepath.Join(in, fmt.Sprintf("set%d", i), filepath.FromSlash(p)), string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	apptest.WriteFile(t, filepath.Join(in, "broken", "none.jpg"), "not an image")
	apptest.WriteFile(t, filepath.Join(in, "notes.txt"), "not a photo")
	return in
}

// mustRun runs a command line and fails the test unless it exits 0.
func mustRun(t testing.TB, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := runCLI(t.(*testing.T), args...)
	if code != 0 {
		t.Fatalf("maskinv %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout, stderr
}

// fileBytes maps the files under dir to their bytes, the shard manifests
// (which only a sharded run writes) left out.
func fileBytes(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := maskshard.ParseManifestName(d.Name()); ok {
			return nil
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cliChildEnv, when set, makes TestScaleKilledShard the child process:
// it runs the command line it holds (arguments separated by newlines).
const cliChildEnv = "MASKINV_CLI_CHILD"

// TestScaleShardsMatchOneProcess runs the real mask and embed --out
// commands as four shards (shard 2's embed killed with SIGKILL midway
// and run again), merges them, and compares every byte with one process
// over the same photos; then a merge without shard 3 must fail naming it.
func TestScaleShardsMatchOneProcess(t *testing.T) {
	if args := os.Getenv(cliChildEnv); args != "" {
		var out, errb bytes.Buffer
		code := Run(context.Background(), strings.Split(args, "\n"), Stdio{Out: &out, Err: &errb})
		fmt.Fprint(os.Stderr, errb.String())
		os.Exit(code)
	}
	in := scaleInput(t, 3)
	root := t.TempDir()
	single, sharded := filepath.Join(root, "single"), filepath.Join(root, "sharded")
	mustRun(t, "mask", "--in", in, "--out", filepath.Join(single, "masked"), "--seed", "3", "--keep-going")
	mustRun(t, "embed", "--out", filepath.Join(single, "store"), in)

	const n = 4
	var stores []string
	for i := 1; i <= n; i++ {
		sp := fmt.Sprintf("%d/%d", i, n)
		mustRun(t, "mask", "--in", in, "--out", filepath.Join(sharded, "masked"), "--seed", "3", "--shard", sp, "--keep-going")
		st := filepath.Join(sharded, fmt.Sprintf("store-%d", i))
		stores = append(stores, st)
		if i == 2 {
			killEmbedMidway(t, st, in, sp)
			stdout, _ := mustRun(t, "embed", "--out", st, "--shard", sp, "--batch", "1", in)
			if strings.Contains(stdout, " 0 already done") {
				t.Errorf("rerun of the killed shard redid everything: %s", stdout)
			}
			continue
		}
		mustRun(t, "embed", "--out", st, "--shard", sp, in)
	}
	mustRun(t, append([]string{"merge", "--out", filepath.Join(sharded, "store")}, stores...)...)
	mustRun(t, "merge", "--masks", filepath.Join(sharded, "masked"))
	for _, sub := range []string{"store", "masked"} {
		got, want := fileBytes(t, filepath.Join(sharded, sub)), fileBytes(t, filepath.Join(single, sub))
		if len(want) < 4 || !maps.Equal(got, want) {
			t.Errorf("%s: %d files after 4 shards and merge, %d from one process; they differ", sub, len(got), len(want))
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s/%s differs:\n%.300s\n%.300s", sub, k, got[k], v)
				}
			}
		}
	}
	st, err := store.Open(filepath.Join(sharded, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Len() != 37 || st.Meta.Failed != 1 || st.Meta.Shard != "1/1" || st.Dim() != 512 {
		t.Errorf("merged store: %d records, %d failed, shard %s, dim %d; want 37, 1, 1/1, 512", st.Len(), st.Meta.Failed, st.Meta.Shard, st.Dim())
	}

	_, stderr, code := runCLI(t, "merge", "--out", filepath.Join(root, "partial"), stores[0], stores[1], stores[3])
	if code != 1 || !strings.Contains(stderr, "missing shard 3/4") {
		t.Errorf("merge without shard 3: exit %d, %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "merge", "--out", filepath.Join(root, "twice"), stores[0], stores[1], stores[2], stores[3], filepath.Join(single, "store"))
	if code != 1 || !strings.Contains(stderr, "different splits") {
		t.Errorf("merge with a whole store among the shards: exit %d, %s", code, stderr)
	}
}

// killEmbedMidway starts `embed --out st --shard sp --batch 1 in` as a
// child process and kills it (SIGKILL) once its store journal holds a few
// images: the journal stays, and no store is finished.
func killEmbedMidway(t *testing.T, st, in, sp string) {
	t.Helper()
	args := strings.Join([]string{"embed", "--out", st, "--shard", sp, "--batch", "1", in}, "\n")
	child := childtest.Start(t, []string{cliChildEnv + "=" + args}, "-test.run=^TestScaleShardsMatchOneProcess$", "-test.count=1")
	journal := filepath.Join(st, store.JournalName)
	// A journalled image is a frame of its record and 512 float32s.
	const threeImages = 3 * 2048
	deadline := time.Now().Add(time.Minute)
	for {
		if fi, err := os.Stat(journal); err == nil && fi.Size() > threeImages {
			break
		}
		if child.Cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("the embed child never journalled three images: %s", child.Stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code, err := child.Wait(); err != nil || code != -1 {
		t.Fatalf("embed child was not killed midway: exit %d, %v\n%s", code, err, child.Stderr.String())
	}
	if _, err := os.Stat(filepath.Join(st, store.MetaName)); err == nil {
		t.Fatal("the killed embed finished its store before the kill: the test proves nothing")
	}
}

// demoFolder writes the demo photos (four people, three photos each, and
// SOURCE.md) into a folder: an identity-folder dataset and a gallery.
func demoFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	err := fs.WalkDir(assets.Demo(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets.Demo(), p)
		if err == nil {
			apptest.WriteFile(t, filepath.Join(dir, filepath.FromSlash(p)), string(b))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// evalScores runs eval with args and --json, and returns the document's
// protocols and failures, and the counted engine.
func evalScores(t *testing.T, args ...string) (string, *countingEngine) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "eval.json")
	_, eng := runEvalCLI(t, append(args, "--json", out)...)
	var doc struct {
		Protocols map[string]any `json:"protocols"`
		Failures  any            `json:"failures"`
	}
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err != nil || len(doc.Protocols) == 0 {
		t.Fatalf("eval %v: %v, %d protocols", args, err, len(doc.Protocols))
	}
	s, _ := json.Marshal(doc)
	return string(s), eng
}

// TestEvalFromStore: eval --embeddings scores blr-blr from a store of
// `embed --out` without any model run, with the numbers of eval without
// it, and computes only the masked side of blr-m; eval --shard fills the
// cache so that the eval after it runs no model either.
func TestEvalFromStore(t *testing.T) {
	demo := demoFolder(t)
	st := filepath.Join(t.TempDir(), "store")
	mustRun(t, "embed", "--out", st, demo)
	base := []string{"--dataset", "folder=" + demo, "--seed", "1"}
	noCache := append(slices.Clone(base), "--no-cache")

	want, _ := evalScores(t, append(noCache, "--protocol", "blr-blr")...)
	got, eng := evalScores(t, append(noCache, "--protocol", "blr-blr", "--embeddings", st)...)
	if got != want {
		t.Errorf("blr-blr from the store:\n%s\nwithout it:\n%s", got, want)
	}
	if n := eng.locates.Load() + eng.crops.Load(); n != 0 {
		t.Errorf("blr-blr from the store ran the models %d times", n)
	}

	want, plain := evalScores(t, append(noCache, "--protocol", "blr-blr,blr-m")...)
	got, eng = evalScores(t, append(noCache, "--protocol", "blr-blr,blr-m", "--embeddings", st)...)
	if got != want {
		t.Errorf("blr-m with the store:\n%s\nwithout it:\n%s", got, want)
	}
	if c, all := eng.crops.Load(), plain.crops.Load(); c == 0 || c >= all {
		t.Errorf("blr-m with the store embedded %d crops, without it %d: want only the masked ones", c, all)
	}

	cache := filepath.Join(t.TempDir(), "cache")
	withCache := append(slices.Clone(base), "--cache", cache, "--protocol", "blr-blr,m-m")
	for _, sp := range []string{"1/2", "2/2"} {
		runEvalCLI(t, append(withCache, "--shard", sp)...)
	}
	want, _ = evalScores(t, append(noCache, "--protocol", "blr-blr,m-m")...)
	got, eng = evalScores(t, withCache...)
	if got != want || eng.locates.Load()+eng.crops.Load() != 0 {
		t.Errorf("eval after two eval shards ran the models %d times; scores equal: %v", eng.locates.Load()+eng.crops.Load(), got == want)
	}
}

// TestEvalFromStoreRefusals: stores that do not fit the evaluation are
// refused, naming the problem.
func TestEvalFromStoreRefusals(t *testing.T) {
	demo := demoFolder(t)
	root := t.TempDir()
	fallback, shard1 := filepath.Join(root, "fallback"), filepath.Join(root, "shard1")
	mustRun(t, "embed", "--out", fallback, "--detect-fallback", demo)
	mustRun(t, "embed", "--out", shard1, "--shard", "1/2", demo)
	mustRun(t, "embed", "--out", filepath.Join(root, "partstore"), filepath.Join(demo, "Colin_Powell"))
	tests := []struct {
		store, want string
	}{
		{fallback, "pipeline"},
		{shard1, "merge the shards first"},
		{filepath.Join(root, "partstore"), "not in the embedding store"},
		{filepath.Join(root, "nothing"), "not a store"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		var eng *countingEngine
		err := evalCommand(countingLoader(t, &eng)).Run(context.Background(),
			[]string{"--dataset", "folder=" + demo, "--no-cache", "--protocol", "blr-blr", "--embeddings", tc.store}, Stdio{Out: &out, Err: &errb})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--embeddings %s: %v, want an error mentioning %q", filepath.Base(tc.store), err, tc.want)
		}
	}
}

// TestFindMaskedQueries: masked demo photos (`mask` of the demo folder)
// searched in a store of the unmasked ones find their own photo first
// (and so the right person);
// the hits are a brute-force cosine ranking's; and a photo folder as the
// gallery gives the same answers as its store.
func TestFindMaskedQueries(t *testing.T) {
	demo := demoFolder(t)
	root := t.TempDir()
	st, masked := filepath.Join(root, "store"), filepath.Join(root, "masked")
	mustRun(t, "embed", "--out", st, demo)
	mustRun(t, "mask", "--in", demo, "--out", masked, "--style", "surgical", "--seed", "1")
	notPhoto := filepath.Join(masked, "SOURCE.md") // a query that fails
	fromStore, _ := mustRun(t, "find", "--json", "--k", "5", "--gallery", st, masked, notPhoto)
	fromFolder, _ := mustRun(t, "find", "--json", "--k", "5", "--gallery", demo, masked, notPhoto)
	if fromStore != fromFolder {
		t.Errorf("a photo folder as the gallery answers otherwise than its store:\n%s\n%s", fromFolder, fromStore)
	}
	queries, _ := mustRun(t, "embed", "--json", masked, notPhoto)

	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	results := jsonLines[app.FindResult](t, fromStore)
	records := jsonLines[app.EmbedRecord](t, queries)
	if len(results) != 13 || len(records) != 13 {
		t.Fatalf("%d results, %d query embeddings: want 13 (12 photos and SOURCE.md)", len(results), len(records))
	}
	found, faces := 0, 0
	for i, r := range results {
		q := records[i]
		if r.Query != q.Path || (r.Error != "") != (q.Error != "") {
			t.Fatalf("result %d is for %s (error %q), embed's for %s (error %q)", i, r.Query, r.Error, q.Path, q.Error)
		}
		if r.Error != "" {
			continue
		}
		faces++
		key, _ := filepath.Rel(masked, r.Query)
		if r.Hits[0].Path == filepath.ToSlash(key) {
			found++
		}
		want := bruteForce(s, q.Embedding, 5)
		for j, h := range r.Hits {
			if h.Row != want[j].row || math.Abs(float64(h.Score)-want[j].score) > 1e-5 {
				t.Errorf("%s: hit %d is row %d (%.6f), brute force row %d (%.6f)", key, j, h.Row, h.Score, want[j].row, want[j].score)
			}
		}
	}
	// The detector finds no face under one of the masks; the rest find
	// their own photo.
	if found != faces || faces < 10 {
		t.Errorf("%d of the %d masked photos with a face found their unmasked photo first", found, faces)
	}
}

type ranked struct {
	row   int
	score float64
}

// bruteForce ranks every row of s by cosine similarity to q (float64,
// face.Cosine) and returns the best k.
func bruteForce(s *store.Store, q []float32, k int) []ranked {
	var all []ranked
	for i := range s.Len() {
		all = append(all, ranked{i, face.Cosine(q, s.Row(i))})
	}
	slices.SortStableFunc(all, func(a, b ranked) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.row, b.row)
	})
	return all[:k]
}

// jsonLines decodes one JSON value per line.
func jsonLines[T any](t *testing.T, s string) []T {
	t.Helper()
	var out []T
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, v)
	}
	return out
}

// TestScaleFlags: the shard flags and the environment, --keep-going, and
// the usage errors of the new flags and commands.
func TestScaleFlags(t *testing.T) {
	in := apptest.MaskInput(t)
	apptest.WriteFile(t, filepath.Join(in, "broken.png"), "nope")
	root := t.TempDir()
	slurm := map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"}
	k8s := map[string]string{"JOB_COMPLETION_INDEX": "0"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // in stderr, or stdout
	}{
		{"slurm shard", slurm, []string{"mask", "--in", in, "--out", filepath.Join(root, "a"), "--aligned", "--keep-going"}, 0, "shard 3/4 (SLURM_ARRAY_TASK_ID=3 of the array from 1 by 1, 4 tasks)"},
		{"slurm size", slurm, []string{"mask", "--in", in, "--out", filepath.Join(root, "b"), "--aligned", "--shards", "2"}, 2, "the array has 4 tasks but --shards is 2"},
		{"k8s needs --shards", k8s, []string{"mask", "--in", in, "--out", filepath.Join(root, "c"), "--aligned"}, 2, "--shards N"},
		{"k8s", k8s, []string{"mask", "--in", in, "--out", filepath.Join(root, "d"), "--aligned", "--shards", "2", "--keep-going"}, 0, "shard 1/2 (JOB_COMPLETION_INDEX=0 of 2)"},
		{"shards alone", nil, []string{"mask", "--in", in, "--out", filepath.Join(root, "e"), "--aligned", "--shards", "2"}, 2, "give --shard I/2"},
		{"bad shard", nil, []string{"embed", "--shard", "0/4", in}, 2, "numbered from 1"},
		{"failures fail", nil, []string{"mask", "--in", in, "--out", filepath.Join(root, "f"), "--aligned"}, 1, "1 of 6 images failed"},
		{"keep going", nil, []string{"mask", "--in", in, "--out", filepath.Join(root, "g"), "--aligned", "--keep-going"}, 0, "1 of 6 images failed (errors in " + filepath.Join(root, "g", "manifest.json") + ") (--keep-going: exit status 0)"},
		{"embed --out two folders", nil, []string{"embed", "--out", filepath.Join(root, "s"), in, in}, 2, "--out takes one input folder"},
		{"embed --out --json", nil, []string{"embed", "--out", filepath.Join(root, "s"), "--json", in}, 2, "--out takes one input folder"},
		{"embed --force", nil, []string{"embed", "--force", in}, 2, "--force is for --out"},
		{"merge nothing", nil, []string{"merge"}, 2, "give --out STORE"},
		{"merge no --out", nil, []string{"merge", in}, 2, "without --out"},
		{"merge no stores", nil, []string{"merge", "--out", filepath.Join(root, "m")}, 2, "no shard stores"},
		{"merge no manifests", nil, []string{"merge", "--masks", in}, 1, "holds no shard manifests"},
		{"find no gallery", nil, []string{"find", in}, 2, "--gallery is required"},
		{"find no query", nil, []string{"find", "--gallery", in}, 2, "no query photos"},
		{"find k", nil, []string{"find", "--gallery", in, "--k", "0", in}, 2, "--k 0"},
		{"eval shard json", nil, []string{"eval", "--dataset", "folder=" + in, "--shard", "1/2", "--json", filepath.Join(root, "x.json")}, 2, "scores nothing"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		getenv := func(k string) string { return tc.env[k] }
		code := Run(context.Background(), tc.args, Stdio{Out: &out, Err: &errb, Getenv: getenv})
		if code != tc.code || !strings.Contains(errb.String()+out.String(), tc.want) {
			t.Errorf("%s: exit %d, want %d mentioning %q\n%s%s", tc.name, code, tc.code, tc.want, out.String(), errb.String())
		}
	}
	// The Slurm task masked its shard, with its own manifest.
	if _, err := os.Stat(filepath.Join(root, "a", app.ManifestName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("shard 3/4 wrote %s: %v", app.ManifestName, err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", maskshard.ManifestName(shard.Spec{Index: 3, Count: 4}))); err != nil {
		t.Errorf("shard 3/4's manifest: %v", err)
	}
}
