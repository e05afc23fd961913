package folder

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/internal/apptest"
)

// TestCheckFolder: the guard of eval --report and train --out. A folder
// with the command's marker is its own; in any other, a file at a name
// it writes is foreign; claiming writes the marker.
func TestCheckFolder(t *testing.T) {
	names := []string{"roc.png", "results.md"}
	for _, tc := range []struct {
		name    string
		setup   func(dir string)
		force   bool
		foreign string // "" if accepted
	}{
		{"missing folder", func(dir string) {}, false, ""},
		{"unrelated files", func(dir string) { apptest.WriteFile(t, filepath.Join(dir, "notes.txt"), "x") }, false, ""},
		{"a file at a name", func(dir string) { apptest.WriteFile(t, filepath.Join(dir, "results.md"), "mine") }, false, "results.md"},
		{"forced", func(dir string) { apptest.WriteFile(t, filepath.Join(dir, "results.md"), "mine") }, true, ""},
		{"our marker", func(dir string) {
			apptest.WriteFile(t, filepath.Join(dir, "results.md"), "old")
			apptest.WriteFile(t, filepath.Join(dir, MarkerName("eval")), fmt.Sprintf(folderMarker, "eval"))
		}, false, ""},
		{"another command's marker", func(dir string) {
			apptest.WriteFile(t, filepath.Join(dir, "results.md"), "old")
			apptest.WriteFile(t, filepath.Join(dir, MarkerName("train")), fmt.Sprintf(folderMarker, "train"))
		}, false, "results.md"},
		{"something else at the marker's name", func(dir string) {
			apptest.WriteFile(t, filepath.Join(dir, MarkerName("eval")), "hello")
		}, false, MarkerName("eval")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "report")
			tc.setup(dir)
			err := Claim(dir, "eval", names, tc.force)
			if tc.foreign != "" {
				if !errors.Is(err, ErrForeignFiles) || !strings.Contains(err.Error(), tc.foreign) {
					t.Fatalf("error %v, want ErrForeignFiles naming %s", err, tc.foreign)
				}
				if ours, _ := Marked(dir, "eval"); ours {
					t.Error("marker written by a refused claim")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ours, _ := Marked(dir, "eval"); !ours {
				t.Error("no marker after the claim")
			}
			if err := Check(dir, "eval", names, false); err != nil {
				t.Errorf("claimed folder refused: %v", err)
			}
		})
	}
}
