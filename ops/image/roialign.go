package imageops

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(&ops.Def{Op: "RoiAlign", Build: buildRoiAlign, Infer: inferRoiAlign, Float64: true})
}

type roiAlignKernel struct {
	max       bool // mode "max" (else "avg")
	halfPixel bool // coordinate_transformation_mode "half_pixel" (else "output_half_pixel")
	oh, ow    int
	ratio     int // sampling_ratio; 0 picks ceil(roi size / output size)
	scale     float64
}

func buildRoiAlign(b *ops.Build) (ops.Kernel, error) {
	a := &attrReader{n: b.Node}
	k := &roiAlignKernel{
		max:       enumOf(a, "mode", "avg", map[string]bool{"avg": false, "max": true}),
		halfPixel: enumOf(a, "coordinate_transformation_mode", "half_pixel", map[string]bool{"half_pixel": true, "output_half_pixel": false}),
		oh:        int(a.int("output_height", 1)),
		ow:        int(a.int("output_width", 1)),
		ratio:     int(a.int("sampling_ratio", 0)),
		scale:     a.float("spatial_scale", 1),
	}
	if a.err != nil {
		return nil, a.err
	}
	if k.oh < 1 || k.ow < 1 || k.oh > tensor.MaxElements || k.ow > tensor.MaxElements {
		return nil, fmt.Errorf("output size %dx%d must be positive", k.oh, k.ow)
	}
	if k.ratio < 0 {
		return nil, fmt.Errorf("sampling_ratio %d must be >= 0", k.ratio)
	}
	return k, nil
}

// maxSamples bounds the bilinear samples of one roi; adaptive sampling of a
// roi with absurd coordinates would otherwise run for ever.
const maxSamples = 1 << 28

func (k *roiAlignKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 3); err != nil {
		return nil, err
	}
	x, rois, bidx := in[0], in[1], in[2]
	if err := needFloat(x, "X"); err != nil {
		return nil, err
	}
	if x.Rank() != 4 {
		return nil, fmt.Errorf("X must be NCHW, got shape %v", x.Shape)
	}
	if rois.Rank() != 2 || rois.Shape[1] != 4 {
		return nil, fmt.Errorf("rois must have shape [num_rois, 4], got %v", rois.Shape)
	}
	nr := rois.Shape[0]
	batch, err := bidx.Ints()
	if err != nil {
		return nil, fmt.Errorf("batch_indices: %w", err)
	}
	if len(batch) != nr {
		return nil, fmt.Errorf("batch_indices has %d entries for %d rois", len(batch), nr)
	}
	for _, b := range batch {
		if b < 0 || b >= int64(x.Shape[0]) {
			return nil, fmt.Errorf("batch index %d out of range [0, %d)", b, x.Shape[0])
		}
	}
	y, err := c.Alloc(x.DType, nr, x.Shape[1], k.oh, k.ow)
	if err != nil {
		return nil, err
	}
	boxes, err := numbers(rois, "rois")
	if err != nil {
		return nil, err
	}
	plans := make([]*roiPlan, nr)
	for i := range plans {
		if plans[i], err = k.plan(boxes[4*i:4*i+4], x.Shape[2], x.Shape[3]); err != nil {
			return nil, err
		}
	}
	if x.DType == tensor.Float32 {
		roiAlign(c, k, x.F32(), y.F32(), x.Shape, batch, plans)
	} else {
		roiAlign(c, k, floatsOf[float64](x), floatsOf[float64](y), x.Shape, batch, plans)
	}
	return ops.Outs(y)
}

// roiPlan holds, for every output bin of one roi, its bilinear samples:
// four pixel offsets and weights each, shared by all channels.
type roiPlan struct {
	perBin int // samples per bin
	pos    [][4]int
	w      [][4]float64
}

