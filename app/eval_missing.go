package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/maskinv/workbench/dataset"
)

// MissingImage is an image that pairs of an evaluation set name but that
// is not there to read: no such file, no folder for the person, or a file
// that cannot be opened.
type MissingImage struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// ErrMissingImages matches a *MissingImagesError (errors.Is).
var ErrMissingImages = errors.New("images missing")

// MissingImagesError says that pairs of a set name images that are not
// there. A pair with a missing image has nothing to score, and a made-up
// score must not enter a metric, so Evaluate refuses such a set unless
// EvalOptions.AllowMissing drops those pairs.
type MissingImagesError struct {
	Set     string         // KIND=PATH
	Missing []MissingImage // in the order the pairs first name them
	Images  int            // distinct images the pairs name
	Pairs   int            // pairs naming a missing image
	Total   int            // all pairs
}

// missingShown is how many missing paths an error message names.
const missingShown = 5

func (e *MissingImagesError) Error() string {
	msg := fmt.Sprintf("dataset %s: %d of %d images missing, named by %d of %d pairs: %s",
		e.Set, len(e.Missing), e.Images, e.Pairs, e.Total, missingList(e.Missing))
	if e.Pairs == e.Total {
		return msg + "; no pair is complete"
	}
	return msg + "; --allow-missing scores only the complete pairs"
}

func (e *MissingImagesError) Is(target error) bool { return target == ErrMissingImages }

// completePairs checks that every image the pairs of set name can be
// opened. With allow, it returns a copy of set without the pairs that name
// a missing image, and those pairs; without, any missing image is a
// *MissingImagesError. No complete pair at all is an error either way.
func completePairs(set *dataset.EvalSet, allow bool) (*dataset.EvalSet, []dataset.EvalPair, []MissingImage, error) {
	reason := map[int]string{}
	var missing []MissingImage
	check := func(i int) bool {
		r, seen := reason[i]
		if !seen {
			r = imageProblem(set.Images[i])
			reason[i] = r
			if r != "" {
				missing = append(missing, MissingImage{Key: set.Images[i].Key, Reason: r})
			}
		}
		return r == ""
	}
	var kept, dropped []dataset.EvalPair
	for _, p := range set.Pairs {
		if okA, okB := check(p.A), check(p.B); okA && okB {
			kept = append(kept, p)
		} else {
			dropped = append(dropped, p)
		}
	}
	if len(missing) == 0 {
		return set, nil, nil, nil
	}
	if !allow || len(kept) == 0 {
		return nil, nil, nil, &MissingImagesError{Set: set.Kind + "=" + set.Path, Missing: missing,
			Images: len(reason), Pairs: len(dropped), Total: len(set.Pairs)}
	}
	out := *set
	out.Pairs = kept
	return &out, dropped, missing, nil
}

// imageProblem says why an image of a set cannot be read, or "" when it
// can be opened (images held in memory always can).
func imageProblem(img dataset.EvalImage) string {
	if img.Data != nil {
		return ""
	}
	f, err := os.Open(img.Path)
	if err == nil {
		st, err := f.Stat()
		f.Close()
		switch {
		case err != nil:
			return err.Error()
		case st.IsDir():
			return "a folder, not an image"
		}
		return ""
	}
	if errors.Is(err, fs.ErrNotExist) {
		if dir := path.Dir(img.Key); dir != "." {
			if _, derr := os.Stat(filepath.Dir(img.Path)); errors.Is(derr, fs.ErrNotExist) {
				return "no folder " + dir
			}
		}
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// nouns is "1 image" or "n images".
func nouns(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
