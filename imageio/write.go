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
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
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
