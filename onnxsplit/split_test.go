package onnxsplit

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/model"
	"google.golang.org/protobuf/encoding/protowire"
)

// testModel is a small network with every kind of local segment and a
// non-local end: 4×20×20 → conv 3×3 → ReLU → depthwise 3×3 stride 2 →
// PReLU → residual block (1×1, depthwise 3×3, 1×1, Add) → conv 5×5 with
// padding 1 (an off-centre receptive field) → multiplication by a
// position-dependent constant → Flatten → Gemm.
func testModel() []byte {
	g := &graphBuilder{}
	x := g.conv("x", "c1", 4, 6, 3, 1, 1, 1)
	x = g.node("Relu", []string{x}, "r1")
	x = g.conv(x, "dw", 6, 6, 3, 2, 1, 6)
	x = g.node("PRelu", []string{x, g.weight("slope", 6, 1, 1)}, "p1")
	in := x
	x = g.conv(x, "e", 6, 8, 1, 1, 0, 1)
	x = g.conv(x, "bdw", 8, 8, 3, 1, 1, 8)
	x = g.conv(x, "pr", 8, 6, 1, 1, 0, 1)
	x = g.node("Add", []string{in, x}, "res")
	x = g.conv(x, "c5", 6, 5, 5, 1, 1, 1)
	x = g.node("Mul", []string{x, g.weight("pos", 1, 5, 8, 8)}, "m")
	x = g.node("Flatten", []string{x}, "f")
	x = g.node("Gemm", []string{x, g.weight("fc", 7, 5*8*8)}, "out", attrSpec{name: "transB", one: ptr(1)})
	return g.model("x", []int{1, 4, 20, 20}, x)
}

func ptr(v int) *int { return &v }

func testInput(n, c, h, w int) model.Tensor {
	t := model.NewTensor(n, c, h, w)
	for i := range t.Data {
		t.Data[i] = float32(math.Sin(float64(i)*0.731)) + 0.2
	}
	return t
}

// segmentsOf parses an ONNX model and cuts it into segments.
func segmentsOf(t *testing.T, data []byte) (*Model, []Segment) {
	t.Helper()
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := m.Segments()
	if err != nil {
		t.Fatal(err)
	}
	return m, segs
}

func TestSegmentsOfTestModel(t *testing.T) {
	m, segs := segmentsOf(t, testModel())
	want := []struct {
		out   string
		local bool
		geom  Axis
		out2  int
	}{
		{"r1", true, Axis{1, 1, 1}, 20},
		{"p1", true, Axis{2, 1, 1}, 10},
		{"res", true, Axis{1, 1, 1}, 10},
		{"c5", true, Axis{1, 1, 3}, 8},
		{"m", false, Axis{}, 0},
		{"f", false, Axis{}, 0},
		{"", false, Axis{}, 0},
	}
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want %d: %+v", len(segs), len(want), segs)
	}
	for k, w := range want {
		s := segs[k]
		if s.Output != w.out || s.Local != w.local || s.Geom != [2]Axis{w.geom, w.geom} || s.Out[0] != w.out2 {
			t.Errorf("segment %d: %s local %v geometry %+v out %v, want %s %v %+v %d", k, s.Output, s.Local, s.Geom, s.Out, w.out, w.local, w.geom, w.out2)
		}
	}
	checkChain(t, m, segs, testModel(), testInput(2, 4, 20, 20))
}

// checkChain runs the local segments one by one at full size, then the
// rest, and compares with the whole model.
func checkChain(t *testing.T, m *Model, segs []Segment, whole []byte, in model.Tensor) {
	t.Helper()
	net, err := model.Decode("whole", whole)
	if err != nil {
		t.Fatal(err)
	}
	want, err := net.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	x := in
	for k := 0; k < len(segs); k++ {
		to := k + 1
		if !segs[k].Local {
			to = len(segs)
		}
		data, err := m.SubModel(segs, k, to, x.Shape[2], x.Shape[3])
		if err != nil {
			t.Fatal(err)
		}
		sub, err := model.Decode("segment", data)
		if err != nil {
			t.Fatalf("segment %d: %v", k, err)
		}
		outs, err := sub.Run(context.Background(), x)
		if err != nil {
			t.Fatalf("segment %d: %v", k, err)
		}
		x = outs[0]
		if to == len(segs) {
			break
		}
		if s := segs[k]; x.Shape[1] != s.OutC || x.Shape[2] != s.Out[0] || x.Shape[3] != s.Out[1] {
			t.Fatalf("segment %d made %v, want %d×%v", k, x.Shape, s.OutC, s.Out)
		}
	}
	if len(x.Data) != len(want[0].Data) {
		t.Fatalf("chain made %v, the model %v", x.Shape, want[0].Shape)
	}
	for i := range x.Data {
		if d := math.Abs(float64(x.Data[i] - want[0].Data[i])); d > 1e-5*(1+math.Abs(float64(want[0].Data[i]))) {
			t.Fatalf("value %d: chain %v, model %v", i, x.Data[i], want[0].Data[i])
		}
	}
}

