package imageio

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// WriteAtomic writes a file through write so that readers see either the old
// file or the complete new one, never a partial file: it writes a temporary
// file in the same directory (same file system, so rename is atomic), syncs
// it and renames it over path. The new file has mode 0644.
func WriteAtomic(path string, write func(io.Writer) error) error {
	f, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// AtomicFile is a file being written under a temporary name beside its
// path, for writers that stream (WriteAtomic is the one-call form): Commit
// syncs it and renames it over the path; Abort, or a failed Commit,
// removes it and leaves the path as it was.
type AtomicFile struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	done bool
}

// CreateAtomic starts writing path atomically.
func CreateAtomic(path string) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp's 0600 would hide outputs from other users.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &AtomicFile{path: path, f: f, bw: bufio.NewWriterSize(f, 1<<16)}, nil
}

// Write writes to the temporary file.
func (a *AtomicFile) Write(p []byte) (int, error) { return a.bw.Write(p) }

// Commit flushes and syncs the file and renames it over the path.
func (a *AtomicFile) Commit() error {
	err := a.bw.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	a.done = true
	return nil
}

// Abort removes the temporary file, unless Commit renamed it into place.
func (a *AtomicFile) Abort() {
	if !a.done {
		a.f.Close()
		os.Remove(a.f.Name())
		a.done = true
	}
}

// WritePNG writes img to path as PNG, atomically.
func WritePNG(path string, img image.Image) error {
	return WriteAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// DefaultJPEGQuality is used by WriteJPEG for quality 0. It is higher than
// image/jpeg's default (75) because research outputs are re-read and compared.
const DefaultJPEGQuality = 95

// WriteJPEG writes img to path as JPEG, atomically. quality is 1..100, or 0
// for DefaultJPEGQuality. JPEG has no alpha: translucent pixels come out
// composited onto black (image/jpeg's behaviour).
func WriteJPEG(path string, img image.Image, quality int) error {
	if quality == 0 {
		quality = DefaultJPEGQuality
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("write %s: %w", path, errors.New("jpeg quality must be 1..100"))
	}
	return WriteAtomic(path, func(w io.Writer) error {
		return jpeg.Encode(w, img, &jpeg.Options{Quality: quality})
	})
}

// WriteFile writes data to path atomically (see WriteAtomic).
func WriteFile(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
