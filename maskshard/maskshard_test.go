package maskshard

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/shard"
)

// The fixtures are real `maskinv mask --seed 7` runs (main at 5ab0f4a;
// cc9fbb3 writes the same bytes) on
// assets/demo plus an unreadable broken/none.jpg and a notes.txt:
// testdata/single.json from one run over the whole folder, and
// testdata/demo/ the manifests of three runs over the images of shards
// 1/3, 2/3 and 3/3 (shard.Of of each key; each run with the same --in
// path, which failure messages name). Shard 2 copied no files, so its
// manifest has no "copies".

// demoSources reads the three shard manifests.
func demoSources(t *testing.T) []Source {
	t.Helper()
	var srcs []Source
	for i := 1; i <= 3; i++ {
		sp := shard.Spec{Index: i, Count: 3}
		name := filepath.Join("testdata", "demo", ManifestName(sp))
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, Source{Name: name, Shard: sp, Data: b})
	}
	return srcs
}

func readSingle(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "single.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMergeMatchesSingleRun(t *testing.T) {
	want := readSingle(t)
	srcs := demoSources(t)
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}} {
		var in []Source
		for _, i := range order {
			in = append(in, srcs[i])
		}
		got, err := Merge(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("order %v: merged manifest differs from the single run's:\n%s", order, firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return "got:  ..." + string(a[lo:min(len(a), i+80)]) + "\nwant: ..." + string(b[lo:min(len(b), i+80)])
}

func TestMergeDir(t *testing.T) {
	dir := t.TempDir()
	for _, s := range demoSources(t) {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(s.Name)), s.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An earlier merged manifest is ours and is replaced.
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), demoSources(t)[0].Data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := MergeDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Shards != 3 || res.Images != 13 || res.Copies != 2 {
		t.Fatalf("result %+v, want 3 shards, 13 images, 2 copies", res)
	}
	got, _ := os.ReadFile(res.Manifest)
	if !bytes.Equal(got, readSingle(t)) {
		t.Fatal("manifest.json differs from the single run's")
	}
	if st, err := os.Stat(res.Manifest); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("manifest.json: %v, %v; want mode 0644", st, err)
	}

	// A shard still running (its journal) stops the merge.
	j := filepath.Join(dir, JournalName(shard.Spec{Index: 2, Count: 3}))
	if err := os.WriteFile(j, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := MergeDir(dir, false); !errors.Is(err, ErrShards) || !strings.Contains(err.Error(), j) {
		t.Fatalf("merge with a journal there: %v", err)
	}
	os.Remove(j)

	// A manifest.json that is not ours is kept, unless forced.
	foreign := []byte(`{"tool":"something else","images":[]}`)
	if err := os.WriteFile(res.Manifest, foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := MergeDir(dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("merge over a foreign manifest.json: %v", err)
	}
	if b, _ := os.ReadFile(res.Manifest); !bytes.Equal(b, foreign) {
		t.Fatal("foreign manifest.json replaced")
	}
	if _, err := MergeDir(dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := MergeDir(t.TempDir(), false); !errors.Is(err, ErrShards) {
		t.Fatalf("merge of an empty folder: %v", err)
	}
}

func TestMergeRefuses(t *testing.T) {
	edit := func(i int, f func(Source) Source) []Source {
		srcs := demoSources(t)
		srcs[i] = f(srcs[i])
		return srcs
	}
	replace := func(old, new string) func(Source) Source {
		return func(s Source) Source {
			s.Data = []byte(strings.Replace(string(s.Data), old, new, 1))
			return s
		}
	}
	tests := []struct {
		name string
		srcs []Source
		err  error
		msg  []string
	}{
		{"missing", demoSources(t)[:2], ErrShards, []string{"missing shard 3/3"}},
		{"twice", append(demoSources(t), demoSources(t)[1]), ErrShards, []string{"both shard 2/3"}},
		{"other split", edit(1, func(s Source) Source { s.Shard = shard.Spec{Index: 2, Count: 4}; return s }), ErrShards, []string{"different splits"}},
		{"other seed", edit(2, replace(`"seed": 7,`, `"seed": 8,`)), ErrMismatch, []string{"seed 8", "shard-3-of-3"}},
		{"extra setting", edit(1, replace(`"aligned": false,`, `"aligned": false, "shift": {"x": 1, "y": 2},`)), ErrMismatch, []string{"shift", "has none"}},
		{"wrong shard", edit(0, func(s Source) Source { s.Shard = shard.Spec{Index: 2, Count: 3}; return s })[:3], ErrShards, []string{"both shard 2/3"}},
		{"not a manifest", edit(0, replace(`"tool": "maskinv mask"`, `"tool": "maskinv eval"`)), ErrManifest, []string{"maskinv eval"}},
		{"bad key", edit(1, replace(`"key": "Aaron_Peirsol/`, `"key": "../Aaron_Peirsol/`)), ErrManifest, []string{`bad "key"`}},
		{"truncated", edit(1, func(s Source) Source { s.Data = s.Data[:len(s.Data)/2]; return s }), ErrManifest, []string{"shard-2-of-3"}},
		{"none", nil, ErrShards, []string{"no shard manifests"}},
	}
	// An image of shard 1 listed by shard 3 as well.
	srcs := demoSources(t)
	one := srcs[0].Data
	rec := one[bytes.Index(one, []byte(`    {`)):]
	rec = rec[:bytes.Index(rec, []byte("\n    }"))+6]
	srcs[2].Data = bytes.Replace(srcs[2].Data, []byte(`"images": [`), append([]byte(`"images": [`), append(rec, ',')...), 1)
	tests = append(tests, struct {
		name string
		srcs []Source
		err  error
		msg  []string
	}{"image of another shard", srcs, ErrOverlap, []string{"belongs to shard 1/3", "shard-3-of-3"}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.srcs)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Merge: %v, want %v", err, tc.err)
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestNames(t *testing.T) {
	if ManifestName(shard.Whole) != "manifest.json" || JournalName(shard.Whole) != ".maskinv-journal.jsonl" {
		t.Fatal("the whole set must keep the mask command's own names")
	}
	sp := shard.Spec{Index: 12, Count: 100}
	if got := ManifestName(sp); got != ".maskinv-manifest.shard-12-of-100.json" {
		t.Fatalf("ManifestName = %q", got)
	}
	if got, ok := ParseManifestName(ManifestName(sp)); !ok || got != sp {
		t.Fatalf("ParseManifestName round trip: %v %v", got, ok)
	}
	for _, bad := range []string{"manifest.json", ".maskinv-manifest.shard-012-of-100.json", ".maskinv-manifest.shard-0-of-3.json",
		".maskinv-manifest.shard-1-of-1.json", ".maskinv-manifest.shard-4-of-3.json", ".maskinv-manifest.shard-1-of-3.json.tmp"} {
		if sp, ok := ParseManifestName(bad); ok {
			t.Errorf("ParseManifestName(%q) = %v", bad, sp)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"tool":"maskinv mask","images":[]}`, `{"tool":"maskinv mask","images":[{"key":"a.jpg"}],"copies":[{"path":"b"}]}`, `[]`, `{"images":1}`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Add(readSingleF(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parse(b)
		if err != nil {
			return
		}
		src := Source{Name: "fuzz", Shard: shard.Whole, Data: b}
		out, err := Merge([]Source{src})
		if err != nil {
			return // e.g. a record without a key
		}
		again, err := Merge([]Source{{Name: "out", Shard: shard.Whole, Data: out}})
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("merge of one manifest is not a fixed point: %v", err)
		}
		if q, err := parse(out); err != nil || len(q.images) != len(p.images) {
			t.Fatalf("merged manifest does not parse back: %v", err)
		}
	})
}

func readSingleF(f *testing.F) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "single.json"))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzParseManifestName(f *testing.F) {
	f.Add(".maskinv-manifest.shard-2-of-4.json")
	f.Add(".maskinv-manifest.shard--1-of-4.json")
	f.Fuzz(func(t *testing.T, name string) {
		sp, ok := ParseManifestName(name)
		if ok && (sp.Check() != nil || ManifestName(sp) != name) {
			t.Fatalf("ParseManifestName(%q) = %v", name, sp)
		}
	})
}
