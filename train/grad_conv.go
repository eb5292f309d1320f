package train

import (
	"fmt"

	"stride/graph"
	"stride/internal/gemm"
	"stride/internal/kern"
	"stride/ops"
	"stride/tensor"
)

// Convolution and its transpose, forward and backward, as Caffe computes
// them: the patch matrix (im2col) of a chunk of images times the weights,
// all three products through the packed GEMM. A chunk holds as many images
// as fit a bounded patch matrix, so the products are wide; when the whole
// batch fits, the forward pass's patch matrix is kept for the weight
// gradient.
//
//	forward:   Y  = W · col(X)                   (per group)
//	weights:   dW += dY · col(X)ᵀ
//	data:      dX += col2im(Wᵀ · dY)

// colBudget bounds the patch matrix of one chunk, in floats: about 1 MB,
// so it stays in cache between the product that writes it and the one (or
// col2im) that reads it.
var colBudget = 1 << 18

type convAttrs struct {
	kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr         int
	group                  int
	autoPad                string
	outPad                 [2]int
}

func parseConvAttrs(n *graph.Node, transposed bool) (*convAttrs, error) {
	get := func(name string) ([]int64, error) { return n.AttrInts(name, nil) }
	k, err := get("kernel_shape")
	if err != nil {
		return nil, err
	}
	strides, err := get("strides")
	if err != nil {
		return nil, err
	}
	pads, err := get("pads")
	if err != nil {
		return nil, err
	}
	dil, err := get("dilations")
	if err != nil {
		return nil, err
	}
	group, err := n.AttrInt("group", 1)
	if err != nil {
		return nil, err
	}
	ap, err := n.AttrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	a := &convAttrs{kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, group: int(group), autoPad: ap}
	if a.group < 1 {
		return nil, fmt.Errorf("group must be positive")
	}
	r := len(k)
	if r > 2 {
		return nil, fmt.Errorf("training supports 1-D and 2-D convolutions, kernel_shape is %v", k)
	}
	at := func(v []int64, i int, def int) int {
		if i >= 0 && i < len(v) {
			return int(v[i])
		}
		return def
	}
	if r > 0 {
		a.kw, a.sw, a.dw = at(k, r-1, 1), at(strides, r-1, 1), at(dil, r-1, 1)
		a.pl, a.pr = at(pads, r-1, 0), at(pads, 2*r-1, 0)
	}
	if r == 2 {
		a.kh, a.sh, a.dh = at(k, 0, 1), at(strides, 0, 1), at(dil, 0, 1)
		a.pt, a.pb = at(pads, 0, 0), at(pads, 2, 0)
	}
	if transposed {
		op, err := get("output_padding")
		if err != nil {
			return nil, err
		}
		if r > 0 {
			a.outPad[1] = at(op, r-1, 0)
		}
		if r == 2 {
			a.outPad[0] = at(op, 0, 0)
		}
		if os, _ := get("output_shape"); os != nil {
			return nil, fmt.Errorf("output_shape is not supported in training; give pads")
		}
	}
	switch ap {
	case "NOTSET", "", "VALID":
		if ap == "VALID" {
			a.pt, a.pl, a.pb, a.pr = 0, 0, 0, 0
		}
	default:
		if transposed {
			return nil, fmt.Errorf("auto_pad %s is not supported for ConvTranspose in training", ap)
		}
	}
	return a, nil
}

// view returns N, C, H, W of a 3-D (1-D conv) or 4-D input.
func view4(shape []int) (n, c, h, w int, err error) {
	switch len(shape) {
	case 3:
		return shape[0], shape[1], 1, shape[2], nil
	case 4:
		return shape[0], shape[1], shape[2], shape[3], nil
	}
	return 0, 0, 0, 0, fmt.Errorf("training supports 1-D and 2-D convolutions, input shape is %v", shape)
}

