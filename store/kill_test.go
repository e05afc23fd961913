package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maskinv/workbench/internal/childtest"
	"github.com/maskinv/workbench/shard"
)

// killChildEnv, when set, makes TestKillResume the child: it writes the
// store in that folder, printing each image's key once Add returned.
const killChildEnv = "MASKINV_STORE_KILL_CHILD"

// TestKillResume kills a writer with SIGKILL in the middle of a run: every
// image it reported done survives, the rerun redoes at most the images in
// flight, and the result is the bytes of an uninterrupted run.
func TestKillResume(t *testing.T) {
	keys := testKeys(400)
	if dir := os.Getenv(killChildEnv); dir != "" {
		w := create(t, dir, testParams(shard.Whole), Options{})
		for _, k := range keys {
			rec, vec := testImage(k, 8)
			if err := w.Add(rec, vec); err != nil {
				t.Fatal(err)
			}
			fmt.Println("done", k)
		}
		time.Sleep(time.Hour) // until the kill
	}
	dir := filepath.Join(t.TempDir(), "killed")
	child := childtest.Start(t, []string{killChildEnv + "=" + dir}, "-test.run=^TestKillResume$", "-test.count=1")
	var reported []string
	child.Each(func(line string) bool {
		if k, ok := strings.CutPrefix(line, "done "); ok {
			reported = append(reported, k)
		}
		return len(reported) < 150
	})
	if err := child.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code, _ := child.Wait(); code != -1 {
		t.Fatalf("child exited with %d, not killed: %s", code, child.Stderr.String())
	}
	w := create(t, dir, testParams(shard.Whole), Options{})
	for _, k := range reported {
		if w.Done(k) == "" {
			t.Fatalf("%s was reported done before the kill but is not in the journal", k)
		}
	}
	var todo []string
	for _, k := range keys {
		if w.Done(k) == "" {
			todo = append(todo, k)
		}
	}
	if len(todo) > len(keys)-len(reported) {
		t.Fatalf("rerun redoes %d images, more than the %d not reported", len(todo), len(keys)-len(reported))
	}
	addAll(t, w, todo, 8)
	if _, err := w.Finish(keys); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	writeStore(t, fresh, shard.Whole, keys)
	want := storeBytes(t, fresh)
	for name, b := range storeBytes(t, dir) {
		if !bytes.Equal(b, want[name]) {
			t.Errorf("%s after kill and resume differs from an uninterrupted run's", name)
		}
	}
}
