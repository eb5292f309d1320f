package train

import (
	"fmt"
	"math"

	"stride/proto/caffepb"
	"stride/tensor"
)

// Caffe's loss and accuracy layers. The importer leaves them out of the
// inference graph; the trainer computes them on the values of their bottom
// blobs after the forward pass and seeds the backward pass with the loss's
// gradient.

// lossFunc computes a loss layer on its bottoms. grads[i] is where the
// gradient of bottom i goes (added, already scaled by weight), or nil when
// that bottom needs none.
type lossFunc func(lp *caffepb.LayerParameter, bottoms []*tensor.Tensor, grads [][]float32, weight float32) (float64, error)

// lossTable lists the supported loss layers by Caffe type.
var lossTable = map[string]lossFunc{
	"SoftmaxWithLoss":         softmaxWithLoss,
	"EuclideanLoss":           euclideanLoss,
	"SigmoidCrossEntropyLoss": sigmoidCrossEntropyLoss,
}

// normalizer is Caffe's LossLayer::GetNormalizer.
func normalizer(lp *caffepb.LayerParameter, outer, inner, valid int) float64 {
	mode := caffepb.LossParameter_VALID
	if p := lp.GetLossParam(); p != nil {
		switch {
		case p.Normalization != nil:
			mode = p.GetNormalization()
		case p.Normalize != nil && !p.GetNormalize():
			mode = caffepb.LossParameter_BATCH_SIZE
		}
	}
	var n float64
	switch mode {
	case caffepb.LossParameter_FULL:
		n = float64(outer * inner)
	case caffepb.LossParameter_VALID:
		n = float64(valid)
	case caffepb.LossParameter_BATCH_SIZE:
		n = float64(outer)
	default:
		n = 1
	}
	return math.Max(1, n)
}

// fltMin is C's FLT_MIN, the floor Caffe puts under a probability before
// taking its log.
const fltMin = 1.17549435082228750797e-38

// labelAt reads an integer class label.
func labelAt(labels []float32, i int) int { return int(labels[i]) }

// softmaxWithLoss: softmax over the axis, then the mean (by the chosen
// normalisation) of -log p[label]; labels equal to ignore_label count for
// nothing. The gradient is (p - onehot(label)) * weight / normalizer.
func softmaxWithLoss(lp *caffepb.LayerParameter, b []*tensor.Tensor, grads [][]float32, weight float32) (float64, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("needs scores and labels")
	}
	x := b[0]
	axis := int(lp.GetSoftmaxParam().GetAxis())
	if axis < 0 {
		axis += len(x.Shape)
	}
	if axis < 0 || axis >= len(x.Shape) {
		return 0, fmt.Errorf("softmax axis %d out of range for scores %v", lp.GetSoftmaxParam().GetAxis(), x.Shape)
	}
	outer, inner := axisSplit(x.Shape, axis)
	dim := x.Shape[axis]
	labels := b[1].F32()
	if len(labels) != outer*inner {
		return 0, fmt.Errorf("%d labels for scores of shape %v (want %d)", len(labels), x.Shape, outer*inner)
	}
	ignore, hasIgnore := 0, false
	if p := lp.GetLossParam(); p != nil && p.IgnoreLabel != nil {
		ignore, hasIgnore = int(p.GetIgnoreLabel()), true
	}
	xd := x.F32()
	prob := make([]float32, dim)
	// Caffe sums the loss in float32.
	var loss float32
	valid := 0
	var dx []float32
	if len(grads) > 0 {
		dx = grads[0]
	}
	type pending struct{ base, label int }
	var rows []pending
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			lab := labelAt(labels, o*inner+i)
			if hasIgnore && lab == ignore {
				continue
			}
			if lab < 0 || lab >= dim {
				return 0, fmt.Errorf("label %g is outside the %d classes", labels[o*inner+i], dim)
			}
			softmaxInto(xd, base, dim, inner, prob)
			loss -= float32(math.Log(math.Max(float64(prob[lab]), fltMin)))
			valid++
			if dx != nil {
				rows = append(rows, pending{base, lab})
			}
		}
	}
	norm := normalizer(lp, outer, inner, valid)
	if dx != nil {
		scale := weight / float32(norm)
		for _, r := range rows {
			softmaxInto(xd, r.base, dim, inner, prob)
			prob[r.label]--
			for c := 0; c < dim; c++ {
				dx[r.base+c*inner] += prob[c] * scale
			}
		}
	}
	return float64(loss / float32(norm)), nil
}

