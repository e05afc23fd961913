package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/app"
)

// TestMain points the model list at a folder of the test run's own, so
// that no test reads or changes the user's (commands resolve --model on
// it). A test that needs its own list sets app.ModelsEnv with t.Setenv.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maskinv-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(app.ModelsEnv, filepath.Join(dir, "models.json"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
