package eval

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseFolds reads "1-10", "10" or "1,3,5-7" (1-based, as LFW numbers its
// folds) and returns sorted, distinct 0-based folds.
func ParseFolds(s string) ([]int, error) {
	seen := [10]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("%q is not a fold number or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("%q is not a fold number or range", part)
			}
		}
		if a < 1 || b > 10 || a > b {
			return nil, fmt.Errorf("%q: folds are 1 to 10", part)
		}
		for f := a; f <= b; f++ {
			seen[f-1] = true
		}
	}
	var folds []int
	for f, ok := range seen {
		if ok {
			folds = append(folds, f)
		}
	}
	return folds, nil
}

// FormatFolds writes 0-based folds the way --folds reads them, 1-based:
// "1-3,7".
func FormatFolds(folds []int) string {
	var parts []string
	for i := 0; i < len(folds); {
		j := i
		for j+1 < len(folds) && folds[j+1] == folds[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", folds[i]+1, folds[j]+1))
		} else {
			parts = append(parts, strconv.Itoa(folds[i]+1))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