// plan places the sampling points of one roi [x1, y1, x2, y2].
func (k *roiAlignKernel) plan(box []float64, h, w int) (*roiPlan, error) {
	for _, v := range box {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("roi %v has a non-finite coordinate", box)
		}
	}
	off := 0.0
	if k.halfPixel {
		off = 0.5
	}
	x1, y1 := box[0]*k.scale-off, box[1]*k.scale-off
	x2, y2 := box[2]*k.scale-off, box[3]*k.scale-off
	rw, rh := x2-x1, y2-y1
	if !k.halfPixel {
		// Force malformed rois to be at least one pixel.
		rw, rh = math.Max(rw, 1), math.Max(rh, 1)
	}
	binH, binW := rh/float64(k.oh), rw/float64(k.ow)
	gh, gw := k.ratio, k.ratio
	if k.ratio == 0 {
		gh, gw = int(math.Max(0, math.Ceil(binH))), int(math.Max(0, math.Ceil(binW)))
	}
	if math.IsNaN(binH) || math.IsNaN(binW) || float64(gh)*float64(gw)*float64(k.oh*k.ow) > maxSamples {
		return nil, fmt.Errorf("roi %v needs too many samples", box)
	}
	p := &roiPlan{perBin: gh * gw}
	n := p.perBin * k.oh * k.ow
	p.pos, p.w = make([][4]int, n), make([][4]float64, n)
	i := 0
	for ph := range k.oh {
		for pw := range k.ow {
			for iy := range gh {
				yy := y1 + float64(ph)*binH + (float64(iy)+0.5)*binH/float64(gh)
				for ix := range gw {
					xx := x1 + float64(pw)*binW + (float64(ix)+0.5)*binW/float64(gw)
					p.pos[i], p.w[i] = bilinearSample(yy, xx, h, w)
					i++
				}
			}
		}
	}
	return p, nil
}

// bilinearSample returns the four neighbours of (y, x) and their weights,
// all zero when the point lies more than a pixel outside the map.
func bilinearSample(y, x float64, h, w int) ([4]int, [4]float64) {
	if y < -1 || y > float64(h) || x < -1 || x > float64(w) {
		return [4]int{}, [4]float64{}
	}
	y, x = math.Max(y, 0), math.Max(x, 0)
	yl, xl := int(y), int(x)
	yh, xh := yl+1, xl+1
	if yl >= h-1 {
		yl, yh, y = h-1, h-1, float64(h-1)
	}
	if xl >= w-1 {
		xl, xh, x = w-1, w-1, float64(w-1)
	}
	ly, lx := y-float64(yl), x-float64(xl)
	hy, hx := 1-ly, 1-lx
	return [4]int{yl*w + xl, yl*w + xh, yh*w + xl, yh*w + xh},
		[4]float64{hy * hx, hy * lx, ly * hx, ly * lx}
}

// roiAlign pools every (roi, channel) plane. In max mode the maximum is
// taken over the weighted neighbours of each sample, as the reference
// implementation (and onnxruntime) do.
func roiAlign[T float](c *ops.Ctx, k *roiAlignKernel, x, y []T, xShape []int, batch []int64, plans []*roiPlan) {
	ch, plane := xShape[1], xShape[2]*xShape[3]
	bins := k.oh * k.ow
	c.For(len(plans)*ch, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			r, cc := t/ch, t%ch
			p := plans[r]
			src := x[(int(batch[r])*ch+cc)*plane:][:plane]
			dst := y[t*bins : (t+1)*bins]
			for b := range dst {
				acc := 0.0
				for s := b * p.perBin; s < (b+1)*p.perBin; s++ {
					pos, w := &p.pos[s], &p.w[s]
					if k.max {
						v := math.Max(math.Max(w[0]*float64(src[pos[0]]), w[1]*float64(src[pos[1]])),
							math.Max(w[2]*float64(src[pos[2]]), w[3]*float64(src[pos[3]])))
						if s == b*p.perBin || v > acc {
							acc = v
						}
					} else {
						acc += w[0]*float64(src[pos[0]]) + w[1]*float64(src[pos[1]]) +
							w[2]*float64(src[pos[2]]) + w[3]*float64(src[pos[3]])
					}
				}
				if !k.max {
					acc /= float64(max(p.perBin, 1))
				}
				dst[b] = T(acc)
			}
		}
	})
}

func inferRoiAlign(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	k, err := buildRoiAlign(b)
	if err != nil {
		return nil, err
	}
	ra := k.(*roiAlignKernel)
	x, rois := in[0], in[1]
	if !x.Ranked || len(x.Shape) != 4 || !rois.Ranked || len(rois.Shape) != 2 {
		return nil, fmt.Errorf("unknown ranks")
	}
	s := []graph.Dim{rois.Shape[0], x.Shape[1], graph.Fixed(ra.oh), graph.Fixed(ra.ow)}
	return []graph.Type{{DType: x.DType, Shape: s, Ranked: true}}, nil
}
