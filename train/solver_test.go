package train

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
	"stride/tensor"
)

// refSolver is Caffe's update in float64, written out plainly for one
// parameter blob, as the reference for the solver's rules.
func refStep(typ string, w, g, h1, h2 []float64, iter int, rate, mu, mu2, delta, decay float64) {
	for i := range w {
		d := g[i]
		switch typ {
		case "SGD":
			h1[i] = mu*h1[i] + rate*d
			d = h1[i]
		case "Nesterov":
			prev := h1[i]
			h1[i] = mu*h1[i] + rate*d
			d = (1+mu)*h1[i] - mu*prev
		case "AdaGrad":
			h1[i] += d * d
			d = rate * d / (math.Sqrt(h1[i]) + delta)
		case "RMSProp":
			h1[i] = decay*h1[i] + (1-decay)*d*d
			d = rate * d / (math.Sqrt(h1[i]) + delta)
		case "AdaDelta":
			h1[i] = mu*h1[i] + (1-mu)*d*d
			u := d * math.Sqrt((h2[i]+delta)/(h1[i]+delta))
			h2[i] = mu*h2[i] + (1-mu)*u*u
			d = rate * u
		case "Adam":
			t := float64(iter + 1)
			h1[i] = mu*h1[i] + (1-mu)*d
			h2[i] = mu2*h2[i] + (1-mu2)*d*d
			d = rate * math.Sqrt(1-math.Pow(mu2, t)) / (1 - math.Pow(mu, t)) * h1[i] / (math.Sqrt(h2[i]) + delta)
		}
		w[i] -= d
	}
}

func TestSolverRules(t *testing.T) {
	grads := [][]float32{{0.5, -1, 0.25, 0}, {-0.3, 0.2, 0.9, -1.5}, {0.1, 0.1, -0.2, 0.4}}
	for _, typ := range []string{"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"} {
		for _, reg := range []string{"L2", "L1"} {
			mom := float32(0.9)
			if typ == "AdaGrad" {
				mom = 0
			}
			sp := &caffepb.SolverParameter{Type: proto.String(typ), BaseLr: proto.Float32(0.1), LrPolicy: proto.String("step"),
				Gamma: proto.Float32(0.5), Stepsize: proto.Int32(2), Momentum: proto.Float32(mom), WeightDecay: proto.Float32(0.01),
				RegularizationType: proto.String(reg), IterSize: proto.Int32(2), Delta: proto.Float32(1e-6)}
			p := &Param{Layer: "l", Data: tensor.From([]int{4}, []float32{1, -2, 0.5, 0}), Diff: make([]float32, 4), LrMult: 2, DecayMult: 0.5}
			s, err := NewSolver(sp, []*Param{p})
			if err != nil {
				t.Fatal(err)
			}
			w := []float64{1, -2, 0.5, 0}
			h1, h2 := make([]float64, 4), make([]float64, 4)
			for it, g := range grads {
				rate := 0.1 * math.Pow(0.5, float64(it/2)) * 2
				ref := make([]float64, 4)
				for i := range g {
					// iter_size 2: the diff holds two passes' gradients.
					p.Diff[i] = 2 * g[i]
					sign := 0.0
					if w[i] > 0 {
						sign = 1
					} else if w[i] < 0 {
						sign = -1
					}
					wd := w[i]
					if reg == "L1" {
						wd = sign
					}
					ref[i] = float64(g[i]) + 0.01*0.5*wd
				}
				refStep(typ, w, ref, h1, h2, it, rate, float64(mom), 0.999, 1e-6, 0.99)
				s.ApplyUpdate()
				for i, v := range p.Data.F32() {
					if d := math.Abs(float64(v) - w[i]); d > 2e-5*math.Max(1, math.Abs(w[i])) {
						t.Fatalf("%s %s step %d: w[%d] = %.7g, reference %.7g", typ, reg, it, i, v, w[i])
					}
				}
			}
		}
	}
}

func TestClipGradients(t *testing.T) {
	sp := &caffepb.SolverParameter{BaseLr: proto.Float32(1), LrPolicy: proto.String("fixed"), ClipGradients: proto.Float32(1)}
	a := &Param{Data: tensor.From([]int{1}, []float32{0}), Diff: []float32{3}, LrMult: 1}
	b := &Param{Data: tensor.From([]int{1}, []float32{0}), Diff: []float32{4}, LrMult: 1}
	s, err := NewSolver(sp, []*Param{a, b})
	if err != nil {
		t.Fatal(err)
	}
	s.ApplyUpdate() // the norm 5 is scaled to 1
	if a.Data.F32()[0] != -0.6 || b.Data.F32()[0] != -0.8 {
		t.Errorf("clipped steps %v %v, want -0.6 -0.8", a.Data.F32(), b.Data.F32())
	}
}

func TestLRPolicies(t *testing.T) {
	sp := func(policy string) *caffepb.SolverParameter {
		return &caffepb.SolverParameter{LrPolicy: proto.String(policy), BaseLr: proto.Float32(0.1), Gamma: proto.Float32(0.5),
			Power: proto.Float32(2), Stepsize: proto.Int32(10), MaxIter: proto.Int32(100), Stepvalue: []int32{5, 20}}
	}
	for _, c := range []struct {
		policy string
		iter   int
		want   float64
	}{
		{"fixed", 50, 0.1},
		{"step", 25, 0.1 * 0.25},
		{"exp", 3, 0.1 * 0.125},
		{"inv", 2, 0.1 * math.Pow(2, -2)},
		{"multistep", 4, 0.1},
		{"multistep", 5, 0.05},
		{"multistep", 30, 0.025},
		{"poly", 50, 0.1 * 0.25},
		{"sigmoid", 10, 0.05},
	} {
		got := lrPolicies[c.policy](sp(c.policy), c.iter)
		if math.Abs(got-c.want) > 1e-7*c.want {
			t.Errorf("%s at %d: %g, want %g", c.policy, c.iter, got, c.want)
		}
	}
	if _, err := NewSolver(&caffepb.SolverParameter{LrPolicy: proto.String("cosine")}, nil); err == nil {
		t.Error("an unknown policy was accepted")
	}
	if _, err := NewSolver(&caffepb.SolverParameter{Type: proto.String("LBFGS")}, nil); err == nil {
		t.Error("an unknown solver type was accepted")
	}
}
