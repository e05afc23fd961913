package dataset

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A two-fold, two-per-class LFW file (tabs as in the real one).
const smallLFW = "2\t2\n" +
	"Abel_Pacheco\t1\t4\n" +
	"Akhmed_Zakayev\t1\t3\n" +
	"Abdel_Madi_Shabneh\t1\tDean_Barker\t1\n" +
	"Abel_Pacheco\t2\tAkhmed_Zakayev\t2\n" +
	"Zico\t1\t2\n" +
	"Zico\t2\t3\n" +
	"Zico\t1\tDean_Barker\t2\n" +
	"Zach_Pillar\t1\tZico\t3\n"

func TestParseLFWPairs(t *testing.T) {
	pairs, err := ParseLFWPairs(strings.NewReader(smallLFW), "pairs.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 8 {
		t.Fatalf("%d pairs, want 8", len(pairs))
	}
	want0 := Pair{
		A:    ImageRef{Identity: "Abel_Pacheco", Number: 1, Path: "Abel_Pacheco/Abel_Pacheco_0001.jpg"},
		B:    ImageRef{Identity: "Abel_Pacheco", Number: 4, Path: "Abel_Pacheco/Abel_Pacheco_0004.jpg"},
		Same: true, Fold: 0,
	}
	if pairs[0] != want0 {
		t.Errorf("pair 0 = %+v, want %+v", pairs[0], want0)
	}
	want7 := Pair{
		A:    ImageRef{Identity: "Zach_Pillar", Number: 1, Path: "Zach_Pillar/Zach_Pillar_0001.jpg"},
		B:    ImageRef{Identity: "Zico", Number: 3, Path: "Zico/Zico_0003.jpg"},
		Same: false, Fold: 1,
	}
	if pairs[7] != want7 {
		t.Errorf("pair 7 = %+v, want %+v", pairs[7], want7)
	}
	for i, p := range pairs {
		if wantSame := i%4 < 2; p.Same != wantSame || p.Fold != i/4 {
			t.Errorf("pair %d: same %v fold %d", i, p.Same, p.Fold)
		}
	}
}

func TestParseLFWPairsErrors(t *testing.T) {
	tests := []struct {
		name, in string
		err      error
		line     int
	}{
		// An empty file names line 1 (before: line 0, printed as "offset 0"),
		// and so does one of blank lines (before: the count of them).
		{"empty", "", ErrTruncated, 1},
		{"only whitespace", " \n\t\n\r\n", ErrTruncated, 1},
		{"bad header", "10\n", ErrSyntax, 1},
		{"zero folds", "0 300\n", ErrSyntax, 1},
		{"short fold", "1 1\nA 1 2\n", ErrTruncated, 2},
		{"different where same expected", "1 1\nA 1 B 2\nA 1 B 2\n", ErrSyntax, 2},
		{"same where different expected", "1 1\nA 1 2\nA 1 2\n", ErrSyntax, 3},
		{"bad number", "1 1\nA x 2\nA 1 B 2\n", ErrSyntax, 2},
		{"zero number", "1 1\nA 0 2\nA 1 B 2\n", ErrSyntax, 2},
		{"path escape", "1 1\n.. 1 2\nA 1 B 2\n", ErrSyntax, 2},
		{"slash", "1 1\na/b 1 2\nA 1 B 2\n", ErrSyntax, 2},
		{"different names one person", "1 1\nA 1 2\nA 1 A 2\n", ErrSyntax, 3},
		{"five fields", "1 1\nA 1 2 3 4\nA 1 B 2\n", ErrSyntax, 2},
		{"extra line", "1 1\nA 1 2\nA 1 B 2\nC 1 2\n", ErrSyntax, 4},
		// Blank lines are skipped but still counted.
		{"blank then bad", "1 1\n\nA 1 2\n\nA 1 B x\n", ErrSyntax, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLFWPairs(strings.NewReader(tt.in), "p.txt")
			wantParseError(t, err, tt.err, tt.line)
			if !strings.HasPrefix(err.Error(), "p.txt:") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLFWRoundTrip(t *testing.T) {
	pairs, err := ParseLFWPairs(strings.NewReader(smallLFW), "pairs.txt")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteLFWPairs(&buf, pairs); err != nil {
		t.Fatal(err)
	}
	if buf.String() != smallLFW {
		t.Errorf("written\n%s\nwant\n%s", buf.String(), smallLFW)
	}
	back, err := ParseLFWPairs(&buf, "again")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, pairs) {
		t.Error("round trip changed the pairs")
	}
	// Out of layout: the writer refuses rather than write a file that
	// would read back differently.
	swapped := append([]Pair(nil), pairs...)
	swapped[0], swapped[2] = swapped[2], swapped[0]
	if err := WriteLFWPairs(&buf, swapped); err == nil {
		t.Error("out-of-layout pairs written")
	}
}

func TestLFWReal(t *testing.T) {
	path := sharedFile(t, "data/lfw/pairs.txt")
	pairs, err := ReadLFWPairs(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 6000 {
		t.Fatalf("%d pairs, want 6000", len(pairs))
	}
	same := 0
	foldOf := map[string]int{} // identity → fold
	perFold := make([]int, 10)
	for i, p := range pairs {
		if p.Same {
			same++
		}
		perFold[p.Fold]++
		for _, id := range []string{p.A.Identity, p.B.Identity} {
			if f, ok := foldOf[id]; ok && f != p.Fold {
				t.Fatalf("pair %d: %s in folds %d and %d: folds not identity-disjoint", i, id, f, p.Fold)
			}
			foldOf[id] = p.Fold
		}
	}
	if same != 3000 {
		t.Errorf("%d same pairs, want 3000", same)
	}
	for f, n := range perFold {
		if n != 600 {
			t.Errorf("fold %d has %d pairs, want 600", f, n)
		}
	}
	// The paths name real files, when the images are there.
	dir := filepath.Dir(path)
	for _, p := range []Pair{pairs[0], pairs[5999]} {
		for _, im := range []ImageRef{p.A, p.B} {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(im.Path))); err != nil {
				t.Errorf("image of %+v: %v", im, err)
			}
		}
	}
	// Writing gives back the file byte for byte.
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, "WriteLFWPairs of pairs.txt", func(w io.Writer) error { return WriteLFWPairs(w, pairs) }, orig)
}

