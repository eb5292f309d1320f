package nn

import (
	"fmt"
	"slices"
	"sync"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(
		&ops.Def{Op: "Conv", Build: buildConv, Infer: inferConv},
		&ops.Def{Op: "ConvTranspose", Build: buildConvTranspose, Infer: inferConvTranspose},
	)
}

// colBudget bounds the im2col / col2im scratch matrix (in float32s) that
// one task holds: large convolutions are processed in column chunks.
const colBudget = 1 << 18

// scratch recycles the chunk buffers of im2col and col2im.
var scratch sync.Pool

func getScratch(n int) *[]float32 {
	if p, ok := scratch.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

type convAttrs struct {
	window
	group int
	// ConvTranspose only.
	outputPadding []int
	outputShape   []int
}

func parseConv(n *graph.Node, transposed bool) (convAttrs, error) {
	var a convAttrs
	var err error
	if a.window, err = parseWindow(n); err != nil {
		return a, err
	}
	g, err := n.AttrInt("group", 1)
	if err != nil {
		return a, err
	}
	if g < 1 || g > 1<<31 {
		return a, fmt.Errorf("group %d must be positive", g)
	}
	a.group = int(g)
	if !transposed {
		return a, nil
	}
	for _, f := range []struct {
		name string
		dst  *[]int
	}{{"output_padding", &a.outputPadding}, {"output_shape", &a.outputShape}} {
		v, err := n.AttrInts(f.name, nil)
		if err != nil {
			return a, err
		}
		for _, x := range v {
			if x < 0 || x > 1<<31 {
				return a, fmt.Errorf("%s %v: value %d out of range", f.name, v, x)
			}
		}
		if v != nil {
			*f.dst = ops.ToInts(v)
		}
	}
	return a, nil
}

// convGeom is a convolution resolved against concrete shapes.
type convGeom struct {
	n, c, m, g int
	cg, mg     int // input and output channels per group
	in, out    []int
	kernel     []int
	kk         int // taps per kernel
	axes       []axis
}

// geometry checks X, W (and the bias) and resolves output sizes. For
// ConvTranspose W is [C, M/group, k...], else [M, C/group, k...].
func (a convAttrs) geometry(x, w []int, bias *tensor.Tensor, transposed bool) (*convGeom, error) {
	if len(x) < 3 || len(w) != len(x) {
		return nil, fmt.Errorf("X %v and W %v must both be [N, C, spatial...] with at least one spatial dim", x, w)
	}
	g := &convGeom{n: x[0], c: x[1], g: a.group, in: x[2:], kernel: w[2:]}
	if a.kernel != nil && !slices.Equal(a.kernel, g.kernel) {
		return nil, fmt.Errorf("kernel_shape %v does not match W %v", a.kernel, w)
	}
	if g.c%g.g != 0 {
		return nil, fmt.Errorf("%d input channels do not divide into %d groups", g.c, g.g)
	}
	g.cg = g.c / g.g
	if transposed {
		if w[0] != g.c {
			return nil, fmt.Errorf("W %v: first dim must equal the %d input channels", w, g.c)
		}
		g.mg = w[1]
		g.m = g.mg * g.g
	} else {
		if w[1] != g.cg {
			return nil, fmt.Errorf("W %v: second dim must be %d (input channels %d / group %d)", w, g.cg, g.c, g.g)
		}
		if w[0]%g.g != 0 {
			return nil, fmt.Errorf("W %v: %d output channels do not divide into %d groups", w, w[0], g.g)
		}
		g.m = w[0]
		g.mg = g.m / g.g
	}
	if bias != nil && (len(bias.Shape) != 1 || bias.Shape[0] != g.m) {
		return nil, fmt.Errorf("bias B %v must be [%d]", bias.Shape, g.m)
	}
	g.kk = product(g.kernel)
	var err error
	if transposed {
		g.axes, err = a.transposedAxes(g.in, g.kernel)
	} else {
		g.axes, err = a.axes(g.in, g.kernel)
	}
	if err != nil {
		return nil, err
	}
	g.out = outSizes(g.axes)
	return g, nil
}

// transposedAxes resolves ConvTranspose output sizes and padding: from
// output_shape or auto_pad SAME_* (pads derived from the total), else from
// the pads.
func (a convAttrs) transposedAxes(in, kernel []int) ([]axis, error) {
	r := len(in)
	strides, dils, pb, pe, err := a.resolve(r, kernel)
	if err != nil {
		return nil, err
	}
	outPad := a.outputPadding
	if outPad == nil {
		outPad = make([]int, r)
	}
	if len(outPad) != r {
		return nil, fmt.Errorf("output_padding %v: want %d values", outPad, r)
	}
	outShape := a.outputShape
	if len(outShape) == r+2 {
		outShape = outShape[2:] // some exporters give the full shape
	}
	if outShape != nil && len(outShape) != r {
		return nil, fmt.Errorf("output_shape %v: want %d values", a.outputShape, r)
	}
	axes := make([]axis, r)
	for i := range axes {
		ax := axis{in: in[i], k: kernel[i], stride: strides[i], dil: dils[i]}
		if ax.in < 0 { // unknown dim (shape rules)
			ax.out = -1
			if outShape != nil {
				ax.out = outShape[i]
			}
			axes[i] = ax
			continue
		}
		full := ax.stride*(ax.in-1) + outPad[i] + ax.span()
		switch {
		case outShape != nil || a.autoPad.same():
			ax.out = ax.in * ax.stride
			if outShape != nil {
				ax.out = outShape[i]
			}
			total := full - ax.out
			half := floorDiv(total, 2)
			if a.autoPad == padSameUpper {
				ax.padB, ax.padE = half, total-half
			} else {
				ax.padB, ax.padE = total-half, half
			}
		case a.autoPad == padValid:
			ax.out = full
		default:
			ax.padB, ax.padE = pb[i], pe[i]
			ax.out = full - ax.padB - ax.padE
		}
		if ax.out < 0 {
			return nil, fmt.Errorf("output size %d < 0 on spatial axis %d", ax.out, i)
		}
		axes[i] = ax
	}
	return axes, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// convKernel is a prepared Conv or FusedConv node.
type convKernel struct {
	attrs convAttrs
	act   fusedAct
	// zIn is the input index of the residual Z (FusedConv), or -1.
	zIn int
	// packed holds W packed for the GEMM when W is a constant (nil
	// otherwise, or when the node takes another path).
	packed *packedWeights
	// wino holds W transformed for Winograd F(4x4, 3x3) when W is a
	// constant and the convolution qualifies.
	wino *winoWeights
}

func buildConv(b *ops.Build) (ops.Kernel, error) { return newConvKernel(b, false) }

func buildFusedConv(b *ops.Build) (ops.Kernel, error) { return newConvKernel(b, true) }

func newConvKernel(b *ops.Build, fused bool) (*convKernel, error) {
	a, err := parseConv(b.Node, false)
	if err != nil {
		return nil, err
	}
	k := &convKernel{attrs: a, zIn: -1}
	if fused {
		if k.act, err = parseFusedAct(b.Node); err != nil {
			return nil, err
		}
		k.zIn = 3
	}
	w := b.Const(1)
	if w == nil || !w.DType.IsFloat() || len(w.Shape) < 3 || convMethodFor(len(w.Shape)-2, w.Shape[1], a.group) != methodPacked {
		return k, nil
	}
	// Kernels compute in float32 (the runtime widens 16-bit and float64
	// inputs), so the weights are packed as float32.
	if w.DType != tensor.Float32 {
		w = tensor.ToFloat32(w)
	}
	if winogradFits(a, w.Shape) {
		k.wino = packWinograd(w)
		if winogradAlways(b, a, w.Shape) {
			// The GEMM form would never run; should the input
			// differ from its declared shape after all, it is
			// packed per run.
			return k, nil
		}
	}
	if k.packed, err = packWeights(w, a.group); err != nil {
		return nil, err
	}
	return k, nil
}

// convMethod is the algorithm a convolution runs with.
type convMethod uint8

const (
	methodIm2col    convMethod = iota // explicit patch matrix (any rank)
	methodPacked                      // packed weights, implicit im2col
	methodDepthwise                   // direct loops, one input channel per group
)

// convMethodFor picks the algorithm from the spatial rank, the input
// channels per group and the group count (all known from W's shape).
func convMethodFor(rank, cg, group int) convMethod {
	switch {
	case rank > 2:
		return methodIm2col
	case cg == 1 && group > 1:
		return methodDepthwise
	}
	return methodPacked
}

func (k *convKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, w, bias, err := convInputs(in)
	if err != nil {
		return nil, err
	}
	g, err := k.attrs.geometry(x.Shape, w.Shape, bias, false)
	if err != nil {
		return nil, err
	}
	shape := append([]int{g.n, g.m}, g.out...)
	var zd []float32
	if k.zIn >= 0 && len(in) > k.zIn && in[k.zIn] != nil {
		z, d, err := float32In(in, k.zIn, "Z")
		if err != nil {
			return nil, err
		}
		if !slices.Equal(z.Shape, shape) {
			return nil, fmt.Errorf("residual Z %v must have the output's shape %v", z.Shape, shape)
		}
		zd = d
	}
	y, err := c.Alloc(tensor.Float32, shape...)
	if err != nil {
		return nil, err
	}
	yd := y.F32()
	if len(yd) == 0 {
		return ops.Outs(y)
	}
	var bd []float32
	if bias != nil {
		bd = bias.F32()
	}
	method := convMethodFor(len(g.in), g.cg, g.g)
	if g.cg*g.kk == 0 {
		method = methodIm2col // no taps: Y is the bias
	}
	switch method {
	case methodDepthwise:
		convDepthwise(c, g, x.F32(), w.F32(), bd, zd, k.act, yd)
	case methodPacked:
		if k.wino != nil && useWinograd(g) {
			convWinograd(c, g, x.F32(), k.wino, bd, zd, k.act, yd)
			break
		}
		pw := k.packed
		if pw == nil {
			// W is computed at run time (or was only expected to
			// take Winograd): pack it for this call.
			if pw, err = packWeights(w, g.g); err != nil {
				return nil, err
			}
		}
		convPacked(c, g, x.F32(), pw, bd, zd, k.act, yd)
	default:
		convIm2col(c, g, x.F32(), w.F32(), bias, yd)
		k.act.finish(yd, zd)
	}
	return ops.Outs(y)
}

func buildConvTranspose(b *ops.Build) (ops.Kernel, error) {
	a, err := parseConv(b.Node, true)
	if err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		return a.convTranspose(c, in)
	}), nil
}

