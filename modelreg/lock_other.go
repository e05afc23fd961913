//go:build !unix

package modelreg

// lockFile is a no-op where flock is missing: the in-process mutex still
// serialises one program's changes.
func lockFile(path string) (func(), error) { return func() {}, nil }