// samePads resolves SAME_UPPER/SAME_LOWER for one axis.
func samePads(in, k, s, d int, upper bool) (int, int) {
	out := (in + s - 1) / s
	total := max(0, (out-1)*s+(k-1)*d+1-in)
	if upper {
		return total / 2, total - total/2
	}
	return total - total/2, total / 2
}

// convOp is a (grouped, strided, padded, dilated) convolution. The batch
// is cut into chunks of images; with several threads each thread (lane)
// works through its own chunks with its own buffers and serial products,
// so the threads meet once per layer rather than once per product. The
// lanes' weight gradients are summed in lane order, so results do not
// depend on scheduling.
type convOp struct {
	a    *convAttrs
	g    patchGeom
	n, m int
	// Per lane: the patch matrix, the output/gradient in channel-major
	// layout, and the partial weight and bias gradients.
	lanes []convLane
}

type convLane struct {
	col, tmp, dw, db []float32
}

func newConvOp(n *graph.Node, _ []*tensor.Tensor, _ Mode) (Op, error) {
	a, err := parseConvAttrs(n, false)
	if err != nil {
		return nil, err
	}
	return &convOp{a: a}, nil
}

// setup resolves the geometry for input x and weights w.
func (o *convOp) setup(x, w []int) error {
	n, c, h, wd, err := view4(x)
	if err != nil {
		return err
	}
	a := o.a
	if len(w) != len(x) {
		return fmt.Errorf("weights %v do not match input %v", w, x)
	}
	if c%a.group != 0 || w[0]%a.group != 0 || w[1] != c/a.group {
		return fmt.Errorf("weights %v do not fit %d input channels in %d groups", w, c, a.group)
	}
	kh, kw := 1, w[len(w)-1]
	if len(w) == 4 {
		kh = w[2]
	}
	pt, pl, pb, pr := a.pt, a.pl, a.pb, a.pr
	if a.autoPad == "SAME_UPPER" || a.autoPad == "SAME_LOWER" {
		up := a.autoPad == "SAME_UPPER"
		pt, pb = samePads(h, kh, a.sh, a.dh, up)
		pl, pr = samePads(wd, kw, a.sw, a.dw, up)
	}
	g := patchGeom{c: c, h: h, w: wd, kh: kh, kw: kw, sh: a.sh, sw: a.sw, ph: pt, pw: pl, dh: a.dh, dw: a.dw}
	g.oh = (h+pt+pb-((kh-1)*a.dh+1))/a.sh + 1
	g.ow = (wd+pl+pr-((kw-1)*a.dw+1))/a.sw + 1
	if g.oh < 1 || g.ow < 1 {
		return fmt.Errorf("kernel %dx%d does not fit the padded input %v", kh, kw, x)
	}
	o.g, o.n, o.m = g, n, w[0]
	return nil
}

// chunk returns the number of images per chunk.
func chunkImages(rows, cols, n int) int {
	per := max(1, rows*cols)
	return max(1, min(n, colBudget/per))
}

func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

func (o *convOp) outShape(x []int) []int {
	if len(x) == 3 {
		return []int{x[0], o.m, o.g.ow}
	}
	return []int{x[0], o.m, o.g.oh, o.g.ow}
}

// plan returns the images per chunk, the number of chunks and of lanes.
func (o *convOp) plan(threads int) (nb, chunks, lanes int) {
	nb = chunkImages(o.g.rows(), o.g.outSize(), o.n)
	chunks = (o.n + nb - 1) / nb
	lanes = max(1, min(threads, chunks))
	if len(o.lanes) < lanes {
		o.lanes = append(o.lanes, make([]convLane, lanes-len(o.lanes))...)
	}
	return nb, chunks, lanes
}

func serialTasks(n int, fn func(int)) {
	for t := 0; t < n; t++ {
		fn(t)
	}
}

// runner picks how a lane runs its loops: serially when lanes share the
// threads, else on the pool.
func laneRunner(lanes int, c *ops.Ctx) (func(int, func(int)), gemm.Runner) {
	if lanes > 1 {
		return serialTasks, nil
	}
	return c.Tasks, c.Tasks
}

