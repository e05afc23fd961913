package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/internal/childtest"
)

const (
	journalHeader = `{"run":{"tool":"maskinv mask","version":1,"algorithm":"maskgen/1","style":"paper","color":"auto","seed":1,"aligned":true,"images":null}}` + "\n"
	journalImage  = `{"image":{"key":"a/b.png","source":"a/b.png","output":"a/b.png","output_sha256":"00","style":"paper","color":"#010203","seed":1,"params":{"style":"paper","color":"#010203"},"coverage":0.25}}` + "\n"
	journalCopy   = `{"copy":{"path":"pairs.txt","sha256":"` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"}}` + "\n"
)

func TestReadMaskJournal(t *testing.T) {
	good := journalHeader + journalImage + journalCopy + journalHeader + journalImage
	for _, tc := range []struct {
		name          string
		data          string
		runs, images  int // of all runs
		valid         int
		torn          bool
		errorContains string
	}{
		{"empty", "", 0, 0, 0, false, ""},
		{"two runs", good, 2, 2, len(good), false, ""},
		{"torn last line", good + `{"image":{"key":"a/c.p`, 2, 2, len(good), true, ""},
		{"last line whole but no newline", good + strings.TrimSuffix(journalImage, "\n"), 2, 3, len(good) + len(journalImage) - 1, false, ""},
		{"bad JSON inside", journalHeader + "{oops\n" + journalImage, 0, 0, 0, false, "line 2"},
		{"bad key", journalHeader + strings.Replace(journalImage, `"key":"a/b.png"`, `"key":"../b.png"`, 1), 0, 0, 0, false, `line 2: bad key "../b.png"`},
		{"bad output path", journalHeader + strings.Replace(journalImage, `"output":"a/b.png"`, `"output":"/etc/b.png"`, 1), 0, 0, 0, false, "bad output path"},
		{"bad copy", journalHeader + `{"copy":{"path":"x","sha256":"12"}}` + "\n", 0, 0, 0, false, "bad copy record"},
		{"record before a header", journalImage, 0, 0, 0, false, "before any run header"},
		{"two kinds in a line", journalHeader + `{"copy":{"path":"x"},"image":{"key":"y"}}` + "\n", 0, 0, 0, false, "exactly one"},
		{"neither", journalHeader + "{}\n", 0, 0, 0, false, "exactly one"},
		{"unknown field", journalHeader + `{"image":{"key":"x.png","what":1}}` + "\n", 0, 0, 0, false, "unknown field"},
		{"someone else's header", strings.Replace(journalHeader, "maskinv mask", "other", 1), 0, 0, 0, false, `"other"`},
		{"two values in a line", journalHeader + `{"copy":null} {"copy":null}` + "\n", 0, 0, 0, false, "line 2"},
		{"long line", journalHeader + strings.Repeat(" ", maxJournalLine) + "\n", 0, 0, 0, false, "longer than"},
	} {
		runs, valid, torn, err := readMaskJournal(strings.NewReader(tc.data))
		if tc.errorContains != "" {
			if !errors.Is(err, errJournal) || !strings.Contains(err.Error(), tc.errorContains) {
				t.Errorf("%s: error %v, want a damaged-journal error with %q", tc.name, err, tc.errorContains)
			}
			continue
		}
		images := 0
		for _, r := range runs {
			images += len(r.Images)
		}
		if err != nil || len(runs) != tc.runs || images != tc.images || valid != int64(tc.valid) || torn != tc.torn {
			t.Errorf("%s: %d runs, %d images, valid %d, torn %v, %v; want %d, %d, %d, %v", tc.name, len(runs), images, valid, torn, err, tc.runs, tc.images, tc.valid, tc.torn)
		}
	}
}

