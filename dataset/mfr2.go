package dataset

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// NoMask is the MFR2 mask type of an unmasked image.
const NoMask = "no-mask"

// MaskTypes are the mask types of mfr2_labels.txt (MFR2 as published: 269
// images), NoMask first. A label with any other type is an error, because
// every type but NoMask counts as masked: a typo would move a pair into
// another split without a word.
func MaskTypes() []string {
	return []string{NoMask, "KN95", "N95", "N99", "cloth_black", "cloth_purple", "cloth_red", "cloth_textured",
		"cloth_white", "surgical_black", "surgical_blue", "surgical_green", "surgical_white"}
}

// MaskLabel is one line of mfr2_labels.txt: the mask an image shows.
type MaskLabel struct {
	Identity string
	Number   int
	Mask     string // e.g. "surgical_blue", "N95", or NoMask
}

// MFR2Pair is a pair with the mask type of each image.
type MFR2Pair struct {
	Pair
	MaskA, MaskB string
}

// MaskSplit says how many images of a pair are masked.
type MaskSplit int

// Mask splits, for evaluating each separately.
const (
	NeitherMasked MaskSplit = iota
	OneMasked
	BothMasked
)

func (s MaskSplit) String() string {
	switch s {
	case NeitherMasked:
		return "neither-masked"
	case OneMasked:
		return "one-masked"
	case BothMasked:
		return "both-masked"
	}
	return fmt.Sprintf("MaskSplit(%d)", int(s))
}

// Split reports how many of the pair's images are masked.
func (p MFR2Pair) Split() MaskSplit {
	n := MaskSplit(0)
	if p.MaskA != NoMask {
		n++
	}
	if p.MaskB != NoMask {
		n++
	}
	return n
}

// ReadMFR2 reads dir/pairs.txt and dir/mfr2_labels.txt and attaches each
// image's mask type to the pairs. Paths are <Name>/<Name>_%04d.png
// relative to dir. MFR2 has no folds: every Fold is 0 (eval.AssignFolds
// makes some). An image without a label is an ErrNotFound error at its
// pairs.txt line.
func ReadMFR2(dir string) ([]MFR2Pair, error) {
	pairsPath := filepath.Join(dir, "pairs.txt")
	pairs, err := readFile(pairsPath, ParseMFR2Pairs)
	if err != nil {
		return nil, err
	}
	labels, err := readFile(filepath.Join(dir, "mfr2_labels.txt"), ParseMFR2Labels)
	if err != nil {
		return nil, err
	}
	type key struct {
		name string
		n    int
	}
	mask := make(map[key]string, len(labels))
	for _, l := range labels {
		mask[key{l.Identity, l.Number}] = l.Mask
	}
	out := make([]MFR2Pair, len(pairs))
	for i, p := range pairs {
		out[i].Pair = p
		var ok bool
		if out[i].MaskA, ok = mask[key{p.A.Identity, p.A.Number}]; !ok {
			return nil, &ParseError{Path: pairsPath, Line: i + 1, Msg: "no mask label for " + p.A.Path, Err: ErrNotFound}
		}
		if out[i].MaskB, ok = mask[key{p.B.Identity, p.B.Number}]; !ok {
			return nil, &ParseError{Path: pairsPath, Line: i + 1, Msg: "no mask label for " + p.B.Path, Err: ErrNotFound}
		}
	}
	return out, nil
}

// ParseMFR2Pairs parses an MFR2 pairs.txt: no header, one pair per line,
// "Name i j" (same) or "NameA i NameB j" (different), in any order. Blank
// lines are an error here, so that a pair's index is its line number.
func ParseMFR2Pairs(r io.Reader, name string) ([]Pair, error) {
	sc := bufio.NewScanner(r)
	var pairs []Pair
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			return nil, lineError(name, line, ErrSyntax, "blank line")
		}
		pl, err := parsePairLine(fields)
		if err != nil {
			return nil, lineError(name, line, ErrSyntax, "%v", err)
		}
		pairs = append(pairs, pl.pair("png", 0))
	}
	if err := sc.Err(); err != nil {
		return nil, lineError(name, line+1, ErrLimit, "%v", err)
	}
	if len(pairs) == 0 {
		return nil, lineError(name, 1, ErrTruncated, "empty file, want pair lines \"Name i j\" or \"NameA i NameB j\"")
	}
	return pairs, nil
}

