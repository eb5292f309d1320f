package nn

import (
	"fmt"
	"iter"
	"math"

	"stride/graph"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(
		// MaxPool compares natively in every type it accepts (float64,
		// int8, uint8 included) so results stay exact.
		&ops.Def{Op: "MaxPool", Build: buildMaxPool, Infer: inferPool, Float64: true},
		&ops.Def{Op: "AveragePool", Build: buildAveragePool, Infer: inferPool},
		&ops.Def{Op: "LpPool", Build: buildLpPool, Infer: inferPool},
		&ops.Def{Op: "GlobalMaxPool", Build: buildGlobalPool(globalMax), Infer: inferGlobalPool, Float64: true},
		&ops.Def{Op: "GlobalAveragePool", Build: buildGlobalPool(globalAvg), Infer: inferGlobalPool},
		&ops.Def{Op: "GlobalLpPool", Build: buildGlobalPool(globalLp), Infer: inferGlobalPool},
		&ops.Def{Op: "MaxUnpool", Build: buildMaxUnpool, Infer: inferMaxUnpool},
		&ops.Def{Op: "MaxRoiPool", Build: buildMaxRoiPool, Infer: inferMaxRoiPool},
	)
}

// poolGeom is a pooling window resolved against an input shape.
type poolGeom struct {
	planes  int // N*C
	in, out []int
	axes    []axis
	// Per axis and output index: the input index of the first tap inside
	// the input, and how many taps (dilation apart) are inside.
	first, count [][]int
	// Per tap of the last axis: output o reads input o*stride+shift, which
	// is inside the input for o in [lo, hi).
	lastTaps []tapRun
}

type tapRun struct{ lo, hi, shift int }

func (w window) poolGeometry(x []int) (*poolGeom, error) {
	if len(x) < 3 {
		return nil, fmt.Errorf("input %v must be [N, C, spatial...] with at least one spatial dim", x)
	}
	if w.kernel == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	axes, err := w.axes(x[2:], w.kernel)
	if err != nil {
		return nil, err
	}
	g := &poolGeom{planes: x[0] * x[1], axes: axes, out: outSizes(axes)}
	for _, ax := range axes {
		g.in = append(g.in, ax.in)
		first, count := make([]int, ax.out), make([]int, ax.out)
		for o := range first {
			for q := 0; q < ax.k; q++ {
				if i := o*ax.stride - ax.padB + q*ax.dil; i >= 0 && i < ax.in {
					if count[o] == 0 {
						first[o] = i
					}
					count[o]++
				}
			}
		}
		g.first, g.count = append(g.first, first), append(g.count, count)
	}
	last := axes[len(axes)-1]
	for q := 0; q < last.k; q++ {
		t := tapRun{shift: q*last.dil - last.padB}
		t.lo = min(last.out, max(0, ceilDiv(-t.shift, last.stride)))
		t.hi = max(t.lo, min(last.out, ceilDiv(last.in-t.shift, last.stride)))
		g.lastTaps = append(g.lastTaps, t)
	}
	return g, nil
}

func (g *poolGeom) outShape(x []int) []int { return append([]int{x[0], x[1]}, g.out...) }

// row is a run of outputs along the last axis, [o0, o1), of one plane: the
// outputs at flat index j.. of the plane, at multi-index pos (pos[last] =
// o0). bases are the plane offsets of the input lines (all axes but the
// last) their windows cover.
type row struct {
	p, j, o0, o1 int
	pos, bases   []int
}

