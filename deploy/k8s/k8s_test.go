// Package k8s holds the Kubernetes manifests of deploy/k8s; its test
// checks them and runs their command lines through maskinv's own command
// line (cli.Run), as the Job controller would run the binary.
package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/cli"
)

// job is the part of a batch/v1 Job these manifests use.
type job struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				RestartPolicy  string      `yaml:"restartPolicy"`
				InitContainers []container `yaml:"initContainers"`
				Containers     []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
}

// steps are a pod's containers in the order they run.
func (j job) steps() []container {
	return append(append([]container(nil), j.Spec.Template.Spec.InitContainers...), j.Spec.Template.Spec.Containers...)
}

// parseJob reads and checks one Job manifest.
func parseJob(b []byte) (job, error) {
	var j job
	if err := yaml.Unmarshal(b, &j); err != nil {
		return j, err
	}
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Metadata.Name == "" {
		return j, fmt.Errorf("%s %s %q, want a named batch/v1 Job", j.APIVersion, j.Kind, j.Metadata.Name)
	}
	if p := j.Spec.Template.Spec.RestartPolicy; p != "Never" && p != "OnFailure" {
		return j, fmt.Errorf("restartPolicy %q, want Never or OnFailure (a Job's pods must not restart forever)", p)
	}
	if len(j.Spec.Template.Spec.Containers) == 0 {
		return j, errors.New("no containers")
	}
	for _, c := range j.steps() {
		if len(c.Command) != 1 || c.Command[0] != "maskinv" || c.Image == "" || len(c.Args) == 0 {
			return j, fmt.Errorf("container %s runs %v %v in %q, want maskinv with arguments", c.Name, c.Command, c.Args, c.Image)
		}
	}
	return j, nil
}

// checkPair checks the indexed Job and the merge Job against each other.
func checkPair(indexed, merge job) error {
	s := indexed.Spec
	if s.CompletionMode != "Indexed" || s.Completions < 1 || s.Parallelism < 1 || s.Parallelism > s.Completions {
		return fmt.Errorf("indexed job: completionMode %q, completions %d, parallelism %d", s.CompletionMode, s.Completions, s.Parallelism)
	}
	for _, c := range indexed.steps() {
		if n, err := strconv.Atoi(envOf(c, nil)["SHARDS"]); err != nil || n != s.Completions {
			return fmt.Errorf("container %s: SHARDS=%q, but the job has %d completions", c.Name, envOf(c, nil)["SHARDS"], s.Completions)
		}
		if !slices.Contains(c.Args, "--shards") || !slices.Contains(c.Args, "$(SHARDS)") {
			return fmt.Errorf("container %s: %v does not pass --shards $(SHARDS)", c.Name, c.Args)
		}
	}
	if merge.Spec.CompletionMode == "Indexed" || merge.Spec.Completions != 1 {
		return fmt.Errorf("merge job: completionMode %q, completions %d, want one pod", merge.Spec.CompletionMode, merge.Spec.Completions)
	}
	stores := []string{"merge", "--out", "$(OUT)/store"}
	for i := range s.Completions {
		stores = append(stores, fmt.Sprintf("$(OUT)/store-%d", i))
	}
	if got := merge.steps()[0].Args; !slices.Equal(got, stores) {
		return fmt.Errorf("merge job's first step: %q, want %q: the stores of the indexed job's %d completions", got, stores, s.Completions)
	}
	return nil
}

