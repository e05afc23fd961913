package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/eval"
	"github.com/maskinv/workbench/internal/facetest"
)

// missingPairs is an LFW View-2 pairs file over alice, bob, carol (three
// photos each) and dave (two): two folds of three pairs per class.
const missingPairs = "2\t3\n" +
	"alice\t1\t2\nbob\t1\t2\ncarol\t1\t2\n" +
	"alice\t1\tbob\t3\nbob\t2\tcarol\t3\ncarol\t1\tdave\t1\n" +
	"alice\t2\t3\nbob\t1\t3\ndave\t1\t2\n" +
	"alice\t3\tcarol\t2\nbob\t3\tdave\t2\ncarol\t3\talice\t1\n"

// lfwFixture writes pairs.txt and, for each key, the photo photo(key).
func lfwFixture(t *testing.T, pairs string, keys []string, photo func(key string) []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pairs.txt"), []byte(pairs), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, photo(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// personPhoto is the fake engine's photo of the person a key names.
func personPhoto(key string) []byte {
	id := map[string]int{"alice": 0, "bob": 1, "carol": 2, "dave": 3}[strings.Split(key, "/")[0]]
	return facetest.Person(id, int(key[len(key)-5]-'0'))
}

func fakeLoader(eng app.EvalEngine) evalEngineLoader {
	return func(engine.Options, bool, int) (app.EvalEngine, string, string, string, error) {
		return eng, "fake", "fakehash", "fake-pipeline", nil
	}
}

func runFakeEval(t *testing.T, eng app.EvalEngine, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = evalCommand(fakeLoader(eng)).Run(context.Background(), append(args, "--no-cache"), Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return out.String(), errb.String(), err
}

var allMissingKeys = []string{
	"alice/alice_0001.jpg", "alice/alice_0002.jpg", "alice/alice_0003.jpg",
	"bob/bob_0001.jpg", "bob/bob_0002.jpg", "bob/bob_0003.jpg",
	"carol/carol_0001.jpg", "carol/carol_0002.jpg", "carol/carol_0003.jpg",
	"dave/dave_0001.jpg", "dave/dave_0002.jpg",
}

// TestEvalMissingImages: before, a set whose images were absent gave a full
// table and exit 0 (every pair at −1: 50 %, threshold −2), and pairs naming
// missing people or photos were scored −1 among the rest. Now a missing
// image is an error naming the count and the first paths; --allow-missing
// scores the complete pairs only, and nothing measured is an error.
func TestEvalMissingImages(t *testing.T) {
	without := func(drop ...string) []string {
		var keep []string
		for _, k := range allMissingKeys {
			if !slices.ContainsFunc(drop, func(d string) bool { return strings.HasPrefix(k, d) }) {
				keep = append(keep, k)
			}
		}
		return keep
	}
	black := func(string) []byte { return facetest.BlackPhoto() }
	tests := []struct {
		name    string
		keys    []string
		photo   func(string) []byte
		args    []string
		wantErr []string // substrings of the error; nil: success
	}{
		{"no image", nil, personPhoto, nil,
			[]string{"11 of 11 images missing, named by 12 of 12 pairs", "alice/alice_0001.jpg (no folder alice)", "and 6 more", "no pair is complete"}},
		{"no image, allow", nil, personPhoto, []string{"--allow-missing"},
			[]string{"11 of 11 images missing", "no pair is complete"}},
		{"missing person and photo", without("bob/bob_0003.jpg", "dave/"), personPhoto, nil,
			[]string{"3 of 11 images missing, named by 5 of 12 pairs", "bob/bob_0003.jpg (no such file)", "dave/dave_0001.jpg (no folder dave)", "--allow-missing"}},
		{"missing person and photo, allow", without("bob/bob_0003.jpg", "dave/"), personPhoto, []string{"--allow-missing"}, nil},
		{"no face anywhere", allMissingKeys, black, nil,
			[]string{"nothing was measured", "blr-blr: eval: no scored pairs: all 12 pairs failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := lfwFixture(t, missingPairs, tt.keys, tt.photo)
			jsonPath := filepath.Join(t.TempDir(), "r.json")
			args := append([]string{"--dataset", "lfw=" + dir, "--protocol", "blr-blr", "--json", jsonPath}, tt.args...)
			stdout, stderr, err := runFakeEval(t, &facetest.Engine{}, args...)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("exit 0, want an error; stdout:\n%s", stdout)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if stdout != "" {
					t.Errorf("a table was printed:\n%s", stdout)
				}
				if _, serr := os.Stat(jsonPath); serr == nil {
					t.Error("JSON written for a failed run")
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			doc := struct {
				Dropped   int                       `json:"n_dropped_pairs"`
				Missing   []app.MissingImage        `json:"missing_images"`
				Protocols map[string]map[string]any `json:"protocols"`
			}{}
			b, _ := os.ReadFile(jsonPath)
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			row := doc.Protocols["blr-blr"]
			if doc.Dropped != 5 || len(doc.Missing) != 3 || num(t, row, "n_pairs") != 7 || num(t, row, "n_dropped") != 5 || num(t, row, "n_failed") != 0 {
				t.Errorf("dropped %d, missing %v, row %v; want 5 dropped, 3 missing, 7 pairs scored, none failed", doc.Dropped, doc.Missing, row)
			}
			for _, w := range []string{"5 of 12 pairs dropped, not scored (--allow-missing): they name 3 missing images", "| protocol | pairs | failed | dropped |", "| blr-blr | 7 | 0 | 5 |"} {
				if !strings.Contains(stdout, w) {
					t.Errorf("table lacks %q:\n%s", w, stdout)
				}
			}
			if !strings.Contains(stderr, "5 pairs dropped") {
				t.Errorf("stderr does not report the dropped pairs:\n%s", stderr)
			}
		})
	}
}

// TestEvaluateAllowMissingScoresCompletePairs: with AllowMissing, the
// metrics are exactly those of the set without the incomplete pairs.
func TestEvaluateAllowMissingScoresCompletePairs(t *testing.T) {
	dir := lfwFixture(t, missingPairs, allMissingKeys[:9], personPhoto) // no dave
	set, err := dataset.Builtin().OpenEval("lfw", dir, dataset.EvalOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	opt := app.EvalOptions{Protocols: []string{eval.ProtoBLRBLR, eval.ProtoMM}}
	if _, err := app.Evaluate(context.Background(), &facetest.Engine{}, set, opt); !errors.Is(err, app.ErrMissingImages) {
		t.Fatalf("err = %v, want app.ErrMissingImages", err)
	}
	complete := *set
	complete.Pairs = nil
	for _, p := range set.Pairs {
		if !strings.HasPrefix(set.Images[p.A].Key, "dave/") && !strings.HasPrefix(set.Images[p.B].Key, "dave/") {
			complete.Pairs = append(complete.Pairs, p)
		}
	}
	want, err := app.Evaluate(context.Background(), &facetest.Engine{}, &complete, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.AllowMissing = true
	got, err := app.Evaluate(context.Background(), &facetest.Engine{}, set, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Dropped) != 3 || len(got.Missing) != 2 || len(got.Set.Pairs) != 9 {
		t.Fatalf("dropped %d pairs for %v; scored %d; want 3, dave's 2 photos, 9", len(got.Dropped), got.Missing, len(got.Set.Pairs))
	}
	for i, row := range got.Protocols {
		if row.Err != nil || !reflect.DeepEqual(row.Summary, want.Protocols[i].Summary) || row.Dropped != 3 {
			t.Errorf("%s: %+v (dropped %d, %v), want %+v", row.Name, row.Summary, row.Dropped, row.Err, want.Protocols[i].Summary)
		}
	}
	if len(set.Pairs) != 12 {
		t.Errorf("app.Evaluate changed the caller's set: %d pairs", len(set.Pairs))
	}
}

// TestEvalMFR2DroppedPerSplit: each MFR2 split row counts its own dropped
// pairs.
func TestEvalMFR2DroppedPerSplit(t *testing.T) {
	pairs := "alice 1 2\nbob 1 2\ncarol 1 2\nalice 1 bob 1\nbob 2 carol 2\ncarol 1 alice 2\ncarol 2 dave 1\ndave 1 2\n"
	labels := "alice, 1, no-mask\nalice, 2, N95\nbob, 1, surgical_blue\nbob, 2, cloth_black\ncarol, 1, no-mask\ncarol, 2, no-mask\ndave, 1, no-mask\ndave, 2, KN95\n"
	var keys []string
	for _, k := range []string{"alice/alice_0001", "alice/alice_0002", "bob/bob_0001", "bob/bob_0002", "carol/carol_0001", "carol/carol_0002"} {
		keys = append(keys, k+".png")
	}
	dir := lfwFixture(t, pairs, keys, personPhoto)
	if err := os.WriteFile(filepath.Join(dir, "mfr2_labels.txt"), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(t.TempDir(), "m.json")
	if _, stderr, err := runFakeEval(t, &facetest.Engine{}, "--dataset", "mfr2="+dir, "--allow-missing", "--json", jsonPath); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var doc struct {
		Protocols map[string]map[string]any `json:"protocols"`
	}
	b, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	// carol 2 – dave 1: neither masked; dave 1 – 2: one masked.
	for row, want := range map[string]float64{"real": 2, "real/neither-masked": 1, "real/one-masked": 1, "real/both-masked": 0} {
		if got := num(t, doc.Protocols[row], "n_dropped"); got != want {
			t.Errorf("%s: n_dropped %v, want %v", row, got, want)
		}
	}
}