// FuzzReadMaskJournal: no input panics; what is accepted is whole lines
// that, written again, read back the same.
func FuzzReadMaskJournal(f *testing.F) {
	f.Add([]byte(journalHeader + journalImage + journalCopy))
	f.Add([]byte(journalHeader + journalImage + `{"image":{"key":"a/c.p`))
	f.Add([]byte(journalHeader + "{oops\n"))
	f.Add([]byte(journalHeader + `{"image":{"key":"../x.png"}}` + "\n"))
	f.Add([]byte(journalImage))
	f.Fuzz(func(t *testing.T, data []byte) {
		runs, valid, _, err := readMaskJournal(bytes.NewReader(data))
		if err != nil {
			return
		}
		if valid < 0 || valid > int64(len(data)) {
			t.Fatalf("valid %d of %d bytes", valid, len(data))
		}
		var again bytes.Buffer
		for _, r := range runs {
			head := r
			head.Images, head.Copies = nil, nil
			lines := []journalLine{{Run: &head}}
			for i := range r.Images {
				lines = append(lines, journalLine{Image: &r.Images[i]})
			}
			for i := range r.Copies {
				lines = append(lines, journalLine{Copy: &r.Copies[i]})
			}
			for _, l := range lines {
				b, err := json.Marshal(l)
				if err != nil {
					t.Fatal(err)
				}
				again.Write(append(b, '\n'))
			}
		}
		runs2, _, torn, err := readMaskJournal(bytes.NewReader(again.Bytes()))
		if err != nil || torn {
			t.Fatalf("re-read: torn %v, %v\n%s", torn, err, again.Bytes())
		}
		b1, _ := json.Marshal(runs)
		b2, _ := json.Marshal(runs2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("not stable:\n%s\n%s", b1, b2)
		}
	})
}

// interruptedMask cancels a one-worker run after two images: a folder
// with a journal and no manifest. It returns the options to resume with
// and the interrupted run's summary.
func interruptedMask(t *testing.T, in, out string) (MaskOptions, MaskSummary) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := maskAlignedOpts(in, out, "random", 5)
	opt.Workers = 1
	opt.Progress = func(done, total int) {
		if done >= 2 {
			cancel()
		}
	}
	sum, err := MaskDataset(ctx, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	opt.Progress = nil
	return opt, sum
}

// TestMaskJournalDamage: a torn last line (a write cut by a kill) is
// dropped with a note and the run finishes as an uninterrupted one; other
// damage stops the run before it writes, naming the journal and the line,
// unless forced.
func TestMaskJournalDamage(t *testing.T) {
	in := apptest.MaskInput(t)
	_, want := uninterrupted(t, in, "random", 5)
	appendTo := func(name, s string) {
		f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	out := filepath.Join(t.TempDir(), "out")
	opt, _ := interruptedMask(t, in, out)
	appendTo(filepath.Join(out, JournalName), `{"image":{"key":"carol.JP`)
	sum, err := MaskDataset(context.Background(), opt)
	if err != nil || sum.Skipped < 2 || !strings.Contains(strings.Join(sum.Notes, "\n"), "torn last line") {
		t.Fatalf("after a torn line: %+v, %v", sum, err)
	}
	if got := apptest.ContentHashes(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("differs from an uninterrupted run:\n%v\n%v", got, want)
	}

	out = filepath.Join(t.TempDir(), "out")
	opt, _ = interruptedMask(t, in, out)
	appendTo(filepath.Join(out, JournalName), "garbage\n")
	before := apptest.TreeHashes(t, out)
	if _, err := MaskDataset(context.Background(), opt); !errors.Is(err, errJournal) || !strings.Contains(err.Error(), JournalName) || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("damaged journal: %v", err)
	}
	if fmt.Sprint(apptest.TreeHashes(t, out)) != fmt.Sprint(before) {
		t.Error("a run refused for a damaged journal wrote")
	}
	opt.Force = true
	if sum, err := MaskDataset(context.Background(), opt); err != nil || sum.Masked != 5 {
		t.Fatalf("forced: %+v, %v", sum, err)
	}
	if got := apptest.ContentHashes(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("forced run differs from an uninterrupted one:\n%v\n%v", got, want)
	}
}

