package nn

import (
	"math"

	"stride/internal/gemm"
	"stride/ops"
	"stride/tensor"
)

// Winograd F(4x4, 3x3) for 3x3, stride-1, undilated, ungrouped
// convolutions: each 4x4 tile of outputs comes from a 6x6 tile of inputs
// with 36 multiplies per (input, output) channel pair instead of 144:
//
//	Y = A^T [ sum_c (G g_mc G^T) .* (B^T d_c B) ] A
//
// The weights are transformed (U = G g G^T, 36 matrices of M x C) and
// packed for the GEMM once at load. Per run, input tiles are transformed
// (V, 36 matrices of C x tiles), multiplied as 36 GEMMs (U_xi * V_xi),
// and transformed back, with bias, residual and activation applied as the
// outputs are stored.
//
// Both transforms work on 16 tiles at a time along a row of tiles, in
// AVX-512 registers (winograd_amd64.s) or in their Go twins below. The
// input is first padded and split into 4 column phases (phase p holds
// padded columns p, p+4, ...), so that element (i, j) of 16 consecutive
// tiles is 16 consecutive floats; on the way out, the 4 output columns of
// 16 tiles interleave into 64 consecutive floats of an output row.

// winoTile is the output tile side; winoIn the input tile side.
const (
	winoTile = 4
	winoIn   = 6
	winoXi   = winoIn * winoIn // transformed points
	winoLane = 16              // tiles per transform call chunk
)

// winoScratch holds one 16-tile chunk between the two passes of a
// transform (36 vectors in, 24 out).
type winoScratch [winoXi * winoLane]float32