// slideRows calls body for every run of outputs along the last axis, over
// all planes. Kernels then loop tap by tap over a whole run (see runs), so
// each tap is one strided pass instead of a per-output loop. Work is split
// over tiles of positions and planes.
func (g *poolGeom) slideRows(c *ops.Ctx, body func(r *row)) {
	cols, rank := product(g.out), len(g.out)
	if cols == 0 || g.planes == 0 {
		return
	}
	kk := 1
	for _, ax := range g.axes {
		kk *= ax.k
	}
	outLast := g.out[rank-1]
	chunk := min(cols, max(outLast, 4096/kk))
	nChunks := (cols + chunk - 1) / chunk
	planeBlk := max(1, min(g.planes, (1<<16)/max(chunk*kk, 1)))
	nBlks := (g.planes + planeBlk - 1) / planeBlk
	inStride := tensor.Strides(g.in)
	c.Tasks(nChunks*nBlks, func(t int) {
		j0 := (t / nBlks) * chunk
		j1 := min(j0+chunk, cols)
		p0 := (t % nBlks) * planeBlk
		p1 := min(p0+planeBlk, g.planes)
		r := &row{pos: make([]int, rank)}
		for j := j0; j < j1; j = r.j + r.o1 - r.o0 {
			unflatten(j, g.out, r.pos)
			r.j, r.o0 = j, r.pos[rank-1]
			r.o1 = min(outLast, r.o0+j1-j)
			r.bases = g.outerBases(r.pos, inStride, r.bases)
			for r.p = p0; r.p < p1; r.p++ {
				body(r)
			}
		}
	})
}

// outerBases returns, in buf, the offsets of the input lines (all axes
// but the last) that the windows at pos cover.
func (g *poolGeom) outerBases(pos, inStride, buf []int) []int {
	buf = append(buf[:0], 0)
	for a := 0; a < len(pos)-1; a++ {
		f, n, d := g.first[a][pos[a]], g.count[a][pos[a]], g.axes[a].dil
		lines := len(buf)
		for i := 0; i < lines; i++ {
			for k := 0; k < n; k++ {
				buf = append(buf, buf[i]+(f+k*d)*inStride[a])
			}
		}
		// Keep the new lines, moved to the front so the buffer is reused.
		buf = buf[:copy(buf, buf[lines:])]
	}
	return buf
}

// runs yields, for every input line (by its plane offset) and last-axis
// tap of a row, the outputs [lo, hi) of the row whose tap is inside the
// input: output o reads line[o*stride+shift].
func (g *poolGeom) runs(r *row) iter.Seq2[int, tapRun] {
	return func(yield func(int, tapRun) bool) {
		for _, b := range r.bases {
			for _, t := range g.lastTaps {
				t.lo, t.hi = max(r.o0, t.lo), min(r.o1, t.hi)
				if t.lo < t.hi && !yield(b, t) {
					return
				}
			}
		}
	}
}

// inside returns the number of taps of output o of a run that fall inside
// the input.
func (g *poolGeom) inside(r *row, o int) int {
	return len(r.bases) * g.count[len(g.out)-1][o]
}

func buildMaxPool(b *ops.Build) (ops.Kernel, error) {
	w, err := parseWindow(b.Node)
	if err != nil {
		return nil, err
	}
	order, err := b.Node.AttrInt("storage_order", 0)
	if err != nil {
		return nil, err
	}
	if order != 0 && order != 1 {
		return nil, fmt.Errorf("storage_order %d must be 0 or 1", order)
	}
	wantIdx := wantOutput(b.Node, 1)
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, err := ops.NeedInput(in, 0, "X")
		if err != nil {
			return nil, err
		}
		g, err := w.poolGeometry(x.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(x.DType, g.outShape(x.Shape)...)
		if err != nil {
			return nil, err
		}
		var idx []int64
		var it *tensor.Tensor
		if wantIdx {
			if it, err = c.Alloc(tensor.Int64, y.Shape...); err != nil {
				return nil, err
			}
			idx = it.I64()
		}
		p, flat := g.as2D()
		switch xd := x.Data.(type) {
		case []float32:
			if flat && idx == nil {
				maxPool2D(c, g, &p, xd, y.F32())
				break
			}
			maxPool(c, g, xd, y.F32(), idx, order == 1)
		case []float64:
			maxPool(c, g, xd, y.Data.([]float64), idx, order == 1)
		case []int8:
			maxPool(c, g, xd, y.Data.([]int8), idx, order == 1)
		case []uint8:
			maxPool(c, g, xd, y.Data.([]uint8), idx, order == 1)
		default:
			return nil, fmt.Errorf("MaxPool does not support element type %v", x.DType)
		}
		return ops.Outs(y, it)
	}), nil
}

