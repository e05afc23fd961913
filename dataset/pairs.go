package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// ImageRef names one image of a pair.
type ImageRef struct {
	Identity string // person, as named in the pairs file
	Number   int    // 1-based image number of that person
	Path     string // relative to the dataset dir, slash-separated
}

// Pair is one verification pair.
type Pair struct {
	A, B ImageRef
	Same bool // genuine: both images show the same person
	Fold int  // 0-based fold; 0 for datasets without folds
}

// imagePath is the LFW naming scheme, shared by MFR2:
// <Name>/<Name>_0001.<ext>.
func imagePath(name string, n int, ext string) string {
	return fmt.Sprintf("%s/%s_%04d.%s", name, name, n, ext)
}

func imageRef(name string, n int, ext string) ImageRef {
	return ImageRef{Identity: name, Number: n, Path: imagePath(name, n, ext)}
}

// pairLine is one parsed line of a pairs file: "Name i j" for a genuine
// pair, "NameA i NameB j" for an impostor pair.
type pairLine struct {
	nameA, nameB string
	a, b         int
	same         bool
}

func parsePairLine(fields []string) (pairLine, error) {
	var pl pairLine
	var err error
	switch len(fields) {
	case 3:
		pl.same = true
		pl.nameA, pl.nameB = fields[0], fields[0]
		if pl.a, err = imageNumber(fields[1]); err != nil {
			return pl, err
		}
		pl.b, err = imageNumber(fields[2])
	case 4:
		pl.nameA, pl.nameB = fields[0], fields[2]
		if pl.a, err = imageNumber(fields[1]); err != nil {
			return pl, err
		}
		pl.b, err = imageNumber(fields[3])
	default:
		return pl, fmt.Errorf("%d fields, want 3 (same) or 4 (different)", len(fields))
	}
	if err != nil {
		return pl, err
	}
	if err := checkName(pl.nameA); err != nil {
		return pl, err
	}
	if err := checkName(pl.nameB); err != nil {
		return pl, err
	}
	if !pl.same && pl.nameA == pl.nameB {
		// Four fields mean "different"; one name twice contradicts that.
		return pl, fmt.Errorf("different pair names %q twice", pl.nameA)
	}
	return pl, nil
}

func (pl pairLine) pair(ext string, fold int) Pair {
	return Pair{A: imageRef(pl.nameA, pl.a, ext), B: imageRef(pl.nameB, pl.b, ext), Same: pl.same, Fold: fold}
}

// imageNumber parses a 1-based image number. Four digits suffice for both
// datasets; six leave room and keep %04d paths sane.
func imageNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 999999 {
		return 0, fmt.Errorf("image number %q", s)
	}
	return n, nil
}

// checkName rejects names that would escape the dataset dir or not
// survive a round trip through the whitespace- or comma-separated formats.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\,\x00") ||
		strings.ContainsFunc(name, unicode.IsSpace) {
		return fmt.Errorf("identity name %q", name)
	}
	return nil
}

// lineReader yields the non-blank lines of a text file with their 1-based
// line numbers.
type lineReader struct {
	sc   *bufio.Scanner
	path string
	line int
}

func newLineReader(r io.Reader, path string) *lineReader {
	return &lineReader{sc: bufio.NewScanner(r), path: path}
}

// next returns the next non-blank line, or io.EOF.
func (lr *lineReader) next() (string, error) {
	for lr.sc.Scan() {
		lr.line++
		if s := strings.TrimSpace(lr.sc.Text()); s != "" {
			return s, nil
		}
	}
	if err := lr.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return "", lineError(lr.path, lr.line+1, ErrLimit, "line too long")
		}
		return "", fmt.Errorf("%s: %w", lr.path, err)
	}
	return "", io.EOF
}

// errorf is a ParseError at the current line.
func (lr *lineReader) errorf(err error, format string, args ...any) error {
	return lineError(lr.path, lr.line, err, format, args...)
}

// readFile opens path and hands it to parse, so errors name the file.
func readFile[T any](path string, parse func(io.Reader, string) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(f, path)
}

// ReadLFWPairs reads an LFW View-2 pairs.txt. Paths are
// <Name>/<Name>_%04d.jpg relative to the LFW image dir.
func ReadLFWPairs(path string) ([]Pair, error) {
	return readFile(path, ParseLFWPairs)
}

