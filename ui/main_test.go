package ui

import (
	"fmt"
	"os"
	"testing"

	"github.com/maskinv/workbench/app"
)

// TestMain points the user's config and cache folders (os.UserConfigDir,
// where the model list lives; os.UserCacheDir, the embedding cache) and
// MASKINV_MODELS at a temporary folder, so that no test reads or writes
// the real ones.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maskinv-ui-config-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Setenv("XDG_CACHE_HOME", dir)
	os.Setenv("HOME", dir) // UserConfigDir and UserCacheDir on macOS
	os.Unsetenv(app.ModelsEnv)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
