package tensorops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

// mover is the element-type-generic part of the data-movement kernels. Each
// method asserts its slice arguments to []T once and then runs typed loops.
type mover interface {
	// copyStrided copies the region described by p from src to dst.
	copyStrided(c *ops.Ctx, dst, src any, p *stridedPlan)
	// take copies, for each k, the block src[offs[k]:offs[k]+inner] to
	// dst[k*inner:(k+1)*inner].
	take(c *ops.Ctx, dst, src any, offs []int, inner int)
	// put is the reverse of take: src block k goes to dst[offs[k]:]. Blocks
	// are written in order, so with repeated offsets the last one wins.
	put(dst, src any, offs []int, inner int)
	// fill sets dst[lo:hi] to src[si].
	fill(dst any, lo, hi int, src any, si int)
	// zero sets dst[lo:hi] to the zero value.
	zero(dst any, lo, hi int)
	// nonZero returns the positions of the elements that are not the zero
	// value (callers convert 16-bit floats first, where -0 has bits set).
	nonZero(src any) []int
}

// elems implements mover for element type T.
type elems[T tensor.Elem] struct{}

// moverOf returns the kernels for a tensor's slice type.
func moverOf(data any) mover {
	switch data.(type) {
	case []float32:
		return elems[float32]{}
	case []float64:
		return elems[float64]{}
	case []uint16:
		return elems[uint16]{}
	case []int8:
		return elems[int8]{}
	case []int16:
		return elems[int16]{}
	case []int32:
		return elems[int32]{}
	case []int64:
		return elems[int64]{}
	case []uint8:
		return elems[uint8]{}
	case []uint32:
		return elems[uint32]{}
	case []uint64:
		return elems[uint64]{}
	case []bool:
		return elems[bool]{}
	case []string:
		return elems[string]{}
	}
	panic(fmt.Sprintf("tensorops: unsupported tensor storage %T", data))
}

// grainFor is the number of loop iterations of `work` elements each worth
// handing to one worker.
func grainFor(work int) int {
	const chunk = 1 << 15
	if work < 1 {
		work = 1
	}
	return max(1, chunk/work)
}

func (elems[T]) take(c *ops.Ctx, dst, src any, offs []int, inner int) {
	d, s := dst.([]T), src.([]T)
	c.For(len(offs), grainFor(inner), func(lo, hi int) {
		if inner == 1 {
			for k := lo; k < hi; k++ {
				d[k] = s[offs[k]]
			}
			return
		}
		for k := lo; k < hi; k++ {
			copy(d[k*inner:(k+1)*inner], s[offs[k]:offs[k]+inner])
		}
	})
}

func (elems[T]) put(dst, src any, offs []int, inner int) {
	d, s := dst.([]T), src.([]T)
	for k, o := range offs {
		copy(d[o:o+inner], s[k*inner:(k+1)*inner])
	}
}

func (elems[T]) fill(dst any, lo, hi int, src any, si int) {
	d := dst.([]T)[lo:hi]
	v := src.([]T)[si]
	for i := range d {
		d[i] = v
	}
}

func (elems[T]) zero(dst any, lo, hi int) { clear(dst.([]T)[lo:hi]) }

func (elems[T]) nonZero(src any) []int {
	var z T
	var pos []int
	for i, v := range src.([]T) {
		if v != z {
			pos = append(pos, i)
		}
	}
	return pos
}

// stridedPlan is a copy between two strided views of one shape: element
// (i0, i1, ...) goes from src[sOff + Σ ik*src[k]] to dst[dOff + Σ ik*dst[k]].
// planStrided drops size-1 dims and merges neighbours that are contiguous in
// both views, so the innermost loop is as long as possible and common cases
// (Concat, Slice of whole rows, NCHW<->NHWC) become a few long copies or a
// batched 2-D transpose.
type stridedPlan struct {
	shape, dst, src []int
	dOff, sOff      int
	empty           bool
}

func planStrided(shape []int, dOff int, dSt []int, sOff int, sSt []int) *stridedPlan {
	p := &stridedPlan{dOff: dOff, sOff: sOff}
	for k, n := range shape {
		if n == 0 {
			p.empty = true
			return p
		}
		if n == 1 {
			continue
		}
		if r := len(p.shape); r > 0 && p.dst[r-1] == dSt[k]*n && p.src[r-1] == sSt[k]*n {
			p.shape[r-1] *= n
			p.dst[r-1], p.src[r-1] = dSt[k], sSt[k]
			continue
		}
		p.shape = append(p.shape, n)
		p.dst = append(p.dst, dSt[k])
		p.src = append(p.src, sSt[k])
	}
	return p
}

