// Package facetest holds test fixtures that stand in for the face engine
// and for photo folders: fast, deterministic, and sensitive to masks.
package facetest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"sync/atomic"
	"testing/fstest"

	"github.com/disintegration/imaging"

	"github.com/maskinv/workbench/face"
)

// Engine stands in for the face engine: the "face" is the whole photo
// scaled to 112×112, a photo whose top-left pixel is black has none, and
// the embedding is the crop's mean colour over a 4×4 grid, centred and
// normalised. Fast, deterministic, and sensitive to masks.
type Engine struct{ Embedded atomic.Int64 }

func (e *Engine) Locate(ctx context.Context, img image.Image) (face.Result, error) {
	if err := ctx.Err(); err != nil {
		return face.Result{}, err
	}
	if r, g, b, _ := img.At(img.Bounds().Min.X, img.Bounds().Min.Y).RGBA(); r|g|b == 0 {
		return face.Result{}, fmt.Errorf("detect: %w", face.ErrNoFace)
	}
	b := img.Bounds()
	return face.Result{
		Box:     [4]float64{0, 0, float64(b.Dx()), float64(b.Dy())},
		Aligned: imaging.Resize(img, 112, 112, imaging.Linear),
	}, nil
}

func (e *Engine) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.Embedded.Add(int64(len(crops)))
	out := make([][]float32, len(crops))
	for k, c := range crops {
		v := make([]float32, 48)
		for y := range 112 {
			for x := range 112 {
				p := c.NRGBAAt(x, y)
				cell := (y/28*4 + x/28) * 3
				v[cell] += float32(p.R)
				v[cell+1] += float32(p.G)
				v[cell+2] += float32(p.B)
			}
		}
		var mean float32
		for _, x := range v {
			mean += x / 48
		}
		for i := range v {
			v[i] -= mean
		}
		n, err := face.Normalize(v)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

// Person draws a synthetic photo of identity id, variant k: a colour
// pattern per identity with a little variation per photo.
func Person(id, k int) []byte {
	rng := rand.New(rand.NewPCG(uint64(id), uint64(k)))
	img := image.NewNRGBA(image.Rect(0, 0, 80, 96))
	base := [3]int{40 + 70*(id%3), 40 + 50*(id%4), 200 - 60*(id%3)}
	for y := range 96 {
		for x := range 80 {
			j := rng.IntN(30)
			img.SetNRGBA(x, y, color.NRGBA{uint8(base[0] + x + j), uint8(base[1] + y/2 + j), uint8(base[2] + (x*y)%40), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// BlackPhoto is a black PNG: a photo without a face for Engine.
func BlackPhoto() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 20, 20)))
	return buf.Bytes()
}

// Folder is 3 identities in subfolders (3, 2 and 3 photos), a photo
// without a face, a broken file and a hidden file.
func Folder() fstest.MapFS {
	m := fstest.MapFS{}
	for id, n := range []int{3, 2, 3} {
		name := []string{"alice", "bob", "carol"}[id]
		for k := range n {
			m[fmt.Sprintf("%s/%s_%04d.png", name, name, k+1)] = &fstest.MapFile{Data: Person(id, k)}
		}
	}
	m["bob/bob_0099.png"] = &fstest.MapFile{Data: BlackPhoto()}
	m["carol/broken.jpg"] = &fstest.MapFile{Data: []byte("not a jpeg")}
	m[".hidden/x.png"] = &fstest.MapFile{Data: Person(9, 9)}
	m["notes.txt"] = &fstest.MapFile{Data: []byte("hello")}
	return m
}
