package maskshard

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/shard"
)

// ErrManifest marks a file that is not a mask manifest.
var ErrManifest = errors.New("not a manifest of maskinv mask")

// Merge joins the manifests of shards 1 to N of one run (each once, in any
// order) into the bytes of the run's manifest.json. It refuses, naming the
// sources, a missing or repeated shard (ErrShards), settings that differ
// (ErrMismatch), and an image or copied file in two shards or in a shard
// it does not belong to (ErrOverlap).
func Merge(srcs []Source) ([]byte, error) {
	if err := checkShards(srcs); err != nil {
		return nil, err
	}
	n := srcs[0].Shard.Count
	var images, copies []item
	var first parsed
	hasCopies := false
	for i, s := range srcs {
		p, err := parse(s.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", s.Name, ErrManifest, err)
		}
		if i == 0 {
			first = p
		} else if err := sameHeader(first, p, srcs[0].Name, s.Name); err != nil {
			return nil, err
		}
		hasCopies = hasCopies || p.member("copies") != nil
		for _, part := range []struct {
			recs  []json.RawMessage
			field string
			into  *[]item
		}{{p.images, "key", &images}, {p.copies, "path", &copies}} {
			its, err := items(part.recs, part.field, i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w: %v", s.Name, ErrManifest, err)
			}
			for _, it := range its {
				if got := shard.Of(it.key, n); got != s.Shard.Index {
					return nil, fmt.Errorf("%w: %s (shard %s) holds %s, which belongs to shard %d/%d", ErrOverlap, s.Name, s.Shard, it.key, got, n)
				}
			}
			*part.into = append(*part.into, its...)
		}
	}
	for _, list := range [][]item{images, copies} {
		slices.SortStableFunc(list, func(a, b item) int { return cmp.Compare(a.key, b.key) })
		for i := 1; i < len(list); i++ {
			if list[i].key == list[i-1].key {
				return nil, fmt.Errorf("%w: %s is in %s and in %s", ErrOverlap, list[i].key, srcs[list[i-1].src].Name, srcs[list[i].src].Name)
			}
		}
	}
	return render(first, images, copies, hasCopies || len(copies) > 0)
}

// checkShards checks that srcs are shards 1 to N of one N, each once.
func checkShards(srcs []Source) error {
	if len(srcs) == 0 {
		return fmt.Errorf("%w: no shard manifests", ErrShards)
	}
	specs, names := make([]shard.Spec, len(srcs)), make([]string, len(srcs))
	for i, s := range srcs {
		if err := s.Shard.Check(); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		specs[i], names[i] = s.Shard, s.Name
	}
	if err := shard.CheckSet(specs, names); err != nil {
		return fmt.Errorf("%w: %v", ErrShards, err)
	}
	return nil
}

// sameHeader checks that two manifests have the same settings.
func sameHeader(a, b parsed, aName, bName string) error {
	ha, hb := a.header(), b.header()
	for _, m := range ha {
		if v := b.member(m.key); !bytes.Equal(v, m.val) {
			if v == nil {
				v = json.RawMessage("nothing")
			}
			return fmt.Errorf("%w: %s has %s %s, %s has %s", ErrMismatch, bName, m.key, v, aName, m.val)
		}
	}
	if len(ha) != len(hb) {
		for _, m := range hb {
			if a.member(m.key) == nil {
				return fmt.Errorf("%w: %s has %s %s, %s has none", ErrMismatch, bName, m.key, m.val, aName)
			}
		}
	}
	return nil
}

// render writes the merged manifest as json.MarshalIndent(m, "", "  ")
// and a newline would: first's members in first's order, with the merged
// images and copies ("copies" right after "images" when first has none).
func render(first parsed, images, copies []item, withCopies bool) ([]byte, error) {
	var c bytes.Buffer
	c.WriteByte('{')
	wrote := 0
	put := func(key string, val []byte) {
		if wrote > 0 {
			c.WriteByte(',')
		}
		wrote++
		k, _ := json.Marshal(key)
		c.Write(k)
		c.WriteByte(':')
		c.Write(val)
	}
	list := func(its []item) []byte {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, it := range its {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(it.raw)
		}
		b.WriteByte(']')
		return b.Bytes()
	}
	firstHasCopies := first.member("copies") != nil
	for _, m := range first.members {
		switch m.key {
		case "images":
			put("images", list(images))
			if withCopies && !firstHasCopies {
				put("copies", list(copies))
			}
		case "copies":
			put("copies", list(copies))
		default:
			put(m.key, m.val)
		}
	}
	c.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, c.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Result says what MergeDir did.
type Result struct {
	Manifest       string // the manifest.json written
	Shards         int
	Images, Copies int
}

// MergeDir merges the shard manifests in dir, the output folder of a
// sharded mask run, into dir/manifest.json (written atomically; the shard
// manifests stay). It refuses a shard still running or interrupted (its
// journal is there), and a manifest.json that is not a mask manifest,
// unless force.
func MergeDir(dir string, force bool) (Result, error) {
	res := Result{Manifest: filepath.Join(dir, manifestName)}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return res, err
	}
	var srcs []Source
	for _, e := range entries {
		sp, ok := ParseManifestName(e.Name())
		if !ok {
			continue
		}
		name := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(name)
		if err != nil {
			return res, err
		}
		srcs = append(srcs, Source{Name: name, Shard: sp, Data: data})
	}
	if len(srcs) == 0 {
		return res, fmt.Errorf("%w: %s holds no shard manifests (%s)", ErrShards, dir, ManifestName(shard.Spec{Index: 1, Count: 2}))
	}
	for i := 1; i <= srcs[0].Shard.Count; i++ {
		j := filepath.Join(dir, JournalName(shard.Spec{Index: i, Count: srcs[0].Shard.Count}))
		if _, err := os.Lstat(j); err == nil {
			return res, fmt.Errorf("%w: shard %d/%d has not finished (%s is there): rerun that task", ErrShards, i, srcs[0].Shard.Count, j)
		}
	}
	merged, err := Merge(srcs)
	if err != nil {
		return res, err
	}
	if err := checkReplace(res.Manifest, force); err != nil {
		return res, err
	}
	if err := imageio.WriteFile(res.Manifest, merged); err != nil {
		return res, err
	}
	p, _ := parse(merged)
	res.Shards, res.Images, res.Copies = len(srcs), len(p.images), len(p.copies)
	return res, nil
}

// checkReplace allows replacing name when it is absent or a mask manifest.
func checkReplace(name string, force bool) error {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) || force {
		return nil
	}
	if err == nil {
		_, err = parse(data)
	}
	if err != nil {
		return fmt.Errorf("%s is not a manifest of %s (%v): not replaced (move it away, or use --force)", name, maskTool, err)
	}
	return nil
}
