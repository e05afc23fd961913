package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

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