const smallMFR2Pairs = "MitchMcConnell 3 4\n" +
	"ImranKhan 2 SimonCowell 3\n" +
	"ImranKhan 1 2\n"

const smallMFR2Labels = "MitchMcConnell, 3, surgical_blue\n" +
	"MitchMcConnell, 4, no-mask\n" +
	"ImranKhan, 1, no-mask\n" +
	"ImranKhan, 2, no-mask\n" +
	"SimonCowell, 3, N95\n"

func TestMFR2(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"pairs.txt": smallMFR2Pairs, "mfr2_labels.txt": smallMFR2Labels} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pairs, err := ReadMFR2(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []MFR2Pair{
		{Pair: Pair{
			A:    ImageRef{"MitchMcConnell", 3, "MitchMcConnell/MitchMcConnell_0003.png"},
			B:    ImageRef{"MitchMcConnell", 4, "MitchMcConnell/MitchMcConnell_0004.png"},
			Same: true,
		}, MaskA: "surgical_blue", MaskB: NoMask},
		{Pair: Pair{
			A: ImageRef{"ImranKhan", 2, "ImranKhan/ImranKhan_0002.png"},
			B: ImageRef{"SimonCowell", 3, "SimonCowell/SimonCowell_0003.png"},
		}, MaskA: NoMask, MaskB: "N95"},
		{Pair: Pair{
			A:    ImageRef{"ImranKhan", 1, "ImranKhan/ImranKhan_0001.png"},
			B:    ImageRef{"ImranKhan", 2, "ImranKhan/ImranKhan_0002.png"},
			Same: true,
		}, MaskA: NoMask, MaskB: NoMask},
	}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("got\n%+v\nwant\n%+v", pairs, want)
	}
	splits := []MaskSplit{OneMasked, OneMasked, NeitherMasked}
	for i, p := range pairs {
		if p.Split() != splits[i] {
			t.Errorf("pair %d split %v, want %v", i, p.Split(), splits[i])
		}
	}
	if s := (MFR2Pair{MaskA: "N95", MaskB: "KN95"}).Split(); s != BothMasked || s.String() != "both-masked" {
		t.Errorf("both masked: %v", s)
	}

	// A pair image without a label: ErrNotFound at its pairs.txt line.
	if err := os.WriteFile(filepath.Join(dir, "pairs.txt"), []byte(smallMFR2Pairs+"Nobody 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadMFR2(dir)
	wantParseError(t, err, ErrNotFound, 4)
}

func TestMFR2Errors(t *testing.T) {
	parse := map[string]func(io.Reader, string) error{
		"pairs.txt": func(r io.Reader, name string) error {
			_, err := ParseMFR2Pairs(r, name)
			return err
		},
		"labels.txt": func(r io.Reader, name string) error {
			_, err := ParseMFR2Labels(r, name)
			return err
		},
	}
	tests := []struct {
		file, name, in string
		err            error
		line           int
		msg            string
	}{
		{"pairs.txt", "blank line", "A 1 2\n\nB 1 2\n", ErrSyntax, 2, "blank line"},
		{"pairs.txt", "two fields", "A 1\n", ErrSyntax, 1, "2 fields"},
		{"pairs.txt", "bad number", "A 1 B -2\n", ErrSyntax, 1, "image number"},
		// Before, an empty pairs.txt parsed as no pairs, without a word.
		{"pairs.txt", "empty", "", ErrTruncated, 1, "empty file"},
		{"pairs.txt", "only whitespace", "  \n\n", ErrSyntax, 1, "blank line"},
		{"labels.txt", "two fields", "A, 1\n", ErrSyntax, 1, "3 (name, number, mask)"},
		{"labels.txt", "bad number", "A, one, no-mask\n", ErrSyntax, 1, "image number"},
		{"labels.txt", "empty mask", "A, 1, \n", ErrSyntax, 1, "mask type"},
		{"labels.txt", "duplicate", "A, 1, no-mask\nB, 1, N95\nA, 1, N95\n", ErrSyntax, 3, "second label"},
		{"labels.txt", "bad name", "A/B, 1, no-mask\n", ErrSyntax, 1, "identity name"},
		// Before, any type but no-mask counted as masked: a typo, a
		// capitalisation or a made-up type moved pairs between splits.
		{"labels.txt", "unknown mask", "A, 1, no-mask\nA, 2, masked\n", ErrUnsupported, 2, `unknown mask type "masked"`},
		{"labels.txt", "wrong case", "A, 1, n95\n", ErrUnsupported, 1, `unknown mask type "n95"`},
		{"labels.txt", "typo of no-mask", "A, 1, no_mask\n", ErrUnsupported, 1, "no-mask, KN95"},
		{"labels.txt", "empty", "", ErrTruncated, 1, "empty file"},
		{"labels.txt", "only whitespace", "\n \n", ErrTruncated, 1, "empty file"},
	}
	for _, tt := range tests {
		err := parse[tt.file](strings.NewReader(tt.in), tt.file)
		wantParseError(t, err, tt.err, tt.line)
		if !strings.Contains(fmt.Sprint(err), tt.file+":") || !strings.Contains(fmt.Sprint(err), tt.msg) {
			t.Errorf("%s %s: error %v, want it to name the file and say %q", tt.file, tt.name, err, tt.msg)
		}
	}
	// The writer refuses what the reader would.
	if err := WriteMFR2Labels(io.Discard, []MaskLabel{{Identity: "A", Number: 1, Mask: "masked"}}); err == nil {
		t.Error("unknown mask type written")
	}
}

func TestMFR2RoundTrip(t *testing.T) {
	pairs, err := ParseMFR2Pairs(strings.NewReader(smallMFR2Pairs), "pairs.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, "MFR2 pairs", func(w io.Writer) error { return WriteMFR2Pairs(w, pairs) }, []byte(smallMFR2Pairs))
	labels, err := ParseMFR2Labels(strings.NewReader(smallMFR2Labels), "labels.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantWrites(t, "MFR2 labels", func(w io.Writer) error { return WriteMFR2Labels(w, labels) }, []byte(smallMFR2Labels))
	// A same pair naming two people cannot be written as "Name i j".
	bad := []Pair{{A: ImageRef{Identity: "A", Number: 1}, B: ImageRef{Identity: "B", Number: 1}, Same: true}}
	if err := WriteMFR2Pairs(io.Discard, bad); err == nil {
		t.Error("same pair of two names written")
	}
}

func TestMFR2Real(t *testing.T) {
	dir := filepath.Dir(sharedFile(t, "data/mfr2/pairs.txt"))
	pairs, err := ReadMFR2(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 848 {
		t.Fatalf("%d pairs, want 848", len(pairs))
	}
	same := 0
	splits := map[MaskSplit]int{}
	for _, p := range pairs {
		if p.Same {
			same++
		}
		splits[p.Split()]++
		for _, im := range []ImageRef{p.A, p.B} {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(im.Path))); err != nil {
				t.Fatalf("pair image: %v", err)
			}
		}
	}
	if same != 424 {
		t.Errorf("%d same pairs, want 424", same)
	}
	for _, s := range []MaskSplit{NeitherMasked, OneMasked, BothMasked} {
		if splits[s] == 0 {
			t.Errorf("no %v pairs", s)
		}
	}
	t.Logf("MFR2 splits: %v", splits)

	labels, err := readFile(filepath.Join(dir, "mfr2_labels.txt"), ParseMFR2Labels)
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 269 {
		t.Errorf("%d labels, want 269 (one per image)", len(labels))
	}
	unmasked := 0
	for _, l := range labels {
		if l.Mask == NoMask {
			unmasked++
		}
	}
	if unmasked != 98 {
		t.Errorf("%d no-mask labels, want 98", unmasked)
	}
	// Both files read back byte for byte after writing.
	for name, write := range map[string]func(io.Writer) error{
		"pairs.txt": func(w io.Writer) error {
			ps := make([]Pair, len(pairs))
			for i, p := range pairs {
				ps[i] = p.Pair
			}
			return WriteMFR2Pairs(w, ps)
		},
		"mfr2_labels.txt": func(w io.Writer) error { return WriteMFR2Labels(w, labels) },
	} {
		orig, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		wantWrites(t, "writing "+name, write, orig)
	}
}
