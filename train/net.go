package train

import (
	"context"
	"fmt"

	"stride/graph"
	"stride/importers/caffe"
	"stride/internal/parallel"
	"stride/tensor"
)

// Param is one parameter blob of a net, shared by its training and test
// nets.
type Param struct {
	// Layer and Index name the blob as Caffe does (layer name, blob index).
	Layer string
	Index int
	// Data is the blob in Caffe's shape; the graph's initializers are
	// views of it, so updating Data updates the net.
	Data *tensor.Tensor
	// Diff accumulates the gradient of the loss (Caffe's blob diff).
	Diff []float32
	// LrMult and DecayMult scale the learning rate and weight decay.
	LrMult, DecayMult float32
	// Stats marks BatchNorm statistics: the forward pass writes them, the
	// solver does not.
	Stats bool
}

// Learnable reports whether the solver updates the blob.
func (p *Param) Learnable() bool { return !p.Stats && p.LrMult != 0 }

// Name is "layer[index]".
func (p *Param) Name() string { return fmt.Sprintf("%s[%d]", p.Layer, p.Index) }

// Output is the value of one top of a loss or accuracy layer.
type Output struct {
	Name   string  // the top blob
	Value  float64 // the loss or accuracy
	Weight float32 // the loss weight (0 for accuracy)
}

// DataLayer is a layer whose tops are fed from a data set.
type DataLayer struct {
	Layer *caffe.Layer
	// Tops are the blob names (data, then label when there is one) and
	// Shapes their shapes, batch first.
	Tops   []string
	Shapes [][]int
}

// dataLayerTypes are the Caffe layers that produce data.
var dataLayerTypes = map[string]bool{
	"Data": true, "ImageData": true, "MemoryData": true, "DummyData": true,
	"Input": true, "HDF5Data": true, "WindowData": true,
}

// Net is an imported Caffe net prepared for training (TrainMode) or
// evaluation (TestMode).
type Net struct {
	Caffe  *caffe.Net
	Mode   Mode
	Params []*Param
	Data   []*DataLayer
	prog   *program
	losses []*lossLayer
	feeds  map[string]*tensor.Tensor
}

// lossLayer is a loss or accuracy layer computed outside the graph.
type lossLayer struct {
	L       *caffe.Layer
	fn      lossFunc // nil for accuracy
	bottoms []string // value names in the graph, or fed blobs
	fed     []bool
	weight  float32
	top     string
}

// NewNet prepares an imported net. A test net passes its training net as
// share: layers of the same name then use the training net's parameter
// blobs, as Caffe shares them. The graph of cn is modified (BatchNorm
// layers become the trainer's BatchNorm node, which keeps moving
// averages).
func NewNet(cn *caffe.Net, mode Mode, share *Net, pool *parallel.Pool) (*Net, error) {
	n := &Net{Caffe: cn, Mode: mode, feeds: map[string]*tensor.Tensor{}}
	if share != nil {
		if err := rebindParams(cn, share); err != nil {
			return nil, err
		}
	}
	if err := rewriteBatchNorm(cn); err != nil {
		return nil, err
	}
	byPtr := map[uintptr]*Param{}
	if share != nil {
		for _, p := range share.Params {
			byPtr[dataPtr(p.Data)] = p
		}
	}
	for _, L := range cn.Layers {
		if dataLayerTypes[L.Type] && !L.Dropped {
			n.Data = append(n.Data, &DataLayer{Layer: L, Tops: L.Tops, Shapes: L.TopShapes})
		}
		for j, cp := range L.Params {
			k := dataPtr(cp.Data)
			if p := byPtr[k]; p != nil {
				if !containsParam(n.Params, p) {
					n.Params = append(n.Params, p)
				}
				continue
			}
			p := &Param{Layer: L.Name, Index: j, Data: cp.Data, Diff: make([]float32, cp.Data.Len()),
				LrMult: cp.LrMult, DecayMult: cp.DecayMult, Stats: L.Type == "BatchNorm"}
			byPtr[k] = p
			n.Params = append(n.Params, p)
		}
	}
	prog, err := compile(cn.Graph, n.Params, mode, pool)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", netName(cn), err)
	}
	n.prog = prog
	if err := n.resolveLosses(); err != nil {
		return nil, fmt.Errorf("%s: %w", netName(cn), err)
	}
	return n, nil
}

func netName(cn *caffe.Net) string {
	if cn.Path != "" {
		return cn.Path
	}
	return "net " + cn.Name
}