// maskChildEnv, when set to IN + os.PathListSeparator + OUT, makes
// TestMaskKillResume the child that gets killed.
const maskChildEnv = "MASKINV_TEST_MASK_CHILD"

// killWorkers is the child's worker count; killAfter, how many images it
// reports before the parent kills it.
const killWorkers, killAfter = 2, 10

// maskKillChild masks IN into OUT, printing every image done, slowed down
// after killAfter so that the kill lands in the middle of the run.
func maskKillChild(dirs string) {
	in, out, _ := strings.Cut(dirs, string(os.PathListSeparator))
	opt := maskAlignedOpts(in, out, "random", 9)
	opt.Workers = killWorkers
	opt.Progress = func(done, total int) {
		fmt.Fprintf(os.Stdout, "done %d\n", done)
		if done >= killAfter {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := MaskDataset(context.Background(), opt); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestMaskKillResume kills a mask run with SIGKILL (a child process, this
// test binary) after it reported killAfter images, then resumes it: at
// most workers×2 of the images the killed run had finished are redone,
// and the output folder is byte for byte that of an uninterrupted run.
func TestMaskKillResume(t *testing.T) {
	if dirs := os.Getenv(maskChildEnv); dirs != "" {
		maskKillChild(dirs)
	}
	in := filepath.Join(t.TempDir(), "in")
	const n = 40
	for i := range n {
		name := fmt.Sprintf("p%d/p%d_%04d.png", i%8, i%8, i)
		if i%5 == 0 {
			name = strings.Replace(name, ".png", ".jpg", 1)
		}
		apptest.WriteImage(t, filepath.Join(in, filepath.FromSlash(name)), apptest.Crop(112, 112, i%7))
	}
	apptest.WriteFile(t, filepath.Join(in, "pairs.txt"), "p0 1 2\n")
	full := filepath.Join(t.TempDir(), "full")
	opt := maskAlignedOpts(in, full, "random", 9)
	opt.Workers = killWorkers
	if _, err := MaskDataset(context.Background(), opt); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "out")
	child := childtest.Start(t, []string{maskChildEnv + "=" + in + string(os.PathListSeparator) + out}, "-test.run=^TestMaskKillResume$", "-test.count=1")
	reported := 0
	child.Each(func(line string) bool {
		if d, ok := strings.CutPrefix(line, "done "); ok {
			reported, _ = strconv.Atoi(d)
			if reported == killAfter {
				if err := child.Cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
			}
		}
		return true
	})
	if code, err := child.Wait(); err != nil || code != -1 {
		t.Fatalf("child was not killed (it reported %d of %d): exit %d, %v\n%s", reported, n, code, err, child.Stderr.Bytes())
	}
	if reported >= n {
		t.Fatalf("the kill came after the run finished")
	}
	if _, err := os.Stat(filepath.Join(out, JournalName)); err != nil {
		t.Fatalf("no journal after the kill: %v", err)
	}

	opt.Out = out
	sum, err := MaskDataset(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	redone := reported - sum.Skipped
	t.Logf("killed after %d of %d images reported; resume: %d skipped, %d masked (%d of the reported redone)", reported, n, sum.Skipped, sum.Masked, max(redone, 0))
	if redone > 2*killWorkers || sum.Skipped+sum.Masked != n {
		t.Errorf("resume after a kill: %+v, want at most %d of the %d images done before the kill redone", sum, 2*killWorkers, reported)
	}
	if got, want := apptest.ContentHashes(t, out), apptest.ContentHashes(t, full); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("resumed output differs from an uninterrupted run:\n%v\n%v", got, want)
	}
	if _, err := os.Stat(filepath.Join(out, JournalName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("journal left after the run finished: %v", err)
	}
}