// ordered is the element types MaxPool compares.
type ordered interface {
	~float32 | ~float64 | ~int8 | ~uint8
}

// lowest returns the smallest finite value of T: the result of a window
// that lies wholly in the padding.
func lowest[T ordered]() T {
	var z T
	var v any
	switch any(z).(type) {
	case float32:
		v = float32(-math.MaxFloat32)
	case float64:
		v = -math.MaxFloat64
	case int8:
		v = int8(math.MinInt8)
	default:
		v = z
	}
	return v.(T)
}

// maxPool takes the maximum of each window (the first one on ties) and,
// when idx is not nil, records where it was as an index into the whole
// input tensor: row-major over the spatial dims, or column-major when
// colMajor (storage_order 1).
func maxPool[T ordered](c *ops.Ctx, g *poolGeom, x, y []T, idx []int64, colMajor bool) {
	plane, cols, st := product(g.in), product(g.out), g.axes[len(g.axes)-1].stride
	low := lowest[T]()
	g.slideRows(c, func(r *row) {
		xp := x[r.p*plane : (r.p+1)*plane]
		yr := y[r.p*cols+r.j : r.p*cols+r.j+r.o1-r.o0]
		for i := range yr {
			yr[i] = low
		}
		if idx == nil {
			for b, t := range g.runs(r) {
				line := xp[b:]
				for o := t.lo; o < t.hi; o++ {
					if v := line[o*st+t.shift]; v > yr[o-r.o0] {
						yr[o-r.o0] = v
					}
				}
			}
			return
		}
		// Taps come in row-major window order, so the strict > keeps
		// the first of equal maxima.
		ir := idx[r.p*cols+r.j : r.p*cols+r.j+r.o1-r.o0]
		for i := range ir {
			ir[i] = -1
		}
		for b, t := range g.runs(r) {
			line := xp[b:]
			for o := t.lo; o < t.hi; o++ {
				if v := line[o*st+t.shift]; ir[o-r.o0] < 0 || v > yr[o-r.o0] {
					yr[o-r.o0], ir[o-r.o0] = v, int64(b+o*st+t.shift)
				}
			}
		}
		for i, at := range ir {
			switch {
			case at < 0:
			case colMajor:
				ir[i] = int64(r.p*plane + columnMajor(int(at), g.in))
			default:
				ir[i] = int64(r.p*plane) + at
			}
		}
	})
}

// columnMajor converts a row-major flat index in shape to its column-major
// counterpart.
func columnMajor(i int, shape []int) int {
	out, acc := 0, 1
	st := product(shape)
	for _, d := range shape {
		st /= d
		out += (i / st % d) * acc
		acc *= d
	}
	return out
}

func buildAveragePool(b *ops.Build) (ops.Kernel, error) {
	w, err := parseWindow(b.Node)
	if err != nil {
		return nil, err
	}
	cip, err := b.Node.AttrInt("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, xd, err := float32In(in, 0, "X")
		if err != nil {
			return nil, err
		}
		g, err := w.poolGeometry(x.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(tensor.Float32, g.outShape(x.Shape)...)
		if err != nil {
			return nil, err
		}
		yd := y.F32()
		var padded [][]int
		if cip != 0 {
			padded = g.paddedCounts()
		}
		if p, flat := g.as2D(); flat {
			avgPool2D(c, g, &p, xd, yd, padded)
			return ops.Outs(y)
		}
		avgPool(c, g, xd, yd, padded)
		return ops.Outs(y)
	}), nil
}

