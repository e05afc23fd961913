// Package maskshard names the files of a sharded `maskinv mask` run and
// merges its shards' manifests into the manifest.json one process would
// have written.
//
// Every task of an array job masks into the same output folder, each its
// own images (shard.Spec.Filter of the keys), so the images never
// collide; only the manifest and the journal would, so a shard writes its
// own, under ManifestName and JournalName. MergeDir then joins the shard
// manifests into manifest.json.
//
// The merge reads manifests as generic JSON: a top-level object whose
// "images" (objects with a "key") and "copies" (objects with a "path") are
// concatenated and sorted, every other member (the run's settings) must be
// the same in every shard, and the result is re-indented as
// json.MarshalIndent(m, "", "  ") plus a newline, as the mask command
// writes it. So it needs no copy of the manifest's Go type, and a field
// added to it later merges as long as it is the same in every shard.
package maskshard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/maskinv/workbench/shard"
)

// The single-process names, which the whole set (shard 1/1) keeps.
const (
	manifestName = "manifest.json"
	journalName  = ".maskinv-journal.jsonl"
	maskTool     = "maskinv mask"
)

// ErrShards marks shard manifests that are not one whole split.
var ErrShards = errors.New("shard manifests do not make one whole set")

// ErrMismatch marks shards run with different settings.
var ErrMismatch = errors.New("shards made with other settings")

// ErrOverlap marks an image (or copied file) in two shards, or in a shard
// it does not belong to.
var ErrOverlap = errors.New("shards overlap")

// ManifestName is the manifest file of shard sp: "manifest.json" for the
// whole set, else ".maskinv-manifest.shard-I-of-N.json" (hidden, so that
// a later scan of the folder as an input does not take it for data).
func ManifestName(sp shard.Spec) string {
	if sp.IsWhole() {
		return manifestName
	}
	return fmt.Sprintf(".maskinv-manifest.shard-%d-of-%d.json", sp.Index, sp.Count)
}

// JournalName is the journal file of shard sp: the mask command's own
// ".maskinv-journal.jsonl" for the whole set, else
// ".maskinv-journal.shard-I-of-N.jsonl".
func JournalName(sp shard.Spec) string {
	if sp.IsWhole() {
		return journalName
	}
	return fmt.Sprintf(".maskinv-journal.shard-%d-of-%d.jsonl", sp.Index, sp.Count)
}

// ParseManifestName returns the shard whose manifest is called name, for
// a shard manifest's name exactly as ManifestName writes it.
func ParseManifestName(name string) (shard.Spec, bool) {
	var sp shard.Spec
	rest, ok := strings.CutPrefix(name, ".maskinv-manifest.shard-")
	if !ok {
		return sp, false
	}
	if _, err := fmt.Sscanf(rest, "%d-of-%d.json", &sp.Index, &sp.Count); err != nil || sp.Check() != nil || sp.IsWhole() || ManifestName(sp) != name {
		return shard.Spec{}, false
	}
	return sp, true
}

// Source is one shard's manifest.
type Source struct {
	Name  string // for errors: the file
	Shard shard.Spec
	Data  []byte
}

// member is one top-level member of a manifest.
type member struct {
	key string
	val json.RawMessage // compacted
}

// parsed is a manifest taken apart.
type parsed struct {
	members        []member // in file order, images and copies included
	images, copies []json.RawMessage
}

// maxManifest bounds a manifest: the mask command reads at most 1 GiB.
const maxManifest = 1 << 30

// parse splits a manifest into its members.
func parse(data []byte) (parsed, error) {
	var p parsed
	if len(data) > maxManifest {
		return p, fmt.Errorf("larger than %d bytes", maxManifest)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return p, fmt.Errorf("not a JSON object (%v)", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return p, err
		}
		key := t.(string) // object keys are strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return p, fmt.Errorf("%q: %v", key, err)
		}
		if seen[key] {
			return p, fmt.Errorf("%q twice", key)
		}
		seen[key] = true
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return p, err
		}
		p.members = append(p.members, member{key, buf.Bytes()})
		switch key {
		case "images":
			err = json.Unmarshal(buf.Bytes(), &p.images)
		case "copies":
			err = json.Unmarshal(buf.Bytes(), &p.copies)
		}
		if err != nil {
			return p, fmt.Errorf("%q is not an array: %v", key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return p, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return p, errors.New("data after the object")
	}
	if !seen["images"] {
		return p, errors.New(`no "images"`)
	}
	if tool := p.member("tool"); string(tool) != `"`+maskTool+`"` {
		return p, fmt.Errorf("tool %s, want %q", tool, maskTool)
	}
	return p, nil
}

func (p parsed) member(key string) json.RawMessage {
	for _, m := range p.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// header is every member but images and copies.
func (p parsed) header() []member {
	return slices.DeleteFunc(slices.Clone(p.members), func(m member) bool { return m.key == "images" || m.key == "copies" })
}

// item is an image or copy record with its sort key.
type item struct {
	key string
	raw json.RawMessage
	src int
}

// items extracts the sort keys (field name: "key" or "path") of records.
func items(recs []json.RawMessage, field string, src int) ([]item, error) {
	out := make([]item, 0, len(recs))
	for i, r := range recs {
		var m map[string]json.RawMessage
		var k string
		if err := json.Unmarshal(r, &m); err != nil {
			return nil, fmt.Errorf("record %d: %v", i, err)
		}
		if err := json.Unmarshal(m[field], &k); err != nil || !fs.ValidPath(k) || k == "." {
			return nil, fmt.Errorf("record %d: bad %q %s", i, field, m[field])
		}
		out = append(out, item{key: k, raw: r, src: src})
	}
	return out, nil
}