// convInputs fetches X, W and the optional bias.
func convInputs(in []*tensor.Tensor) (x, w, bias *tensor.Tensor, err error) {
	if x, _, err = float32In(in, 0, "X"); err != nil {
		return
	}
	if w, _, err = float32In(in, 1, "W"); err != nil {
		return
	}
	if len(in) > 2 && in[2] != nil {
		bias, _, err = float32In(in, 2, "B")
	}
	return
}

// initBias sets rows [m0, m0+rows) of y (row stride ld, columns j0..j1) to
// the bias, or to zero without one; the product then accumulates onto it.
func initBias(y []float32, ld, j0, j1 int, bias *tensor.Tensor, m0, rows int) {
	for r := 0; r < rows; r++ {
		row := y[r*ld+j0 : r*ld+j1]
		if bias == nil {
			clear(row)
			continue
		}
		v := bias.F32()[m0+r]
		for j := range row {
			row[j] = v
		}
	}
}

// convIm2col computes Y = W * X + B as, per image, group and chunk of
// output positions, an im2col patch matrix times the group's weights. It
// serves every rank (3-D convolutions in particular) and is the reference
// the fast paths are tested against.
func convIm2col(c *ops.Ctx, g *convGeom, xd, wd []float32, bias *tensor.Tensor, yd []float32) {
	cols, inPlane, k := product(g.out), product(g.in), g.cg*g.kk
	if cols == 0 || len(yd) == 0 {
		return
	}
	pointwise := g.kk == 1
	for _, ax := range g.axes {
		pointwise = pointwise && ax.stride == 1 && ax.padB == 0 && ax.padE == 0
	}
	nt := threads(c)
	// Chunks of output positions bound the patch matrix; with few images
	// and groups, more (smaller) chunks keep every thread busy.
	nChunks := 1
	if !pointwise {
		nChunks = (cols*k + colBudget - 1) / colBudget
	}
	if few := g.n * g.g * nChunks; few < 4*nt {
		nChunks = max(nChunks, min((4*nt+g.n*g.g-1)/(g.n*g.g), cols/64))
	}
	chunk := (cols + nChunks - 1) / nChunks
	nChunks = (cols + chunk - 1) / chunk
	units := g.n * g.g * nChunks
	unit := func(u int, run runner) {
		img, grp, ch := u/(g.g*nChunks), (u/nChunks)%g.g, u%nChunks
		xg := xd[(img*g.c+grp*g.cg)*inPlane:]
		wg := wd[grp*g.mg*k : (grp+1)*g.mg*k]
		yg := yd[(img*g.m+grp*g.mg)*cols:]
		j0 := ch * chunk
		j1 := min(j0+chunk, cols)
		initBias(yg, cols, j0, j1, bias, grp*g.mg, g.mg)
		if pointwise {
			matmul(run, false, false, g.mg, j1-j0, g.cg, 1, wg, k, xg[j0:], inPlane, 1, yg[j0:], cols)
			return
		}
		buf := getScratch((j1 - j0) * k)
		defer scratch.Put(buf)
		g.im2col(xg, j0, j1, *buf)
		matmul(run, false, false, g.mg, j1-j0, k, 1, wg, k, *buf, j1-j0, 1, yg[j0:], cols)
	}
	spread(c, units, unit)
}

