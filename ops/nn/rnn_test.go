package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/tensor"
)

// rnnCase configures one recurrent op for the step-by-step reference.
type rnnCase struct {
	name                     string
	op                       string
	seq, batch, input, hid   int
	dirs                     int
	direction                string
	layout                   int
	lbr, inputForget         bool
	clip                     float32
	acts                     []string
	alphas, betas            []float32
	bias, initH, initC, peep bool
	lens                     []int32
}

func (c rnnCase) gates() int {
	return map[string]int{"RNN": 1, "GRU": 3, "LSTM": 4}[c.op]
}

// refRecurrent runs the ONNX equations one unit at a time.
func refRecurrent(c rnnCase, acts []activation, x, w, r, b, h0, c0, p []float32) (y, yh, yc []float64) {
	H, G, I := c.hid, c.gates(), c.input
	y = make([]float64, c.seq*c.dirs*c.batch*H)
	yh = make([]float64, c.dirs*c.batch*H)
	yc = make([]float64, c.dirs*c.batch*H)
	f := func(a activation, v float64) float64 {
		if c.clip > 0 {
			v = math.Max(-float64(c.clip), math.Min(float64(c.clip), v))
		}
		s := []float32{float32(v)}
		a.apply(s)
		return float64(s[0])
	}
	xAt := func(t, bb, i int) float64 {
		if c.layout == 1 {
			return float64(x[(bb*c.seq+t)*I+i])
		}
		return float64(x[(t*c.batch+bb)*I+i])
	}
	stateAt := func(d, bb int) int {
		if c.layout == 1 {
			return (bb*c.dirs + d) * H
		}
		return (d*c.batch + bb) * H
	}
	yAt := func(t, d, bb int) int {
		if c.layout == 1 {
			return ((bb*c.seq+t)*c.dirs + d) * H
		}
		return ((t*c.dirs+d)*c.batch + bb) * H
	}
	for d := 0; d < c.dirs; d++ {
		da := acts[d*len(acts)/c.dirs:]
		reverse := c.direction == "reverse" || d == 1
		for bb := 0; bb < c.batch; bb++ {
			h, cs := make([]float64, H), make([]float64, H)
			if h0 != nil {
				for j := range h {
					h[j] = float64(h0[stateAt(d, bb)+j])
				}
			}
			if c0 != nil {
				for j := range cs {
					cs[j] = float64(c0[stateAt(d, bb)+j])
				}
			}
			L := c.seq
			if c.lens != nil {
				L = int(c.lens[bb])
			}
			for step := 0; step < L; step++ {
				t := step
				if reverse {
					t = L - 1 - step
				}
				// gx[g][j] = W x + Wb, gh[g][j] = R h + Rb.
				gx, gh := make([][]float64, G), make([][]float64, G)
				for g := 0; g < G; g++ {
					gx[g], gh[g] = make([]float64, H), make([]float64, H)
					for j := 0; j < H; j++ {
						row := (d*G+g)*H + j
						for i := 0; i < I; i++ {
							gx[g][j] += float64(w[row*I+i]) * xAt(t, bb, i)
						}
						for k := 0; k < H; k++ {
							gh[g][j] += float64(r[row*H+k]) * h[k]
						}
						if b != nil {
							gx[g][j] += float64(b[d*2*G*H+g*H+j])
							gh[g][j] += float64(b[d*2*G*H+G*H+g*H+j])
						}
					}
				}
				nh := make([]float64, H)
				switch c.op {
				case "RNN":
					for j := range nh {
						nh[j] = f(da[0], gx[0][j]+gh[0][j])
					}
				case "GRU":
					z, rg := make([]float64, H), make([]float64, H)
					for j := range z {
						z[j] = f(da[0], gx[0][j]+gh[0][j])
						rg[j] = f(da[0], gx[1][j]+gh[1][j])
					}
					for j := range nh {
						var hh float64
						if c.lbr {
							hh = f(da[1], gx[2][j]+rg[j]*gh[2][j])
						} else {
							s := 0.0
							if b != nil {
								s = float64(b[d*2*G*H+G*H+2*H+j])
							}
							for k := 0; k < H; k++ {
								s += float64(r[((d*G+2)*H+j)*H+k]) * rg[k] * h[k]
							}
							hh = f(da[1], gx[2][j]+s)
						}
						nh[j] = (1-z[j])*hh + z[j]*h[j]
					}
				case "LSTM":
					peep := func(k, j int) float64 {
						if p == nil {
							return 0
						}
						return float64(p[d*3*H+k*H+j])
					}
					nc := make([]float64, H)
					for j := range nh {
						i := f(da[0], gx[0][j]+gh[0][j]+peep(0, j)*cs[j])
						fg := f(da[0], gx[2][j]+gh[2][j]+peep(2, j)*cs[j])
						if c.inputForget {
							fg = 1 - i
						}
						cc := f(da[1], gx[3][j]+gh[3][j])
						nc[j] = fg*cs[j] + i*cc
						o := f(da[0], gx[1][j]+gh[1][j]+peep(1, j)*nc[j])
						s := []float32{float32(nc[j])}
						da[2].apply(s)
						nh[j] = o * float64(s[0])
					}
					cs = nc
				}
				h = nh
				copy(y[yAt(t, d, bb):], h)
			}
			copy(yh[stateAt(d, bb):], h)
			copy(yc[stateAt(d, bb):], cs)
		}
	}
	return y, yh, yc
}

func TestRecurrentAgainstReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 32))
	cases := []rnnCase{
		{name: "rnn bidirectional lens", op: "RNN", seq: 3, batch: 3, input: 2, hid: 4, dirs: 2, direction: "bidirectional", acts: []string{"Relu", "Tanh"}, bias: true, initH: true, lens: []int32{3, 1, 2}},
		{name: "rnn reverse layout1", op: "RNN", seq: 4, batch: 2, input: 3, hid: 2, dirs: 1, direction: "reverse", layout: 1, bias: true},
		{name: "gru reverse layout1 clip", op: "GRU", seq: 4, batch: 3, input: 3, hid: 5, dirs: 1, direction: "reverse", layout: 1, clip: 0.5, bias: true, initH: true, lens: []int32{4, 2, 3}},
		{name: "gru bidirectional lbr", op: "GRU", seq: 3, batch: 2, input: 4, hid: 3, dirs: 2, direction: "bidirectional", lbr: true, bias: true},
		{name: "gru lbr no bias", op: "GRU", seq: 2, batch: 1, input: 2, hid: 3, dirs: 1, direction: "forward", lbr: true},
		{name: "lstm bidirectional peepholes", op: "LSTM", seq: 4, batch: 3, input: 3, hid: 4, dirs: 2, direction: "bidirectional", layout: 1, bias: true, initH: true, initC: true, peep: true, lens: []int32{2, 4, 1}},
		{name: "lstm input_forget activations", op: "LSTM", seq: 3, batch: 2, input: 2, hid: 3, dirs: 1, direction: "forward", inputForget: true,
			acts: []string{"HardSigmoid", "ScaledTanh", "Affine"}, alphas: []float32{0.3, 0.8, 1.5}, betas: []float32{0.4, 1.2, 0.1}, bias: true, initC: true},
		{name: "lstm reverse clip", op: "LSTM", seq: 3, batch: 2, input: 2, hid: 2, dirs: 1, direction: "reverse", clip: 0.7, bias: true, peep: true},
	}
	for _, c := range cases {
		G := c.gates()
		x := randTensor(rnd, c.seq, c.batch, c.input)
		if c.layout == 1 {
			x = randTensor(rnd, c.batch, c.seq, c.input)
		}
		w := randTensor(rnd, c.dirs, G*c.hid, c.input)
		r := randTensor(rnd, c.dirs, G*c.hid, c.hid)
		state := []int{c.dirs, c.batch, c.hid}
		if c.layout == 1 {
			state = []int{c.batch, c.dirs, c.hid}
		}
		in := []*tensor.Tensor{x, w, r, nil, nil, nil, nil, nil}
		var bd, h0, c0, pd []float32
		if c.bias {
			in[3] = randTensor(rnd, c.dirs, 2*G*c.hid)
			bd = in[3].F32()
		}
		if c.lens != nil {
			in[4] = tensor.From([]int{c.batch}, c.lens)
		}
		if c.initH {
			in[5] = randTensor(rnd, state...)
			h0 = in[5].F32()
		}
		if c.initC {
			in[6] = randTensor(rnd, state...)
			c0 = in[6].F32()
		}
		if c.peep {
			in[7] = randTensor(rnd, c.dirs, 3*c.hid)
			pd = in[7].F32()
		}
		if c.op != "LSTM" {
			in = in[:6]
		}
		attrs := map[string]*graph.Attr{"direction": graph.StringAttr(c.direction), "layout": graph.IntAttr(int64(c.layout))}
		if c.hid%2 == 0 {
			attrs["hidden_size"] = graph.IntAttr(int64(c.hid)) // odd sizes come from W
		}
		if c.lbr {
			attrs["linear_before_reset"] = graph.IntAttr(1)
		}
		if c.inputForget {
			attrs["input_forget"] = graph.IntAttr(1)
		}
		if c.clip > 0 {
			attrs["clip"] = graph.FloatAttr(c.clip)
		}
		names := c.acts
		if names == nil {
			names = map[string][]string{"RNN": {"Tanh"}, "GRU": {"Sigmoid", "Tanh"}, "LSTM": {"Sigmoid", "Tanh", "Tanh"}}[c.op]
			for range c.dirs - 1 {
				names = append(names, names...)
			}
		} else {
			attrs["activations"] = graph.StringsAttr(names...)
		}
		if c.alphas != nil {
			attrs["activation_alpha"] = graph.FloatsAttr(c.alphas...)
			attrs["activation_beta"] = graph.FloatsAttr(c.betas...)
		}
		acts, err := parseActivations(names, c.alphas, c.betas)
		if err != nil {
			t.Fatal(err)
		}
		nOut := 2
		if c.op == "LSTM" {
			nOut = 3
		}
		out := mustRun(t, c.op, attrs, nOut, in...)
		y, yh, yc := refRecurrent(c, acts, x.F32(), w.F32(), r.F32(), bd, h0, c0, pd)
		yShape := []int{c.seq, c.dirs, c.batch, c.hid}
		if c.layout == 1 {
			yShape = []int{c.batch, c.seq, c.dirs, c.hid}
		}
		checkClose(t, c.name+" Y", out[0], yShape, y, 1e-4)
		checkClose(t, c.name+" Y_h", out[1], state, yh, 1e-4)
		if c.op == "LSTM" {
			checkClose(t, c.name+" Y_c", out[2], state, yc, 1e-4)
		}
	}
}