// TestGeometryIsTheReceptiveField checks each local segment's geometry
// against the engine, pixel by pixel: changing input position (y, x)
// changes exactly the outputs whose receptive field S·o−Lo … S·o+Hi holds
// it (along both axes).
func TestGeometryIsTheReceptiveField(t *testing.T) {
	m, segs := segmentsOf(t, testModel())
	for k, s := range segs {
		if !s.Local {
			break
		}
		h, w := s.In[0], s.In[1]
		net := decodeSub(t, m, segs, k, h, w)
		n := h*w + 1 // the base input, then one per position
		in := model.NewTensor(n, s.InC, h, w)
		base := testInput(1, s.InC, h, w)
		for i := 0; i < n; i++ {
			copy(in.Data[i*len(base.Data):], base.Data)
			if i > 0 {
				for c := 0; c < s.InC; c++ {
					in.Data[i*len(base.Data)+c*h*w+i-1] += 1
				}
			}
		}
		outs, err := net.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		out := outs[0].Data
		per := s.OutC * s.Out[0] * s.Out[1]
		for i := 1; i < n; i++ {
			py, px := (i-1)/w, (i-1)%w
			for oy := 0; oy < s.Out[0]; oy++ {
				for ox := 0; ox < s.Out[1]; ox++ {
					changed := false
					for c := 0; c < s.OutC; c++ {
						j := (c*s.Out[0]+oy)*s.Out[1] + ox
						changed = changed || out[i*per+j] != out[j]
					}
					gy, gx := s.Geom[0], s.Geom[1]
					predicted := gy.S*oy-gy.Lo <= py && py <= gy.S*oy+gy.Hi && gx.S*ox-gx.Lo <= px && px <= gx.S*ox+gx.Hi
					if changed != predicted {
						t.Fatalf("segment %d: input (%d,%d) changes output (%d,%d): %v, geometry %+v says %v", k, py, px, oy, ox, changed, s.Geom, predicted)
					}
				}
			}
		}
	}
}

// TestTiles: a local segment run on an aligned tile computes the full
// map's values wherever the tile holds the whole receptive field (or the
// tile's edge is the map's), and OutSize gives the tile's output size.
func TestTiles(t *testing.T) {
	m, segs := segmentsOf(t, testModel())
	for k, s := range segs {
		if !s.Local {
			break
		}
		g := s.Geom[0]
		fullNet := decodeSub(t, m, segs, k, s.In[0], s.In[1])
		in := testInput(1, s.InC, s.In[0], s.In[1])
		full, err := fullNet.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, tile := range []int{s.In[0] - g.S*2, s.In[0] / 2, 2*g.S + g.Lo + g.Hi + 1} {
			tile += ((s.In[0]-tile)%g.S + g.S) % g.S
			for _, at := range []int{0, g.S, s.In[0] - tile} {
				checkTile(t, m, segs, k, in, full[0], at, tile)
			}
		}
	}
}