func (o *convOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, w := in[0], in[1]
	if err := o.setup(x.Shape, w.Shape); err != nil {
		return nil, err
	}
	var bias []float32
	if len(in) > 2 && in[2] != nil {
		if in[2].Len() != o.m {
			return nil, fmt.Errorf("bias has %d values for %d outputs", in[2].Len(), o.m)
		}
		bias = in[2].F32()
	}
	y, err := f.Alloc(tensor.Float32, o.outShape(x.Shape)...)
	if err != nil {
		return nil, err
	}
	g := &o.g
	P, K, G := g.outSize(), g.rows(), o.a.group
	Kg, Mg := K/G, o.m/G
	nb, chunks, lanes := o.plan(f.Pool.Threads())
	tasks, run := laneRunner(lanes, f.Ctx)
	xd, wd, yd := x.F32(), w.F32(), y.F32()
	f.Tasks(lanes, func(l int) {
		ln := &o.lanes[l]
		for ch := l; ch < chunks; ch += lanes {
			i0 := ch * nb
			cnt := min(nb, o.n-i0)
			col := grow(&ln.col, K*cnt*P)
			g.im2col(xd[i0*g.inSize():], cnt, col, tasks)
			if cnt == 1 {
				// One image: the product is already in Y's layout.
				yi := yd[i0*o.m*P:]
				for gr := 0; gr < G; gr++ {
					var ep *gemm.Epilogue
					if bias != nil {
						ep = &gemm.Epilogue{Bias: bias[gr*Mg : (gr+1)*Mg], BiasPerRow: true}
					}
					gemm.Sgemm(false, false, Mg, P, Kg, 1, wd[gr*Mg*Kg:], Kg, col[gr*Kg*P:], P, 0, yi[gr*Mg*P:], P, ep, run)
				}
				continue
			}
			tmp := grow(&ln.tmp, o.m*cnt*P)
			for gr := 0; gr < G; gr++ {
				gemm.Sgemm(false, false, Mg, cnt*P, Kg, 1, wd[gr*Mg*Kg:], Kg, col[gr*Kg*cnt*P:], cnt*P, 0, tmp[gr*Mg*cnt*P:], cnt*P, nil, run)
			}
			fromChannelMajor(tmp, cnt, o.m, P, yd[i0*o.m*P:], bias, false, tasks)
		}
	})
	return []*tensor.Tensor{y}, nil
}

