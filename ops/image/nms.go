package imageops

import (
	"fmt"
	"math"
	"sort"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

func init() {
	ops.Register(&ops.Def{Op: "NonMaxSuppression", Build: buildNMS, Infer: inferNMS, Float64: true, Native16: true})
}

type nmsKernel struct {
	centerBox bool // center_point_box: boxes are [x_center, y_center, width, height]
}

func buildNMS(b *ops.Build) (ops.Kernel, error) {
	cpb, err := b.Node.AttrInt("center_point_box", 0)
	if err != nil {
		return nil, err
	}
	if cpb != 0 && cpb != 1 {
		return nil, fmt.Errorf("center_point_box must be 0 or 1, got %d", cpb)
	}
	return &nmsKernel{centerBox: cpb == 1}, nil
}

// box is a box in corner form with its area.
type box struct{ y0, x0, y1, x1, area float64 }

// corners converts the four numbers of a box to corner form. Corner boxes
// may come as any diagonal pair, so the coordinates are sorted.
func (k *nmsKernel) corners(v []float64) box {
	var b box
	if k.centerBox {
		b = box{v[1] - v[3]/2, v[0] - v[2]/2, v[1] + v[3]/2, v[0] + v[2]/2, 0}
	} else {
		b = box{math.Min(v[0], v[2]), math.Min(v[1], v[3]), math.Max(v[0], v[2]), math.Max(v[1], v[3]), 0}
	}
	b.area = (b.x1 - b.x0) * (b.y1 - b.y0)
	return b
}

// overlaps reports whether a and b overlap by more than the IoU threshold.
// Degenerate boxes never suppress.
func overlaps(a, b *box, iouThreshold float64) bool {
	ix := math.Min(a.x1, b.x1) - math.Max(a.x0, b.x0)
	iy := math.Min(a.y1, b.y1) - math.Max(a.y0, b.y0)
	if ix <= 0 || iy <= 0 || a.area <= 0 || b.area <= 0 {
		return false
	}
	inter := ix * iy
	union := a.area + b.area - inter
	return union > 0 && inter/union > iouThreshold
}

func (k *nmsKernel) Run(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	boxesT, scoresT := in[0], in[1]
	if boxesT.Rank() != 3 || boxesT.Shape[2] != 4 {
		return nil, fmt.Errorf("boxes must have shape [batch, boxes, 4], got %v", boxesT.Shape)
	}
	nb, nbox := boxesT.Shape[0], boxesT.Shape[1]
	if scoresT.Rank() != 3 || scoresT.Shape[0] != nb || scoresT.Shape[2] != nbox {
		return nil, fmt.Errorf("scores shape %v does not match boxes shape %v (want [%d, classes, %d])", scoresT.Shape, boxesT.Shape, nb, nbox)
	}
	ncls := scoresT.Shape[1]
	maxOut := int64(0)
	iouT, scoreT := 0.0, math.Inf(-1)
	hasScoreT := false
	var err error
	if t := optional(in, 2); t != nil {
		if maxOut, err = scalarInt(t, "max_output_boxes_per_class"); err != nil {
			return nil, err
		}
	}
	if t := optional(in, 3); t != nil {
		if iouT, err = scalarFloat(t, "iou_threshold"); err != nil {
			return nil, err
		}
	}
	if t := optional(in, 4); t != nil {
		if scoreT, err = scalarFloat(t, "score_threshold"); err != nil {
			return nil, err
		}
		hasScoreT = true
	}
	boxVals, err := numbers(boxesT, "boxes")
	if err != nil {
		return nil, err
	}
	scores, err := numbers(scoresT, "scores")
	if err != nil {
		return nil, err
	}
	// Each (batch, class) pair is independent; results are concatenated in
	// batch, class order afterwards so the output does not depend on
	// scheduling.
	picked := make([][]int, nb*ncls)
	c.For(nb*ncls, 1, func(lo, hi int) {
		boxes := make([]box, nbox)
		for bc := lo; bc < hi; bc++ {
			b := bc / ncls
			for i := range boxes {
				boxes[i] = k.corners(boxVals[(b*nbox+i)*4:][:4])
			}
			picked[bc] = selectBoxes(boxes, scores[bc*nbox:(bc+1)*nbox], maxOut, iouT, scoreT, hasScoreT)
		}
	})
	total := 0
	for _, p := range picked {
		total += len(p)
	}
	y, err := c.Alloc(tensor.Int64, total, 3)
	if err != nil {
		return nil, err
	}
	out := y.I64()[:0]
	for bc, p := range picked {
		for _, i := range p {
			out = append(out, int64(bc/ncls), int64(bc%ncls), int64(i))
		}
	}
	return ops.Outs(y)
}

// selectBoxes is greedy NMS for one class: visit candidates by decreasing
// score (ties: lower index first) and keep those that overlap no kept box.
func selectBoxes(boxes []box, scores []float64, maxOut int64, iouT, scoreT float64, hasScoreT bool) []int {
	var cand []int
	for i, s := range scores {
		if !hasScoreT || s > scoreT {
			cand = append(cand, i)
		}
	}
	sort.SliceStable(cand, func(a, b int) bool { return scores[cand[a]] > scores[cand[b]] })
	var kept []int
	for _, i := range cand {
		if int64(len(kept)) >= maxOut {
			break
		}
		ok := true
		for _, j := range kept {
			if overlaps(&boxes[i], &boxes[j], iouT) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, i)
		}
	}
	return kept
}

func inferNMS(b *ops.Build, in []graph.Type) ([]graph.Type, error) {
	return []graph.Type{{DType: tensor.Int64, Shape: []graph.Dim{graph.Unknown, graph.Fixed(3)}, Ranked: true}}, nil
}