// softmaxInto computes the softmax of x[base + c*inner], c < dim, as Caffe
// does (subtract the max, exponentiate, divide by the sum), in float32.
func softmaxInto(x []float32, base, dim, inner int, p []float32) {
	m := x[base]
	for c := 1; c < dim; c++ {
		m = max(m, x[base+c*inner])
	}
	var s float32
	for c := 0; c < dim; c++ {
		p[c] = float32(math.Exp(float64(x[base+c*inner] - m)))
		s += p[c]
	}
	for c := range p[:dim] {
		p[c] /= s
	}
}

// euclideanLoss: sum((a-b)^2) / (2*N), N the first axis of a.
func euclideanLoss(lp *caffepb.LayerParameter, b []*tensor.Tensor, grads [][]float32, weight float32) (float64, error) {
	if len(b) != 2 || b[0].Len() != b[1].Len() {
		return 0, fmt.Errorf("needs two bottoms of the same size")
	}
	num := 1
	if len(b[0].Shape) > 0 {
		num = b[0].Shape[0]
	}
	a, c := b[0].F32(), b[1].F32()
	var loss float64
	for i := range a {
		d := float64(a[i] - c[i])
		loss += d * d
	}
	scale := weight / float32(num)
	for k := 0; k < 2 && k < len(grads); k++ {
		if grads[k] == nil {
			continue
		}
		sign := scale
		if k == 1 {
			sign = -scale
		}
		for i := range a {
			grads[k][i] += sign * (a[i] - c[i])
		}
	}
	return loss / float64(num) / 2, nil
}

// sigmoidCrossEntropyLoss: the cross entropy of sigmoid(x) and targets in
// [0, 1], computed in the numerically stable form Caffe uses.
func sigmoidCrossEntropyLoss(lp *caffepb.LayerParameter, b []*tensor.Tensor, grads [][]float32, weight float32) (float64, error) {
	if len(b) != 2 || b[0].Len() != b[1].Len() {
		return 0, fmt.Errorf("needs scores and targets of the same size")
	}
	x, t := b[0].F32(), b[1].F32()
	outer := 1
	if len(b[0].Shape) > 0 {
		outer = b[0].Shape[0]
	}
	inner := len(x) / max(outer, 1)
	ignore, hasIgnore := 0, false
	if p := lp.GetLossParam(); p != nil && p.IgnoreLabel != nil {
		ignore, hasIgnore = int(p.GetIgnoreLabel()), true
	}
	var loss float64
	valid := 0
	for i, v := range x {
		if hasIgnore && int(t[i]) == ignore {
			continue
		}
		xv := float64(v)
		pos := 0.0
		if xv >= 0 {
			pos = 1
		}
		loss -= xv*(float64(t[i])-pos) - math.Log(1+math.Exp(xv-2*xv*pos))
		valid++
	}
	norm := normalizer(lp, outer, inner, valid)
	if len(grads) > 1 && grads[1] != nil {
		return 0, fmt.Errorf("the targets of SigmoidCrossEntropyLoss have no gradient")
	}
	if len(grads) > 0 && grads[0] != nil {
		scale := weight / float32(norm)
		for i, v := range x {
			if hasIgnore && int(t[i]) == ignore {
				continue
			}
			s := 1 / (1 + float32(math.Exp(float64(-v))))
			grads[0][i] += (s - t[i]) * scale
		}
	}
	return loss / norm, nil
}

// accuracy is Caffe's Accuracy layer: the fraction of samples whose label
// scores among the top_k (a tie with the label's score counts against it).
func accuracy(lp *caffepb.LayerParameter, b []*tensor.Tensor) (float64, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("needs scores and labels")
	}
	ap := lp.GetAccuracyParam()
	topK := int(ap.GetTopK())
	x := b[0]
	axis := int(ap.GetAxis())
	if axis < 0 {
		axis += len(x.Shape)
	}
	if axis < 0 || axis >= len(x.Shape) {
		return 0, fmt.Errorf("axis %d out of range for scores %v", ap.GetAxis(), x.Shape)
	}
	outer, inner := axisSplit(x.Shape, axis)
	dim := x.Shape[axis]
	labels := b[1].F32()
	if len(labels) != outer*inner {
		return 0, fmt.Errorf("%d labels for scores of shape %v", len(labels), x.Shape)
	}
	xd := x.F32()
	correct, count := 0, 0
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			lab := labelAt(labels, o*inner+i)
			if ap != nil && ap.IgnoreLabel != nil && lab == int(ap.GetIgnoreLabel()) {
				continue
			}
			if lab < 0 || lab >= dim {
				return 0, fmt.Errorf("label %d is outside the %d classes", lab, dim)
			}
			base := o*dim*inner + i
			p := xd[base+lab*inner]
			better := -1
			for c := 0; c < dim && better < topK; c++ {
				if xd[base+c*inner] >= p {
					better++
				}
			}
			if better < topK {
				correct++
			}
			count++
		}
	}
	if count == 0 {
		return 0, nil
	}
	return float64(correct) / float64(count), nil
}
