package inspect

import (
	"fmt"
	"strings"

	"stride/graph"
	"stride/tensor"
)

// primary ops name a layer made of several nodes.
var primary = map[string]bool{
	"Conv": true, "ConvTranspose": true, "Gemm": true, "MatMul": true,
	"MaxPool": true, "AveragePool": true, "LpPool": true,
	"GlobalMaxPool": true, "GlobalAveragePool": true, "LRN": true,
	"BatchNormalization": true, "Softmax": true, "LogSoftmax": true,
}

// plumbing ops do not change what a layer is: a layer of a primary op and
// these is named after the primary op.
var plumbing = map[string]bool{
	"Identity": true, "Pad": true, "Reshape": true, "Flatten": true, "Cast": true,
	"Transpose": true, "Squeeze": true, "Unsqueeze": true, "Dropout": true,
}

// windowed ops have kernel_shape, strides and pads.
var windowed = map[string]bool{
	"Conv": true, "ConvTranspose": true, "MaxPool": true, "AveragePool": true, "LpPool": true,
}

func (a *analysis) layer(group []*graph.Node, counted map[string]bool) Layer {
	main := group[0]
	for _, n := range group {
		if primary[n.Op] {
			main = n
			break
		}
	}
	last := group[len(group)-1]
	// A layer's last node writes its top blob and carries its name.
	l := Layer{Name: last.Name, Op: main.Op}
	if l.Name == "" {
		l.Name = first(last.Outputs)
	}
	if len(group) > 1 {
		simple := primary[main.Op]
		for _, n := range group {
			l.Ops = append(l.Ops, n.Op)
			simple = simple && (n == main || plumbing[n.Op])
		}
		if !simple {
			l.Op = strings.Join(l.Ops, "+")
			if len(l.Ops) > 4 {
				l.Op = strings.Join(l.Ops[:3], "+") + fmt.Sprintf("+%d more", len(l.Ops)-3)
			}
		}
	}
	if len(last.Outputs) > 0 {
		l.Output = last.Outputs[0]
		l.Shape = a.shapes[l.Output]
		l.Volume = a.volume(l.Output)
		if f := a.rf[l.Output]; f != nil {
			l.Receptive = f.public()
		}
	}
	if windowed[main.Op] {
		a.window(main, &l)
		for _, n := range group {
			if n.Op == "Pad" {
				a.addPads(n, &l)
			}
		}
	}
	var formulas []string
	for _, n := range group {
		p, f := a.params(n, counted)
		l.Params += p
		if f != "" {
			formulas = append(formulas, f)
		}
		l.MACs += a.macs(n)
	}
	l.ParamsFormula = strings.Join(formulas, " + ")
	if l.ParamsFormula == fmt.Sprint(l.Params) {
		l.ParamsFormula = ""
	}
	return l
}

// window reads kernel, stride, pads, dilation and group of a Conv or pool.
func (a *analysis) window(n *graph.Node, l *Layer) {
	k, _ := n.AttrInts("kernel_shape", nil)
	if k == nil && (n.Op == "Conv" || n.Op == "ConvTranspose") {
		if w := a.shapes[n.Input(1)]; len(w) > 2 {
			for _, d := range w[2:] {
				k = append(k, int64(d))
			}
		}
	}
	if len(k) == 0 {
		return
	}
	r := len(k)
	ints := func(name string, def int64, n0 int) []int {
		v, _ := n.AttrInts(name, nil)
		out := make([]int, n0)
		for i := range out {
			out[i] = int(def)
			if i < len(v) {
				out[i] = int(v[i])
			}
		}
		return out
	}
	l.Kernel = ints("kernel_shape", 0, r)
	for i := range l.Kernel {
		l.Kernel[i] = int(k[i])
	}
	l.Stride = ints("strides", 1, r)
	l.Pad = ints("pads", 0, 2*r)
	dil := ints("dilations", 1, r)
	for _, d := range dil {
		if d != 1 {
			l.Dilation = dil
			break
		}
	}
	if g, _ := n.AttrInt("group", 1); g != 1 {
		l.Group = int(g)
	}
	if ap, _ := n.AttrString("auto_pad", "NOTSET"); ap == "SAME_UPPER" || ap == "SAME_LOWER" {
		in, out := a.shapes[n.Input(0)], a.shapes[n.Outputs[0]]
		if len(in) == r+2 && len(out) == r+2 && n.Op != "ConvTranspose" {
			for i := range r {
				total := max(0, (out[i+2]-1)*l.Stride[i]+(l.Kernel[i]-1)*dil[i]+1-in[i+2])
				small := total / 2
				if ap == "SAME_UPPER" {
					l.Pad[i], l.Pad[i+r] = small, total-small
				} else {
					l.Pad[i], l.Pad[i+r] = total-small, small
				}
			}
		}
	}
}