func containsParam(ps []*Param, p *Param) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// rebindParams points the parameters of cn's layers at the blobs of the
// layers of the same name in share.
func rebindParams(cn *caffe.Net, share *Net) error {
	owners := map[string]*caffe.Layer{}
	for _, L := range share.Caffe.Layers {
		owners[L.Name] = L
	}
	for _, L := range cn.Layers {
		src := owners[L.Name]
		if src == nil || len(L.Params) == 0 {
			continue
		}
		if len(src.Params) != len(L.Params) {
			return fmt.Errorf("layer %q has %d parameter blobs in one phase and %d in the other", L.Name, len(L.Params), len(src.Params))
		}
		for j, p := range L.Params {
			from := src.Params[j].Data
			if !tensor.SameShape(from.Shape, p.Data.Shape) {
				return fmt.Errorf("layer %q blob %d has shape %v in one phase and %v in the other", L.Name, j, p.Data.Shape, from.Shape)
			}
			old := dataPtr(p.Data)
			for name, t := range cn.Graph.Initializers {
				if dataPtr(t) == old && t.Len() == from.Len() {
					cn.Graph.Initializers[name] = from.Reshape(t.Shape...)
				}
			}
			p.Data = from
		}
	}
	return nil
}

// rewriteBatchNorm replaces the nodes each BatchNorm layer became with one
// BatchNorm node of the trainer's domain reading the layer's three blobs,
// so batch statistics feed the moving averages as in Caffe.
func rewriteBatchNorm(cn *caffe.Net) error {
	g := cn.Graph
	for _, L := range cn.Layers {
		if L.Type != "BatchNorm" || L.Dropped || len(L.Nodes) == 0 {
			continue
		}
		if len(L.Params) != 3 {
			return fmt.Errorf("%s: BatchNorm needs 3 blobs, has %d", L.Source(), len(L.Params))
		}
		names := map[string]bool{}
		for _, nm := range L.Nodes {
			names[nm] = true
		}
		first, last := -1, -1
		var kept []*graph.Node
		var firstNode, lastNode *graph.Node
		for i, nd := range g.Nodes {
			if names[nd.Name] {
				if first < 0 {
					first, firstNode = len(kept), nd
				}
				last, lastNode = i, nd
				continue
			}
			kept = append(kept, nd)
		}
		if first < 0 || last < 0 {
			return fmt.Errorf("%s: its nodes are not in the graph", L.Source())
		}
		bp := L.Proto.GetBatchNormParam()
		var ins []string
		ins = append(ins, firstNode.Inputs[0])
		for j, suffix := range []string{"mean", "variance", "scale_factor"} {
			name := L.Name + "/" + suffix
			for k := 1; g.Initializers[name] != nil; k++ {
				name = fmt.Sprintf("%s/%s_%d", L.Name, suffix, k)
			}
			g.Initializers[name] = L.Params[j].Data
			ins = append(ins, name)
		}
		nd := &graph.Node{Name: L.Name, Op: "BatchNorm", Domain: TrainDomain, Inputs: ins,
			Outputs: []string{lastNode.Outputs[0]}, Source: firstNode.Source, Attrs: map[string]*graph.Attr{
				"epsilon":  graph.FloatAttr(bp.GetEps()),
				"momentum": graph.FloatAttr(bp.GetMovingAverageFraction()),
			}}
		if bp != nil && bp.UseGlobalStats != nil {
			v := int64(0)
			if bp.GetUseGlobalStats() {
				v = 1
			}
			nd.SetAttr("use_global_stats", graph.IntAttr(v))
		} else if cn.Phase == caffe.Test {
			nd.SetAttr("use_global_stats", graph.IntAttr(1))
		}
		g.Nodes = append(kept[:first], append([]*graph.Node{nd}, kept[first:]...)...)
		L.Nodes = []string{nd.Name}
		g.Opsets[TrainDomain] = 1
	}
	return nil
}

// blobValue names the graph value that holds blob when layer index li
// reads it: the blob's final value, or the version an in-place layer
// later overwrote ("blob/pre_layer").
func blobValue(cn *caffe.Net, li int, blob string) (string, error) {
	var writers []*caffe.Layer
	before := 0
	for i, L := range cn.Layers {
		if L.Dropped {
			continue
		}
		for _, t := range L.Tops {
			if t == blob {
				writers = append(writers, L)
				if i < li {
					before++
				}
			}
		}
	}
	switch {
	case before == 0:
		return "", fmt.Errorf("blob %q is not produced before %s", blob, cn.Layers[li].Source())
	case before == len(writers):
		return blob, nil
	}
	return blob + "/pre_" + writers[before].Name, nil
}

func (n *Net) isFed(blob string) bool {
	for _, d := range n.Data {
		for _, t := range d.Tops {
			if t == blob {
				return true
			}
		}
	}
	return false
}

func (n *Net) resolveLosses() error {
	for li, L := range n.Caffe.Layers {
		if !L.Dropped {
			continue
		}
		fn, isLoss := lossTable[L.Type]
		if !isLoss && L.Type != "Accuracy" {
			continue
		}
		if L.Type == "Accuracy" && len(L.Tops) > 1 {
			return fmt.Errorf("%s: the per-class accuracy top is not supported", L.Source())
		}
		ll := &lossLayer{L: L, fn: fn}
		if len(L.Tops) > 0 {
			ll.top = L.Tops[0]
		}
		if isLoss {
			ll.weight = 1
			if w := L.Proto.GetLossWeight(); len(w) > 0 {
				ll.weight = w[0]
			}
		}
		for _, b := range L.Bottoms {
			if n.isFed(b) {
				ll.bottoms = append(ll.bottoms, b)
				ll.fed = append(ll.fed, true)
				continue
			}
			name, err := blobValue(n.Caffe, li, b)
			if err != nil {
				return err
			}
			if _, ok := n.prog.slotOf(name); !ok {
				return fmt.Errorf("%s: bottom %q has no value %q in the graph", L.Source(), b, name)
			}
			ll.bottoms = append(ll.bottoms, name)
			ll.fed = append(ll.fed, false)
		}
		n.losses = append(n.losses, ll)
	}
	for _, L := range n.Caffe.Layers {
		if L.Dropped && lossTable[L.Type] == nil && L.Type != "Accuracy" && len(L.Tops) > 0 && isLossType(L.Type) {
			return fmt.Errorf("%s: loss layer type %s is not supported in training (supported: SoftmaxWithLoss, EuclideanLoss, SigmoidCrossEntropyLoss)", L.Source(), L.Type)
		}
	}
	if n.Mode == TrainMode && !n.hasLoss() {
		return fmt.Errorf("the net has no loss layer to train against")
	}
	return nil
}

func isLossType(t string) bool { return len(t) > 4 && t[len(t)-4:] == "Loss" }

func (n *Net) hasLoss() bool {
	for _, l := range n.losses {
		if l.fn != nil {
			return true
		}
	}
	return false
}

// Feed sets the value of a data layer's top for the next pass.
func (n *Net) Feed(blob string, t *tensor.Tensor) error {
	n.feeds[blob] = t
	if _, ok := n.prog.inputs[blob]; ok {
		return n.prog.setInput(blob, t)
	}
	if !n.isFed(blob) {
		return fmt.Errorf("the net has no data top %q", blob)
	}
	return nil
}

// Value returns a blob's value after a pass (nil when unknown).
func (n *Net) Value(name string) *tensor.Tensor {
	if t := n.feeds[name]; t != nil {
		return t
	}
	return n.prog.value(name)
}

// Pass runs the net forward on the fed data and computes its loss and
// accuracy layers; with backward it also adds the gradient of the total
// loss to every learnable parameter's Diff. It returns the total weighted
// loss and every loss and accuracy top. seed makes dropout reproducible.
func (n *Net) Pass(ctx context.Context, seed uint64, backward bool) (float64, []Output, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := n.prog.forward(ctx, seed); err != nil {
		return 0, nil, err
	}
	var total float64
	outs := make([]Output, 0, len(n.losses))
	for _, l := range n.losses {
		bottoms := make([]*tensor.Tensor, len(l.bottoms))
		grads := make([][]float32, len(l.bottoms))
		for i, name := range l.bottoms {
			if l.fed[i] {
				bottoms[i] = n.feeds[name]
			} else {
				bottoms[i] = n.prog.value(name)
				if backward && l.fn != nil && l.weight != 0 {
					g, err := n.prog.seedGrad(name)
					if err != nil {
						return 0, nil, err
					}
					grads[i] = g
				}
			}
			if bottoms[i] == nil {
				return 0, nil, fmt.Errorf("%s: bottom %q has no value (is its data fed?)", l.L.Source(), name)
			}
		}
		var v float64
		var err error
		if l.fn == nil {
			v, err = accuracy(l.L.Proto, bottoms)
		} else {
			v, err = l.fn(l.L.Proto, bottoms, grads, l.weight)
			total += float64(l.weight) * v
		}
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", l.L.Source(), err)
		}
		outs = append(outs, Output{Name: l.top, Value: v, Weight: l.weight})
	}
	if backward {
		if err := n.prog.backward(ctx); err != nil {
			return 0, nil, err
		}
	}
	return total, outs, nil
}

// ClearDiffs zeroes the parameter gradients (before each iteration).
func (n *Net) ClearDiffs() {
	for _, p := range n.Params {
		clear(p.Diff)
	}
}