// avgPool is the generic AveragePool of any rank (the reference of
// avgPool2D); padded holds the count_include_pad divisors, or is nil.
func avgPool(c *ops.Ctx, g *poolGeom, xd, yd []float32, padded [][]int) {
	plane, cols := product(g.in), product(g.out)
	last, st := len(g.out)-1, g.axes[len(g.axes)-1].stride
	g.slideRows(c, func(r *row) {
		xp := xd[r.p*plane : (r.p+1)*plane]
		yr := yd[r.p*cols+r.j : r.p*cols+r.j+r.o1-r.o0]
		clear(yr)
		for b, t := range g.runs(r) {
			line := xp[b:]
			for o := t.lo; o < t.hi; o++ {
				yr[o-r.o0] += line[o*st+t.shift]
			}
		}
		outer := 1 // padded count of the outer axes
		if padded != nil {
			for a, i := range r.pos[:last] {
				outer *= padded[a][i]
			}
		}
		for i := range yr {
			n := g.inside(r, r.o0+i)
			if padded != nil {
				n = outer * padded[last][r.o0+i]
			}
			yr[i] /= float32(n)
		}
	})
}

// paddedCounts returns, per axis and output index, how many taps fall
// inside the padded input (the divisor of count_include_pad; taps a
// ceil_mode window puts beyond the trailing padding do not count).
func (g *poolGeom) paddedCounts() [][]int {
	out := make([][]int, len(g.axes))
	for a, ax := range g.axes {
		out[a] = make([]int, ax.out)
		for o := range out[a] {
			for q := 0; q < ax.k; q++ {
				if x := o*ax.stride - ax.padB + q*ax.dil; x >= -ax.padB && x < ax.in+ax.padE {
					out[a][o]++
				}
			}
		}
	}
	return out
}

// parseP reads the p attribute of the Lp pools: an int, or a float in
// LpPool-1 models.
func parseP(n *graph.Node) (float64, error) {
	p := 2.0
	if a, ok := n.Attrs["p"]; ok {
		switch a.Kind {
		case graph.AttrInt:
			p = float64(a.Int)
		case graph.AttrFloat:
			p = float64(a.Float)
		default:
			return 0, fmt.Errorf("attribute p is %v, want int", a.Kind)
		}
	}
	if !(p > 0) || math.IsInf(p, 0) {
		return 0, fmt.Errorf("p %v must be positive", p)
	}
	return p, nil
}

// lpTerm is one element's share |v|^p of an Lp norm; lpRoot finishes it.
func lpTerm(v float32, p float64) float64 {
	if p == 2 {
		return float64(v) * float64(v)
	}
	return math.Pow(math.Abs(float64(v)), p)
}

func lpRoot(s, p float64) float32 {
	if p == 2 {
		return float32(math.Sqrt(s))
	}
	return float32(math.Pow(s, 1/p))
}

func buildLpPool(b *ops.Build) (ops.Kernel, error) {
	w, err := parseWindow(b.Node)
	if err != nil {
		return nil, err
	}
	p, err := parseP(b.Node)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, xd, err := float32In(in, 0, "X")
		if err != nil {
			return nil, err
		}
		g, err := w.poolGeometry(x.Shape)
		if err != nil {
			return nil, err
		}
		y, err := c.Alloc(tensor.Float32, g.outShape(x.Shape)...)
		if err != nil {
			return nil, err
		}
		yd := y.F32()
		plane, cols := product(g.in), product(g.out)
		st := g.axes[len(g.axes)-1].stride
		g.slideRows(c, func(r *row) {
			xp := xd[r.p*plane : (r.p+1)*plane]
			yr := yd[r.p*cols+r.j : r.p*cols+r.j+r.o1-r.o0]
			clear(yr)
			for b, t := range g.runs(r) {
				line := xp[b:]
				for o := t.lo; o < t.hi; o++ {
					yr[o-r.o0] += float32(lpTerm(line[o*st+t.shift], p))
				}
			}
			for i, v := range yr {
				yr[i] = lpRoot(float64(v), p)
			}
		})
		return ops.Outs(y)
	}), nil
}

