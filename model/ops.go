package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// defaultOps is the operator table: every ONNX operator the engine runs.
// Arithmetic lives in kernels (kernel.go and friends) with their gradients;
// pure data movement (reshape, transpose, concat, slice) uses gorgonia's own
// differentiable ops; shape arithmetic on constants is folded here.
func defaultOps() opTable {
	return opTable{
		"Conv":               buildConv,
		"PRelu":              buildBinary(fnPRelu),
		"Add":                buildBinary(fnAdd),
		"Sub":                buildBinary(fnSub),
		"Mul":                buildBinary(fnMul),
		"Div":                buildBinary(fnDiv),
		"BatchNormalization": buildBatchNorm,
		"Relu":               buildUnary(fnRelu),
		"Exp":                buildUnary(fnExp),
		"Softmax":            buildSoftmax,
		"Gemm":               buildGemm,
		"Reshape":            buildReshape,
		"Flatten":            buildFlatten,
		"Unsqueeze":          buildUnsqueeze,
		"Transpose":          buildTranspose,
		"Concat":             buildConcat,
		"Slice":              buildSlice,
		"Shape":              buildShape,
		"Gather":             buildGather,
		"Constant":           buildConstant,
		"Identity":           buildIdentity,
		"Dropout":            buildIdentity, // inference: a no-op
	}
}

func buildConv(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 2, 3); err != nil {
		return value{}, err
	}
	if in[0].shape().Dims() != 4 {
		return value{}, fmt.Errorf("only 2-D convolution is supported, input is %v: %w", in[0].shape(), ErrUnsupported)
	}
	pads := attrInts(n, "pads", []int{0, 0, 0, 0})
	switch p := attrString(n, "auto_pad", "NOTSET"); p {
	case "NOTSET", "VALID", "":
		if p == "VALID" {
			pads = []int{0, 0, 0, 0}
		}
	default:
		return value{}, fmt.Errorf("auto_pad %s: %w", p, ErrUnsupported)
	}
	strides := attrInts(n, "strides", []int{1, 1})
	dilations := attrInts(n, "dilations", []int{1, 1})
	if len(pads) != 4 || len(strides) != 2 || len(dilations) != 2 {
		return value{}, fmt.Errorf("pads %v, strides %v, dilations %v: want 4, 2 and 2 values", pads, strides, dilations)
	}
	g, err := newConvGeom(in[0].shape(), in[1].shape(), attrInt(n, "group", 1), strides, pads, dilations, len(in) == 3)
	if err != nil {
		return value{}, err
	}
	if ks := attrInts(n, "kernel_shape", nil); ks != nil && (len(ks) != 2 || ks[0] != g.kh || ks[1] != g.kw) {
		return value{}, fmt.Errorf("kernel_shape %v disagrees with weight %v", ks, in[1].shape())
	}
	if len(in) == 3 && in[2].shape().TotalSize() != g.m {
		return value{}, fmt.Errorf("bias %v for %d output channels", in[2].shape(), g.m)
	}
	k := convKernel{g: g}
	if act := b.net.fused[n.id]; b.fuse && act != nil {
		k.act = actRelu
		if act.op.Name == "PRelu" {
			k.act = actPRelu
			in = append(in, value{c: b.net.g.inputs(act)[1].value.(*tensor.Dense)})
		}
	}
	return b.kernelNode(k, in...)
}

func buildBinary(fn binaryFn) opBuilder {
	return func(b *builder, n *irNode, in []value) (value, error) {
		if err := arity(in, 2, 2); err != nil {
			return value{}, err
		}
		a, s := in[0], in[1]
		if fn == fnPRelu && s.shape().Dims() == 1 && a.shape().Dims() > 2 && s.shape()[0] == a.shape()[1] && s.shape()[0] != a.shape()[a.shape().Dims()-1] {
			// A per-channel slope stored as a plain vector (some exporters
			// do this) means channel axis 1, not numpy's last axis.
			shape := tensor.Shape{s.shape()[0]}
			for i := 2; i < a.shape().Dims(); i++ {
				shape = append(shape, 1)
			}
			if b.train && s.c != nil {
				// Keep the slope a parameter: reshape its node, not a copy.
				node, err := b.lift(s)
				if err != nil {
					return value{}, err
				}
				s = value{node: node}
			}
			r, err := reshapeValue(b, s, shape)
			if err != nil {
				return value{}, err
			}
			s = r
		}
		k, err := newBinaryKernel(fn, a.shape(), s.shape())
		if err != nil {
			return value{}, err
		}
		if a.c != nil && s.c != nil {
			return foldBinary(k, a.c, s.c), nil
		}
		return b.kernelNode(k, a, s)
	}
}