func TestRecurrentOptionalOutputs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	x, w, r := randTensor(rnd, 2, 1, 3), randTensor(rnd, 1, 8, 3), randTensor(rnd, 1, 8, 2)
	n := &graph.Node{Op: "LSTM", Inputs: []string{"x", "w", "r"}, Outputs: []string{"", "yh"}}
	rec, err := parseRecurrent(n, lstmCell)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rec.run(testCtx(), []*tensor.Tensor{x, w, r})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != nil || out[1] == nil || out[2] != nil {
		t.Errorf("outputs %v: want only Y_h", out)
	}
	if _, err := runOp("GRU", map[string]*graph.Attr{"hidden_size": graph.IntAttr(3)}, 2, x, w, r); err == nil {
		t.Error("GRU accepted W of the wrong size")
	}
	if _, err := runOp("RNN", map[string]*graph.Attr{"activations": graph.StringsAttr("Bogus")}, 2, x, w, r); err == nil {
		t.Error("RNN accepted an unknown activation")
	}
}

func TestActivations(t *testing.T) {
	cases := []struct {
		name        string
		alpha, beta []float32
		in, want    float32
	}{
		{"Relu", nil, nil, -1, 0},
		{"Tanh", nil, nil, 0.5, 0.46211716},
		{"Sigmoid", nil, nil, -2, 0.11920292},
		{"Affine", []float32{2}, []float32{1}, 3, 7},
		{"LeakyRelu", nil, nil, -2, -0.02},
		{"ThresholdedRelu", []float32{2}, nil, 1.5, 0},
		{"ScaledTanh", []float32{2}, []float32{0.5}, 1, 0.92423431},
		{"HardSigmoid", nil, nil, 1, 0.7},
		{"Elu", nil, nil, -1, -0.63212056},
		{"Softsign", nil, nil, 3, 0.75},
		{"Softplus", nil, nil, 0, 0.69314718},
		{"softplus", nil, nil, 100, 100},
	}
	for _, c := range cases {
		a, err := parseActivations([]string{c.name}, c.alpha, c.beta)
		if err != nil {
			t.Fatal(err)
		}
		v := []float32{c.in}
		a[0].apply(v)
		if math.Abs(float64(v[0]-c.want)) > 1e-6 {
			t.Errorf("%s(%v) = %v, want %v", c.name, c.in, v[0], c.want)
		}
	}
}