func inferPool(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) < 1 || !in[0].Ranked || len(in[0].Shape) < 3 {
		return nil, errNoShape
	}
	w, err := parseWindow(b.Node)
	if err != nil {
		return nil, err
	}
	if w.kernel == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	x := in[0].Shape
	spatial, err := w.inferDims(x[2:], w.kernel)
	if err != nil {
		return nil, err
	}
	shape := append([]graph.Dim{x[0], x[1]}, spatial...)
	out := []graph.Type{{DType: in[0].DType, Shape: shape, Ranked: true}}
	if b.Node.Op == "MaxPool" {
		out = append(out, graph.Type{DType: tensor.Int64, Shape: shape, Ranked: true})
	}
	return out, nil
}

// Global pools reduce each whole (n, c) plane to one value.
type globalKind uint8

const (
	globalMax globalKind = iota
	globalAvg
	globalLp
)

func buildGlobalPool(kind globalKind) func(b *ops.Build) (ops.Kernel, error) {
	return func(b *ops.Build) (ops.Kernel, error) {
		p := 2.0
		if kind == globalLp {
			var err error
			if p, err = parseP(b.Node); err != nil {
				return nil, err
			}
		}
		return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, err := ops.NeedInput(in, 0, "X")
			if err != nil {
				return nil, err
			}
			if len(x.Shape) < 3 {
				return nil, fmt.Errorf("input %v must be [N, C, spatial...]", x.Shape)
			}
			shape := []int{x.Shape[0], x.Shape[1]}
			for range x.Shape[2:] {
				shape = append(shape, 1)
			}
			y, err := c.Alloc(x.DType, shape...)
			if err != nil {
				return nil, err
			}
			planes, plane := x.Shape[0]*x.Shape[1], product(x.Shape[2:])
			if kind == globalMax {
				switch xd := x.Data.(type) {
				case []float32:
					globalMaxPool(c, xd, y.F32(), planes, plane)
				case []float64:
					globalMaxPool(c, xd, y.Data.([]float64), planes, plane)
				case []int8:
					globalMaxPool(c, xd, y.Data.([]int8), planes, plane)
				case []uint8:
					globalMaxPool(c, xd, y.Data.([]uint8), planes, plane)
				default:
					return nil, fmt.Errorf("GlobalMaxPool does not support element type %v", x.DType)
				}
				return ops.Outs(y)
			}
			xd, ok := x.Data.([]float32)
			if !ok {
				return nil, fmt.Errorf("unsupported element type %v", x.DType)
			}
			yd := y.F32()
			c.For(planes, max(1, 1<<14/max(plane, 1)), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					xp := xd[i*plane : (i+1)*plane]
					var s float64
					if kind == globalAvg {
						yd[i] = float32(kern.SumOf(xp) / float64(plane))
						continue
					}
					for _, v := range xp {
						s += lpTerm(v, p)
					}
					yd[i] = lpRoot(s, p)
				}
			})
			return ops.Outs(y)
		}), nil
	}
}

func globalMaxPool[T ordered](c *ops.Ctx, x, y []T, planes, plane int) {
	c.For(planes, max(1, 1<<14/max(plane, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xp := x[i*plane : (i+1)*plane]
			best := lowest[T]()
			for k, v := range xp {
				if k == 0 || v > best {
					best = v
				}
			}
			y[i] = best
		}
	})
}

func inferGlobalPool(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) < 1 || !in[0].Ranked || len(in[0].Shape) < 3 {
		return nil, errNoShape
	}
	x := in[0].Shape
	shape := []graph.Dim{x[0], x[1]}
	for range x[2:] {
		shape = append(shape, graph.Fixed(1))
	}
	return []graph.Type{{DType: in[0].DType, Shape: shape, Ranked: true}}, nil
}

