package app

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/maskshard"
	"github.com/maskinv/workbench/shard"
)

// withoutShardFiles drops the shard manifests from a tree's hashes: the
// only files a sharded run leaves that one process does not.
func withoutShardFiles(h map[string]string) map[string]string {
	maps.DeleteFunc(h, func(k, _ string) bool {
		_, ok := maskshard.ParseManifestName(k)
		return ok
	})
	return h
}

// TestMaskDatasetShards: N shards masking into one folder, then
// maskshard.MergeDir, leave the same bytes as one run over the whole set;
// each shard masks only its own images and copies only its own files.
func TestMaskDatasetShards(t *testing.T) {
	in := apptest.MaskInput(t)
	whole := filepath.Join(t.TempDir(), "whole")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, whole, "random", 5)); err != nil {
		t.Fatal(err)
	}
	want := apptest.ContentHashes(t, whole)
	for _, n := range []int{2, 4} {
		out := filepath.Join(t.TempDir(), fmt.Sprint(n))
		images := 0
		for i := 1; i <= n; i++ {
			opt := maskAlignedOpts(in, out, "random", 5)
			opt.Shard = shard.Spec{Index: i, Count: n}
			sum, err := MaskDataset(context.Background(), opt)
			if err != nil {
				t.Fatalf("shard %s: %v", opt.Shard, err)
			}
			if sum.Manifest != filepath.Join(out, maskshard.ManifestName(opt.Shard)) {
				t.Errorf("shard %s: manifest %s", opt.Shard, sum.Manifest)
			}
			m, err := readManifestFile(sum.Manifest)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range m.Images {
				if !opt.Shard.Has(rec.Key) {
					t.Errorf("shard %s masked %s, of shard %d", opt.Shard, rec.Key, shard.Of(rec.Key, n))
				}
			}
			for _, c := range m.Copies {
				if !opt.Shard.Has(c.Path) {
					t.Errorf("shard %s copied %s", opt.Shard, c.Path)
				}
			}
			images += sum.Images
		}
		if images != 5 {
			t.Errorf("%d shards masked %d images in all, want 5", n, images)
		}
		res, err := maskshard.MergeDir(out, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Images != 5 || res.Shards != n {
			t.Errorf("merge: %+v", res)
		}
		if got := withoutShardFiles(apptest.ContentHashes(t, out)); !maps.Equal(got, want) {
			t.Errorf("%d shards merged differ from one run:\n%v\n%v", n, got, want)
		}
	}
}

// TestMaskDatasetShardAfterWhole: a shard run into a folder that a whole
// run filled takes the whole run's files as its own and redoes nothing;
// a shard of another split is refused by the merge, not by the run.
func TestMaskDatasetShardAfterWhole(t *testing.T) {
	in := apptest.MaskInput(t)
	out := filepath.Join(t.TempDir(), "out")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "random", 5)); err != nil {
		t.Fatal(err)
	}
	opt := maskAlignedOpts(in, out, "random", 5)
	opt.Shard = shard.Spec{Index: 1, Count: 2}
	sum, err := MaskDataset(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Images == 0 || sum.Skipped != sum.Images || sum.Masked != 0 {
		t.Errorf("shard after a whole run: %+v, want every image skipped", sum)
	}
	opt.Shard = shard.Spec{Index: 0, Count: 2}
	if _, err := MaskDataset(context.Background(), opt); err == nil || !strings.Contains(err.Error(), "numbered from 1") {
		t.Errorf("shard 0/2: %v", err)
	}
	if _, err := maskshard.MergeDir(out, false); err == nil || !strings.Contains(err.Error(), "missing shard 2/2") {
		t.Errorf("merge of one shard of two: %v, want it to name shard 2/2", err)
	}
}
