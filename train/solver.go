package train

import (
	"fmt"
	"math"

	"stride/proto/caffepb"
)

// Solver updates a net's parameters from their gradients as Caffe's
// solvers do: it normalises the gradients by iter_size, clips them by
// their global L2 norm (clip_gradients), adds weight decay (L2 or L1,
// scaled by each parameter's decay_mult), and applies the update rule of
// its type with the learning rate of the policy scaled by each parameter's
// lr_mult.
type Solver struct {
	// Param holds the settings (see caffe.ParseSolver).
	Param *caffepb.SolverParameter
	// Iter is the number of updates done.
	Iter int
	// History holds the update rule's state: histories blobs per
	// parameter, all parameters' first blobs, then all second ones (the
	// order of a Caffe .solverstate).
	History [][]float32

	params    []*Param
	rule      updateRule
	policy    lrPolicy
	momentum  float32
	momentum2 float32
	delta     float32
	rmsDecay  float32
	tmp       []float32
}

// NewSolver checks the settings and prepares the update of params.
func NewSolver(sp *caffepb.SolverParameter, params []*Param) (*Solver, error) {
	t := sp.GetType()
	if err := checkSolverType(t); err != nil {
		return nil, err
	}
	if err := checkPolicy(sp); err != nil {
		return nil, err
	}
	if rt := sp.GetRegularizationType(); rt != "L2" && rt != "L1" {
		return nil, fmt.Errorf("unknown regularization_type %q (L2 or L1)", rt)
	}
	if sp.GetIterSize() < 1 {
		return nil, fmt.Errorf("iter_size must be at least 1")
	}
	s := &Solver{Param: sp, params: params, rule: updateRules[t], policy: lrPolicies[sp.GetLrPolicy()],
		momentum: sp.GetMomentum(), momentum2: sp.GetMomentum2(), delta: sp.GetDelta(), rmsDecay: sp.GetRmsDecay()}
	if t == "AdaGrad" && s.momentum != 0 {
		return nil, fmt.Errorf("AdaGrad does not use momentum (it is %g)", s.momentum)
	}
	if t == "RMSProp" && (s.rmsDecay < 0 || s.rmsDecay >= 1) {
		return nil, fmt.Errorf("rms_decay must be in [0, 1)")
	}
	n := len(params)
	s.History = make([][]float32, s.rule.histories*n)
	for k := 0; k < s.rule.histories; k++ {
		for i, p := range params {
			s.History[k*n+i] = make([]float32, p.Data.Len())
		}
	}
	return s, nil
}

// Params returns the parameters the solver updates.
func (s *Solver) Params() []*Param { return s.params }

// LearningRate returns the policy's rate at the current iteration.
func (s *Solver) LearningRate() float64 { return s.policy(s.Param, s.Iter) }

// CurrentStep is Caffe's current_step (the multistep index).
func (s *Solver) CurrentStep() int {
	if s.Param.GetLrPolicy() == "multistep" {
		return multistepIndex(s.Param, s.Iter)
	}
	return 0
}

// GradientNorm returns the global L2 norm of the learnable gradients.
func (s *Solver) GradientNorm() float64 {
	var sum float64
	for _, p := range s.params {
		if !p.Learnable() {
			continue
		}
		for _, v := range p.Diff {
			sum += float64(v) * float64(v)
		}
	}
	return math.Sqrt(sum)
}

// ApplyUpdate turns the gradients accumulated over iter_size passes into
// a step and subtracts it from every learnable parameter, then advances
// Iter.
func (s *Solver) ApplyUpdate() {
	rate := float32(s.LearningRate())
	if clip := s.Param.GetClipGradients(); clip >= 0 {
		if norm := s.GradientNorm(); norm > float64(clip) {
			f := float32(float64(clip) / norm)
			for _, p := range s.params {
				if p.Learnable() {
					for i := range p.Diff {
						p.Diff[i] *= f
					}
				}
			}
		}
	}
	n := len(s.params)
	iterSize := s.Param.GetIterSize()
	wd := s.Param.GetWeightDecay()
	l1 := s.Param.GetRegularizationType() == "L1"
	h := make([][]float32, s.rule.histories)
	for i, p := range s.params {
		if p.Stats {
			continue
		}
		d, w := p.Diff, p.Data.F32()
		if iterSize > 1 {
			f := 1 / float32(iterSize)
			for j := range d {
				d[j] *= f
			}
		}
		if decay := wd * p.DecayMult; decay != 0 {
			if l1 {
				for j, v := range w {
					d[j] += decay * sign32(v)
				}
			} else {
				for j, v := range w {
					d[j] += decay * v
				}
			}
		}
		for k := range h {
			h[k] = s.History[k*n+i]
		}
		if cap(s.tmp) < len(d) {
			s.tmp = make([]float32, len(d))
		}
		s.rule.update(s, d, h, s.tmp[:len(d)], rate*p.LrMult)
		for j, v := range d {
			w[j] -= v
		}
	}
	s.Iter++
}

func sign32(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