// WriteMFR2Pairs writes pairs in MFR2's pairs.txt format, space-separated.
func WriteMFR2Pairs(w io.Writer, pairs []Pair) error {
	bw := bufio.NewWriter(w)
	for i, p := range pairs {
		if err := writePairLine(bw, p, " "); err != nil {
			return fmt.Errorf("mfr2 pairs: pair %d: %w", i, err)
		}
	}
	return bw.Flush()
}

// ParseMFR2Labels parses mfr2_labels.txt: lines "Name, i, masktype", the
// type one of MaskTypes. Blank lines are skipped; a second label for the
// same image, an unknown mask type or a file without labels is an error.
func ParseMFR2Labels(r io.Reader, name string) ([]MaskLabel, error) {
	lr := newLineReader(r, name)
	type key struct {
		name string
		n    int
	}
	seen := map[key]int{}
	var labels []MaskLabel
	for {
		s, err := lr.next()
		if err == io.EOF && len(labels) == 0 {
			return nil, lineError(name, 1, ErrTruncated, "empty file, want lines \"Name, i, masktype\"")
		}
		if err == io.EOF {
			return labels, nil
		}
		if err != nil {
			return nil, err
		}
		f := strings.Split(s, ",")
		if len(f) != 3 {
			return nil, lr.errorf(ErrSyntax, "%d comma-separated fields, want 3 (name, number, mask)", len(f))
		}
		l := MaskLabel{Identity: strings.TrimSpace(f[0]), Mask: strings.TrimSpace(f[2])}
		if l.Number, err = imageNumber(strings.TrimSpace(f[1])); err != nil {
			return nil, lr.errorf(ErrSyntax, "%v", err)
		}
		if err := checkName(l.Identity); err != nil {
			return nil, lr.errorf(ErrSyntax, "%v", err)
		}
		if err := checkMask(l.Mask); err != nil {
			return nil, lr.errorf(ErrSyntax, "%v", err)
		}
		if !slices.Contains(MaskTypes(), l.Mask) {
			return nil, lr.errorf(ErrUnsupported, "unknown mask type %q (MFR2's are %s)", l.Mask, strings.Join(MaskTypes(), ", "))
		}
		k := key{l.Identity, l.Number}
		if first, dup := seen[k]; dup {
			return nil, lr.errorf(ErrSyntax, "second label for %s %d (first on line %d)", l.Identity, l.Number, first)
		}
		seen[k] = lr.line
		labels = append(labels, l)
	}
}

// checkMask accepts a non-empty mask type without separators.
func checkMask(m string) error {
	if m == "" || strings.ContainsAny(m, ",\n\r") {
		return fmt.Errorf("mask type %q", m)
	}
	return nil
}

// WriteMFR2Labels writes labels as "Name, i, masktype" lines.
func WriteMFR2Labels(w io.Writer, labels []MaskLabel) error {
	bw := bufio.NewWriter(w)
	for i, l := range labels {
		if err := checkName(l.Identity); err != nil {
			return fmt.Errorf("mfr2 labels: label %d: %w", i, err)
		}
		if _, err := imageNumber(fmt.Sprint(l.Number)); err != nil {
			return fmt.Errorf("mfr2 labels: label %d: %w", i, err)
		}
		if !slices.Contains(MaskTypes(), l.Mask) {
			return fmt.Errorf("mfr2 labels: label %d: mask type %q", i, l.Mask)
		}
		fmt.Fprintf(bw, "%s, %d, %s\n", l.Identity, l.Number, l.Mask)
	}
	return bw.Flush()
}