// foldBinary evaluates arithmetic on two constants at build time; integer
// inputs (shape arithmetic) stay integers.
func foldBinary(k binaryKernel, a, c *tensor.Dense) value {
	av, cv := make([]float64, max(1, a.Shape().TotalSize())), make([]float64, max(1, c.Shape().TotalSize()))
	for i := range av {
		av[i] = scalarAt(a, i)
	}
	for i := range cv {
		cv[i] = scalarAt(c, i)
	}
	out := run64(k, [][]float64{av, cv})
	shape := k.outShape().Clone()
	if a.Dtype() == tensor.Int64 && c.Dtype() == tensor.Int64 {
		o := make([]int64, len(out))
		for i, v := range out {
			o[i] = int64(v)
		}
		return value{c: denseOf(shape, o)}
	}
	o := make([]float32, len(out))
	for i, v := range out {
		o[i] = float32(v)
	}
	return value{c: denseOf(shape, o)}
}

func run64(k kernel, in [][]float64) []float64 {
	out := make([]float64, max(1, k.outShape().TotalSize()))
	k.do64(out, in)
	return out
}

func denseOf[T int64 | float32](shape tensor.Shape, data []T) *tensor.Dense {
	if shape.Dims() == 0 {
		return tensor.New(tensor.FromScalar(data[0]))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func buildUnary(fn unaryFn) opBuilder {
	return func(b *builder, n *irNode, in []value) (value, error) {
		if err := arity(in, 1, 1); err != nil {
			return value{}, err
		}
		return b.kernelNode(unaryKernel{fn, in[0].shape().Clone()}, in[0])
	}
}

func buildBatchNorm(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 5, 5); err != nil {
		return value{}, err
	}
	x := in[0].shape()
	if x.Dims() < 2 {
		return value{}, fmt.Errorf("input %v has no channel axis", x)
	}
	for i := 1; i < 5; i++ {
		if in[i].shape().TotalSize() != x[1] {
			return value{}, fmt.Errorf("parameter %d has shape %v for %d channels", i, in[i].shape(), x[1])
		}
	}
	if b.train {
		return buildBatchNormTrain(b, n, in)
	}
	if attrInt(n, "training_mode", 0) != 0 {
		return value{}, fmt.Errorf("training_mode: %w", ErrUnsupported)
	}
	return b.kernelNode(batchNormKernel{x.Clone(), attrFloat(n, "epsilon", 1e-5)}, in...)
}

func buildSoftmax(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 1, 1); err != nil {
		return value{}, err
	}
	k, err := newSoftmaxKernel(in[0].shape().Clone(), attrInt(n, "axis", 1))
	if err != nil {
		return value{}, err
	}
	return b.kernelNode(k, in[0])
}

// buildGemm is Y = alpha·A'·B' + beta·C, as a matmul kernel plus a
// broadcast Add.
func buildGemm(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 2, 3); err != nil {
		return value{}, err
	}
	k, err := newMatmulKernel(in[0].shape(), in[1].shape(), attrInt(n, "transA", 0) != 0, attrInt(n, "transB", 0) != 0, attrFloat(n, "alpha", 1))
	if err != nil {
		return value{}, err
	}
	y, err := b.kernelNode(k, in[0], in[1])
	if err != nil || len(in) == 2 {
		return y, err
	}
	c := in[2]
	if beta := attrFloat(n, "beta", 1); beta != 1 {
		bk, err := newBinaryKernel(fnMul, c.shape(), tensor.Shape{})
		if err != nil {
			return value{}, err
		}
		if c, err = b.kernelNode(bk, c, value{c: tensor.New(tensor.FromScalar(float32(beta)))}); err != nil {
			return value{}, err
		}
	}
	ak, err := newBinaryKernel(fnAdd, y.shape(), c.shape())
	if err != nil {
		return value{}, fmt.Errorf("gemm bias: %w", err)
	}
	return b.kernelNode(ak, y, c)
}

// reshapeValue reshapes a constant or a graph node.
func reshapeValue(b *builder, v value, shape tensor.Shape) (value, error) {
	if v.shape().TotalSize() != shape.TotalSize() {
		return value{}, fmt.Errorf("cannot reshape %v to %v", v.shape(), shape)
	}
	if v.c != nil {
		c := v.c.Clone().(*tensor.Dense)
		if err := c.Reshape(shape...); err != nil {
			return value{}, err
		}
		return value{c: c}, nil
	}
	if v.shape().Eq(shape) {
		return v, nil
	}
	node, err := G.Reshape(v.node, shape)
	if err != nil {
		return value{}, err
	}
	b.record(node, reshapeKernel{v.shape().Clone(), node.Shape().Clone()}, v.node)
	return value{node: node}, nil
}

