package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maskinv/workbench/assets"
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
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "embed", "--batch", "1", dir)
			cmd.Env = append(os.Environ(), "MASKINV_TEST_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			out := bufio.NewReader(stdout)
			first, err := out.ReadString('\n')
			if err != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("no first result: %v; stderr:\n%s", err, stderr.String())
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(out)
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Fatalf("%v after %s, want exit status %d; stderr:\n%s", err, tc.name, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "maskinv embed: cancelled by "+tc.name) {
				t.Errorf("stderr does not say it was cancelled:\n%s", stderr.String())
			}
			if n := 1 + strings.Count(string(rest), "\n"); n >= photos {
				t.Errorf("%d of %d photos written after %s: it did not stop early\n%s", n, photos, tc.name, first)
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
