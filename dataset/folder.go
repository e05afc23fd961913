package dataset

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Identity is one person of a folder dataset.
type Identity struct {
	Name   string   // subfolder name
	Images []string // paths relative to the root, slash-separated, sorted
}

// Folder is a dataset laid out as one subfolder per identity.
type Folder struct {
	Root       string
	Identities []Identity // sorted by name; identities without images are left out
}

// ScanFolder lists root/<identity>/<image> for .jpg, .jpeg and .png files
// (any case). Hidden entries (leading dot), files directly in root and
// deeper subfolders are ignored. Order is sorted, so everything derived
// from the listing is deterministic.
func ScanFolder(root string) (Folder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return Folder{}, err
	}
	f := Folder{Root: root}
	for _, e := range entries { // ReadDir sorts by name
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, e.Name()))
		if err != nil {
			return Folder{}, err
		}
		id := Identity{Name: e.Name()}
		for _, file := range files {
			name := file.Name()
			if file.IsDir() || strings.HasPrefix(name, ".") || !isImage(name) {
				continue
			}
			id.Images = append(id.Images, e.Name()+"/"+name)
		}
		if len(id.Images) > 0 {
			f.Identities = append(f.Identities, id)
		}
	}
	return f, nil
}

// isImage reports whether name has an extension ScanFolder lists.
func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// PairOptions controls Folder.Pairs.
type PairOptions struct {
	// Impostors is the number of impostor pairs; 0 means as many as there
	// are genuine pairs.
	Impostors int
	// Folds is the number of folds; 0 means 10, as LFW.
	Folds int
	// Seed makes the impostor sampling reproducible.
	Seed uint64
}

// Pairs returns every genuine pair (each unordered pair of images of one
// identity, once) and seeded random impostor pairs, with folds.
//
// Folds are identity-disjoint, as LFW's: identities are dealt to folds so
// as to balance genuine-pair counts (largest first, each to the fold with
// fewest so far), and impostor pairs are drawn within a fold, so no person
// appears in two folds. Each fold gets a share of the impostors in
// proportion to its genuine pairs. No impostor pair is drawn twice (in
// either order). The result depends only on the listing and the options:
// for a given seed it is always the same. Pairs come fold by fold,
// genuine pairs first. ErrTooFew is returned if the folds cannot hold the
// impostor pairs asked for.
func (f Folder) Pairs(opt PairOptions) ([]Pair, error) {
	k := opt.Folds
	if k == 0 {
		k = 10
	}
	if k < 0 || opt.Impostors < 0 {
		return nil, fmt.Errorf("folder pairs: %d folds, %d impostors", opt.Folds, opt.Impostors)
	}
	foldOf, genuine := assignIdentityFolds(f.Identities, k)
	nGenuine := 0
	for _, g := range genuine {
		nGenuine += g
	}
	want := opt.Impostors
	if want == 0 {
		want = nGenuine
	}
	members := make([][]int, k) // identity indices per fold
	for i, fold := range foldOf {
		members[fold] = append(members[fold], i)
	}
	quota, err := impostorQuotas(f.Identities, members, genuine, want)
	if err != nil {
		return nil, fmt.Errorf("folder pairs in %s: %w", f.Root, err)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6d61736b696e76)) // second word: "maskinv"
	var pairs []Pair
	for fold := range k {
		for _, i := range members[fold] {
			pairs = appendGenuine(pairs, f.Identities[i], fold)
		}
		pairs = appendImpostors(pairs, f.Identities, members[fold], quota[fold], fold, rng)
	}
	return pairs, nil
}

// assignIdentityFolds deals identities to k folds, largest genuine-pair
// count first, each to the fold with the fewest genuine pairs so far (the
// lowest fold on ties). It returns each identity's fold and each fold's
// genuine-pair count.
func assignIdentityFolds(ids []Identity, k int) (foldOf, genuine []int) {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	// Stable, so equal counts keep name order.
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(pairCount(len(ids[b].Images)), pairCount(len(ids[a].Images)))
	})
	foldOf = make([]int, len(ids))
	genuine = make([]int, k)
	members := make([]int, k)
	for _, i := range order {
		best := 0
		for fold := 1; fold < k; fold++ {
			// Fewest genuine pairs, then fewest identities, so that
			// single-image identities spread out too.
			if genuine[fold] < genuine[best] || genuine[fold] == genuine[best] && members[fold] < members[best] {
				best = fold
			}
		}
		foldOf[i] = best
		genuine[best] += pairCount(len(ids[i].Images))
		members[best]++
	}
	return foldOf, genuine
}

