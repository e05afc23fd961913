package cli

import (
	"encoding/csv"
	"flag"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/goldentest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// assertGolden compares the PNG at got with testdata/name.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	img, err := imageio.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	goldentest.Assert(t, name, img, *update)
}

// assertSameCSV compares two CSV files field by field: text exactly,
// numbers within tol (the last digit of a score may differ between CPUs).
func assertSameCSV(t *testing.T, got, want string, tol float64) {
	t.Helper()
	read := func(p string) [][]string {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return rows
	}
	g, w := read(got), read(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d rows, want %d", got, len(g), len(w))
	}
	for i := range w {
		if len(g[i]) != len(w[i]) {
			t.Fatalf("%s row %d: %d fields, want %d", got, i, len(g[i]), len(w[i]))
		}
		for k := range w[i] {
			a, errA := strconv.ParseFloat(g[i][k], 64)
			b, errB := strconv.ParseFloat(w[i][k], 64)
			// tol·(1+1e-9): a difference of exactly tol between two printed
			// decimals (one unit in the last place) parses to a hair more.
			if g[i][k] == w[i][k] || (errA == nil && errB == nil && math.Abs(a-b) <= tol*(1+1e-9)) {
				continue
			}
			t.Fatalf("%s row %d field %d = %q, want %q", got, i, k, g[i][k], w[i][k])
		}
	}
}
