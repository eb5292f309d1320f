package passes

import (
	"math"

	"stride/graph"
	"stride/tensor"
)

// convLike reports whether n is a convolution whose weights and bias are
// constants, so its parameters can absorb a following per-channel op.
func convLike(n *graph.Node, ix *index) bool {
	if !(n.Domain == "" && n.Op == "Conv" || n.Domain == FusedDomain && n.Op == "FusedConv") {
		return false
	}
	if n.Domain == FusedDomain && (n.Input(3) != "" || n.Has("activation")) {
		return false // already has a residual or activation after the affine part
	}
	w := ix.constant(n.Input(1))
	if w == nil || w.DType != tensor.Float32 || len(w.Shape) < 3 {
		return false
	}
	if n.Input(2) != "" {
		b := ix.constant(n.Input(2))
		if b == nil || b.DType != tensor.Float32 {
			return false
		}
	}
	return true
}

// convParams returns W and B (zeros when absent) as float64 copies.
func convParams(n *graph.Node, ix *index) (w []float64, b []float64, shape []int) {
	wt := ix.constant(n.Input(1))
	w = wt.Float64s()
	cout := wt.Shape[0]
	b = make([]float64, cout)
	if bt := ix.constant(n.Input(2)); bt != nil {
		copy(b, bt.Float64s())
	}
	return w, b, wt.Shape
}

// setConvParams stores new float32 parameters under fresh names.
func setConvParams(g *graph.Graph, n *graph.Node, w, b []float64, shape []int) {
	wt := tensor.Zeros(tensor.Float32, shape...)
	for i, v := range w {
		wt.F32()[i] = float32(v)
	}
	bt := tensor.Zeros(tensor.Float32, shape[0])
	for i, v := range b {
		bt.F32()[i] = float32(v)
	}
	wName := freshName(g, n.Input(1))
	bName := freshName(g, n.Input(1)+"_bias")
	g.Initializers[wName] = wt
	g.Initializers[bName] = bt
	for len(n.Inputs) < 3 {
		n.Inputs = append(n.Inputs, "")
	}
	n.Inputs[1], n.Inputs[2] = wName, bName
}

// FoldConvBatchNorm folds an inference BatchNormalization that follows a
// convolution into the convolution's weights and bias:
// W' = W*s, B' = (B-mean)*s + beta with s = gamma/sqrt(var+eps).
func FoldConvBatchNorm(g *graph.Graph) (bool, error) {
	ix := newIndex(g)
	dead := map[*graph.Node]bool{}
	for _, bn := range g.Nodes {
		if bn.Domain != "" || bn.Op != "BatchNormalization" || len(bn.Outputs) != 1 || dead[bn] {
			continue
		}
		if tm, _ := bn.AttrInt("training_mode", 0); tm != 0 {
			continue
		}
		conv := ix.producer[bn.Input(0)]
		if conv == nil || dead[conv] || !convLike(conv, ix) || !ix.soleUse(bn.Input(0)) {
			continue
		}
		var p [4][]float64
		ok := true
		for i := range p {
			t := ix.constant(bn.Input(i + 1))
			if t == nil || !t.DType.IsFloat() {
				ok = false
				break
			}
			p[i] = t.Float64s()
		}
		w, b, shape := convParams(conv, ix)
		cout := shape[0]
		if !ok || len(p[0]) != cout || len(p[1]) != cout || len(p[2]) != cout || len(p[3]) != cout {
			continue
		}
		eps, err := bn.AttrFloat("epsilon", 1e-5)
		if err != nil {
			return false, err
		}
		per := len(w) / cout
		for c := 0; c < cout; c++ {
			s := p[0][c] / math.Sqrt(p[3][c]+float64(eps))
			for i := c * per; i < (c+1)*per; i++ {
				w[i] *= s
			}
			b[c] = (b[c]-p[2][c])*s + p[1][c]
		}
		setConvParams(g, conv, w, b, shape)
		conv.Outputs[0] = bn.Outputs[0]
		dead[bn] = true
	}
	removeNodes(g, dead)
	return len(dead) > 0, nil
}

// FoldConvAffine folds Mul, Add, Sub (conv - c) and Div (conv / c) by a
// constant that is a scalar or per output channel into the preceding
// convolution (Caffe's Scale and Bias layers, and BatchNorm written as
// Sub/Div, become this pattern).
func FoldConvAffine(g *graph.Graph) (bool, error) {
	changed := false
	for {
		ix := newIndex(g)
		did := false
		for _, op := range g.Nodes {
			if op.Domain != "" || len(op.Inputs) != 2 || len(op.Outputs) != 1 {
				continue
			}
			var convIn, constIn int
			switch op.Op {
			case "Mul", "Add":
				convIn, constIn = 0, 1
				if ix.constant(op.Input(1)) == nil {
					convIn, constIn = 1, 0
				}
			case "Sub", "Div":
				convIn, constIn = 0, 1
			default:
				continue
			}
			conv := ix.producer[op.Input(convIn)]
			c := ix.constant(op.Input(constIn))
			if conv == nil || c == nil || !c.DType.IsFloat() || !convLike(conv, ix) || !ix.soleUse(op.Input(convIn)) {
				continue
			}
			w, b, shape := convParams(conv, ix)
			vals, ok := perChannel(c, shape[0], len(shape))
			if !ok {
				continue
			}
			per := len(w) / shape[0]
			for ch := 0; ch < shape[0]; ch++ {
				v := vals[ch]
				switch op.Op {
				case "Mul", "Div":
					if op.Op == "Div" {
						v = 1 / v
					}
					for i := ch * per; i < (ch+1)*per; i++ {
						w[i] *= v
					}
					b[ch] *= v
				case "Add":
					b[ch] += v
				case "Sub":
					b[ch] -= v
				}
			}
			setConvParams(g, conv, w, b, shape)
			conv.Outputs[0] = op.Outputs[0]
			removeNodes(g, map[*graph.Node]bool{op: true})
			did, changed = true, true
			break
		}
		if !did {
			return changed, nil
		}
	}
}

// perChannel expands a constant that broadcasts against a conv output of
// the given rank as a scalar or along the channel axis (1) only.
func perChannel(c *tensor.Tensor, cout, rank int) ([]float64, bool) {
	if len(c.Shape) > rank {
		return nil, false
	}
	shape := make([]int, rank)
	for i := range shape {
		shape[i] = 1
	}
	copy(shape[rank-len(c.Shape):], c.Shape)
	for i, d := range shape {
		if d != 1 && !(i == 1 && d == cout) {
			return nil, false
		}
	}
	v := c.Float64s()
	out := make([]float64, cout)
	for i := range out {
		if len(v) == 1 {
			out[i] = v[0]
		} else {
			out[i] = v[i]
		}
	}
	return out, true
}
