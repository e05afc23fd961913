package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/internal/childtest"
)

// TestMain runs main instead of the tests when MASKINV_TEST_MAIN=1, so that
// a test can start this binary as maskinv.
func TestMain(m *testing.M) {
	if os.Getenv("MASKINV_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSignalExitStatus starts `maskinv embed` on 200 photos, one per
// batch, and signals it once the first result is out: it stops early and
// exits with 128 + the signal's number, saying it was cancelled.
func TestSignalExitStatus(t *testing.T) {
	const photos = 200
	dir := t.TempDir()
	photo, err := fs.ReadFile(assets.Demo(), "Colin_Powell/Colin_Powell_0001.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for i := range photos {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%03d.jpg", i)), photo, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		sig  syscall.Signal
		name string
		code int
	}{
		{syscall.SIGINT, "SIGINT", 130},
		{syscall.SIGTERM, "SIGTERM", 143},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			child := childtest.Start(t, []string{"MASKINV_TEST_MAIN=1"}, "embed", "--batch", "1", dir)
			if child.Each(func(string) bool { return false }) == 0 {
				t.Fatalf("no first result; stderr:\n%s", child.Stderr.String())
			}
			if err := child.Cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			written := 1 + child.Each(func(string) bool { return true })
			stderr := &child.Stderr
			if code, err := child.Wait(); err != nil || code != tc.code {
				t.Fatalf("exit %d (%v) after %s, want exit status %d; stderr:\n%s", code, err, tc.name, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "maskinv embed: cancelled by "+tc.name) {
				t.Errorf("stderr does not say it was cancelled:\n%s", stderr.String())
			}
			if written >= photos {
				t.Errorf("%d of %d photos written after %s: it did not stop early", written, photos, tc.name)
			}
		})
	}
}

// TestNoLocaleWarning runs this test binary (which links the same packages
// as maskinv) under LANG=C.UTF-8, Debian's default, and expects no
// complaint from Fyne about the locale while the packages initialise.
func TestNoLocaleWarning(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Contains(string(out), "locale") {
		t.Errorf("start-up under LANG=C.UTF-8 printed:\n%s", out)
	}
}
