package standin

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs a command line with env as the whole environment.
func run(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errb.String())
	}
	return errb.String()
}

// TreeBytes maps each file under dir, hidden ones too, to its bytes.
func treeBytes(t *testing.T, dir string, skip func(string) bool) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !skip(rel) {
			b, err := os.ReadFile(p)
			m[rel] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestArrayMatchesSingle runs the sbatch payload as four Slurm array
// tasks (from the environment alone) and the merge job, and compares with
// one process over the whole folder.
func TestArrayMatchesSingle(t *testing.T) {
	root := t.TempDir()
	in := filepath.Join(root, "in")
	if err := MakeInput(in, 60); err != nil {
		t.Fatal(err)
	}
	out, single := filepath.Join(root, "out"), filepath.Join(root, "single")
	for id := 1; id <= 4; id++ {
		env := map[string]string{"SLURM_ARRAY_TASK_ID": fmt.Sprint(id), "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4"}
		log := run(t, env, "mask", "--in", in, "--out", filepath.Join(out, "masked"), "--seed", "3")
		if !strings.Contains(log, fmt.Sprintf("shard %d/4 (SLURM_ARRAY_TASK_ID=%d", id, id)) || strings.ContainsAny(log, "\r█") {
			t.Fatalf("task %d log: %q", id, log)
		}
		run(t, env, "embed", "--shards", "4", "--out", filepath.Join(out, fmt.Sprintf("store-%d", id)), in)
	}
	run(t, nil, "merge", "--out", filepath.Join(out, "store"), filepath.Join(out, "store-1"), filepath.Join(out, "store-2"), filepath.Join(out, "store-3"), filepath.Join(out, "store-4"))
	run(t, nil, "merge", "--masks", filepath.Join(out, "masked"))
	run(t, nil, "mask", "--in", in, "--out", filepath.Join(single, "masked"), "--seed", "3")
	run(t, nil, "embed", "--out", filepath.Join(single, "store"), in)
	shardManifest := func(rel string) bool { return strings.HasPrefix(rel, ".maskinv-manifest.shard-") }
	for _, sub := range []string{"masked", "store"} {
		got := treeBytes(t, filepath.Join(out, sub), shardManifest)
		want := treeBytes(t, filepath.Join(single, sub), shardManifest)
		if len(want) < 3 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: merged shards differ from one process:\n%v\n%v", sub, keys(got), keys(want))
		}
	}
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