// copyInto copies src (viewed with strides sSt from sOff, of the given
// shape) into dst at dOff with strides dSt.
func copyInto(c *ops.Ctx, dst any, dOff int, dSt []int, src any, sOff int, sSt []int, shape []int) {
	p := planStrided(shape, dOff, dSt, sOff, sSt)
	if !p.empty {
		moverOf(dst).copyStrided(c, dst, src, p)
	}
}

// gatherStrided fills the whole of dst (contiguous, of the given shape) from
// a strided view of src.
func gatherStrided(c *ops.Ctx, dst *tensor.Tensor, src *tensor.Tensor, sOff int, sSt []int) {
	copyInto(c, dst.Data, 0, tensor.Strides(dst.Shape), src.Data, sOff, sSt, dst.Shape)
}

// odometer walks the outer dims of a plan (all but the last, or the last
// two for tiled transposes), tracking the matching dst and src offsets.
type odometer struct {
	idx, shape, dSt, sSt []int
	d, s                 int
}

// start positions the odometer at the flat outer index i.
func (o *odometer) start(p *stridedPlan, outer int, i int) {
	o.shape, o.dSt, o.sSt = p.shape[:outer], p.dst[:outer], p.src[:outer]
	o.idx = make([]int, outer)
	o.d, o.s = p.dOff, p.sOff
	for k := outer - 1; k >= 0; k-- {
		o.idx[k] = i % o.shape[k]
		i /= o.shape[k]
		o.d += o.idx[k] * o.dSt[k]
		o.s += o.idx[k] * o.sSt[k]
	}
}

func (o *odometer) next() {
	for k := len(o.idx) - 1; k >= 0; k-- {
		o.idx[k]++
		o.d += o.dSt[k]
		o.s += o.sSt[k]
		if o.idx[k] < o.shape[k] {
			return
		}
		o.d -= o.idx[k] * o.dSt[k]
		o.s -= o.idx[k] * o.sSt[k]
		o.idx[k] = 0
	}
}

func (e elems[T]) copyStrided(c *ops.Ctx, dst, src any, p *stridedPlan) {
	d, s := dst.([]T), src.([]T)
	r := len(p.shape)
	if r == 0 {
		d[p.dOff] = s[p.sOff]
		return
	}
	if r >= 2 && p.dst[r-1] == 1 && p.src[r-2] == 1 && p.src[r-1] != 1 {
		e.transposeTiles(c, d, s, p)
		return
	}
	n, ds, ss := p.shape[r-1], p.dst[r-1], p.src[r-1]
	rows := tensor.Size(p.shape[:r-1])
	if rows == 1 && ds == 1 && ss == 1 {
		// One long run: split it so big copies use every worker.
		c.For(n, 1<<16, func(lo, hi int) {
			copy(d[p.dOff+lo:p.dOff+hi], s[p.sOff+lo:p.sOff+hi])
		})
		return
	}
	c.For(rows, grainFor(n), func(lo, hi int) {
		var o odometer
		o.start(p, r-1, lo)
		for row := lo; row < hi; row++ {
			switch {
			case ds == 1 && ss == 1:
				copy(d[o.d:o.d+n], s[o.s:o.s+n])
			case ds == 1 && ss == 0:
				v := s[o.s]
				run := d[o.d : o.d+n]
				for i := range run {
					run[i] = v
				}
			default:
				di, si := o.d, o.s
				for i := 0; i < n; i++ {
					d[di] = s[si]
					di += ds
					si += ss
				}
			}
			o.next()
		}
	})
}

// transposeTiles handles plans whose last two dims swap contiguity (dst is
// contiguous along the last dim, src along the one before): a batched 2-D
// transpose, done in square tiles so both sides stay in cache.
func (elems[T]) transposeTiles(c *ops.Ctx, d, s []T, p *stridedPlan) {
	const tile = 16 // 16 float32s fill one 64-byte cache line
	r := len(p.shape)
	rowsN, colsN := p.shape[r-2], p.shape[r-1]
	dRow, sCol := p.dst[r-2], p.src[r-1]
	batches := tensor.Size(p.shape[:r-2])
	rowTiles := (rowsN + tile - 1) / tile
	c.For(batches*rowTiles, grainFor(tile*colsN), func(lo, hi int) {
		var o odometer
		o.start(p, r-2, lo/rowTiles)
		batch := lo / rowTiles
		for t := lo; t < hi; t++ {
			if b := t / rowTiles; b != batch {
				o.next()
				batch = b
			}
			i0 := (t % rowTiles) * tile
			i1 := min(i0+tile, rowsN)
			for j0 := 0; j0 < colsN; j0 += tile {
				j1 := min(j0+tile, colsN)
				for i := i0; i < i1; i++ {
					drow := d[o.d+i*dRow+j0 : o.d+i*dRow+j1]
					si := o.s + i + j0*sCol
					for j := range drow {
						drow[j] = s[si]
						si += sCol
					}
				}
			}
		}
	})
}
