package train

import (
	"fmt"
	"math"
)

// Caffe's update rules. Each turns a parameter's regularised gradient
// (diff) into the step the net subtracts, using the parameter's history
// blobs, exactly as the corresponding Caffe solver's ComputeUpdateValue:
// the learning rate is applied inside the rule (for SGD the history holds
// lr-scaled gradients).
type updateRule struct {
	// histories is the number of history blobs per parameter.
	histories int
	// update rewrites diff in place into the step. h holds the
	// parameter's history blobs, tmp is scratch of the same size.
	update func(s *Solver, diff []float32, h [][]float32, tmp []float32, rate float32)
}

var updateRules = map[string]updateRule{
	"SGD":      {1, sgdUpdate},
	"Nesterov": {1, nesterovUpdate},
	"AdaGrad":  {1, adaGradUpdate},
	"RMSProp":  {1, rmsPropUpdate},
	"AdaDelta": {2, adaDeltaUpdate},
	"Adam":     {2, adamUpdate},
}

// SGD: H = mu*H + lr*g; step = H.
func sgdUpdate(s *Solver, d []float32, h [][]float32, _ []float32, rate float32) {
	mu, hist := s.momentum, h[0]
	for i, g := range d {
		hist[i] = rate*g + mu*hist[i]
		d[i] = hist[i]
	}
}

// Nesterov: H' = mu*H + lr*g; step = (1+mu)*H' - mu*H.
func nesterovUpdate(s *Solver, d []float32, h [][]float32, _ []float32, rate float32) {
	mu, hist := s.momentum, h[0]
	for i, g := range d {
		prev := hist[i]
		hist[i] = rate*g + mu*hist[i]
		d[i] = (1+mu)*hist[i] - mu*prev
	}
}

// AdaGrad: H += g^2; step = lr * g / (sqrt(H) + delta).
func adaGradUpdate(s *Solver, d []float32, h [][]float32, _ []float32, rate float32) {
	hist := h[0]
	for i, g := range d {
		hist[i] += g * g
		d[i] = rate * (g / (sqrt32(hist[i]) + s.delta))
	}
}

// RMSProp: H = decay*H + (1-decay)*g^2; step = lr * g / (sqrt(H) + delta).
func rmsPropUpdate(s *Solver, d []float32, h [][]float32, _ []float32, rate float32) {
	dec, hist := s.rmsDecay, h[0]
	for i, g := range d {
		hist[i] = (1-dec)*(g*g) + dec*hist[i]
		d[i] = rate * (g / (sqrt32(hist[i]) + s.delta))
	}
}

// AdaDelta: G = mu*G + (1-mu)*g^2; u = g * sqrt((U+delta)/(G+delta));
// U = mu*U + (1-mu)*u^2; step = lr*u.
func adaDeltaUpdate(s *Solver, d []float32, h [][]float32, _ []float32, rate float32) {
	mu, g2, u2 := s.momentum, h[0], h[1]
	for i, g := range d {
		g2[i] = (1-mu)*(g*g) + mu*g2[i]
		u := g * sqrt32((s.delta+u2[i])/(s.delta+g2[i]))
		u2[i] = (1-mu)*(u*u) + mu*u2[i]
		d[i] = rate * u
	}
}

// Adam: m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; step = lr *
// sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + delta), t = iter+1.
func adamUpdate(s *Solver, d []float32, h [][]float32, _ []float32, rate float32) {
	b1, b2 := s.momentum, s.momentum2
	t := float64(s.Iter + 1)
	corr := float32(math.Sqrt(1-math.Pow(float64(b2), t)) / (1 - math.Pow(float64(b1), t)))
	m, v := h[0], h[1]
	r := rate * corr
	for i, g := range d {
		m[i] = (1-b1)*g + b1*m[i]
		v[i] = (1-b2)*(g*g) + b2*v[i]
		d[i] = r * (m[i] / (sqrt32(v[i]) + s.delta))
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func checkSolverType(t string) error {
	if _, ok := updateRules[t]; !ok {
		return fmt.Errorf("unknown solver type %q (Caffe has SGD, Nesterov, AdaGrad, RMSProp, AdaDelta and Adam)", t)
	}
	return nil
}