// im2col writes the patch matrix of output positions [j0, j1) of one group
// into col: row (ci, q), for input channel ci and kernel tap q (row-major),
// holds the input element that tap reads at each position, 0 in the
// padding. Positions are walked as runs along the last axis, where the
// in-bounds stretch of every run is a plain strided copy.
func (g *convGeom) im2col(x []float32, j0, j1 int, col []float32) {
	r := len(g.out)
	last := g.axes[r-1]
	outLast, inLast := g.out[r-1], g.in[r-1]
	inPlane, cs := product(g.in), j1-j0
	inStride := tensor.Strides(g.in)
	kpos, lpos := make([]int, r), make([]int, r)
	for q := 0; q < g.kk; q++ {
		unflatten(q, g.kernel, kpos)
		// On the last axis, output o reads input o*stride + shift; the
		// outputs in [lo, hi) read inside the input.
		shift := kpos[r-1]*last.dil - last.padB
		lo := min(outLast, max(0, ceilDiv(-shift, last.stride)))
		hi := max(lo, min(outLast, ceilDiv(inLast-shift, last.stride)))
		for j := j0; j < j1; {
			unflatten(j, g.out, lpos)
			o0 := lpos[r-1]
			o1 := min(outLast, o0+j1-j)
			// Offset of the input line this run reads, if inside.
			base, inside := 0, true
			for a := 0; a < r-1; a++ {
				ax := g.axes[a]
				i := lpos[a]*ax.stride - ax.padB + kpos[a]*ax.dil
				inside = inside && i >= 0 && i < g.in[a]
				base += i * inStride[a]
			}
			from, to := max(o0, lo), min(o1, hi)
			for ci := 0; ci < g.cg; ci++ {
				seg := col[(ci*g.kk+q)*cs+j-j0:][:o1-o0]
				if !inside || from >= to {
					clear(seg)
					continue
				}
				xl := x[ci*inPlane+base:]
				clear(seg[:from-o0])
				dst := seg[from-o0 : to-o0]
				if last.stride == 1 {
					copy(dst, xl[from+shift:to+shift])
				} else {
					for o := range dst {
						dst[o] = xl[(from+o)*last.stride+shift]
					}
				}
				clear(seg[to-o0:])
			}
			j += o1 - o0
		}
	}
}