func decodeSub(t *testing.T, m *Model, segs []Segment, k, h, w int) *model.Net {
	t.Helper()
	data, err := m.SubModel(segs, k, k+1, h, w)
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.Decode("segment", data)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// checkTile runs segment k on the square tile of in at (at, at) of side
// tile and compares its valid outputs with full.
func checkTile(t *testing.T, m *Model, segs []Segment, k int, in, full model.Tensor, at, tile int) {
	t.Helper()
	s := segs[k]
	g, n := s.Geom[0], s.In[0]
	oh, ow, ok := m.OutSize(segs, k, k+1, tile, tile)
	if !ok {
		t.Fatalf("segment %d: OutSize refuses a %d tile", k, tile)
	}
	sub := model.NewTensor(1, s.InC, tile, tile)
	for c := 0; c < s.InC; c++ {
		for y := 0; y < tile; y++ {
			copy(sub.Data[(c*tile+y)*tile:][:tile], in.Data[(c*n+at+y)*n+at:])
		}
	}
	outs, err := decodeSub(t, m, segs, k, tile, tile).Run(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Shape[2] != oh || outs[0].Shape[3] != ow {
		t.Fatalf("segment %d, tile %d: output %v, OutSize %d×%d", k, tile, outs[0].Shape, oh, ow)
	}
	valid := func(o int) bool {
		lo, hi := g.S*o-g.Lo, g.S*o+g.Hi
		return (lo >= at || at == 0) && (hi <= at+tile-1 || at+tile == n) && o < s.Out[0]
	}
	checked := 0
	for qy := 0; qy < oh; qy++ {
		for qx := 0; qx < ow; qx++ {
			oy, ox := at/g.S+qy, at/g.S+qx
			if !valid(oy) || !valid(ox) {
				continue
			}
			for c := 0; c < s.OutC; c++ {
				got := outs[0].Data[(c*oh+qy)*ow+qx]
				want := full.Data[(c*s.Out[0]+oy)*s.Out[1]+ox]
				if math.Abs(float64(got-want)) > 1e-5 {
					t.Fatalf("segment %d, tile %d at %d: output (%d,%d) channel %d = %v, full map %v", k, tile, at, oy, ox, c, got, want)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatalf("segment %d, tile %d at %d: no valid output to check", k, tile, at)
	}
}

// TestTeacherSegments: the embedded recogniser cuts into 18 local segments
// (the 112×112 input down to the 7×7 map and its two linear layers) and a
// Reshape, and the chain computes what the whole model does.
func TestTeacherSegments(t *testing.T) {
	m, segs := segmentsOf(t, assets.Recognizer())
	local := 0
	stride := 1
	for _, s := range segs {
		if s.Local {
			local++
			stride *= s.Geom[0].S
		}
	}
	if len(segs) != 19 || local != 18 || stride != 16 || segs[17].Out != [2]int{1, 1} || segs[17].OutC != 512 {
		t.Fatalf("%d segments, %d local, total stride %d, last local %+v", len(segs), local, stride, segs[17])
	}
	checkChain(t, m, segs, assets.Recognizer(), testInput(3, 3, 112, 112))
}

func TestNonLocal(t *testing.T) {
	build := func(edit func(g *graphBuilder, x string) string) []byte {
		g := &graphBuilder{}
		x := g.conv("x", "c1", 3, 4, 3, 1, 1, 1)
		x = edit(g, x)
		x = g.node("Relu", []string{x}, "r")
		return g.model("x", []int{1, 3, 16, 16}, g.node("Flatten", []string{x}, "out"))
	}
	tests := []struct {
		name string
		edit func(g *graphBuilder, x string) string
	}{
		{"dilated convolution", func(g *graphBuilder, x string) string {
			return g.node("Conv", []string{x, g.weight("w", 4, 4, 3, 3)}, "d", attrSpec{name: "dilations", ints: []int{2, 2}}, attrSpec{name: "pads", ints: []int{2, 2, 2, 2}})
		}},
		{"position-dependent constant", func(g *graphBuilder, x string) string {
			return g.node("Add", []string{x, g.weight("bias", 1, 4, 16, 16)}, "a")
		}},
		{"SAME padding", func(g *graphBuilder, x string) string {
			n := g.node("Conv", []string{x, g.weight("w", 4, 4, 3, 3)}, "d")
			autoPad := appendMessage(appendMessage(nil, attrName, []byte("auto_pad")), attrS, []byte("SAME_UPPER"))
			g.nodes[len(g.nodes)-1] = appendMessage(g.nodes[len(g.nodes)-1], nodeAttribute, tag(autoPad, 20, 3))
			return n
		}},
		{"unknown operator", func(g *graphBuilder, x string) string {
			return g.node("Sigmoid", []string{x}, "s")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, segs := segmentsOf(t, build(tc.edit))
			if !segs[0].Local || segs[0].Output != "c1" || segs[1].Local {
				t.Fatalf("segments %+v: want the first convolution alone local", segs)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	good := testModel()
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/3],
		"garbage":   []byte("\xff\xff\xff\xff"),
	} {
		if _, err := Parse(data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", name, err)
		}
	}
	g := &graphBuilder{}
	sym := g.model("x", []int{1, 3, 0, 0}, g.node("Relu", []string{"x"}, "out"))
	m, err := Parse(sym)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Segments(); !errors.Is(err, ErrShape) {
		t.Errorf("symbolic height: %v, want ErrShape", err)
	}
	m, _ = Parse(good)
	segs, _ := m.Segments()
	for _, r := range [][2]int{{0, 0}, {-1, 2}, {3, 2}, {0, len(segs) + 1}} {
		if _, err := m.SubModel(segs, r[0], r[1], 20, 20); err == nil {
			t.Errorf("SubModel(%d, %d) accepted", r[0], r[1])
		}
	}
	if _, err := m.SubModel(segs, 5, 6, 8, 8); err == nil {
		t.Error("SubModel after a non-local segment accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(testModel())
	f.Add(testModel()[:200])
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		segs, err := m.Segments()
		if err != nil {
			return
		}
		for k := range segs {
			if segs[k].Local {
				if _, err := m.SubModel(segs, k, k+1, segs[k].In[0], segs[k].In[1]); err != nil {
					t.Fatalf("segment %d: %v", k, err)
				}
			}
		}
	})
}

// TestAppendInts: a repeated integer reads the same one varint a field
// (as ONNX's proto2 writes it) and packed, other wire types are skipped,
// and a cut packed value is an error.
func TestAppendInts(t *testing.T) {
	packed := protowire.AppendVarint(protowire.AppendVarint(protowire.AppendVarint(nil, 3), 1<<40), uint64(1<<64-2))
	msg := tag(nil, 1, 7)
	msg = appendMessage(msg, 1, packed)
	msg = protowire.AppendFixed32(protowire.AppendTag(msg, 1, protowire.Fixed32Type), 9)
	fs, err := fields(msg)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, f := range fs {
		if got, err = appendInts(got, f); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int64{7, 3, 1 << 40, -2}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	cut, err := fields(appendMessage(nil, 1, []byte{0x80}))
	if err != nil {
		t.Fatal(err)
	}
	if dims, err := appendInts([]int{5}, cut[0]); err == nil {
		t.Errorf("a cut packed varint gave %v", dims)
	}
}