// Transform matrices of F(4x4, 3x3) with interpolation points 0, ±1, ±2
// and infinity.
var (
	winoG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	winoBT = [6][6]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoAT = [4][6]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// winoWeights is W transformed and packed: u[xi] is M x C.
type winoWeights struct {
	m, c int
	u    [winoXi]*gemm.PackedA
}

// winogradFits reports whether a convolution (given by W's shape and the
// attributes) can run as Winograd F(4x4, 3x3).
func winogradFits(a convAttrs, w []int) bool {
	if len(w) != 4 || w[2] != 3 || w[3] != 3 || a.group != 1 {
		return false
	}
	for _, v := range a.strides {
		if v != 1 {
			return false
		}
	}
	for _, v := range a.dilations {
		if v != 1 {
			return false
		}
	}
	// Few channels leave too little work per transformed tile.
	return w[0] >= 16 && w[1] >= 8
}

// packWinograd transforms W ([M, C, 3, 3], float32) and packs the 36
// matrices, six at a time (one row of the 6x6 grid) to bound the scratch.
func packWinograd(w *tensor.Tensor) *winoWeights {
	m, c := w.Shape[0], w.Shape[1]
	wd := w.F32()
	ww := &winoWeights{m: m, c: c}
	u := make([]float32, 6*m*c)
	for r := 0; r < 6; r++ {
		for o := 0; o < m; o++ {
			for i := 0; i < c; i++ {
				g := wd[(o*c+i)*9 : (o*c+i)*9+9]
				// Row r of G g (1x3), then times G^T: U[r][s].
				var t [3]float64
				for k := 0; k < 3; k++ {
					t[k] = winoG[r][0]*float64(g[k]) + winoG[r][1]*float64(g[3+k]) + winoG[r][2]*float64(g[6+k])
				}
				for s := 0; s < 6; s++ {
					v := t[0]*winoG[s][0] + t[1]*winoG[s][1] + t[2]*winoG[s][2]
					u[(s*m+o)*c+i] = float32(v)
				}
			}
		}
		for s := 0; s < 6; s++ {
			ww.u[r*6+s] = gemm.PackA(false, m, c, u[s*m*c:(s+1)*m*c], c)
		}
	}
	return ww
}

// winogradOn enables Winograd (tests switch it to compare paths).
var winogradOn = true

// useWinograd decides, for a qualifying convolution on concrete shapes,
// whether Winograd beats the direct GEMM: it needs enough tiles to fill
// the products, and not too much of each tile past the output's edge (a
// 13x13 output computes 16x16).
func useWinograd(g *convGeom) bool {
	if !winogradOn || len(g.out) != 2 {
		return false
	}
	th, tw := (g.out[0]+winoTile-1)/winoTile, (g.out[1]+winoTile-1)/winoTile
	computed := th * tw * winoTile * winoTile
	return g.n*th*tw >= 16 && 10*computed <= 14*g.out[0]*g.out[1]
}

// winogradAlways reports whether the node's declared input shape makes
// useWinograd true for any batch size, so the weights need no GEMM form.
func winogradAlways(b *ops.Build, a convAttrs, w []int) bool {
	if len(b.Types) == 0 || !b.Types[0].Ranked || len(b.Types[0].Shape) != 4 {
		return false
	}
	in, ok := knownDims(b.Types[0].Shape[2:])
	if !ok {
		return false
	}
	axes, err := a.axes(in, w[2:])
	if err != nil {
		return false
	}
	g := &convGeom{n: 1, out: outSizes(axes)}
	return useWinograd(g)
}

// winoGeom is a Winograd convolution resolved against concrete shapes.
type winoGeom struct {
	d          conv2D
	n, c, m    int
	th, tw     int // tiles per column and row of one image
	hp, wq     int // rows and columns per phase of the prepared input
	chunks     int // 16-tile chunks per row of tiles
	rowsPer    int // rows of tiles per block
	blockTiles int // tiles per block (rowsPer * tw)
}

// winoBlockBytes bounds the transformed tiles of one block (V and the
// products, both 36 matrices) so they stay in cache, unless that would
// leave fewer than winoMinTiles tiles. Tests lower both to cover blocks
// that span images.
var (
	winoBlockBytes = 2 << 20
	winoMinTiles   = 64
)

func newWinoGeom(g *convGeom) *winoGeom {
	d := g.as2D()
	wg := &winoGeom{d: d, n: g.n, c: g.c, m: g.m}
	wg.th = (d.outH + winoTile - 1) / winoTile
	wg.tw = (d.outW + winoTile - 1) / winoTile
	wg.chunks = (wg.tw + winoLane - 1) / winoLane
	wg.hp = winoTile*wg.th + 2
	// A chunk's lanes read phase columns up to 16*chunks (j/4 <= 1).
	wg.wq = winoLane*wg.chunks + 1
	// Blocks of at least 64 tiles keep the products efficient; beyond
	// that, smaller blocks keep V and the products in cache.
	target := winoBlockBytes / (4 * winoXi * (g.c + g.m))
	target = min(max(target, winoMinTiles), 512)
	wg.rowsPer = max(1, min(g.n*wg.th, target/wg.tw))
	wg.blockTiles = wg.rowsPer * wg.tw
	return wg
}

// convWinograd computes the convolution with Winograd F(4x4, 3x3).
//
// Work is cut into blocks of tile rows. When each image has at least a
// block's worth, a block is one task that prepares just the input rows it
// needs, and tasks run in parallel: one parallel region per call, which
// matters where handing work to another thread is slow. The blocks are
// made equal and, with few images, as many as a multiple of the threads.
// Images too small to give every thread a block of its own (a 14x14 map
// at batch 1) are prepared together, blocks span images, and each block's
// transforms and products are split over the pool.
func convWinograd(c *ops.Ctx, g *convGeom, xd []float32, ww *winoWeights, bias, zd []float32, act fusedAct, yd []float32) {
	wg := newWinoGeom(g)
	nt := threads(c)
	perImage := wg.th >= wg.rowsPer
	if perImage {
		per := (wg.th + wg.rowsPer - 1) / wg.rowsPer // blocks per image
		if nt > 1 && (wg.n*per)%nt != 0 && wg.n*per < 4*nt {
			// Round the blocks up to a multiple of the threads so
			// none idles, as long as blocks stay large; otherwise
			// the blocks run in turn, each split over the pool.
			want := ((wg.n*per+nt-1)/nt*nt + wg.n - 1) / wg.n
			if want <= wg.th && wg.th*wg.tw/want >= winoSplitTiles {
				per = want
			} else {
				perImage = false
			}
		}
		// Equal blocks: 14 rows as 13+1 would leave a thread idle.
		if perImage {
			wg.rowsPer = (wg.th + per - 1) / per
		}
	}
	if perImage {
		per := (wg.th + wg.rowsPer - 1) / wg.rowsPer // blocks per image
		task := func(t int) {
			img, b := t/per, t%per
			ty0 := b * wg.rowsPer
			ty1 := min(ty0+wg.rowsPer, wg.th)
			prep := wg.prepare(c, xd, img, 1, winoTile*ty0, winoTile*(ty1-ty0)+2, false)
			r0 := img*wg.th + ty0
			wg.block(c, r0, r0+ty1-ty0, prep, ww, bias, zd, act, yd, nil, false)
			c.Release(prep.t)
		}
		if nt > 1 {
			c.Tasks(wg.n*per, task)
		} else {
			for t := 0; t < wg.n*per; t++ {
				task(t)
			}
		}
		return
	}
	prep := wg.prepare(c, xd, 0, wg.n, 0, wg.hp, nt > 1)
	defer c.Release(prep.t)
	rows := wg.n * wg.th
	blocks := (rows + wg.rowsPer - 1) / wg.rowsPer
	block := func(b int, run gemm.Runner, split bool) {
		r0 := b * wg.rowsPer
		wg.block(c, r0, min(r0+wg.rowsPer, rows), prep, ww, bias, zd, act, yd, run, split)
	}
	if nt > 1 && blocks >= nt {
		c.Tasks(blocks, func(b int) { block(b, nil, false) })
		return
	}
	run := gemmRunner(c)
	for b := 0; b < blocks; b++ {
		block(b, run, nt > 1)
	}
}

// winoSplitTiles is the fewest tiles a block is cut to so that every
// thread gets one.
const winoSplitTiles = 24

// winoPrep is prepared input: for images img0.. and every channel, the
// padded rows [r0, r0+rows) in 4 column phases (phase p, row r, column q
// holds padded element (r0+r, 4q+p)).
type winoPrep struct {
	data     []float32
	img0     int
	r0, rows int
	chLen    int // floats per channel: 4*rows*wq
	t        *tensor.Tensor
}

// prepare lays out the padded rows [r0, r0+rows) of images [img0,
// img0+imgs) of x, their channels spread over the pool when split.
func (wg *winoGeom) prepare(c *ops.Ctx, x []float32, img0, imgs, r0, rows int, split bool) *winoPrep {
	p := &winoPrep{img0: img0, r0: r0, rows: rows, chLen: 4 * rows * wg.wq}
	t, err := c.Alloc(tensor.Float32, imgs*wg.c*p.chLen)
	if err != nil {
		panic(err) // sizes are bounded by the input's
	}
	p.t, p.data = t, t.F32()
	inPlane := wg.d.inH * wg.d.inW
	planes := func(lo, hi int) {
		line := getScratch(4 * wg.wq)
		defer scratch.Put(line)
		for i := lo; i < hi; i++ {
			src := x[(img0*wg.c+i)*inPlane : (img0*wg.c+i+1)*inPlane]
			wg.prepareChannel(p.data[i*p.chLen:(i+1)*p.chLen], src, *line, r0, rows)
		}
	}
	if split {
		c.For(imgs*wg.c, max(1, (1<<14)/max(1, p.chLen)), planes)
	} else {
		planes(0, imgs*wg.c)
	}
	return p
}

// prepareChannel writes padded rows [r0, r0+rows) of one channel x in 4
// column phases: padded element (r, col) is input element (r-ph,
// col-pw), 0 outside the input. line is scratch for one padded row
// (4*wq floats).
func (wg *winoGeom) prepareChannel(dst, x, line []float32, r0, rows int) {
	d := &wg.d
	n := 4 * wg.wq
	line = line[:n]
	// Input columns [0, cb) land at padded columns [pw, pw+cb).
	cb := min(d.inW, n-d.pw)
	clear(line[:d.pw])
	clear(line[d.pw+cb:])
	phase := rows * wg.wq
	for r := 0; r < rows; r++ {
		iy := r0 + r - d.ph
		if uint(iy) >= uint(d.inH) {
			for p := 0; p < 4; p++ {
				clear(dst[p*phase+r*wg.wq : p*phase+(r+1)*wg.wq])
			}
			continue
		}
		copy(line[d.pw:d.pw+cb], x[iy*d.inW:iy*d.inW+cb])
		deinterleave4(dst[r*wg.wq:], phase, line, wg.wq)
	}
}

// deinterleave4Go is the portable deinterleave4: dst[p*phase + q] =
// src[4q+p] for p < 4, q < n.
func deinterleave4Go(dst []float32, phase int, src []float32, n int) {
	src = src[:4*n]
	for p := 0; p < 4; p++ {
		d := dst[p*phase : p*phase+n]
		for q := range d {
			d[q] = src[4*q+p]
		}
	}
}

// block computes the tile rows [r0, r1) (numbered across images) from
// prep: input transform, the 36 products, output transform. split
// spreads the transforms over the pool (the products use run).
func (wg *winoGeom) block(c *ops.Ctx, r0, r1 int, prep *winoPrep, ww *winoWeights, bias, zd []float32, act fusedAct, yd []float32, run gemm.Runner, split bool) {
	tb := (r1 - r0) * wg.tw
	vT, err := c.Alloc(tensor.Float32, winoXi*wg.c*tb)
	if err != nil {
		panic(err)
	}
	mT, err := c.Alloc(tensor.Float32, winoXi*wg.m*tb)
	if err != nil {
		panic(err)
	}
	v, prod := vT.F32(), mT.F32()
	// Each chunk of rows gets its own transform scratch.
	forRange := func(n int, fn func(i int, s *winoScratch)) {
		if !split {
			var s winoScratch
			for i := 0; i < n; i++ {
				fn(i, &s)
			}
			return
		}
		c.For(n, 1, func(lo, hi int) {
			var s winoScratch
			for i := lo; i < hi; i++ {
				fn(i, &s)
			}
		})
	}
	// Input transform: per (row of tiles, channel).
	forRange((r1-r0)*wg.c, func(i int, s *winoScratch) {
		r, ch := r0+i/wg.c, i%wg.c
		img, ty := r/wg.th, r%wg.th
		src := prep.data[((img-prep.img0)*wg.c+ch)*prep.chLen+(winoTile*ty-prep.r0)*wg.wq:]
		dst := v[ch*tb+(r-r0)*wg.tw:]
		winoInputRow(dst, wg.c*tb, src, wg.wq, prep.rows*wg.wq, wg.tw, s)
	})
	product := func(xi int, run gemm.Runner) {
		gemm.SgemmPackedA(ww.u[xi], false, tb, 1, v[xi*wg.c*tb:], tb, 0, prod[xi*wg.m*tb:], tb, nil, run)
	}
	if split {
		// The 36 products are independent: one parallel region.
		c.Tasks(winoXi, func(xi int) { product(xi, nil) })
	} else {
		for xi := 0; xi < winoXi; xi++ {
			product(xi, run)
		}
	}
	// Output transform: per (row of tiles, output channel).
	lo, hi, clamp := act.bounds()
	if !clamp {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	}
	outPlane := wg.d.outH * wg.d.outW
	forRange((r1-r0)*wg.m, func(i int, s *winoScratch) {
		r, o := r0+i/wg.m, i%wg.m
		img, ty := r/wg.th, r%wg.th
		rows := min(winoTile, wg.d.outH-winoTile*ty)
		off := (img*wg.m+o)*outPlane + winoTile*ty*wg.d.outW
		y := yd[off : off+rows*wg.d.outW]
		var z []float32
		if zd != nil {
			z = zd[off : off+rows*wg.d.outW]
		}
		var b float32
		if bias != nil {
			b = bias[o]
		}
		winoOutputRow(y, z, wg.d.outW, rows, prod[o*tb+(r-r0)*wg.tw:], wg.m*tb, wg.tw, b, lo, hi, s)
		if !clamp {
			act.finish(y, nil)
		}
	})
	c.Release(vT)
	c.Release(mT)
}

// winoInputRowGo transforms the input tiles of one row of tiles and one
// channel: src is the channel's prepared input at the row's first padded
// row (phases phase apart, rows ld apart); tile t's transformed point xi
// goes to dst[xi*xiStride + t].
func winoInputRowGo(dst []float32, xiStride int, src []float32, ld, phase, tiles int) {
	var d, e [6][6]float32
	for t := 0; t < tiles; t++ {
		for i := 0; i < 6; i++ {
			for j := 0; j < 6; j++ {
				d[i][j] = src[i*ld+(j%4)*phase+t+j/4]
			}
		}
		// e = B^T d, then V = e B (B is BT transposed).
		for i := 0; i < 6; i++ {
			for j := 0; j < 6; j++ {
				var s float32
				for k := 0; k < 6; k++ {
					s += winoBT[i][k] * d[k][j]
				}
				e[i][j] = s
			}
		}
		for i := 0; i < 6; i++ {
			for j := 0; j < 6; j++ {
				var s float32
				for k := 0; k < 6; k++ {
					s += e[i][k] * winoBT[j][k]
				}
				dst[(i*6+j)*xiStride+t] = s
			}
		}
	}
}

// winoOutputRowGo transforms back one row of tiles of one output channel:
// tile t's products are src[xi*xiStride + t]; its 4x4 outputs go to rows
// [0, rows) and columns [4t, 4t+4) (those inside width) of y (rows width
// apart), plus bias and the residual z (same layout, or nil), clamped to
// [lo, hi].
func winoOutputRowGo(y, z []float32, width, rows int, src []float32, xiStride, tiles int, bias, lo, hi float32) {
	var m [6][6]float32
	var e [4][6]float32
	for t := 0; t < tiles; t++ {
		for xi := 0; xi < winoXi; xi++ {
			m[xi/6][xi%6] = src[xi*xiStride+t]
		}
		for i := 0; i < 4; i++ {
			for j := 0; j < 6; j++ {
				var s float32
				for k := 0; k < 6; k++ {
					s += winoAT[i][k] * m[k][j]
				}
				e[i][j] = s
			}
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < 4 && winoTile*t+j < width; j++ {
				var s float32
				for k := 0; k < 6; k++ {
					s += e[i][k] * winoAT[j][k]
				}
				at := i*width + winoTile*t + j
				s += bias
				if z != nil {
					s += z[at]
				}
				y[at] = clampTo(s, lo, hi)
			}
		}
	}
}
