package norm

import (
	"testing"

	"stride/graph"
	"stride/tensor"
)

// Expected values below were computed with numpy in float64.

func TestLayerNormalization(t *testing.T) {
	x := f32([]int{2, 3}, 1, 2, 4, -1, 0, 5)
	scale, bias := f32([]int{3}, 1, 0.5, 2), f32([]int{3}, 0, 1, -1)
	wantY := []float64{-1.0690415314502977, 0.8663698085687127, 1.6726038286257436, -0.8890002437594552, 0.7459999303544413, 1.7940007661011457}
	outs := mustRun(t, "LayerNormalization", nil, 3, x, scale, bias)
	expect(t, "Y", outs[0], tensor.Float32, []int{2, 3}, wantY, 1e-6)
	expect(t, "Mean", outs[1], tensor.Float32, []int{2, 1}, []float64{2.3333333333333335, 1.3333333333333333}, 1e-6)
	expect(t, "InvStdDev", outs[2], tensor.Float32, []int{2, 1}, []float64{0.8017811485877232, 0.381000104468338}, 1e-6)

	// Float16 input: Y rounds back to float16, the statistics stay in the
	// stash type (float32).
	h := tensor.Zeros(tensor.Float16, 2, 3)
	for i, v := range x.F32() {
		h.Data.([]uint16)[i] = tensor.F32ToF16(v)
	}
	outs = mustRun(t, "LayerNormalization", nil, 2, h, scale, bias)
	expect(t, "Y f16", outs[0], tensor.Float16, []int{2, 3}, wantY, 2e-3)
	expect(t, "Mean f16", outs[1], tensor.Float32, []int{2, 1}, []float64{2.3333333333333335, 1.3333333333333333}, 1e-6)

	// axis 0 normalizes everything; a scalar-like scale broadcasts.
	y := mustRun(t, "LayerNormalization", attrs{"axis": intA(0)}, 1, f64([]int{2, 2}, 1, 2, 3, 4), f64([]int{1}, 2))[0]
	expect(t, "axis 0", y, tensor.Float64, []int{2, 2}, []float64{-2.6832708399378538, -0.894423613312618, 0.894423613312618, 2.6832708399378538}, 1e-12)

	if _, err := runOp("LayerNormalization", nil, 1, x, f32([]int{2}, 1, 1)); err == nil {
		t.Error("scale of the wrong shape: no error")
	}
	if _, err := runOp("LayerNormalization", attrs{"stash_type": intA(7)}, 1, x, scale); err == nil {
		t.Error("integer stash_type: no error")
	}
}

func TestGroupAndInstanceNormalization(t *testing.T) {
	x := f32([]int{1, 4, 2}, 1, 2, 3, 5, 0, -2, 4, 4)
	scale, bias := f32([]int{4}, 1, 2, 0.5, 1), f32([]int{4}, 0, 0, 1, -1)
	y := mustRun(t, "GroupNormalization", attrs{"num_groups": intA(2)}, 1, x, scale, bias)[0]
	expect(t, "per channel", y, tensor.Float32, []int{1, 4, 2}, []float64{-1.1832132521355805, -0.5070913937723917, 0.3380609291815944, 3.04254836263435, 0.7113250792383825, 0.3264251848895593, -0.03775026412794191, -0.03775026412794191}, 1e-6)
	// Opset 18: scale and bias per group.
	y = mustRun(t, "GroupNormalization", attrs{"num_groups": intA(2)}, 1, x, f32([]int{2}, 2, -1), f32([]int{2}, 0.5, 0))[0]
	expect(t, "per group", y, tensor.Float32, []int{1, 4, 2}, []float64{-1.866426504271161, -0.5141827875447833, 0.8380609291815944, 3.54254836263435, 0.5773498415232349, 1.3471496302208814, -0.9622497358720581, -0.9622497358720581}, 1e-6)
	y = mustRun(t, "InstanceNormalization", nil, 1, x, scale, bias)[0]
	expect(t, "instance", y, tensor.Float32, []int{1, 4, 2}, []float64{-0.9999800005999799, 0.9999800005999799, -1.9999900000749995, 1.9999900000749995, 1.49999750001875, 0.5000024999812501, -1, -1}, 1e-6)

	if _, err := runOp("GroupNormalization", attrs{"num_groups": intA(3)}, 1, x, scale, bias); err == nil {
		t.Error("3 groups of 4 channels: no error")
	}
	if _, err := runOp("GroupNormalization", nil, 1, x, scale, bias); err == nil {
		t.Error("no num_groups: no error")
	}
	if _, err := runOp("InstanceNormalization", nil, 1, x, f32([]int{3}, 1, 1, 1), bias); err == nil {
		t.Error("scale of the wrong length: no error")
	}
}

