package imageops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

// axisMaps describes an output built by picking input elements axis by axis:
// output coordinate o on axis a reads input coordinate maps[a][o], and a
// negative entry marks a position outside the input, which gets the fill
// value. Nearest-neighbour Resize and CenterCropPad are both of this form,
// for every element type.
type axisMaps struct {
	inShape []int
	maps    [][]int // len(maps[a]) is the output size of axis a
}

func (g *axisMaps) outShape() []int {
	s := make([]int, len(g.maps))
	for a, m := range g.maps {
		s[a] = len(m)
	}
	return s
}

// gather fills dst (already allocated with g.outShape()) from src.
func (g *axisMaps) gather(c *ops.Ctx, dst, src *tensor.Tensor, fill float64) error {
	f, err := tensor.Convert(tensor.Scalar(fill), dst.DType)
	if err != nil {
		return err
	}
	switch d := dst.Data.(type) {
	case []float32:
		gatherT(c, g, d, src.Data.([]float32), f.Data.([]float32)[0])
	case []float64:
		gatherT(c, g, d, src.Data.([]float64), f.Data.([]float64)[0])
	case []uint16:
		gatherT(c, g, d, src.Data.([]uint16), f.Data.([]uint16)[0])
	case []int8:
		gatherT(c, g, d, src.Data.([]int8), f.Data.([]int8)[0])
	case []int16:
		gatherT(c, g, d, src.Data.([]int16), f.Data.([]int16)[0])
	case []int32:
		gatherT(c, g, d, src.Data.([]int32), f.Data.([]int32)[0])
	case []int64:
		gatherT(c, g, d, src.Data.([]int64), f.Data.([]int64)[0])
	case []uint8:
		gatherT(c, g, d, src.Data.([]uint8), f.Data.([]uint8)[0])
	case []uint32:
		gatherT(c, g, d, src.Data.([]uint32), f.Data.([]uint32)[0])
	case []uint64:
		gatherT(c, g, d, src.Data.([]uint64), f.Data.([]uint64)[0])
	case []bool:
		gatherT(c, g, d, src.Data.([]bool), f.Data.([]bool)[0])
	case []string:
		gatherT(c, g, d, src.Data.([]string), "")
	default:
		return fmt.Errorf("unsupported element type %v", dst.DType)
	}
	return nil
}

// gatherT walks the output row by row (a row is the last axis): the row's
// base offset in the input comes from the outer axes' maps, then the last
// axis' map picks the elements.
func gatherT[T any](c *ops.Ctx, g *axisMaps, dst, src []T, fill T) {
	r := len(g.maps)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	out := g.outShape()
	rowLen := out[r-1]
	if rowLen == 0 || len(dst) == 0 {
		return
	}
	st := tensor.Strides(g.inShape)
	last := g.maps[r-1]
	lastStride := st[r-1]
	identity := len(last) == g.inShape[r-1]
	for j, s := range last {
		identity = identity && s == j
	}
	rows := len(dst) / rowLen
	c.For(rows, 4096/rowLen+1, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			base, outside := 0, false
			rem := row
			for a := r - 2; a >= 0; a-- {
				s := g.maps[a][rem%out[a]]
				rem /= out[a]
				if s < 0 {
					outside = true
					break
				}
				base += s * st[a]
			}
			d := dst[row*rowLen : (row+1)*rowLen]
			switch {
			case outside:
				for j := range d {
					d[j] = fill
				}
			case identity:
				copy(d, src[base:base+rowLen])
			default:
				for j, s := range last {
					if s < 0 {
						d[j] = fill
					} else {
						d[j] = src[base+s*lastStride]
					}
				}
			}
		}
	})
}
