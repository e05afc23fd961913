package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
)

// markerCmd names the store's folder marker (folder.MarkerName).
const markerCmd = "store"

// storeFiles are the files a store writes, besides its marker.
var storeFiles = []string{EmbeddingsName, IndexName, MetaName, JournalName}

// claim makes dir a store folder, as every command's output folder is
// claimed (folder.Claim): it creates dir and the marker, or checks that
// the marker is there. Without the marker, any of the store's files
// present is a *folder.ForeignFilesError (folder.ErrForeignFiles), unless
// force.
func claim(dir string, force bool) error {
	return folder.Claim(dir, markerCmd, storeFiles, force)
}

// writeAtomic writes dir/name atomically (imageio.WriteAtomic), and makes
// the rename durable.
func writeAtomic(dir, name string, fill func(io.Writer) error) error {
	if err := imageio.WriteAtomic(filepath.Join(dir, name), fill); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// staleTemp matches writeAtomic's temporary files, which a kill leaves.
var staleTemp = regexp.MustCompile(`^\.(embeddings\.npy|index\.jsonl|meta\.json|\.maskinv-store)\.[0-9]+\.tmp$`)

// removeStaleTemps removes what interrupted writes left in dir.
func removeStaleTemps(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if staleTemp.MatchString(e.Name()) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(dir, e.Name())) // best effort: a leftover is harmless
		}
	}
}

// hashWriter hashes what it writes.
type hashWriter struct {
	w io.Writer
	h hash.Hash
}

func newHashWriter(w io.Writer) *hashWriter { return &hashWriter{w: w, h: sha256.New()} }

func (hw *hashWriter) Write(p []byte) (int, error) {
	hw.h.Write(p)
	return hw.w.Write(p)
}

func (hw *hashWriter) sum() string { return hex.EncodeToString(hw.h.Sum(nil)) }