// addPads adds the spatial pads of an explicit Pad node (before a pool)
// to the layer's own.
func (a *analysis) addPads(n *graph.Node, l *Layer) {
	var p []int64
	if t, ok := a.g.Initializers[n.Input(1)]; ok && t.DType == tensor.Int64 {
		p = t.I64()
	} else if v, _ := n.AttrInts("pads", nil); v != nil {
		p = v
	}
	r := len(l.Kernel)
	rank := len(p) / 2
	if rank < r || len(l.Pad) != 2*r {
		return
	}
	for i := range r {
		l.Pad[i] += int(p[rank-r+i])
		l.Pad[r+i] += int(p[2*rank-r+i])
	}
}

// params counts the learned constants node n reads that no earlier node
// read, and writes them as the lecture does. Single numbers are op
// constants (a scale, an exponent), not parameters.
func (a *analysis) params(n *graph.Node, counted map[string]bool) (int64, string) {
	var sizes []int
	var total int64
	fresh := make([]bool, len(n.Inputs))
	for i, in := range n.Inputs {
		if in == "" || !a.consts[in] || counted[in] {
			continue
		}
		t, ok := a.constTensorShape(in)
		if !ok || tensor.Size(t) <= 1 {
			continue // op constants such as an LRN's alpha are not parameters
		}
		counted[in] = true
		fresh[i] = true
		size := tensor.Size(t)
		sizes = append(sizes, size)
		total += int64(size)
	}
	if total == 0 {
		return 0, ""
	}
	w := a.shapes[n.Input(1)]
	hasBias := len(n.Inputs) > 2 && fresh[2]
	switch {
	case n.Op == "Conv" && fresh[1] && len(w) >= 3 && len(sizes) == 1+boolInt(hasBias):
		parts := make([]string, 0, len(w)-1)
		for _, d := range w[2:] {
			parts = append(parts, fmt.Sprint(d))
		}
		parts = append(parts, fmt.Sprint(w[1]))
		per := strings.Join(parts, "*")
		if hasBias {
			return total, fmt.Sprintf("%d x (%s + 1)", w[0], per)
		}
		return total, fmt.Sprintf("%d x %s", w[0], per)
	case n.Op == "Gemm" && fresh[1] && len(w) == 2 && len(sizes) == 1+boolInt(hasBias):
		k, m := w[0], w[1]
		if tb, _ := n.AttrInt("transB", 0); tb != 0 {
			k, m = m, k
		}
		if hasBias {
			return total, fmt.Sprintf("%d x (%d + 1)", m, k)
		}
		return total, fmt.Sprintf("%d x %d", m, k)
	case n.Op == "MatMul" && fresh[1] && len(w) == 2 && len(sizes) == 1:
		return total, fmt.Sprintf("%d x %d", w[0], w[1])
	}
	same := true
	for _, s := range sizes {
		same = same && s == sizes[0]
	}
	if same && len(sizes) > 1 {
		return total, fmt.Sprintf("%d x %d", len(sizes), sizes[0])
	}
	parts := make([]string, len(sizes))
	for i, s := range sizes {
		parts[i] = fmt.Sprint(s)
	}
	return total, strings.Join(parts, " + ")
}

// constTensorShape returns the shape of a learned (floating-point) constant.
func (a *analysis) constTensorShape(name string) ([]int, bool) {
	s, ok := a.shapes[name]
	if !ok {
		return nil, false
	}
	return s, isParam(&tensor.Tensor{DType: a.dtypes[name]})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// macs counts the multiply-adds of one node for one image.
func (a *analysis) macs(n *graph.Node) int64 {
	return a.batchMACs(n) / int64(max(a.batch, 1))
}

// batchMACs counts the multiply-adds of one node for the batch it ran on.
func (a *analysis) batchMACs(n *graph.Node) int64 {
	if len(n.Outputs) == 0 {
		return 0
	}
	out := a.shapes[n.Outputs[0]]
	if out == nil {
		return 0
	}
	prod := func(s []int) int64 {
		p := int64(1)
		for _, d := range s {
			p *= int64(d)
		}
		return p
	}
	switch n.Op {
	case "Conv":
		if w := a.shapes[n.Input(1)]; len(w) >= 3 && w[0] > 0 {
			return prod(out) * (prod(w) / int64(w[0]))
		}
	case "ConvTranspose":
		if w, in := a.shapes[n.Input(1)], a.shapes[n.Input(0)]; len(w) >= 3 && len(in) >= 2 && w[0] > 0 {
			return prod(in) * (prod(w) / int64(w[0]))
		}
	case "Gemm":
		if in := a.shapes[n.Input(0)]; len(in) == 2 {
			k := in[1]
			if ta, _ := n.AttrInt("transA", 0); ta != 0 {
				k = in[0]
			}
			return prod(out) * int64(k)
		}
	case "MatMul":
		if in := a.shapes[n.Input(0)]; len(in) >= 1 {
			return prod(out) * int64(in[len(in)-1])
		}
	}
	return 0
}
