package folder

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/maskinv/workbench/internal/apptest"
)

func skipReasons(res Tree) map[string]string {
	m := map[string]string{}
	for _, s := range res.Skipped {
		m[s.Path] = s.Err.Error()
	}
	return m
}

// TestScanFollowsSymlinks: links to files are listed, links to folders
// are followed once; a link back to an ancestor or to a folder scanned
// already, and a broken link, are listed as skipped with the reason.
func TestScanFollowsSymlinks(t *testing.T) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	apptest.WriteFile(t, filepath.Join(root, "a", "x.png"), "png")
	apptest.WriteFile(t, filepath.Join(root, "notes.txt"), "text")
	apptest.WriteFile(t, filepath.Join(root, ".hidden", "h.png"), "png")
	apptest.WriteFile(t, filepath.Join(outside, "y.jpg"), "jpg")
	apptest.Symlink(t, "..", filepath.Join(root, "a", "loop"))                    // the root: a loop
	apptest.Symlink(t, "a", filepath.Join(root, "b"))                             // a sibling, scanned already
	apptest.Symlink(t, outside, filepath.Join(root, "c"))                         // outside the root: followed
	apptest.Symlink(t, ".", filepath.Join(outside, "self"))                       // seen from inside c: a loop
	apptest.Symlink(t, filepath.Join("a", "x.png"), filepath.Join(root, "d.png")) // a file
	apptest.Symlink(t, "nowhere.png", filepath.Join(root, "broken.png"))
	apptest.Symlink(t, "c", filepath.Join(root, "e")) // the same folder as c

	res, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a/x.png", "c/y.jpg", "d.png"}; fmt.Sprint(res.Images) != fmt.Sprint(want) {
		t.Errorf("images %v, want %v", res.Images, want)
	}
	if want := []string{"notes.txt"}; fmt.Sprint(res.Others) != fmt.Sprint(want) {
		t.Errorf("others %v, want %v", res.Others, want)
	}
	want := map[string]string{
		"a/loop":     "a folder it is inside (a loop)",
		"b":          "it points to a, scanned already",
		"broken.png": "broken symbolic link",
		"c/self":     "it points to c, a folder it is inside (a loop)",
		"e":          "it points to c, scanned already",
	}
	got := skipReasons(res)
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: skipped with %q, want it to say %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("skipped %v, want exactly %v", got, want)
	}
	for _, s := range res.Skipped {
		if (s.Path == "broken.png") == errors.Is(s.Err, ErrLinkNotFollowed) {
			t.Errorf("%s: ErrLinkNotFollowed %v", s.Path, errors.Is(s.Err, ErrLinkNotFollowed))
		}
	}
}

// TestScanAvoiding: a link into the avoided folder is not followed.
func TestScanAvoiding(t *testing.T) {
	base := t.TempDir()
	in, out := filepath.Join(base, "in"), filepath.Join(base, "out")
	apptest.WriteFile(t, filepath.Join(in, "x.png"), "png")
	apptest.WriteFile(t, filepath.Join(out, "y.png"), "png")
	apptest.Symlink(t, out, filepath.Join(in, "o"))
	res, err := ScanAvoiding(in, out)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Images) != "[x.png]" || len(res.Skipped) != 1 || !errors.Is(res.Skipped[0].Err, ErrLinkNotFollowed) {
		t.Errorf("images %v, skipped %v; want x.png, and o not followed", res.Images, res.Skipped)
	}
}

// TestScanUnreadableFolder: an unreadable subfolder is skipped with its
// error and the rest is listed; an unreadable root is an error.
func TestScanUnreadableFolder(t *testing.T) {
	src := fstest.MapFS{
		"alice/alice_0001.png": {Data: []byte("a")},
		"alice/alice_0002.JPG": {Data: []byte("a")},
		"bob/bob_0001.png":     {Data: []byte("b")},
		"carol/notes.txt":      {Data: []byte("c")},
	}
	res, err := ScanFS(apptest.FailDirFS{FS: src, Bad: "bob"})
	if err != nil {
		t.Fatalf("one unreadable subfolder stopped the scan: %v", err)
	}
	if want := []string{"alice/alice_0001.png", "alice/alice_0002.JPG"}; fmt.Sprint(res.Images) != fmt.Sprint(want) {
		t.Errorf("images %v\nwant %v", res.Images, want)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "bob" || !errors.Is(res.Skipped[0].Err, fs.ErrPermission) {
		t.Errorf("skipped %v, want bob: permission denied", res.Skipped)
	}
	if _, err := ScanFS(apptest.FailDirFS{FS: src, Bad: "."}); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("unreadable root: %v", err)
	}
}

func TestCheckDisjoint(t *testing.T) {
	base := t.TempDir()
	in := filepath.Join(base, "in")
	apptest.WriteFile(t, filepath.Join(in, "x.png"), "png")
	for _, tc := range []struct {
		name, in, out string
		nested        bool
	}{
		{"siblings", in, filepath.Join(base, "out"), false},
		{"output inside", in, filepath.Join(in, "sub"), true},
		{"input inside", in, base, true},
		{"same", in, in, true},
	} {
		err := CheckDisjoint(tc.in, tc.out)
		if errors.Is(err, ErrNested) != tc.nested || (!tc.nested && err != nil) {
			t.Errorf("%s: %v, want nested %v", tc.name, err, tc.nested)
		}
	}
	if err := CheckDisjoint(filepath.Join(base, "missing"), filepath.Join(base, "out")); err == nil {
		t.Error("a missing input folder was accepted")
	}
}