// ceilDiv is the ceiling of a/b for b > 0.
func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// convTranspose computes the transposed convolution: per image, group and
// chunk of input positions, the product of the input columns and the
// group's weights gives every output tap's contribution, which col2im adds
// into the output.
func (a convAttrs) convTranspose(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, w, bias, err := convInputs(in)
	if err != nil {
		return nil, err
	}
	g, err := a.geometry(x.Shape, w.Shape, bias, true)
	if err != nil {
		return nil, err
	}
	y, err := c.Alloc(tensor.Float32, append([]int{g.n, g.m}, g.out...)...)
	if err != nil {
		return nil, err
	}
	xd, wd, yd := x.F32(), w.F32(), y.F32()
	inCols, outPlane, km := product(g.in), product(g.out), g.mg*g.kk
	if len(yd) == 0 {
		return ops.Outs(y)
	}
	tp := newTaps(g.axes, g.in, g.out)
	chunk := min(max(inCols, 1), max(16, colBudget/max(km, 1)))
	units := g.n * g.g
	unit := func(u int, run runner) {
		img, grp := u/g.g, u%g.g
		xg := xd[(img*g.c+grp*g.cg)*inCols:]
		wg := wd[grp*g.cg*km : (grp+1)*g.cg*km]
		yg := yd[(img*g.m+grp*g.mg)*outPlane : (img*g.m+(grp+1)*g.mg)*outPlane]
		initBias(yg, outPlane, 0, outPlane, bias, grp*g.mg, g.mg)
		buf := getScratch(chunk * km)
		defer scratch.Put(buf)
		offs := make([]int, chunk*g.kk)
		pos := make([]int, len(g.in))
		for j0 := 0; j0 < inCols; j0 += chunk {
			j1 := min(j0+chunk, inCols)
			cs := j1 - j0
			col := (*buf)[:cs*km]
			matmul(run, true, false, cs, km, g.cg, 1, xg[j0:], inCols, wg, km, 0, col, km)
			unflatten(j0, g.in, pos)
			for j := 0; j < cs; j++ {
				tp.offsets(pos, offs[j*g.kk:(j+1)*g.kk])
				advance(pos, g.in)
			}
			// Output channels write disjoint planes, so they split
			// across tasks without races.
			run(g.mg, func(m int) {
				ym := yg[m*outPlane : (m+1)*outPlane]
				for j := 0; j < cs; j++ {
					r := col[j*km+m*g.kk : j*km+(m+1)*g.kk]
					for q, o := range offs[j*g.kk : (j+1)*g.kk] {
						if o >= 0 {
							ym[o] += r[q]
						}
					}
				}
			})
		}
	}
	spread(c, units, unit)
	return ops.Outs(y)
}

