package nn

import (
	"fmt"
	"math"
	"strings"
)

// The activation functions the recurrent ops accept (attribute
// "activations"), with ONNX's default alpha and beta for each.

type actKind uint8

const (
	actRelu actKind = iota
	actTanh
	actSigmoid
	actAffine
	actLeakyRelu
	actThresholdedRelu
	actScaledTanh
	actHardSigmoid
	actElu
	actSoftsign
	actSoftplus
)

var actTable = map[string]struct {
	kind        actKind
	alpha, beta float32
	// usesAlpha/usesBeta: whether the function consumes an entry of
	// activation_alpha / activation_beta.
	usesAlpha, usesBeta bool
}{
	"relu":            {kind: actRelu},
	"tanh":            {kind: actTanh},
	"sigmoid":         {kind: actSigmoid},
	"affine":          {kind: actAffine, alpha: 1, beta: 0, usesAlpha: true, usesBeta: true},
	"leakyrelu":       {kind: actLeakyRelu, alpha: 0.01, usesAlpha: true},
	"thresholdedrelu": {kind: actThresholdedRelu, alpha: 1, usesAlpha: true},
	"scaledtanh":      {kind: actScaledTanh, alpha: 1, beta: 1, usesAlpha: true, usesBeta: true},
	"hardsigmoid":     {kind: actHardSigmoid, alpha: 0.2, beta: 0.5, usesAlpha: true, usesBeta: true},
	"elu":             {kind: actElu, alpha: 1, usesAlpha: true},
	"softsign":        {kind: actSoftsign},
	"softplus":        {kind: actSoftplus},
}

type activation struct {
	kind        actKind
	alpha, beta float32
}

// parseActivations resolves activation names (case-insensitive), taking
// alphas and betas in order for the functions that use them.
func parseActivations(names []string, alphas, betas []float32) ([]activation, error) {
	out := make([]activation, len(names))
	for i, name := range names {
		e, ok := actTable[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("unknown activation %q", name)
		}
		a := activation{kind: e.kind, alpha: e.alpha, beta: e.beta}
		if e.usesAlpha && len(alphas) > 0 {
			a.alpha, alphas = alphas[0], alphas[1:]
		}
		if e.usesBeta && len(betas) > 0 {
			a.beta, betas = betas[0], betas[1:]
		}
		out[i] = a
	}
	return out, nil
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + float32(math.Exp(float64(-x))))
	}
	e := float32(math.Exp(float64(x)))
	return e / (1 + e)
}

// apply replaces every element of v by its activation.
func (a activation) apply(v []float32) {
	al, be := a.alpha, a.beta
	for i, x := range v {
		var y float32
		switch a.kind {
		case actRelu:
			y = max(x, 0)
		case actTanh:
			y = float32(math.Tanh(float64(x)))
		case actSigmoid:
			y = sigmoid(x)
		case actAffine:
			y = al*x + be
		case actLeakyRelu:
			y = x
			if x < 0 {
				y = al * x
			}
		case actThresholdedRelu:
			if x > al {
				y = x
			}
		case actScaledTanh:
			y = al * float32(math.Tanh(float64(be*x)))
		case actHardSigmoid:
			y = max(0, min(1, al*x+be))
		case actElu:
			y = x
			if x < 0 {
				y = al * float32(math.Expm1(float64(x)))
			}
		case actSoftsign:
			y = x / (1 + float32(math.Abs(float64(x))))
		case actSoftplus:
			y = x // log(1+e^x) == x to float32 precision, without overflow
			if x < 30 {
				y = float32(math.Log1p(math.Exp(float64(x))))
			}
		}
		v[i] = y
	}
}
