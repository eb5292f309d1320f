package nn

import (
	"fmt"
	"math"

	"stride/graph"
	"stride/internal/gemm"
	"stride/ops"
)

// Fused ops of the "stride" domain. Graph passes rewrite Conv (+ folded
// BatchNormalization) followed by an activation and/or a residual Add into
// FusedConv, and Gemm followed by an activation into FusedGemm, so the
// product's epilogue writes each output element once, already finished.
//
//	FusedConv(X, W, [B], [Z]) = act(Conv(X, W, B) + Z)   Z has Y's shape
//	FusedGemm(A, B, [C])      = act(Gemm(A, B, C))
//
// Both take their base op's attributes plus activation ("", "Relu",
// "LeakyRelu" or "Clip"), activation_alpha (the LeakyRelu slope; Gemm's
// alpha keeps its meaning) and min/max (Clip bounds).

// Domain is the domain of Stride's internal ops.
const Domain = "stride"

func init() {
	ops.Register(
		&ops.Def{Op: "FusedConv", Domain: Domain, Build: buildFusedConv, Infer: inferConv},
		&ops.Def{Op: "FusedGemm", Domain: Domain, Build: buildFusedGemm, Infer: inferGemm},
	)
}

// fusedAct is the activation a fused op applies last. The zero value is
// the identity.
type fusedAct struct {
	kind   gemm.Act
	alpha  float32 // LeakyRelu slope
	lo, hi float32 // Clip bounds
}

var activations = map[string]gemm.Act{
	"":          gemm.ActNone,
	"Relu":      gemm.ActRelu,
	"LeakyRelu": gemm.ActLeakyRelu,
	"Clip":      gemm.ActClip,
}

// parseFusedAct reads activation, the LeakyRelu slope (activation_alpha,
// which cannot clash with Gemm's own alpha), min and max. Absent Clip
// bounds are unbounded, as for Clip without its min/max inputs.
func parseFusedAct(n *graph.Node) (fusedAct, error) {
	var f fusedAct
	name, err := n.AttrString("activation", "")
	if err != nil {
		return f, err
	}
	var ok bool
	if f.kind, ok = activations[name]; !ok {
		return f, fmt.Errorf("unsupported activation %q (want Relu, LeakyRelu or Clip)", name)
	}
	if f.alpha, err = n.AttrFloat("activation_alpha", 0.01); err != nil {
		return f, err
	}
	if f.lo, err = n.AttrFloat("min", float32(math.Inf(-1))); err != nil {
		return f, err
	}
	if f.hi, err = n.AttrFloat("max", float32(math.Inf(1))); err != nil {
		return f, err
	}
	if f.kind == gemm.ActClip && f.lo > f.hi {
		return f, fmt.Errorf("Clip bounds min %v > max %v", f.lo, f.hi)
	}
	return f, nil
}

// epilogue describes bias, residual and activation for the GEMM. A
// per-row bias is the convolution layout (one value per output channel).
func (f fusedAct) epilogue(ep *gemm.Epilogue, bias []float32, perRow bool, res []float32, ldr int) *gemm.Epilogue {
	if bias == nil && res == nil && f.kind == gemm.ActNone {
		return nil
	}
	*ep = gemm.Epilogue{Bias: bias, BiasPerRow: perRow, Residual: res, LdR: ldr,
		Act: f.kind, Min: f.lo, Max: f.hi, Alpha: f.alpha}
	return ep
}

// apply is the activation of one value. NaN passes through every
// activation, as in the GEMM epilogue (comparisons with NaN are false).
func (f fusedAct) apply(v float32) float32 {
	switch f.kind {
	case gemm.ActRelu:
		if v < 0 {
			v = 0
		}
	case gemm.ActClip:
		if v < f.lo {
			v = f.lo
		}
		if v > f.hi {
			v = f.hi
		}
	case gemm.ActLeakyRelu:
		if v < 0 {
			v *= f.alpha
		}
	}
	return v
}

// finish adds the residual z (nil for none) to y and applies the
// activation, for the paths whose products have no epilogue of their own.
func (f fusedAct) finish(y, z []float32) {
	if z != nil {
		z = z[:len(y)]
		for i, v := range z {
			y[i] += v
		}
	}
	if f.kind == gemm.ActNone {
		return
	}
	for i, v := range y {
		y[i] = f.apply(v)
	}
}

// bounds returns the activation as a clamp [lo, hi] when it is one (none,
// Relu, Clip): the direct kernels apply those in registers.
func (f fusedAct) bounds() (lo, hi float32, ok bool) {
	inf := float32(math.Inf(1))
	switch f.kind {
	case gemm.ActNone:
		return -inf, inf, true
	case gemm.ActRelu:
		return 0, inf, true
	case gemm.ActClip:
		return f.lo, f.hi, true
	}
	return 0, 0, false
}
