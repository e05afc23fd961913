//go:build !unix

package store

import "os"

// mapFile reads the file: without mmap the store costs its size in heap.
func mapFile(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	_, err := f.ReadAt(b, 0)
	return b, err
}

func unmapFile([]byte) error { return nil }

func lockFile(*os.File) (bool, error) { return false, nil }
