package folder

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/maskinv/workbench/imageio"
)

// ErrForeignFiles marks an output folder holding, where a command is about
// to write, files that no record of ours says we wrote: the command refuses
// to replace them unless forced (--force).
var ErrForeignFiles = errors.New("not written by maskinv (move away, or use --force to replace)")

// ForeignFilesError lists the foreign files of an output folder; it
// matches ErrForeignFiles under errors.Is.
type ForeignFilesError struct {
	Dir   string
	Paths []string // slash-separated, under Dir
}

// foreignListed is how many foreign files an error names.
const foreignListed = 5

// List names the first few paths and counts the others.
func (e *ForeignFilesError) List() string {
	names := e.Paths[:min(len(e.Paths), foreignListed)]
	more := ""
	if n := len(e.Paths) - len(names); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	return strings.Join(names, ", ") + more
}

func (e *ForeignFilesError) Error() string {
	return fmt.Sprintf("output folder %s: %d files would be replaced (%s): %v", e.Dir, len(e.Paths), e.List(), ErrForeignFiles)
}

// Is makes errors.Is(err, ErrForeignFiles) true.
func (e *ForeignFilesError) Is(target error) bool { return target == ErrForeignFiles }

// Refuse checks the files a command is about to write into dir
// (slash-separated paths under it): one that exists and that owned does
// not recognise is foreign, and the error is a *ForeignFilesError. A path
// under a file rather than a folder is not foreign (writing it fails on
// its own). This is the one guard of every command that writes into a
// folder; a forced run calls it too, to say what it replaces.
func Refuse(dir string, paths []string, owned func(rel string) bool) error {
	var foreign []string
	for _, rel := range paths {
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			continue // absent, or not reachable as a path: nothing to replace
		}
		if !owned(rel) {
			foreign = append(foreign, rel)
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	return &ForeignFilesError{Dir: dir, Paths: foreign}
}

// folderMarker is the text of the marker file that Claim leaves in
// a folder, so that later runs know the folder as theirs.
const folderMarker = "This folder was written by maskinv %s; its later runs may replace the files it wrote here.\n"

// MarkerName is the marker file of command cmd ("eval", "train").
func MarkerName(cmd string) string { return ".maskinv-" + cmd }

// Marked reports whether dir holds cmd's marker (ours), and whether
// something else is at its name (foreign: another file, a folder).
func Marked(dir, cmd string) (ours, other bool) {
	b, err := os.ReadFile(filepath.Join(dir, MarkerName(cmd)))
	if err == nil && bytes.Equal(b, []byte(fmt.Sprintf(folderMarker, cmd))) {
		return true, false
	}
	return false, !errors.Is(err, fs.ErrNotExist)
}

// Check reports whether command cmd (an eval report, a training
// run) may write the files names into dir: a folder holding cmd's marker
// is ours, and any of names in it may be replaced; in any other folder,
// one of names that exists is foreign (Refuse). force allows it.
// It writes nothing, so a command checks before its work and claims the
// folder (Claim) when it is about to write.
func Check(dir, cmd string, names []string, force bool) error {
	ours, other := Marked(dir, cmd)
	if ours || force {
		return nil
	}
	if other {
		names = append(names[:len(names):len(names)], MarkerName(cmd))
	}
	return Refuse(dir, names, func(string) bool { return false })
}

// Claim is Check, then makes dir and writes cmd's marker
// there before anything else, so that a run killed at any later point
// leaves a folder its rerun accepts.
func Claim(dir, cmd string, names []string, force bool) error {
	if err := Check(dir, cmd, names, force); err != nil {
		return err
	}
	if ours, _ := Marked(dir, cmd); ours {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return imageio.WriteFile(filepath.Join(dir, MarkerName(cmd)), []byte(fmt.Sprintf(folderMarker, cmd)))
}
