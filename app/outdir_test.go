package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/internal/apptest"
)

// TestMaskRefusesForeignFiles: a file in --out that no record of ours
// vouches for is never replaced: the run refuses before writing anything,
// naming it; Force replaces it, and the result is a normal run's.
func TestMaskRefusesForeignFiles(t *testing.T) {
	in := apptest.MaskInput(t)
	full, want := uninterrupted(t, in, "paper", 1)
	var otherJPEG bytes.Buffer
	if err := jpeg.Encode(&otherJPEG, apptest.Crop(112, 112, 6), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(out string) // makes the output folder
		names []string         // the error must name these
	}{
		{"text file at an image's output", func(out string) {
			apptest.WriteFile(t, filepath.Join(out, "alice", "alice_0001.png"), "my notes")
		}, []string{"alice/alice_0001.png"}},
		{"unrelated image", func(out string) {
			apptest.WriteFile(t, filepath.Join(out, "carol.JPEG"), otherJPEG.String())
		}, []string{"carol.JPEG"}},
		{"a user's file that would be copied over", func(out string) {
			apptest.WriteFile(t, filepath.Join(out, "pairs.txt"), "my own pairs\n")
		}, []string{"pairs.txt"}},
		{"foreign manifest", func(out string) {
			apptest.WriteFile(t, filepath.Join(out, ManifestName), `{"tool":"someone else","version":1,"images":[]}`)
		}, []string{ManifestName, "someone else"}},
		{"unparseable manifest", func(out string) {
			apptest.WriteFile(t, filepath.Join(out, ManifestName), "not json")
		}, []string{ManifestName}},
		{"our manifest, an output changed since", func(out string) {
			if err := os.CopyFS(out, os.DirFS(full)); err != nil {
				t.Fatal(err)
			}
			apptest.WriteFile(t, filepath.Join(out, "big.png"), "edited")
		}, []string{"big.png"}},
		{"a folder at an output's name", func(out string) {
			if err := os.MkdirAll(filepath.Join(out, "big.png"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"big.png"}},
		{"many", func(out string) {
			for _, k := range []string{"alice/alice_0001.png", "alice/alice_0002.jpg", "big.png", "bob/sub/bob_0001.png", "carol.JPEG", "pairs.txt"} {
				apptest.WriteFile(t, filepath.Join(out, filepath.FromSlash(k)), "x")
			}
		}, []string{"6 files", "alice/alice_0001.png", "carol.JPEG", "and 1 more"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			tc.setup(out)
			before := apptest.TreeHashes(t, out)
			_, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1))
			if !errors.Is(err, folder.ErrForeignFiles) {
				t.Fatalf("error %v, want folder.ErrForeignFiles", err)
			}
			for _, n := range append(tc.names, out, "--force") {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %q", err, n)
				}
			}
			if after := apptest.TreeHashes(t, out); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the refused run wrote:\nbefore %v\nafter  %v", before, after)
			}
			opt := maskAlignedOpts(in, out, "paper", 1)
			opt.Force = true
			if tc.name == "a folder at an output's name" {
				os.Remove(filepath.Join(out, "big.png")) // Force replaces files, not folders
			}
			if _, err := MaskDataset(context.Background(), opt); err != nil {
				t.Fatalf("forced: %v", err)
			}
			if got := apptest.ContentHashes(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("forced run differs from a normal one:\n%v\n%v", got, want)
			}
		})
	}
}

// TestMaskAcceptsHarmlessFiles: files mask does not write, and copies
// that already hold the input's bytes, are no reason to refuse, and are
// left as they are.
func TestMaskAcceptsHarmlessFiles(t *testing.T) {
	in := apptest.MaskInput(t)
	out := filepath.Join(t.TempDir(), "out")
	apptest.WriteFile(t, filepath.Join(out, "README.txt"), "the user's")
	apptest.WriteFile(t, filepath.Join(out, "alice", "notes.md"), "the user's")
	apptest.WriteFile(t, filepath.Join(out, "pairs.txt"), "alice 1 2\n") // the input's bytes
	sum, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1))
	if err != nil || sum.Masked != 5 || sum.Copied != 1 {
		t.Fatalf("%+v, %v", sum, err)
	}
	for _, k := range []string{"README.txt", "alice/notes.md"} {
		if b, _ := os.ReadFile(filepath.Join(out, k)); string(b) != "the user's" {
			t.Errorf("%s changed: %q", k, b)
		}
	}
	// The copy is recorded: a changed input is copied again on a rerun.
	if m := readMaskManifestFile(t, out); len(m.Copies) != 1 || m.Copies[0].Path != "pairs.txt" || m.Copies[0].SHA256 != sha256Hex([]byte("alice 1 2\n")) {
		t.Errorf("copies %+v", m.Copies)
	}
	apptest.WriteFile(t, filepath.Join(in, "pairs.txt"), "alice 1 3\n")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1)); err != nil {
		t.Fatalf("rerun after the input's pairs.txt changed: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "pairs.txt")); string(b) != "alice 1 3\n" {
		t.Errorf("pairs.txt not updated: %q", b)
	}
}
