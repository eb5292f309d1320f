package train

import (
	"fmt"
	"math"

	"stride/proto/caffepb"
)

// lrPolicy computes the learning rate at an iteration from the solver's
// settings, as Caffe's SGDSolver::GetLearningRate does: float32 operands,
// C's pow in double, the rate rounded to float32 (and widened again).
type lrPolicy func(sp *caffepb.SolverParameter, iter int) float64

// powfi is pow of a float32 and an int, computed in double.
func powfi(x float32, n int) float64 { return math.Pow(float64(x), float64(n)) }

// lrPolicies lists Caffe's learning-rate policies.
var lrPolicies = map[string]lrPolicy{
	"fixed": func(sp *caffepb.SolverParameter, _ int) float64 { return float64(sp.GetBaseLr()) },
	"step": func(sp *caffepb.SolverParameter, iter int) float64 {
		step := iter / int(sp.GetStepsize())
		return float64(float32(float64(sp.GetBaseLr()) * powfi(sp.GetGamma(), step)))
	},
	"exp": func(sp *caffepb.SolverParameter, iter int) float64 {
		return float64(float32(float64(sp.GetBaseLr()) * powfi(sp.GetGamma(), iter)))
	},
	"inv": func(sp *caffepb.SolverParameter, iter int) float64 {
		base := 1 + sp.GetGamma()*float32(iter)
		return float64(float32(float64(sp.GetBaseLr()) * math.Pow(float64(base), -float64(sp.GetPower()))))
	},
	"multistep": func(sp *caffepb.SolverParameter, iter int) float64 {
		return float64(float32(float64(sp.GetBaseLr()) * powfi(sp.GetGamma(), multistepIndex(sp, iter))))
	},
	"poly": func(sp *caffepb.SolverParameter, iter int) float64 {
		return float64(float32(float64(sp.GetBaseLr()) * math.Pow(float64(1-float32(iter)/float32(sp.GetMaxIter())), float64(sp.GetPower()))))
	},
	"sigmoid": func(sp *caffepb.SolverParameter, iter int) float64 {
		e := float32(math.Exp(float64(-sp.GetGamma() * (float32(iter) - float32(sp.GetStepsize())))))
		return float64(sp.GetBaseLr() * (1 / (1 + e)))
	},
}

// multistepIndex counts the step values already reached (Caffe's
// current_step for the multistep policy).
func multistepIndex(sp *caffepb.SolverParameter, iter int) int {
	k := 0
	for _, v := range sp.GetStepvalue() {
		if iter >= int(v) {
			k++
		}
	}
	return k
}

// checkPolicy validates the settings a policy needs.
func checkPolicy(sp *caffepb.SolverParameter) error {
	name := sp.GetLrPolicy()
	if _, ok := lrPolicies[name]; !ok {
		return fmt.Errorf("unknown lr_policy %q (Caffe has fixed, step, exp, inv, multistep, poly and sigmoid)", name)
	}
	switch name {
	case "step", "sigmoid":
		if sp.GetStepsize() <= 0 {
			return fmt.Errorf("lr_policy %q needs a positive stepsize", name)
		}
	case "poly":
		if sp.GetMaxIter() <= 0 {
			return fmt.Errorf("lr_policy poly needs a positive max_iter")
		}
	case "multistep":
		prev := int32(-1)
		for _, v := range sp.GetStepvalue() {
			if v <= prev {
				return fmt.Errorf("multistep stepvalue %v must increase", sp.GetStepvalue())
			}
			prev = v
		}
	}
	return nil
}
