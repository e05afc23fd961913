package folder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNested reports an output folder inside the input tree, or the other
// way round: outputs could then overwrite inputs.
var ErrNested = errors.New("input and output folders overlap")

// CheckDisjoint refuses a missing input folder and overlapping input and
// output folders. Both are compared as absolute paths with symbolic links
// resolved (for an output that does not exist yet, as far as it exists).
func CheckDisjoint(in, out string) error {
	if in == "" || out == "" {
		return errors.New("need both an input and an output folder")
	}
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", in)
	}
	inReal, err := realPath(in)
	if err != nil {
		return err
	}
	outReal, err := realPath(out)
	if err != nil {
		return err
	}
	switch {
	case within(outReal, inReal):
		return fmt.Errorf("%w: output %s is inside input %s", ErrNested, out, in)
	case within(inReal, outReal):
		return fmt.Errorf("%w: input %s is inside output %s", ErrNested, in, out)
	}
	return nil
}

// realPath is p made absolute with symbolic links resolved, for as much of
// it as exists.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return filepath.Join(abs, rest), nil
		}
		rest = filepath.Join(filepath.Base(abs), rest)
		abs = parent
	}
}

// within reports whether p is parent or below it.
func within(p, parent string) bool {
	rel, err := filepath.Rel(parent, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