func TestBatchNormalization(t *testing.T) {
	x := f32([]int{2, 2, 2}, 1, 2, 3, 4, 5, 7, 0, -1)
	scale, bias := f32([]int{2}, 1, 2), f32([]int{2}, 0, 1)
	mean, variance := f32([]int{2}, 0.5, -0.5), f32([]int{2}, 1, 2)
	y := mustRun(t, "BatchNormalization", nil, 1, x, scale, bias, mean, variance)[0]
	expect(t, "inference", y, tensor.Float32, []int{2, 2, 2}, []float64{0.4999975000187499, 1.4999925000562495, 5.949735093983565, 7.3639451208360125, 4.4999775001687485, 6.4999675002437485, 1.7071050134262236, 0.29289498657377633}, 1e-6)

	outs := mustRun(t, "BatchNormalization", attrs{"training_mode": intA(1)}, 3, x, scale, bias, mean, variance)
	expect(t, "training Y", outs[0], tensor.Float32, []int{2, 2, 2}, []float64{-1.1531123066694509, -0.7337987406078325, 2.4552120382048424, 3.4253533970080707, 0.5241419575770232, 1.3627690897002602, -0.45521203820484235, -1.4253533970080707}, 1e-6)
	expect(t, "running mean", outs[1], tensor.Float32, []int{2}, []float64{0.825, -0.3}, 1e-6)
	expect(t, "running var", outs[2], tensor.Float32, []int{2}, []float64{1.46875, 2.225}, 1e-6)

	if _, err := runOp("BatchNormalization", nil, 1, x, scale, bias, mean); err == nil {
		t.Error("missing input_var: no error")
	}
	if _, err := runOp("BatchNormalization", nil, 1, f32([]int{2}, 1, 2), scale, bias, mean, variance); err == nil {
		t.Error("rank 1 input: no error")
	}
}

func TestLRN(t *testing.T) {
	x := f64([]int{1, 3, 2}, 1, 2, 3, 4, 5, 6)
	y := mustRun(t, "LRN", attrs{"size": intA(3), "alpha": graph.FloatAttr(0.1)}, 1, x)[0]
	expect(t, "lrn", y, tensor.Float64, []int{1, 3, 2}, []float64{0.8059274488676565, 1.3634632397609994, 1.679875817440657, 1.8156289292314263, 2.83253943502197, 2.8224860370841403}, 1e-6)
	if _, err := runOp("LRN", nil, 1, x); err == nil {
		t.Error("no size: no error")
	}
}

func TestMeanVarianceNormalization(t *testing.T) {
	// Default axes [0, 2, 3]: the channel axis is kept, so the data is
	// permuted internally.
	x := f32([]int{2, 2, 1, 2}, 1, 2, 3, 5, 0, -2, 4, 4)
	y := mustRun(t, "MeanVarianceNormalization", nil, 1, x)[0]
	expect(t, "mvn", y, tensor.Float32, []int{2, 2, 1, 2}, []float64{0.5070925524942528, 1.1832159558199231, -1.414213560373095, 1.414213560373095, -0.16903085083141758, -1.5212776574827582, 0, 0}, 1e-6)
	// Contiguous axes, no permutation: each row of 2 becomes [-1, 1].
	y = mustRun(t, "MeanVarianceNormalization", attrs{"axes": ints(-1)}, 1, x)[0]
	expect(t, "mvn last axis", y, tensor.Float32, []int{2, 2, 1, 2}, []float64{-1, 1, -1, 1, 1, -1, 0, 0}, 1e-6)
}

