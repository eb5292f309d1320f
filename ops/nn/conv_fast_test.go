package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"sync"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Tests of the fast convolution paths (packed GEMM with implicit im2col,
// direct depthwise, fused epilogues) against the loop-by-loop reference
// refConv and the im2col reference convIm2col.

// buildNode builds op (in domain) with attrs; inputs marked in consts are
// given to the builder as constants, as initializers would be.
func buildNode(t testing.TB, domain, op string, attrs map[string]*graph.Attr, consts []bool, inputs ...*tensor.Tensor) ops.Kernel {
	t.Helper()
	n := &graph.Node{Op: op, Domain: domain, Attrs: attrs, Outputs: []string{"y"}}
	cs := make([]*tensor.Tensor, len(inputs))
	for i, x := range inputs {
		name := ""
		if x != nil {
			name = fmt.Sprintf("in%d", i)
		}
		n.Inputs = append(n.Inputs, name)
		if i < len(consts) && consts[i] {
			cs[i] = x
		}
	}
	def, ok := ops.Lookup(domain, op)
	if !ok {
		t.Fatalf("op %s::%s not registered", domain, op)
	}
	k, err := def.Build(&ops.Build{Node: n, Opset: 21, Consts: cs, Types: make([]graph.Type, len(inputs))})
	if err != nil {
		t.Fatalf("%s: build: %v", op, err)
	}
	return k
}

func runKernel(t testing.TB, k ops.Kernel, c *ops.Ctx, inputs ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	out, err := k.Run(c, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// serialCtx runs kernels on one thread.
func serialCtx() *ops.Ctx { return ops.NewCtx(nil, nil, nil) }

// fastConvCases cover every path: pointwise, 1x1 strided, 3x3 and 7x7
// with pads, strides and dilations, groups, depthwise (3x3 kernel at
// stride 1 and 2 at many widths, with multipliers, asymmetric pads, other
// kernels), 1-D, and 3-D (im2col).
var fastConvCases = []convCase{
	{name: "pointwise", x: []int{2, 8, 5, 7}, w: []int{12, 8, 1, 1}, bias: true},
	{name: "pointwise 1d", x: []int{1, 5, 9}, w: []int{3, 5, 1}, bias: true},
	{name: "1x1 stride 2", x: []int{1, 16, 13, 14}, w: []int{20, 16, 1, 1}, strides: []int{2, 2}},
	{name: "1x1 padded", x: []int{1, 3, 4, 4}, w: []int{2, 3, 1, 1}, pads: []int{1, 0, 0, 2}, bias: true},
	{name: "3x3 same", x: []int{1, 16, 17, 19}, w: []int{24, 16, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "3x3 stride 2", x: []int{2, 9, 15, 16}, w: []int{17, 9, 3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "7x7 stride 2", x: []int{1, 3, 40, 37}, w: []int{16, 3, 7, 7}, strides: []int{2, 2}, pads: []int{3, 3, 3, 3}, bias: true},
	{name: "dilated", x: []int{1, 4, 12, 13}, w: []int{5, 4, 3, 2}, dils: []int{2, 3}, pads: []int{2, 1, 0, 3}},
	{name: "stride 3 asym", x: []int{1, 5, 11, 20}, w: []int{6, 5, 2, 4}, strides: []int{3, 2}, pads: []int{0, 2, 1, 0}},
	{name: "groups", x: []int{2, 8, 9, 9}, w: []int{12, 2, 3, 3}, group: 4, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "1d", x: []int{2, 6, 30}, w: []int{7, 6, 5}, strides: []int{2}, dils: []int{2}, pads: []int{3, 1}, bias: true},
	{name: "deep K", x: []int{1, 70, 6, 6}, w: []int{33, 70, 3, 3}, pads: []int{1, 1, 1, 1}},
	{name: "large", x: []int{1, 8, 70, 70}, w: []int{40, 8, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "3d", x: []int{1, 3, 5, 6, 4}, w: []int{4, 3, 2, 3, 2}, strides: []int{1, 2, 1}, pads: []int{0, 1, 1, 1, 0, 1}, bias: true},
	{name: "dw s1", x: []int{2, 5, 9, 37}, w: []int{5, 1, 3, 3}, group: 5, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "dw s2", x: []int{1, 4, 20, 65}, w: []int{4, 1, 3, 3}, group: 4, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "dw s2 odd", x: []int{1, 3, 7, 7}, w: []int{3, 1, 3, 3}, group: 3, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}},
	{name: "dw s2 nopad", x: []int{1, 3, 9, 40}, w: []int{3, 1, 3, 3}, group: 3, strides: []int{2, 2}},
	{name: "dw s1 nopad", x: []int{1, 2, 5, 18}, w: []int{2, 1, 3, 3}, group: 2},
	{name: "dw asym pads", x: []int{1, 3, 6, 21}, w: []int{3, 1, 3, 3}, group: 3, pads: []int{0, 2, 2, 0}, bias: true},
	{name: "dw narrow", x: []int{1, 2, 3, 1}, w: []int{2, 1, 3, 3}, group: 2, pads: []int{1, 1, 1, 1}},
	{name: "dw stride 2x1", x: []int{1, 2, 8, 20}, w: []int{2, 1, 3, 3}, group: 2, strides: []int{2, 1}, pads: []int{1, 1, 1, 1}},
	{name: "dw multiplier", x: []int{1, 3, 10, 11}, w: []int{6, 1, 3, 3}, group: 3, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "dw 5x5 s2", x: []int{1, 4, 16, 16}, w: []int{4, 1, 5, 5}, group: 4, strides: []int{2, 2}, pads: []int{2, 2, 2, 2}, bias: true},
	{name: "dw dilated", x: []int{1, 2, 11, 11}, w: []int{2, 1, 3, 3}, group: 2, dils: []int{2, 2}, pads: []int{2, 2, 2, 2}},
	{name: "dw 1d", x: []int{2, 3, 25}, w: []int{3, 1, 3}, group: 3, pads: []int{1, 1}, bias: true},
	{name: "one channel", x: []int{1, 1, 9, 9}, w: []int{8, 1, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	// Narrow outputs: many short runs per panel row, and (width 1)
	// more runs than one batch of packRuns.
	{name: "narrow 3", x: []int{1, 5, 9, 3}, w: []int{6, 5, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "width 1", x: []int{1, 4, 40, 1}, w: []int{5, 4, 3, 1}, pads: []int{1, 0, 1, 0}},
	{name: "7x7 map", x: []int{1, 33, 7, 7}, w: []int{20, 33, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	// Small maps in batches of odd sizes.
	{name: "batch pointwise", x: []int{5, 9, 7, 7}, w: []int{20, 9, 1, 1}, bias: true},
	{name: "batch 1x1 s2", x: []int{3, 6, 13, 13}, w: []int{17, 6, 1, 1}, strides: []int{2, 2}, bias: true},
	{name: "batch 3x3 s2", x: []int{4, 5, 14, 14}, w: []int{33, 5, 3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}},
	{name: "batch 14x14", x: []int{3, 4, 14, 14}, w: []int{15, 4, 2, 3}, pads: []int{1, 1, 0, 1}, bias: true},
	{name: "batch narrow", x: []int{6, 3, 3, 5}, w: []int{7, 3, 1, 1}, bias: true},
	{name: "batch 1d", x: []int{5, 4, 20}, w: []int{6, 4, 3}, pads: []int{1, 1}, bias: true},
}

func TestConvFastPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range fastConvCases {
		x, w := randTensor(r, c.x...), randTensor(r, c.w...)
		in := []*tensor.Tensor{x, w, nil}
		var bias []float32
		if c.bias {
			in[2] = randTensor(r, c.w[0])
			bias = in[2].F32()
		}
		shape, want := refConv(c, x.F32(), w.F32(), bias)
		for _, constW := range []bool{false, true} {
			k := buildNode(t, "", "Conv", c.attrs(), []bool{false, constW, constW}, in...)
			for _, ctx := range []*ops.Ctx{serialCtx(), testCtx()} {
				y := runKernel(t, k, ctx, in...)
				checkClose(t, fmt.Sprintf("%s (const W %v, threads %d)", c.name, constW, threads(ctx)), y, shape, want, 1e-4)
			}
		}
	}
}

// TestIm2colPackTwins packs patch-matrix panels with the assembly copy
// and with the Go loops, on widths that cut panels into many runs, every
// K range and partial panels.
func TestIm2colPackTwins(t *testing.T) {
	if !useIm2colAsm {
		t.Skip("no assembly panel copy on this machine or build")
	}
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range []convCase{
		{x: []int{1, 5, 9, 3}, w: []int{6, 5, 3, 3}, pads: []int{1, 1, 1, 1}},
		{x: []int{1, 4, 40, 1}, w: []int{5, 4, 3, 1}, pads: []int{1, 0, 1, 0}},
		{x: []int{1, 3, 14, 14}, w: []int{8, 3, 3, 3}, pads: []int{1, 1, 1, 1}},
		{x: []int{1, 2, 15, 40}, w: []int{8, 2, 3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}},
		{x: []int{1, 3, 11, 11}, w: []int{8, 3, 1, 1}, strides: []int{2, 2}},
	} {
		x := randTensor(r, c.x...)
		a, err := parseConv(nodeFor(c), false)
		if err != nil {
			t.Fatal(err)
		}
		g, err := a.geometry(x.Shape, c.w, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		d := g.as2D()
		prep := prepareInput(serialCtx(), &d, x.F32(), g.cg)
		p := getIm2col(&d, prep)
		k, n := g.cg*g.kk, d.outH*d.outW
		for k0 := 0; k0 < k; k0 += 5 {
			kc := min(k-k0, 7)
			for j0 := 0; j0 < n; j0 += 32 {
				nc := min(32, n-j0)
				w := (nc + 15) / 16 * 16
				got, want := make([]float32, kc*w), make([]float32, kc*w)
				for i := range got {
					got[i], want[i] = -1, -2 // the padding must be zeroed
				}
				p.pack(got, k0, kc, j0, nc)
				useIm2colAsm = false
				p.pack(want, k0, kc, j0, nc)
				useIm2colAsm = true
				if !slices.Equal(got, want) {
					t.Fatalf("%v k0 %d j0 %d: assembly %v, Go %v", c.x, k0, j0, got, want)
				}
			}
		}
		putIm2col(p)
	}
}

// TestConvIm2colReference checks the reference path itself on the same
// cases, so a fast path and the reference cannot share a mistake unseen.
func TestConvIm2colReference(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range fastConvCases {
		x, w := randTensor(r, c.x...), randTensor(r, c.w...)
		var bt *tensor.Tensor
		var bias []float32
		if c.bias {
			bt = randTensor(r, c.w[0])
			bias = bt.F32()
		}
		a, err := parseConv(&graph.Node{Op: "Conv", Attrs: c.attrs()}, false)
		if err != nil {
			t.Fatal(err)
		}
		g, err := a.geometry(x.Shape, w.Shape, bt, false)
		if err != nil {
			t.Fatal(err)
		}
		shape, want := refConv(c, x.F32(), w.F32(), bias)
		y := tensor.Zeros(tensor.Float32, shape...)
		convIm2col(testCtx(), g, x.F32(), w.F32(), bt, y.F32())
		checkClose(t, c.name, y, shape, want, 1e-4)
	}
}

// epilogueRef applies act(v + z) to a reference result.
func epilogueRef(want []float64, z []float32, act string, alpha, lo, hi float64) {
	for i, v := range want {
		if z != nil {
			v += float64(z[i])
		}
		switch act {
		case "Relu":
			v = math.Max(v, 0)
		case "LeakyRelu":
			if v < 0 {
				v *= alpha
			}
		case "Clip":
			v = math.Min(math.Max(v, lo), hi)
		}
		want[i] = v
	}
}

func TestFusedConv(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	acts := []struct {
		name  string
		attrs map[string]*graph.Attr
	}{
		{"", nil},
		{"Relu", nil},
		{"LeakyRelu", map[string]*graph.Attr{"activation_alpha": graph.FloatAttr(0.2)}},
		{"Clip", map[string]*graph.Attr{"min": graph.FloatAttr(-0.5), "max": graph.FloatAttr(0.7)}},
	}
	for _, c := range fastConvCases {
		for ai, act := range acts {
			for _, withZ := range []bool{false, true} {
				x, w, bt := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
				shape, want := refConv(c, x.F32(), w.F32(), bt.F32())
				var z *tensor.Tensor
				var zd []float32
				if withZ {
					z = randTensor(r, shape...)
					zd = z.F32()
				}
				epilogueRef(want, zd, act.name, 0.2, -0.5, 0.7)
				attrs := c.attrs()
				attrs["activation"] = graph.StringAttr(act.name)
				for k, v := range act.attrs {
					attrs[k] = v
				}
				constW := ai%2 == 0
				k := buildNode(t, Domain, "FusedConv", attrs, []bool{false, constW, constW}, x, w, bt, z)
				y := runKernel(t, k, testCtx(), x, w, bt, z)
				checkClose(t, fmt.Sprintf("%s act %q Z %v", c.name, act.name, withZ), y, shape, want, 1e-4)
			}
		}
	}
}

func TestFusedConvErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	x, w := randTensor(r, 1, 2, 5, 5), randTensor(r, 3, 2, 3, 3)
	n := &graph.Node{Op: "FusedConv", Domain: Domain, Inputs: []string{"x", "w"}, Outputs: []string{"y"},
		Attrs: map[string]*graph.Attr{"activation": graph.StringAttr("Sigmoid")}}
	def, _ := ops.Lookup(Domain, "FusedConv")
	if _, err := def.Build(&ops.Build{Node: n}); err == nil {
		t.Error("FusedConv accepted an unknown activation")
	}
	k := buildNode(t, Domain, "FusedConv", nil, nil, x, w, nil, randTensor(r, 1, 3, 3, 4))
	if _, err := k.Run(testCtx(), []*tensor.Tensor{x, w, nil, randTensor(r, 1, 3, 3, 4)}); err == nil {
		t.Error("FusedConv accepted a residual of the wrong shape")
	}
}

// TestDw3RowTwins compares the assembly kernels with their Go twin on
// every tail length, both strides, several rows, clamps and NaN inputs.
func TestDw3RowTwins(t *testing.T) {
	if !useDw3Asm {
		t.Skip("no assembly kernel on this machine or build")
	}
	r := rand.New(rand.NewPCG(29, 30))
	var w [9]float32
	copy(w[:], randF32(r, 9))
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, stride := range []int{1, 2} {
		for n := 1; n <= 70; n++ {
			for _, b := range [][2]float32{{-inf, inf}, {0, inf}, {-0.3, 0.4}} {
				rows := 1 + n%3
				ld := (n-1)*stride + 3 + n%2
				step := stride * ld
				src := randF32(r, (rows-1)*step+2*ld+(n-1)*stride+3)
				src[len(src)/2] = nan
				want := make([]float32, rows*n+1)
				got := make([]float32, rows*n+1)
				want[rows*n], got[rows*n] = 42, 42 // must stay untouched
				dw3RowsGo(want, src, &w, n, rows, ld, step, stride, 0.25, b[0], b[1])
				dw3Rows(got, src, &w, n, rows, ld, step, stride, 0.25, b[0], b[1])
				for i := range want {
					d := math.Abs(float64(got[i] - want[i]))
					if math.IsNaN(float64(want[i])) != math.IsNaN(float64(got[i])) || d > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("stride %d n %d rows %d clamp %v: y[%d] = %v, Go twin %v", stride, n, rows, b, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestConvDepthwiseGoTwin runs the depthwise cases with the assembly off.
func TestConvDepthwiseGoTwin(t *testing.T) {
	if !useDw3Asm {
		t.Skip("the Go twin is already the only kernel")
	}
	useDw3Asm = false
	defer func() { useDw3Asm = true }()
	TestConvFastPaths(t)
}

// TestConvNoSteadyAllocs checks that repeated runs with constant weights
// allocate no scratch: only a few small headers (geometry, closures), far
// below any buffer the size of the data.
func TestConvNoSteadyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	r := rand.New(rand.NewPCG(31, 32))
	cases := []convCase{
		{name: "3x3", x: []int{1, 16, 20, 20}, w: []int{32, 16, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
		{name: "pointwise", x: []int{1, 16, 20, 20}, w: []int{32, 16, 1, 1}, bias: true},
		{name: "depthwise", x: []int{1, 16, 20, 20}, w: []int{16, 1, 3, 3}, group: 16, pads: []int{1, 1, 1, 1}, bias: true},
	}
	for _, c := range cases {
		x, w, bt := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
		k := buildNode(t, "", "Conv", c.attrs(), []bool{false, true, true}, x, w, bt)
		ctx := ops.NewCtx(nil, nil, newTestArena())
		run := func() { ctx.Release(runKernel(t, k, ctx, x, w, bt)) }
		run() // warm the pools
		const runs = 20
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		for i := 0; i < runs; i++ {
			run()
		}
		goruntime.ReadMemStats(&after)
		if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 2048 {
			t.Errorf("%s: %d bytes allocated per run", c.name, perRun)
		}
	}
}

// testArena recycles released buffers by size, like the runtime's arena.
type testArena struct {
	mu   sync.Mutex
	free map[int][]*tensor.Tensor
}

func newTestArena() *testArena { return &testArena{free: map[int][]*tensor.Tensor{}} }

func (a *testArena) Alloc(dt tensor.DType, shape []int) (*tensor.Tensor, error) {
	n := tensor.Size(shape)
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.free[n]; dt == tensor.Float32 && len(l) > 0 {
		t := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		return &tensor.Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: t.Data}, nil
	}
	return tensor.New(dt, shape...)
}

func (a *testArena) Release(t *tensor.Tensor) {
	if t.DType != tensor.Float32 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.free[t.Len()] = append(a.free[t.Len()], t)
}

// TestConcurrentFastRuns runs kernels with weights prepared at build
// (Winograd, packed GEMM, depthwise, packed FC) from many goroutines: the
// results must match a lone run bit for bit.
func TestConcurrentFastRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	type tc struct {
		domain, op string
		attrs      map[string]*graph.Attr
		consts     []bool
		in         []*tensor.Tensor
	}
	pads := map[string]*graph.Attr{"pads": ints(1, 1, 1, 1)}
	cases := []tc{
		{"", "Conv", pads, []bool{false, true, true}, []*tensor.Tensor{randTensor(r, 2, 16, 20, 20), randTensor(r, 24, 16, 3, 3), randTensor(r, 24)}},
		{"", "Conv", map[string]*graph.Attr{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, []bool{false, true}, []*tensor.Tensor{randTensor(r, 1, 8, 19, 21), randTensor(r, 12, 8, 3, 3)}},
		{"", "Conv", map[string]*graph.Attr{"pads": ints(1, 1, 1, 1), "group": graph.IntAttr(8)}, []bool{false, true}, []*tensor.Tensor{randTensor(r, 2, 8, 30, 30), randTensor(r, 8, 1, 3, 3)}},
		{Domain, "FusedGemm", map[string]*graph.Attr{"transB": graph.IntAttr(1), "activation": graph.StringAttr("Relu")}, []bool{false, true, true}, []*tensor.Tensor{randTensor(r, 3, 64), randTensor(r, 50, 64), randTensor(r, 50)}},
		{"", "MaxPool", map[string]*graph.Attr{"kernel_shape": ints(3, 3), "strides": ints(2, 2)}, nil, []*tensor.Tensor{randTensor(r, 2, 3, 17, 17)}},
	}
	for _, c := range cases {
		k := buildNode(t, c.domain, c.op, c.attrs, c.consts, c.in...)
		want := runKernel(t, k, testCtx(), c.in...).F32()
		var wg sync.WaitGroup
		bad := make(chan string, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := k.Run(testCtx(), c.in)
				if err != nil {
					bad <- err.Error()
				} else if !slices.Equal(out[0].F32(), want) {
					bad <- "concurrent run differs"
				}
			}()
		}
		wg.Wait()
		close(bad)
		for msg := range bad {
			t.Errorf("%s: %s", c.op, msg)
		}
	}
}

// TestGather2Twins compares the AVX-512 stride-2 gather with the Go loop
// on every length up to 70, from sources of the exact length it may read,
// and checks that nothing around dst is written.
func TestGather2Twins(t *testing.T) {
	if !useIm2colAsm {
		t.Skip("no assembly gather on this machine or build")
	}
	r := rand.New(rand.NewPCG(31, 32))
	for n := 1; n <= 70; n++ {
		src := randF32(r, 2*n-1)
		buf := make([]float32, n+2)
		buf[0], buf[n+1] = 42, 42
		if !gather2(buf[1:n+1], src) {
			t.Fatal("gather2 declined")
		}
		if buf[0] != 42 || buf[n+1] != 42 {
			t.Fatalf("n %d: gather2 wrote outside dst", n)
		}
		for i, v := range buf[1 : n+1] {
			if v != src[2*i] {
				t.Fatalf("n %d: dst[%d] = %v, want %v", n, i, v, src[2*i])
			}
		}
	}
}