// ParseLFWPairs parses an LFW View-2 pairs file read from r; name is used
// in errors. The header "folds n" is followed, per fold, by n genuine lines
// "Name i j" then n impostor lines "NameA i NameB j"; fields are separated
// by tabs or spaces and blank lines are ignored.
func ParseLFWPairs(r io.Reader, name string) ([]Pair, error) {
	lr := newLineReader(r, name)
	head, err := lr.next()
	if err == io.EOF {
		// Line 1, not the count of blank lines read: that is where the
		// header belongs, and an empty file has no line to name.
		return nil, lineError(name, 1, ErrTruncated, "empty file, want the header \"folds pairs-per-class\"")
	}
	if err != nil {
		return nil, err
	}
	f := strings.Fields(head)
	if len(f) != 2 {
		return nil, lr.errorf(ErrSyntax, "header %q, want \"folds pairs-per-class\"", head)
	}
	folds, err1 := strconv.Atoi(f[0])
	perClass, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || folds < 1 || perClass < 1 {
		return nil, lr.errorf(ErrSyntax, "header %q, want two positive counts", head)
	}
	// Nothing is allocated from the header: a lying header runs into the
	// end of the input instead.
	var pairs []Pair
	for fold := range folds {
		for k := range 2 * perClass {
			s, err := lr.next()
			if err == io.EOF {
				return nil, lr.errorf(ErrTruncated, "fold %d has %d of %d lines", fold+1, k, 2*perClass)
			}
			if err != nil {
				return nil, err
			}
			pl, err := parsePairLine(strings.Fields(s))
			if err != nil {
				return nil, lr.errorf(ErrSyntax, "%v", err)
			}
			if wantSame := k < perClass; pl.same != wantSame {
				return nil, lr.errorf(ErrSyntax, "fold %d line %d: got a %s pair, want %s", fold+1, k+1, kind(pl.same), kind(wantSame))
			}
			pairs = append(pairs, pl.pair("jpg", fold))
		}
	}
	if s, err := lr.next(); err != io.EOF {
		if err != nil {
			return nil, err
		}
		return nil, lr.errorf(ErrSyntax, "extra line %q after %d folds", s, folds)
	}
	return pairs, nil
}

func kind(same bool) string {
	if same {
		return "same"
	}
	return "different"
}

// WriteLFWPairs writes pairs in the LFW View-2 layout. The pairs must
// already be in it: folds 0..k−1 in order, each n genuine then n impostor
// pairs, with the same n in every fold. The image numbers are written, not
// the paths.
func WriteLFWPairs(w io.Writer, pairs []Pair) error {
	folds, perClass, err := lfwLayout(pairs)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d\t%d\n", folds, perClass)
	for i, p := range pairs {
		if err := writePairLine(bw, p, "\t"); err != nil {
			return fmt.Errorf("lfw pairs: pair %d: %w", i, err)
		}
	}
	return bw.Flush()
}

func lfwLayout(pairs []Pair) (folds, perClass int, err error) {
	if len(pairs) == 0 {
		return 0, 0, errors.New("lfw pairs: no pairs")
	}
	for _, p := range pairs {
		if p.Fold == 0 && p.Same {
			perClass++
		}
	}
	if perClass == 0 || len(pairs)%(2*perClass) != 0 {
		return 0, 0, fmt.Errorf("lfw pairs: %d pairs do not fill folds of %d+%d", len(pairs), perClass, perClass)
	}
	for i, p := range pairs {
		fold, k := i/(2*perClass), i%(2*perClass)
		if p.Fold != fold || p.Same != (k < perClass) {
			return 0, 0, fmt.Errorf("lfw pairs: pair %d (fold %d, %s) out of the fold layout", i, p.Fold, kind(p.Same))
		}
	}
	return len(pairs) / (2 * perClass), perClass, nil
}

// writePairLine writes "Name i j" or "NameA i NameB j", refusing pairs
// that would not read back as written.
func writePairLine(w io.Writer, p Pair, sep string) error {
	fields := []string{p.A.Identity, strconv.Itoa(p.A.Number), p.B.Identity, strconv.Itoa(p.B.Number)}
	if p.Same {
		if p.A.Identity != p.B.Identity {
			return fmt.Errorf("same pair names %q and %q", p.A.Identity, p.B.Identity)
		}
		fields = []string{p.A.Identity, strconv.Itoa(p.A.Number), strconv.Itoa(p.B.Number)}
	}
	if _, err := parsePairLine(fields); err != nil {
		return err
	}
	_, err := io.WriteString(w, strings.Join(fields, sep)+"\n")
	return err
}