func TestLpNormalization(t *testing.T) {
	x := f32([]int{3, 2}, 3, 4, 0, 0, 1, -1)
	y := mustRun(t, "LpNormalization", attrs{"axis": intA(1)}, 1, x)[0]
	expect(t, "p2", y, tensor.Float32, []int{3, 2}, []float64{0.6, 0.8, 0, 0, 0.7071067811865475, -0.7071067811865475}, 1e-6)
	y = mustRun(t, "LpNormalization", attrs{"axis": intA(0), "p": intA(1)}, 1, x)[0]
	expect(t, "p1", y, tensor.Float32, []int{3, 2}, []float64{0.75, 0.8, 0, 0, 0.25, -0.2}, 1e-6)
	if _, err := runOp("LpNormalization", attrs{"p": intA(3)}, 1, x); err == nil {
		t.Error("p=3: no error")
	}
}

func TestLosses(t *testing.T) {
	scores := f64([]int{3, 3}, 1, 2, 3, 0, 0, 1, 2, -1, 0)
	labels := i64([]int{3}, 2, 1, -1)
	weight := f64([]int{3}, 1, 2, 3)
	logp := []float64{-2.4076059644443806, -1.4076059644443804, -0.40760596444438035, -1.551444713932051, -1.551444713932051, -0.5514447139320511, -0.16984601955628548, -3.1698460195562856, -2.1698460195562856}
	ii := intA(-1)
	outs := mustRun(t, "SoftmaxCrossEntropyLoss", attrs{"reduction": graph.StringAttr("none"), "ignore_index": ii}, 2, scores, labels, weight)
	expect(t, "sce none", outs[0], tensor.Float64, []int{3}, []float64{1.222817893333141, 3.102889427864102, 0}, 1e-12)
	expect(t, "log_prob", outs[1], tensor.Float64, []int{3, 3}, logp, 1e-12)
	y := mustRun(t, "SoftmaxCrossEntropyLoss", attrs{"ignore_index": ii}, 1, scores, labels, weight)[0]
	expect(t, "sce mean", y, tensor.Float64, []int{}, []float64{0.8651414642394487}, 1e-12)
	y = mustRun(t, "SoftmaxCrossEntropyLoss", attrs{"reduction": graph.StringAttr("sum"), "ignore_index": ii}, 1, scores, labels, weight)[0]
	expect(t, "sce sum", y, tensor.Float64, []int{}, []float64{4.325707321197243}, 1e-12)

	// NLL on the log-probabilities, without weights: the mean is over the
	// samples not ignored.
	y = mustRun(t, "NegativeLogLikelihoodLoss", attrs{"ignore_index": ii}, 1, f64([]int{3, 3}, logp...), labels)[0]
	expect(t, "nll mean", y, tensor.Float64, []int{}, []float64{(0.40760596444438035 + 1.551444713932051) / 2}, 1e-12)

	// N-D: [N=1, C=2, D=2] with int32 targets.
	y = mustRun(t, "NegativeLogLikelihoodLoss", attrs{"reduction": graph.StringAttr("none")}, 1,
		f32([]int{1, 2, 2}, -1, -2, -3, -4), tensor.From([]int{1, 2}, []int32{1, 0}))[0]
	expect(t, "nll N-D", y, tensor.Float32, []int{1, 2}, []float64{3, 2}, 0)

	if _, err := runOp("NegativeLogLikelihoodLoss", nil, 1, f64([]int{3, 3}, logp...), labels); err == nil {
		t.Error("label -1 without ignore_index: no error")
	}
	if _, err := runOp("NegativeLogLikelihoodLoss", nil, 1, f64([]int{3, 3}, logp...), i64([]int{2}, 0, 1)); err == nil {
		t.Error("target of the wrong shape: no error")
	}
}