func (o *convOp) Backward(b *Bwd) error {
	x, w := b.In[0], b.In[1]
	g := &o.g
	P, K, G := g.outSize(), g.rows(), o.a.group
	Kg, Mg := K/G, o.m/G
	nb, chunks, lanes := o.plan(b.Pool.Threads())
	tasks, run := laneRunner(lanes, b.Ctx)
	xd, wd, dy := x.F32(), w.F32(), b.DY(0)
	var dx, dw, db []float32
	if b.Need(0) {
		dx = b.Grad(0)
	}
	if b.Need(1) {
		dw = b.Grad(1)
	}
	if len(b.In) > 2 && b.In[2] != nil && b.Need(2) {
		db = b.Grad(2)
	}
	b.Tasks(lanes, func(l int) {
		ln := &o.lanes[l]
		// Partial gradients of this lane (the only lane adds directly).
		ldw, ldb := dw, db
		if lanes > 1 {
			if dw != nil {
				ldw = grow(&ln.dw, len(dw))
				clear(ldw)
			}
			if db != nil {
				ldb = grow(&ln.db, len(db))
				clear(ldb)
			}
		}
		for ch := l; ch < chunks; ch += lanes {
			i0 := ch * nb
			cnt := min(nb, o.n-i0)
			var dT []float32
			if cnt == 1 {
				dT = dy[i0*o.m*P : (i0+1)*o.m*P]
			} else {
				dT = grow(&ln.tmp, o.m*cnt*P)
				toChannelMajor(dy[i0*o.m*P:], cnt, o.m, P, dT, tasks)
			}
			if ldb != nil {
				// Per image, then across images, as Caffe sums them.
				for img := 0; img < cnt; img++ {
					for m := 0; m < o.m; m++ {
						var s float32
						for _, v := range dy[((i0+img)*o.m+m)*P:][:P] {
							s += v
						}
						ldb[m] += s
					}
				}
			}
			if ldw != nil {
				col := grow(&ln.col, K*cnt*P)
				g.im2col(xd[i0*g.inSize():], cnt, col, tasks)
				for gr := 0; gr < G; gr++ {
					gemm.Sgemm(false, true, Mg, Kg, cnt*P, 1, dT[gr*Mg*cnt*P:], cnt*P, col[gr*Kg*cnt*P:], cnt*P, 1, ldw[gr*Mg*Kg:], Kg, nil, run)
				}
			}
			if dx != nil {
				dcol := grow(&ln.col, K*cnt*P)
				for gr := 0; gr < G; gr++ {
					gemm.Sgemm(true, false, Kg, cnt*P, Mg, 1, wd[gr*Mg*Kg:], Kg, dT[gr*Mg*cnt*P:], cnt*P, 0, dcol[gr*Kg*cnt*P:], cnt*P, nil, run)
				}
				g.col2im(dcol, cnt, dx[i0*g.inSize():], tasks)
			}
		}
	})
	if lanes > 1 {
		for l := 0; l < lanes; l++ {
			if dw != nil {
				kern.Apply(kern.Add, dw, dw, o.lanes[l].dw[:len(dw)])
			}
			if db != nil {
				kern.Apply(kern.Add, db, db, o.lanes[l].db[:len(db)])
			}
		}
	}
	return nil
}

// deconvOp is the transposed convolution (Caffe Deconvolution): the
// adjoint of a convolution from the output's space to the input's.
type deconvOp struct {
	a        *convAttrs
	g        patchGeom // the convolution from y's space (h, w) to x's (oh, ow)
	n, cin   int
	m        int
	col, tmp []float32
}

func newDeconvOp(n *graph.Node, _ []*tensor.Tensor, _ Mode) (Op, error) {
	a, err := parseConvAttrs(n, true)
	if err != nil {
		return nil, err
	}
	return &deconvOp{a: a}, nil
}

func (o *deconvOp) setup(x, w []int) error {
	n, c, h, wd, err := view4(x)
	if err != nil {
		return err
	}
	a := o.a
	if len(w) != len(x) || w[0] != c || c%a.group != 0 {
		return fmt.Errorf("weights %v do not fit input %v in %d groups", w, x, a.group)
	}
	kh, kw := 1, w[len(w)-1]
	if len(w) == 4 {
		kh = w[2]
	}
	m := w[1] * a.group
	oh := (h-1)*a.sh - a.pt - a.pb + (kh-1)*a.dh + 1 + a.outPad[0]
	ow := (wd-1)*a.sw - a.pl - a.pr + (kw-1)*a.dw + 1 + a.outPad[1]
	if oh < 1 || ow < 1 {
		return fmt.Errorf("output size %dx%d is not positive", oh, ow)
	}
	o.g = patchGeom{c: m, h: oh, w: ow, kh: kh, kw: kw, sh: a.sh, sw: a.sw, ph: a.pt, pw: a.pl, dh: a.dh, dw: a.dw, oh: h, ow: wd}
	o.n, o.cin, o.m = n, c, m
	return nil
}

func (o *deconvOp) outShape(x []int) []int {
	if len(x) == 3 {
		return []int{x[0], o.m, o.g.w}
	}
	return []int{x[0], o.m, o.g.h, o.g.w}
}