// MaxUnpool scatters X into a zero tensor at the flat indices MaxPool
// reported.
func buildMaxUnpool(b *ops.Build) (ops.Kernel, error) {
	w, err := parseWindow(b.Node)
	if err != nil {
		return nil, err
	}
	if w.kernel == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, xd, err := float32In(in, 0, "X")
		if err != nil {
			return nil, err
		}
		it, err := ops.NeedInput(in, 1, "I")
		if err != nil {
			return nil, err
		}
		if !tensor.SameShape(it.Shape, x.Shape) {
			return nil, fmt.Errorf("indices I %v must have the shape of X %v", it.Shape, x.Shape)
		}
		idx, err := it.Ints()
		if err != nil {
			return nil, fmt.Errorf("indices I: %w", err)
		}
		natural, err := w.unpoolShape(x.Shape)
		if err != nil {
			return nil, err
		}
		shape, err := outputShapeInput(in, natural)
		if err != nil {
			return nil, err
		}
		y, err := c.AllocZero(tensor.Float32, shape...)
		if err != nil {
			return nil, err
		}
		// Indices address the natural unpooled shape; an explicit
		// output_shape holds it at its origin (zero beyond, cut off
		// where smaller).
		yd, limit := y.F32(), int64(product(natural))
		same := tensor.SameShape(shape, natural)
		yst := tensor.Strides(shape)
		for i, v := range xd {
			j := idx[i]
			if j < 0 || j >= limit {
				return nil, fmt.Errorf("index %d out of range for the unpooled shape %v", j, natural)
			}
			if same {
				yd[j] = v
				continue
			}
			off, inside := 0, true
			for a := len(natural) - 1; a >= 0; a-- {
				k := int(j % int64(natural[a]))
				j /= int64(natural[a])
				inside = inside && k < shape[a]
				off += k * yst[a]
			}
			if inside {
				yd[off] = v
			}
		}
		return ops.Outs(y)
	}), nil
}

// outputShapeInput returns MaxUnpool's optional output_shape input, or
// natural when it is absent.
func outputShapeInput(in []*tensor.Tensor, natural []int) ([]int, error) {
	if len(in) < 3 || in[2] == nil {
		return natural, nil
	}
	v, err := in[2].Ints()
	if err != nil {
		return nil, fmt.Errorf("output_shape: %w", err)
	}
	if len(v) != len(natural) {
		return nil, fmt.Errorf("output_shape %v must have rank %d", v, len(natural))
	}
	shape := ops.ToInts(v)
	if _, err := tensor.NumElements(shape); err != nil {
		return nil, err
	}
	return shape, nil
}

func inferMaxUnpool(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	if len(in) < 1 || !in[0].Ranked || len(in[0].Shape) < 3 {
		return nil, errNoShape
	}
	x := in[0].Shape
	out := graph.Type{DType: in[0].DType, Shape: make([]graph.Dim, len(x)), Ranked: true}
	if b.HasInput(2) {
		shape := b.Const(2)
		if shape == nil {
			for i := range out.Shape {
				out.Shape[i] = graph.Unknown
			}
			return []graph.Type{out}, nil
		}
		v, err := shape.Ints()
		if err != nil || len(v) != len(x) {
			return nil, fmt.Errorf("output_shape %v does not match input rank %d", shape.Shape, len(x))
		}
		for i, d := range v {
			out.Shape[i] = graph.Fixed(int(d))
		}
		return []graph.Type{out}, nil
	}
	w, err := parseWindow(b.Node)
	if err != nil {
		return nil, err
	}
	if w.kernel == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	sizes := make([]int, len(x))
	for i, d := range x {
		sizes[i] = max(int(d.Size), 1) // placeholder for unknown dims
	}
	natural, err := w.unpoolShape(sizes)
	if err != nil {
		return nil, err
	}
	for i, d := range x {
		out.Shape[i] = graph.Unknown
		switch {
		case i < 2:
			out.Shape[i] = d
		case d.Known():
			out.Shape[i] = graph.Fixed(natural[i])
		}
	}
	return []graph.Type{out}, nil
}

func inferMaxRoiPool(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	pooled, err := b.Node.AttrInts("pooled_shape", nil)
	if err != nil || len(pooled) != 2 || len(in) < 2 || !in[0].Ranked || !in[1].Ranked ||
		len(in[0].Shape) != 4 || len(in[1].Shape) != 2 {
		return nil, errNoShape
	}
	shape := []graph.Dim{in[1].Shape[0], in[0].Shape[1], graph.Fixed(int(pooled[0])), graph.Fixed(int(pooled[1]))}
	return []graph.Type{{DType: in[0].DType, Shape: shape, Ranked: true}}, nil
}