func pairCount(n int) int { return n * (n - 1) / 2 }

// impostorCapacity is the number of distinct impostor pairs among the
// given identities: pairs of images of different people.
func impostorCapacity(ids []Identity, members []int) int {
	total, sq := 0, 0
	for _, i := range members {
		n := len(ids[i].Images)
		total += n
		sq += n * n
	}
	return (total*total - sq) / 2
}

// impostorQuotas splits want impostor pairs over the folds in proportion
// to their genuine pairs (largest remainders first, then lowest fold), then
// moves what a fold cannot hold to folds with room.
func impostorQuotas(ids []Identity, members [][]int, genuine []int, want int) ([]int, error) {
	k := len(members)
	capacity := make([]int, k)
	totalCap, totalGen := 0, 0
	for fold := range k {
		capacity[fold] = impostorCapacity(ids, members[fold])
		totalCap += capacity[fold]
		totalGen += genuine[fold]
	}
	if want > totalCap {
		return nil, fmt.Errorf("%d impostor pairs asked, %d folds hold %d: %w", want, k, totalCap, ErrTooFew)
	}
	weight, totalWeight := genuine, totalGen
	if totalGen == 0 { // no genuine pairs to be proportional to: by capacity
		weight, totalWeight = capacity, totalCap
	}
	quota := make([]int, k)
	if want == 0 {
		return quota, nil
	}
	rem := make([]int, k)
	given := 0
	for fold := range k {
		quota[fold] = want * weight[fold] / totalWeight
		rem[fold] = want * weight[fold] % totalWeight
		given += quota[fold]
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for i := 0; given < want; i++ {
		quota[order[i%k]]++
		given++
	}
	// Overflow from full folds goes to the first folds with room.
	spill := 0
	for fold := range k {
		if quota[fold] > capacity[fold] {
			spill += quota[fold] - capacity[fold]
			quota[fold] = capacity[fold]
		}
	}
	for fold := 0; spill > 0; fold++ {
		add := min(spill, capacity[fold]-quota[fold])
		quota[fold] += add
		spill -= add
	}
	return quota, nil
}

func appendGenuine(pairs []Pair, id Identity, fold int) []Pair {
	for a := range id.Images {
		for b := a + 1; b < len(id.Images); b++ {
			pairs = append(pairs, Pair{A: folderRef(id, a), B: folderRef(id, b), Same: true, Fold: fold})
		}
	}
	return pairs
}

// folderRef numbers images 1.. in listing order: folder file names carry
// no number of their own.
func folderRef(id Identity, i int) ImageRef {
	return ImageRef{Identity: id.Name, Number: i + 1, Path: id.Images[i]}
}

// imageAt locates an image by its index in the concatenated images of the
// fold's identities.
type imageAt struct {
	id, img int
}

// appendImpostors draws quota distinct impostor pairs within one fold.
// When the quota is at most half the fold's capacity, rejection sampling
// of random image pairs ends fast; otherwise all impostor pairs are
// listed and a random subset taken, so a near-full quota cannot stall.
func appendImpostors(pairs []Pair, ids []Identity, members []int, quota, fold int, rng *rand.Rand) []Pair {
	if quota == 0 {
		return pairs
	}
	var images []imageAt
	for _, i := range members {
		for j := range ids[i].Images {
			images = append(images, imageAt{i, j})
		}
	}
	ref := func(a imageAt) ImageRef { return folderRef(ids[a.id], a.img) }
	if 2*quota > impostorCapacity(ids, members) {
		var all [][2]imageAt
		for a := range images {
			for b := a + 1; b < len(images); b++ {
				if images[a].id != images[b].id {
					all = append(all, [2]imageAt{images[a], images[b]})
				}
			}
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, p := range all[:quota] {
			pairs = append(pairs, Pair{A: ref(p[0]), B: ref(p[1]), Fold: fold})
		}
		return pairs
	}
	seen := make(map[[2]int]bool, quota)
	for n := 0; n < quota; {
		a, b := rng.IntN(len(images)), rng.IntN(len(images))
		if images[a].id == images[b].id {
			continue
		}
		key := [2]int{min(a, b), max(a, b)} // unordered: (a,b) and (b,a) are one pair
		if seen[key] {
			continue
		}
		seen[key] = true
		pairs = append(pairs, Pair{A: ref(images[a]), B: ref(images[b]), Fold: fold})
		n++
	}
	return pairs
}