// inferConvLike is the shape rule of Conv and ConvTranspose: [N, M,
// spatial...] with M and the kernel taken from W's type.
func inferConvLike(b *ops.Build, in []graph.Type, transposed bool) ([]graph.Type, error) {
	if len(in) < 2 || !in[0].Ranked || !in[1].Ranked || len(in[0].Shape) < 3 || len(in[1].Shape) != len(in[0].Shape) {
		return nil, errNoShape
	}
	a, err := parseConv(b.Node, transposed)
	if err != nil {
		return nil, err
	}
	x, w := in[0].Shape, in[1].Shape
	kernel := a.kernel
	if kernel == nil {
		k, ok := knownDims(w[2:])
		if !ok {
			return nil, errNoShape
		}
		kernel = k
	}
	m := w[0]
	if transposed {
		m = graph.Unknown
		if w[1].Known() {
			m = graph.Fixed(int(w[1].Size) * a.group)
		}
	}
	var spatial []graph.Dim
	if transposed {
		sizes := make([]int, len(x)-2)
		for i, d := range x[2:] {
			sizes[i] = -1
			if d.Known() {
				sizes[i] = int(d.Size)
			}
		}
		axes, err := a.transposedAxes(sizes, kernel)
		if err != nil {
			return nil, err
		}
		for _, ax := range axes {
			d := graph.Unknown
			if ax.out >= 0 {
				d = graph.Fixed(ax.out)
			}
			spatial = append(spatial, d)
		}
	} else if spatial, err = a.window.inferDims(x[2:], kernel); err != nil {
		return nil, err
	}
	shape := append([]graph.Dim{x[0], m}, spatial...)
	return []graph.Type{{DType: in[0].DType, Shape: shape, Ranked: true}}, nil
}

func inferConv(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	return inferConvLike(b, in, false)
}

func inferConvTranspose(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	return inferConvLike(b, in, true)
}