// buildReshape follows ONNX: 0 copies the input dimension, −1 is inferred.
// A target that hard-codes the exporter's batch size (often 1) is rewritten
// to the batch being built, so that batched inference works on such models.
func buildReshape(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 2, 2); err != nil {
		return value{}, err
	}
	target, err := ints(in[1])
	if err != nil {
		return value{}, fmt.Errorf("shape input: %w", err)
	}
	x := in[0].shape()
	shape := make(tensor.Shape, len(target))
	infer, known := -1, 1
	for i, d := range target {
		switch {
		case d == 0 && i < x.Dims():
			shape[i] = x[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d < 1:
			return value{}, fmt.Errorf("bad target shape %v", target)
		default:
			shape[i] = d
		}
		known *= shape[i]
	}
	if in[0].node != nil && len(shape) > 0 && infer != 0 && x.Dims() > 0 && x[0] == b.batch && shape[0] == b.net.declaredBatch() && b.batch != shape[0] {
		known = known / shape[0] * b.batch
		shape[0] = b.batch
	}
	if infer >= 0 {
		if known == 0 || x.TotalSize()%known != 0 {
			return value{}, fmt.Errorf("cannot reshape %v to %v", x, target)
		}
		shape[infer] = x.TotalSize() / known
	}
	return reshapeValue(b, in[0], shape)
}

func buildFlatten(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 1, 1); err != nil {
		return value{}, err
	}
	x := in[0].shape()
	axis := attrInt(n, "axis", 1)
	if axis < 0 {
		axis += x.Dims()
	}
	if axis < 0 || axis > x.Dims() {
		return value{}, fmt.Errorf("axis %d out of range for %v", axis, x)
	}
	rows := 1
	for _, d := range x[:axis] {
		rows *= d
	}
	return reshapeValue(b, in[0], tensor.Shape{rows, x.TotalSize() / rows})
}

func buildUnsqueeze(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 1, 2); err != nil {
		return value{}, err
	}
	axes := attrInts(n, "axes", nil)
	if len(in) == 2 {
		var err error
		if axes, err = ints(in[1]); err != nil {
			return value{}, fmt.Errorf("axes input: %w", err)
		}
	}
	x := in[0].shape()
	rank := x.Dims() + len(axes)
	insert := map[int]bool{}
	for _, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank || insert[a] {
			return value{}, fmt.Errorf("bad axes %v for %v", axes, x)
		}
		insert[a] = true
	}
	shape := make(tensor.Shape, 0, rank)
	j := 0
	for i := 0; i < rank; i++ {
		if insert[i] {
			shape = append(shape, 1)
		} else {
			shape = append(shape, x[j])
			j++
		}
	}
	return reshapeValue(b, in[0], shape)
}

func buildTranspose(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 1, 1); err != nil {
		return value{}, err
	}
	dims := in[0].shape().Dims()
	perm := attrInts(n, "perm", nil)
	if perm == nil {
		for i := dims - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != dims {
		return value{}, fmt.Errorf("perm %v for %d dimensions", perm, dims)
	}
	if in[0].c != nil {
		c := in[0].c.Clone().(*tensor.Dense)
		if err := c.T(perm...); err != nil {
			return value{}, err
		}
		return value{c: c.Materialize().(*tensor.Dense)}, nil
	}
	node, err := G.Transpose(in[0].node, perm...)
	if err != nil {
		return value{}, err
	}
	k, err := newTransposeKernel(in[0].shape(), perm)
	b.recordMove(node, k, err, in[0].node)
	return value{node: node}, nil
}

func buildConcat(b *builder, n *irNode, in []value) (value, error) {
	if len(in) == 0 {
		return value{}, fmt.Errorf("no inputs")
	}
	axis := attrInt(n, "axis", 0)
	if axis < 0 {
		axis += in[0].shape().Dims()
	}
	allConst := true
	for _, v := range in {
		allConst = allConst && v.c != nil
	}
	if allConst {
		others := make([]*tensor.Dense, 0, len(in)-1)
		for _, v := range in[1:] {
			others = append(others, v.c)
		}
		c, err := in[0].c.Concat(axis, others...)
		if err != nil {
			return value{}, err
		}
		return value{c: c}, nil
	}
	nodes := make([]*G.Node, len(in))
	for i, v := range in {
		var err error
		if nodes[i], err = b.lift(v); err != nil {
			return value{}, err
		}
	}
	if len(nodes) == 1 {
		return value{node: nodes[0]}, nil
	}
	shapes := make([]tensor.Shape, len(nodes))
	for i, nd := range nodes {
		shapes[i] = nd.Shape()
	}
	node, err := G.Concat(axis, nodes...)
	if err != nil {
		return value{}, err
	}
	k, err := newConcatKernel(axis, shapes)
	b.recordMove(node, k, err, nodes...)
	return value{node: node}, nil
}