func (o *deconvOp) Forward(f *Fwd, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, w := in[0], in[1]
	if err := o.setup(x.Shape, w.Shape); err != nil {
		return nil, err
	}
	y, err := f.Alloc(tensor.Float32, o.outShape(x.Shape)...)
	if err != nil {
		return nil, err
	}
	g := &o.g
	P, K, G := g.outSize(), g.rows(), o.a.group // P: input positions, K: m*kh*kw
	Kg, Cg := K/G, o.cin/G
	nb := chunkImages(K, P, o.n)
	xd, wd, yd := x.F32(), w.F32(), y.F32()
	clear(yd)
	run := f.Run()
	for i0 := 0; i0 < o.n; i0 += nb {
		cnt := min(nb, o.n-i0)
		xT := grow(&o.tmp, o.cin*cnt*P)
		toChannelMajor(xd[i0*o.cin*P:], cnt, o.cin, P, xT, f.Tasks)
		col := grow(&o.col, K*cnt*P)
		for gr := 0; gr < G; gr++ {
			gemm.Sgemm(true, false, Kg, cnt*P, Cg, 1, wd[gr*Cg*Kg:], Kg, xT[gr*Cg*cnt*P:], cnt*P, 0, col[gr*Kg*cnt*P:], cnt*P, nil, run)
		}
		g.col2im(col, cnt, yd[i0*g.inSize():], f.Tasks)
	}
	if len(in) > 2 && in[2] != nil {
		bias := in[2].F32()
		plane := g.h * g.w
		f.Tasks(o.n*o.m, func(t int) {
			v := bias[t%o.m]
			for i := t * plane; i < (t+1)*plane; i++ {
				yd[i] += v
			}
		})
	}
	return []*tensor.Tensor{y}, nil
}

func (o *deconvOp) Backward(b *Bwd) error {
	x, w := b.In[0], b.In[1]
	g := &o.g
	P, K, G := g.outSize(), g.rows(), o.a.group
	Kg, Cg := K/G, o.cin/G
	nb := chunkImages(K, P, o.n)
	xd, wd, dy := x.F32(), w.F32(), b.DY(0)
	run := b.Run()
	if len(b.In) > 2 && b.In[2] != nil && b.Need(2) {
		db := b.Grad(2)
		plane := g.h * g.w
		for t := 0; t < o.n*o.m; t++ {
			var s float32
			for _, v := range dy[t*plane : (t+1)*plane] {
				s += v
			}
			db[t%o.m] += s
		}
	}
	if !b.Need(0) && !b.Need(1) {
		return nil
	}
	for i0 := 0; i0 < o.n; i0 += nb {
		cnt := min(nb, o.n-i0)
		dcol := grow(&o.col, K*cnt*P)
		g.im2col(dy[i0*g.inSize():], cnt, dcol, b.Tasks)
		if b.Need(1) {
			xT := grow(&o.tmp, o.cin*cnt*P)
			toChannelMajor(xd[i0*o.cin*P:], cnt, o.cin, P, xT, b.Tasks)
			dw := b.Grad(1)
			for gr := 0; gr < G; gr++ {
				gemm.Sgemm(false, true, Cg, Kg, cnt*P, 1, xT[gr*Cg*cnt*P:], cnt*P, dcol[gr*Kg*cnt*P:], cnt*P, 1, dw[gr*Cg*Kg:], Kg, nil, run)
			}
		}
		if b.Need(0) {
			dxT := grow(&o.tmp, o.cin*cnt*P)
			for gr := 0; gr < G; gr++ {
				gemm.Sgemm(false, false, Cg, cnt*P, Kg, 1, wd[gr*Cg*Kg:], Kg, dcol[gr*Kg*cnt*P:], cnt*P, 0, dxT[gr*Cg*cnt*P:], cnt*P, nil, run)
			}
			fromChannelMajor(dxT, cnt, o.cin, P, b.Grad(0)[i0*o.cin*P:], nil, true, b.Tasks)
		}
	}
	return nil
}
