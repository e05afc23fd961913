package folder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Tree is a folder tree's files as slash-separated keys, sorted:
// images (by extension) and other files. Skipped lists, sorted by path,
// what the scan came across but could not use, so that callers can tell
// the user rather than drop it silently: unreadable folders, broken
// symbolic links, links to folders that were scanned already, special
// files.
type Tree struct {
	Images, Others []string
	Skipped        []Skip
}

// Skip is one path the scan did not list, and why.
type Skip struct {
	Path string // slash-separated, under the scanned folder
	Err  error
}

func (s Skip) String() string { return fmt.Sprintf("%s: %v", s.Path, s.Err) }

// ErrLinkNotFollowed marks a symbolic link to a folder that the scan did
// not enter: it leads to a folder scanned already (an ancestor, which
// would loop, or the same files by another path), or nests too deep.
var ErrLinkNotFollowed = errors.New("symbolic link not followed")

// maxLinkDepth bounds how many symbolic links to folders a path may pass
// through. With os.DirFS the scan recognises folders it has seen, so this
// only matters for file systems that cannot tell (no os.FileInfo).
const maxLinkDepth = 16

// Scan scans the folder root: hidden files and folders (names starting
// with ".") are left out; symbolic links are followed, each folder once
// (see ScanFS).
func Scan(root string) (Tree, error) {
	return ScanAvoiding(root, "")
}

// ScanAvoiding is Scan that does not follow symbolic links leading into
// the folder avoid, or to a folder holding it (an output folder: a
// command's inputs must never be files it writes).
func ScanAvoiding(root, avoid string) (Tree, error) {
	s := &treeScan{src: os.DirFS(root)}
	if avoid != "" {
		avoidReal, err := realPath(avoid)
		if err != nil {
			return Tree{}, fmt.Errorf("scan %s: %w", root, err)
		}
		s.avoid = func(key string) error {
			real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(key)))
			if err != nil {
				return err
			}
			if within(real, avoidReal) || within(avoidReal, real) {
				return fmt.Errorf("%w: it leads to %s, which overlaps the output folder %s", ErrLinkNotFollowed, real, avoid)
			}
			return nil
		}
	}
	res, err := s.run()
	if err != nil {
		return Tree{}, fmt.Errorf("scan %s: %w", root, err)
	}
	return res, nil
}

// ScanFS is Scan over any file system (the GUI reads the embedded
// demo folder through it too). The real tree is scanned first, then each
// symbolic link to a folder, unless that folder was scanned already. Only
// an unreadable root is an error; an unreadable subfolder is skipped, and
// the rest of the scan goes on.
func ScanFS(src fs.FS) (Tree, error) {
	return (&treeScan{src: src}).run()
}

// treeScan is one scan.
type treeScan struct {
	src   fs.FS
	avoid func(key string) error // nil: follow every link
	res   Tree
	seen  []seenDir   // folders scanned, to recognise them behind links
	links []linkedDir // links to folders, to follow after the real tree
}

type seenDir struct {
	key  string
	info fs.FileInfo
}

type linkedDir struct {
	key   string
	info  fs.FileInfo // the target's
	depth int         // links to folders on the way, this one included
}

func (s *treeScan) run() (Tree, error) {
	root, err := fs.Stat(s.src, ".")
	if err != nil {
		return Tree{}, err
	}
	s.seen = append(s.seen, seenDir{".", root})
	if err := s.walk(".", 0); err != nil {
		return Tree{}, err
	}
	for len(s.links) > 0 {
		l := s.links[0]
		s.links = s.links[1:]
		s.follow(l)
	}
	sort.Strings(s.res.Images)
	sort.Strings(s.res.Others)
	sort.Slice(s.res.Skipped, func(i, j int) bool { return s.res.Skipped[i].Path < s.res.Skipped[j].Path })
	return s.res, nil
}

func (s *treeScan) skip(key string, err error) {
	s.res.Skipped = append(s.res.Skipped, Skip{Path: key, Err: err})
}

// follow scans the folder behind a symbolic link, unless it was scanned
// already.
func (s *treeScan) follow(l linkedDir) {
	if l.depth > maxLinkDepth {
		s.skip(l.key, fmt.Errorf("%w: more than %d symbolic links to folders on the way", ErrLinkNotFollowed, maxLinkDepth))
		return
	}
	for _, d := range s.seen {
		if !os.SameFile(d.info, l.info) {
			continue
		}
		if d.key == "." || strings.HasPrefix(l.key, d.key+"/") {
			s.skip(l.key, fmt.Errorf("%w: it points to %s, a folder it is inside (a loop)", ErrLinkNotFollowed, displayKey(d.key)))
		} else {
			s.skip(l.key, fmt.Errorf("%w: it points to %s, scanned already", ErrLinkNotFollowed, displayKey(d.key)))
		}
		return
	}
	s.seen = append(s.seen, seenDir{l.key, l.info})
	if err := s.walk(l.key, l.depth); err != nil {
		s.skip(l.key, err)
	}
}

func displayKey(k string) string {
	if k == "." {
		return "the scanned folder itself"
	}
	return k
}

// walk lists the tree under root (the scanned folder, or a linked folder
// in it); symbolic links to folders are queued for follow. An error is
// returned only when root itself cannot be read.
func (s *treeScan) walk(root string, depth int) error {
	return fs.WalkDir(s.src, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			// A folder that cannot be read: what was read of it is
			// kept, the scan goes on.
			s.skip(p, err)
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case d.IsDir():
			if p != root {
				if info, err := d.Info(); err == nil {
					s.seen = append(s.seen, seenDir{p, info})
				}
			}
		case t&fs.ModeSymlink != 0:
			s.link(p, depth)
		case t.IsRegular():
			s.file(p)
		default:
			s.skip(p, fmt.Errorf("not a regular file or folder (%v)", t))
		}
		return nil
	})
}

// link handles the symbolic link at key: a file is listed under the
// link's name, a folder is queued.
func (s *treeScan) link(key string, depth int) {
	info, err := fs.Stat(s.src, key)
	if err != nil {
		s.skip(key, fmt.Errorf("broken symbolic link: %w", err))
		return
	}
	if s.avoid != nil {
		if err := s.avoid(key); err != nil {
			s.skip(key, err)
			return
		}
	}
	switch {
	case info.IsDir():
		s.links = append(s.links, linkedDir{key: key, info: info, depth: depth + 1})
	case info.Mode().IsRegular():
		s.file(key)
	default:
		s.skip(key, fmt.Errorf("symbolic link to something that is not a regular file or folder (%v)", info.Mode().Type()))
	}
}

func (s *treeScan) file(key string) {
	switch {
	case IsImage(key):
		s.res.Images = append(s.res.Images, key)
	default:
		s.res.Others = append(s.res.Others, key)
	}
}

// IsImage reports whether a file is an image the workbench reads, by its
// extension: .png, .jpg or .jpeg in any case.
func IsImage(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}