func readJob(t *testing.T, name string) job {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	j, err := parseJob(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return j
}

// TestChecksCatch: the checks fail on manifests edited out of agreement.
func TestChecksCatch(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	indexed, merge := read("mask-embed-job.yaml"), read("merge-job.yaml")
	tests := []struct {
		name, old, new string
		inMerge        bool
		msg            string
	}{
		{"more completions", "completions: 4", "completions: 5", false, "SHARDS"},
		{"not indexed", "completionMode: Indexed", "completionMode: NonIndexed", false, "completionMode"},
		{"parallelism", "parallelism: 4", "parallelism: 8", false, "parallelism 8"},
		{"shell", `command: ["maskinv"]`, `command: ["sh"]`, false, "want maskinv"},
		{"restarts", "restartPolicy: Never", "restartPolicy: Always", false, "restartPolicy"},
		{"store missing", ` "$(OUT)/store-3"]`, `]`, true, "stores of the indexed job"},
		{"not yaml", "kind: Job", "kind: [Job", false, "yaml"},
	}
	for _, tc := range tests {
		i, m := indexed, merge
		if tc.inMerge {
			m = strings.Replace(m, tc.old, tc.new, 1)
		} else {
			i = strings.Replace(i, tc.old, tc.new, 1)
		}
		if i == indexed && m == merge {
			t.Fatalf("%s: %q is not in the manifest", tc.name, tc.old)
		}
		ji, err := parseJob([]byte(i))
		if err == nil {
			var jm job
			if jm, err = parseJob([]byte(m)); err == nil {
				err = checkPair(ji, jm)
			}
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.msg)
		}
	}
}

// envOf is a container's environment as Kubernetes sets it, plus extra.
func envOf(c container, extra map[string]string) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) with env's value, as the kubelet expands a
// container's args ($$ is a literal $); an undefined variable fails.
func expand(t *testing.T, s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		v, ok := env[name]
		if !ok {
			t.Fatalf("%q refers to $(%s), which the container does not define", s, name)
		}
		return v
	})
}

// runSteps runs a pod's containers, each a maskinv command line.
func runSteps(t *testing.T, j job, extra map[string]string) {
	t.Helper()
	for _, c := range j.steps() {
		env := envOf(c, extra)
		var args []string
		for _, a := range c.Args {
			args = append(args, expand(t, a, env))
		}
		runMaskinv(t, args, func(k string) string { return env[k] })
	}
}

// runMaskinv runs one maskinv command line with the environment getenv
// and fails the test unless it exits 0.
func runMaskinv(t *testing.T, args []string, getenv func(string) string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), args, cli.Stdio{Out: &out, Err: &errb, Getenv: getenv}); code != 0 {
		t.Fatalf("maskinv %v: exit %d\n%s%s", args, code, out.String(), errb.String())
	}
}

// makeInput writes copies sets of the demo photos (so that each shard has
// some), an unreadable image and a file that is not one into in.
func makeInput(t *testing.T, in string, copies int) {
	t.Helper()
	write := func(name string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := fs.WalkDir(assets.Demo(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jpg") {
			return err
		}
		b, err := fs.ReadFile(assets.Demo(), p)
		for i := 1; i <= copies && err == nil; i++ {
			write(filepath.Join(in, fmt.Sprintf("set%d", i), filepath.FromSlash(p)), b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(in, "broken", "none.jpg"), []byte("not an image"))
	write(filepath.Join(in, "notes.txt"), []byte("not a photo"))
}

// TestManifests checks the Indexed Job and the merge Job against each
// other, runs every index's containers with JOB_COMPLETION_INDEX set and
// then the merge, all with IN and OUT moved to a temporary folder, and
// compares the result with one process over the same photos.
func TestManifests(t *testing.T) {
	indexed := readJob(t, "mask-embed-job.yaml")
	merge := readJob(t, "merge-job.yaml")
	if err := checkPair(indexed, merge); err != nil {
		t.Fatal(err)
	}
	s := indexed.Spec

	root := t.TempDir()
	in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
	makeInput(t, in, 2)
	paths := map[string]string{"IN": in, "OUT": out}
	for i := range s.Completions {
		extra := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)}
		for k, v := range paths {
			extra[k] = v
		}
		runSteps(t, indexed, extra)
	}
	runSteps(t, merge, paths)

	single := filepath.Join(root, "single")
	for _, args := range [][]string{
		{"mask", "--keep-going", "--in", in, "--out", filepath.Join(single, "masked")},
		{"embed", "--keep-going", "--out", filepath.Join(single, "store"), in},
	} {
		runMaskinv(t, args, func(string) string { return "" })
	}
	for _, sub := range []string{"store", "masked"} {
		got, want := tree(t, filepath.Join(out, sub)), tree(t, filepath.Join(single, sub))
		if len(want) < 3 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s after the jobs differs from one process's", sub)
		}
	}
}

// tree maps the files under dir (shard manifests aside) to their bytes.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".maskinv-manifest.shard-") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