// unpoolShape is the shape MaxPool with these attributes would have been
// applied to.
func (w window) unpoolShape(x []int) ([]int, error) {
	if len(x) < 3 {
		return nil, fmt.Errorf("X %v must be [N, C, spatial...]", x)
	}
	strides, _, pb, pe, err := w.resolve(len(x)-2, w.kernel)
	if err != nil {
		return nil, err
	}
	shape := []int{x[0], x[1]}
	for i, n := range x[2:] {
		d := (n-1)*strides[i] + w.kernel[i] - pb[i] - pe[i]
		if d < 0 {
			return nil, fmt.Errorf("negative output size on spatial axis %d", i)
		}
		shape = append(shape, d)
	}
	return shape, nil
}

// MaxRoiPool max-pools each region of interest into a fixed grid.
func buildMaxRoiPool(b *ops.Build) (ops.Kernel, error) {
	pooled, err := b.Node.AttrInts("pooled_shape", nil)
	if err != nil {
		return nil, err
	}
	if len(pooled) != 2 || pooled[0] < 1 || pooled[1] < 1 || pooled[0] > 1<<20 || pooled[1] > 1<<20 {
		return nil, fmt.Errorf("pooled_shape %v must be two positive sizes", pooled)
	}
	scale, err := b.Node.AttrFloat("spatial_scale", 1)
	if err != nil {
		return nil, err
	}
	ph, pw := int(pooled[0]), int(pooled[1])
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, xd, err := float32In(in, 0, "X")
		if err != nil {
			return nil, err
		}
		rt, rd, err := float32In(in, 1, "rois")
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 4 || len(rt.Shape) != 2 || rt.Shape[1] != 5 {
			return nil, fmt.Errorf("want X [N, C, H, W] and rois [R, 5], got %v and %v", x.Shape, rt.Shape)
		}
		n, ch, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		rois := rt.Shape[0]
		y, err := c.Alloc(tensor.Float32, rois, ch, ph, pw)
		if err != nil {
			return nil, err
		}
		yd := y.F32()
		for r := 0; r < rois; r++ {
			if bi := rd[r*5]; bi < 0 || int(bi) >= n {
				return nil, fmt.Errorf("roi %d: batch index %v out of range [0, %d)", r, bi, n)
			}
		}
		c.For(rois*ch, 1, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				r, k := t/ch, t%ch
				roi := rd[r*5 : r*5+5]
				// Region corners in input pixels, rounded half away
				// from zero; a region is at least one pixel.
				x0 := int(math.Round(float64(roi[1] * scale)))
				y0 := int(math.Round(float64(roi[2] * scale)))
				x1 := int(math.Round(float64(roi[3] * scale)))
				y1 := int(math.Round(float64(roi[4] * scale)))
				binH := float64(max(y1-y0+1, 1)) / float64(ph)
				binW := float64(max(x1-x0+1, 1)) / float64(pw)
				xp := xd[(int(roi[0])*ch+k)*h*w:]
				out := yd[t*ph*pw : (t+1)*ph*pw]
				for i := 0; i < ph; i++ {
					hs := clampInt(int(math.Floor(float64(i)*binH))+y0, 0, h)
					he := clampInt(int(math.Ceil(float64(i+1)*binH))+y0, 0, h)
					for j := 0; j < pw; j++ {
						ws := clampInt(int(math.Floor(float64(j)*binW))+x0, 0, w)
						we := clampInt(int(math.Ceil(float64(j+1)*binW))+x0, 0, w)
						best := float32(0)
						if he > hs && we > ws {
							best = float32(-math.MaxFloat32)
							for yy := hs; yy < he; yy++ {
								for _, v := range xp[yy*w+ws : yy*w+we] {
									best = max(best, v)
								}
							}
						}
						out[i*pw+j] = best
					}
				}
			}
		})
		return ops.Outs(y)
	}), nil
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }
