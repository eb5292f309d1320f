package passes

import "stride/graph"

// FuseBatchNormRelu makes an inference BatchNormalization whose output only
// a Relu reads one FusedBatchNorm that applies both in a single pass over
// the data. It runs after FoldConvBatchNorm, so it only meets the
// BatchNormalizations that have no convolution to fold into (the
// pre-activation blocks of DenseNet, which follow a Concat or a pool).
// The Relu's output keeps its name.
func FuseBatchNormRelu(g *graph.Graph) (bool, error) {
	if !fusedAvailable("FusedBatchNorm") {
		return false, nil
	}
	ix := newIndex(g)
	dead := map[*graph.Node]bool{}
	for _, relu := range g.Nodes {
		if relu.Domain != "" || relu.Op != "Relu" || len(relu.Outputs) != 1 || dead[relu] {
			continue
		}
		bn := ix.producer[relu.Input(0)]
		if bn == nil || bn.Domain != "" || bn.Op != "BatchNormalization" || len(bn.Outputs) != 1 || !ix.soleUse(relu.Input(0)) {
			continue
		}
		if tm, err := bn.AttrInt("training_mode", 0); err != nil || tm != 0 {
			continue
		}
		bn.Domain, bn.Op = FusedDomain, "FusedBatchNorm"
		bn.SetAttr("activation", graph.StringAttr("Relu"))
		bn.Outputs[0] = relu.Outputs[0]
		dead[relu] = true
	}
	removeNodes(g, dead)
	return len(dead) > 0, nil
}
