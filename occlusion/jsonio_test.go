package occlusion

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testFile(t testing.TB) File {
	t.Helper()
	emb := &regionEmbedder{region: image.Rect(10, 40, 60, 70)}
	p := Pair{A: noiseFace(1), B: noiseFace(2), MaskedA: noiseFace(3), MaskedB: noiseFace(4)}
	r1, err := ComputePair(context.Background(), emb, Model{Name: "teacher", SHA256: strings.Repeat("ab", 32), Threshold: 0.2797}, p, Options{Patch: 16, Stride: 8})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ComputePair(context.Background(), emb, Model{Name: "student"}, Pair{A: p.A, B: p.B}, Options{Patch: 10, Stride: 4})
	if err != nil {
		t.Fatal(err)
	}
	return File{FaceA: "A/A_0001.jpg", FaceB: "B/B_0002.jpg", Mask: "paper, seed 1", Results: []*Result{r1, r2}}
}

func TestJSONRoundTrip(t *testing.T) {
	f := testFile(t)
	path := filepath.Join(t.TempDir(), "maps.json")
	if err := WriteJSON(path, f); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(data), path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip changed the file:\n got %+v\nwant %+v", got, f)
	}
	// The documented layout: cell [i][j] of "a" is patch (starts[j], starts[i]).
	if !strings.Contains(string(data), `"schema":"maskinv-occlusion/1"`) || !strings.Contains(string(data), `"setting":"blr-m"`) {
		t.Errorf("JSON lacks the schema or setting names:\n%.400s", data)
	}
}

func TestJSONBad(t *testing.T) {
	var good bytes.Buffer
	if err := Encode(&good, testFile(t)); err != nil {
		t.Fatal(err)
	}
	g := good.String()
	tests := []struct {
		name, old, new string
	}{
		{"schema", `"maskinv-occlusion/1"`, `"maskinv-occlusion/2"`},
		{"grey", `"grey":127`, `"grey":0`},
		{"setting", `"blr-m"`, `"blr-x"`},
		{"duplicate setting", `"blr-m"`, `"blr-blr"`},
		{"stride", `"stride":8`, `"stride":9`},
		{"starts", `"starts":[0,`, `"starts":[1,`},
		{"long row", `"a":[[`, `"a":[[1,`},
		{"missing row", `"b":[[0,0,0,0,0,0,0,0,0,0,0,0,0],`, `"b":[`},
		{"not JSON", `{`, `[`},
		{"overflow", `"score":`, `"score":1e999,"x":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(g, tc.old, tc.new, 1)
			if bad == g {
				t.Fatalf("the edit %q → %q changed nothing", tc.old, tc.new)
			}
			_, err := Decode(strings.NewReader(bad), "maps.json")
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "maps.json") {
				t.Fatalf("error %v, want ErrFormat naming the file", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	if err := Encode(&good, testFile(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"schema":"maskinv-occlusion/1","grey":127,"models":[{"grid":{"size":4,"patch":2,"stride":2},"starts":[0,2],"settings":[{"setting":"m-m","score":1,"a":[[0,0],[0,0]],"b":[[1,1],[1,1]]}]}]}`))
	f.Add([]byte(`{"schema":"maskinv-occlusion/1","grey":127,"models":[{"grid":{"size":4096,"patch":1,"stride":1}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		// Whatever decodes is consistent and survives a round trip.
		for _, r := range file.Results {
			for _, s := range r.Settings {
				if len(s.A.Drops) != r.Grid.Cells() || len(s.B.Drops) != r.Grid.Cells() {
					t.Fatalf("maps of %d and %d cells on a %d-cell grid", len(s.A.Drops), len(s.B.Drops), r.Grid.Cells())
				}
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, file); err != nil {
			t.Fatal(err)
		}
		again, err := Decode(&buf, "again.json")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, file) {
			t.Fatalf("second round trip differs")
		}
	})
}
