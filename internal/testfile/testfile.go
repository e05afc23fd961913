// Package testfile reads the fixture files tests compare against (JSON
// cases and manifests, PNG goldens), failing the test with the file's name
// when one cannot be read. It uses the standard library only, so that any
// package's tests may import it.
package testfile

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"testing"
)

// ReadJSON decodes the JSON file at path into v.
func ReadJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// ReadPNG decodes the PNG file at path.
func ReadPNG(tb testing.TB, path string) image.Image {
	tb.Helper()
	img, err := DecodePNG(path)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// DecodePNG decodes the PNG file at path, for tests that handle a missing
// file themselves (a golden not yet written).
func DecodePNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, &os.PathError{Op: "decode", Path: path, Err: err}
	}
	return img, nil
}
