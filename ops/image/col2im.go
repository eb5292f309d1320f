package imageops

import (
	"fmt"

	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(&ops.Def{Op: "Col2Im", Build: buildCol2Im, Float64: true})
}

type col2imKernel struct {
	dilations, pads, strides []int64 // nil: defaults for the image rank
}

func buildCol2Im(b *ops.Build) (ops.Kernel, error) {
	a := &attrReader{n: b.Node}
	k := &col2imKernel{
		dilations: a.ints("dilations", nil),
		pads:      a.ints("pads", nil),
		strides:   a.ints("strides", nil),
	}
	return k, a.err
}

// col2imGeom is the validated geometry of one call: per spatial axis the
// image size, kernel size, dilation, stride, leading pad and the number of
// block positions.
type col2imGeom struct {
	image, block, dil, stride, pad, nblocks []int
}

func (k *col2imKernel) geometry(x, imageShape, blockShape *tensor.Tensor) (*col2imGeom, error) {
	img, err := imageShape.Ints()
	if err != nil {
		return nil, fmt.Errorf("image_shape: %w", err)
	}
	blk, err := blockShape.Ints()
	if err != nil {
		return nil, fmt.Errorf("block_shape: %w", err)
	}
	r := len(img)
	if r == 0 || len(blk) != r {
		return nil, fmt.Errorf("image_shape %v and block_shape %v must be non-empty and of equal length", img, blk)
	}
	dil, str, pads := k.dilations, k.strides, k.pads
	if dil == nil {
		dil = repeat(1, r)
	}
	if str == nil {
		str = repeat(1, r)
	}
	if pads == nil {
		pads = repeat(0, 2*r)
	}
	if len(dil) != r || len(str) != r || len(pads) != 2*r {
		return nil, fmt.Errorf("dilations %v, strides %v and pads %v do not fit %d spatial axes", dil, str, pads, r)
	}
	const big = tensor.MaxElements
	g := &col2imGeom{}
	for i := range r {
		padded := img[i] + pads[i] + pads[r+i]
		if img[i] < 0 || img[i] > big || blk[i] < 1 || blk[i] > big || dil[i] < 1 || dil[i] > big ||
			str[i] < 1 || pads[i] < 0 || pads[r+i] < 0 || pads[i]+pads[r+i] > big {
			return nil, fmt.Errorf("invalid geometry on axis %d: image %d, block %d, dilation %d, stride %d, pads %d,%d",
				i, img[i], blk[i], dil[i], str[i], pads[i], pads[r+i])
		}
		span := dil[i]*(blk[i]-1) + 1
		if padded < span {
			return nil, fmt.Errorf("block %d (dilated to %d) does not fit axis %d of padded size %d", blk[i], span, i, padded)
		}
		g.image = append(g.image, int(img[i]))
		g.block = append(g.block, int(blk[i]))
		g.dil = append(g.dil, int(dil[i]))
		g.stride = append(g.stride, int(str[i]))
		g.pad = append(g.pad, int(pads[i]))
		g.nblocks = append(g.nblocks, int((padded-span)/str[i]+1))
	}
	kernel, err1 := tensor.NumElements(g.block)
	blocks, err2 := tensor.NumElements(g.nblocks)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("block_shape %v with %v positions is too large", g.block, g.nblocks)
	}
	if x.Rank() != 3 || x.Shape[1]%kernel != 0 || x.Shape[2] != blocks {
		return nil, fmt.Errorf("input shape %v does not fit: want [N, C*%d, %d]", x.Shape, kernel, blocks)
	}
	return g, nil
}

func repeat(v int64, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func (k *col2imKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 3); err != nil {
		return nil, err
	}
	x := in[0]
	g, err := k.geometry(x, in[1], in[2])
	if err != nil {
		return nil, err
	}
	kernel := tensor.Size(g.block)
	outShape := append([]int{x.Shape[0], x.Shape[1] / kernel}, g.image...)
	y, err := c.AllocZero(x.DType, outShape...)
	if err != nil {
		return nil, err
	}
	switch d := y.Data.(type) {
	case []float32:
		col2im(c, g, x.Data.([]float32), d)
	case []float64:
		col2im(c, g, x.Data.([]float64), d)
	case []int8:
		col2im(c, g, x.Data.([]int8), d)
	case []int16:
		col2im(c, g, x.Data.([]int16), d)
	case []int32:
		col2im(c, g, x.Data.([]int32), d)
	case []int64:
		col2im(c, g, x.Data.([]int64), d)
	case []uint8:
		col2im(c, g, x.Data.([]uint8), d)
	case []uint16:
		col2im(c, g, x.Data.([]uint16), d)
	case []uint32:
		col2im(c, g, x.Data.([]uint32), d)
	case []uint64:
		col2im(c, g, x.Data.([]uint64), d)
	default:
		return nil, fmt.Errorf("unsupported element type %v", x.DType)
	}
	return ops.Outs(y)
}

// col2im sums each column entry into the image pixel its block position
// and kernel offset land on (entries landing in the padding are dropped).
// Planes (n, c) are independent and run in parallel.
func col2im[T number](c *ops.Ctx, g *col2imGeom, x, y []T) {
	r := len(g.image)
	kernel, blocks := tensor.Size(g.block), tensor.Size(g.nblocks)
	plane := tensor.Size(g.image)
	imgSt := tensor.Strides(g.image)
	// pos[d][kd*nblocks[d]+bd] is the image coordinate of kernel offset kd
	// at block position bd along axis d, or -1 when it falls in the padding.
	pos := make([][]int, r)
	for d := range r {
		pos[d] = make([]int, g.block[d]*g.nblocks[d])
		for kd := range g.block[d] {
			for bd := range g.nblocks[d] {
				p := bd*g.stride[d] - g.pad[d] + kd*g.dil[d]
				if p < 0 || p >= g.image[d] {
					p = -1
				}
				pos[d][kd*g.nblocks[d]+bd] = p
			}
		}
	}
	planes := len(y) / max(plane, 1)
	c.For(planes, 1, func(lo, hi int) {
		kd := make([]int, r)
		bd := make([]int, r)
		for p := lo; p < hi; p++ {
			dst := y[p*plane : (p+1)*plane]
			for kk := range kernel {
				unflatten(kk, g.block, kd)
				src := x[(p*kernel+kk)*blocks:][:blocks]
				for l, v := range src {
					unflatten(l, g.nblocks, bd)
					off := 0
					for d := range r {
						q := pos[d][kd[d]*g.nblocks[d]+bd[d]]
						if q < 0 {
							off = -1
							break
						}
						off += q * imgSt[d]
					}
					if off >= 0 {
						dst[off] += v
					}
				}
			}
		}
	})
}

// unflatten writes the multi-index of flat index i in shape into idx.
func unflatten(i int, shape, idx []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}