// buildSlice supports both the attribute form (opset < 10) and the input
// form (starts, ends, axes, steps as constants; steps must be 1).
func buildSlice(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 1, 5); err != nil {
		return value{}, err
	}
	starts, ends, axes := attrInts(n, "starts", nil), attrInts(n, "ends", nil), attrInts(n, "axes", nil)
	lists := []*[]int{&starts, &ends, &axes}
	for i := 1; i < len(in) && i <= 3; i++ {
		v, err := ints(in[i])
		if err != nil {
			return value{}, fmt.Errorf("slice input %d: %w", i, err)
		}
		*lists[i-1] = v
	}
	if len(in) == 5 {
		steps, err := ints(in[4])
		if err != nil {
			return value{}, err
		}
		for _, s := range steps {
			if s != 1 {
				return value{}, fmt.Errorf("slice step %d: %w", s, ErrUnsupported)
			}
		}
	}
	x := in[0].shape()
	if axes == nil {
		for i := range starts {
			axes = append(axes, i)
		}
	}
	if len(starts) != len(axes) || len(ends) != len(axes) {
		return value{}, fmt.Errorf("starts %v, ends %v and axes %v differ in length", starts, ends, axes)
	}
	slices := make([]tensor.Slice, x.Dims())
	sk := sliceKernel{shape: x.Clone(), starts: make([]int, x.Dims()), ends: x.Clone()}
	for i, a := range axes {
		if a < 0 {
			a += x.Dims()
		}
		if a < 0 || a >= x.Dims() {
			return value{}, fmt.Errorf("axis %d out of range for %v", axes[i], x)
		}
		clamp := func(v int) int {
			if v < 0 {
				v += x[a]
			}
			return min(max(v, 0), x[a])
		}
		s, e := clamp(starts[i]), clamp(ends[i])
		if e <= s {
			return value{}, fmt.Errorf("empty slice [%d:%d] of axis %d: %w", starts[i], ends[i], a, ErrUnsupported)
		}
		slices[a] = G.S(s, e)
		sk.starts[a], sk.ends[a] = s, e
	}
	if in[0].c != nil {
		v, err := in[0].c.Slice(slices...)
		if err != nil {
			return value{}, err
		}
		return value{c: v.(*tensor.Dense).Materialize().(*tensor.Dense)}, nil
	}
	node, err := G.Slice(in[0].node, slices...)
	if err != nil {
		return value{}, err
	}
	sk.out = node.Shape().Clone()
	b.record(node, sk, in[0].node)
	return value{node: node}, nil
}

func buildShape(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 1, 1); err != nil {
		return value{}, err
	}
	s := in[0].shape()
	out := make([]int64, s.Dims())
	for i, d := range s {
		out[i] = int64(d)
	}
	return value{c: tensor.New(tensor.WithShape(len(out)), tensor.WithBacking(out))}, nil
}

// buildGather supports gathering from constant vectors, which is what the
// shape arithmetic of exported models does.
func buildGather(b *builder, n *irNode, in []value) (value, error) {
	if err := arity(in, 2, 2); err != nil {
		return value{}, err
	}
	if in[0].c == nil || in[0].shape().Dims() != 1 || attrInt(n, "axis", 0) != 0 {
		return value{}, fmt.Errorf("gather from a computed or multi-dimensional tensor: %w", ErrUnsupported)
	}
	idx, err := ints(in[1])
	if err != nil {
		return value{}, err
	}
	size := in[0].shape()[0]
	out := make([]float64, len(idx))
	for i, j := range idx {
		if j < 0 {
			j += size
		}
		if j < 0 || j >= size {
			return value{}, fmt.Errorf("index %d out of range %d", idx[i], size)
		}
		out[i] = scalarAt(in[0].c, j)
	}
	shape := in[1].shape().Clone()
	if in[0].c.Dtype() == tensor.Int64 {
		o := make([]int64, len(out))
		for i, v := range out {
			o[i] = int64(v)
		}
		return value{c: denseOf(shape, o)}, nil
	}
	o := make([]float32, len(out))
	for i, v := range out {
		o[i] = float32(v)
	}
	return value{c: denseOf(shape, o)}, nil
}

func buildConstant(b *builder, n *irNode, in []value) (value, error) {
	t, ok := n.op.Attributes["value"].(*tensor.Dense)
	if !ok {
		return value{}, fmt.Errorf("constant without a tensor value: %w", ErrUnsupported)
	}
	return value{c: t}, nil
}

func buildIdentity(b *builder, n *irNode, in []value) (value, error) {
	if len(in) == 0 {
		return value{}, fmt.Errorf("no input")
	}
	return in[0], nil
}
