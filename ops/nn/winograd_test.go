package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

var winoCases = []convCase{
	{name: "same", x: []int{1, 16, 17, 19}, w: []int{24, 16, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "valid", x: []int{2, 8, 14, 30}, w: []int{16, 8, 3, 3}, bias: true},
	{name: "asym pads", x: []int{1, 9, 21, 11}, w: []int{17, 9, 3, 3}, pads: []int{2, 0, 1, 2}},
	{name: "batch", x: []int{5, 12, 7, 7}, w: []int{20, 12, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
	{name: "wide", x: []int{1, 8, 9, 150}, w: []int{16, 8, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true},
}

// TestWinograd compares Winograd with the reference on shapes with
// partial tiles, several 16-tile chunks, batches, and blocks that span
// images (a small block budget), with every activation and a residual.
func TestWinograd(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	defer func(v, t int) { winoBlockBytes, winoMinTiles = v, t }(winoBlockBytes, winoMinTiles)
	for _, budget := range []int{winoBlockBytes, 1} {
		winoBlockBytes, winoMinTiles = budget, min(budget, winoMinTiles)
		for _, c := range winoCases {
			x, w, bt := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
			a, err := parseConv(nodeFor(c), false)
			if err != nil {
				t.Fatal(err)
			}
			g, err := a.geometry(x.Shape, w.Shape, bt, false)
			if err != nil {
				t.Fatal(err)
			}
			if !winogradFits(a, w.Shape) || !useWinograd(g) {
				t.Fatalf("%s: does not take the Winograd path", c.name)
			}
			ww := packWinograd(w)
			shape, want := refConv(c, x.F32(), w.F32(), bt.F32())
			for _, act := range []fusedAct{{}, {kind: 1}, {kind: 3, alpha: 0.1}} {
				z := randTensor(r, shape...)
				exp := append([]float64{}, want...)
				epilogueRef(exp, z.F32(), []string{"", "Relu", "Clip", "LeakyRelu"}[act.kind], 0.1, 0, 0)
				for _, ctx := range []*ops.Ctx{serialCtx(), testCtx()} {
					y := tensor.Zeros(tensor.Float32, shape...)
					convWinograd(ctx, g, x.F32(), ww, bt.F32(), z.F32(), act, y.F32())
					checkClose(t, fmt.Sprintf("%s budget %d act %v threads %d", c.name, budget, act.kind, threads(ctx)), y, shape, exp, 1e-4)
				}
			}
		}
	}
}

func nodeFor(c convCase) *graph.Node { return &graph.Node{Op: "Conv", Attrs: c.attrs()} }

// TestWinoTransformTwins compares the assembly transforms with their Go
// twins on every chunk tail, with and without a residual and clamp.
func TestWinoTransformTwins(t *testing.T) {
	if !useWinoAsm {
		t.Skip("no assembly transforms on this machine or build")
	}
	r := rand.New(rand.NewPCG(53, 54))
	for tiles := 1; tiles <= 40; tiles++ {
		chunks := (tiles + winoLane - 1) / winoLane
		ld := winoLane*chunks + 1 + tiles%3
		phase := 6 * ld
		src := randF32(r, 4*phase)
		xiStride := tiles + 5
		want, got := make([]float32, winoXi*xiStride), make([]float32, winoXi*xiStride)
		winoInputRowGo(want, xiStride, src, ld, phase, tiles)
		winoInputRow(got, xiStride, src, ld, phase, tiles, new(winoScratch))
		same(t, fmt.Sprintf("input tiles %d", tiles), got, want, 1e-5)

		n := tiles + 3
		raw := randF32(r, 4*n)
		dw, dg := make([]float32, 3*(n+2)+n+1), make([]float32, 3*(n+2)+n+1)
		deinterleave4Go(dw, n+2, raw, n)
		deinterleave4(dg, n+2, raw, n)
		same(t, fmt.Sprintf("deinterleave4 n %d", n), dg, dw, 0)

		prod := randF32(r, winoXi*xiStride)
		for _, width := range []int{4*tiles - 3, 4 * tiles} {
			for rows := 1; rows <= 4; rows++ {
				for _, withZ := range []bool{false, true} {
					var z []float32
					if withZ {
						z = randF32(r, rows*width)
					}
					want, got := make([]float32, rows*width+1), make([]float32, rows*width+1)
					want[rows*width], got[rows*width] = 9, 9 // must stay untouched
					winoOutputRowGo(want, z, width, rows, prod, xiStride, tiles, 0.5, -1, 2)
					winoOutputRow(got, z, width, rows, prod, xiStride, tiles, 0.5, -1, 2, new(winoScratch))
					same(t, fmt.Sprintf("output tiles %d width %d rows %d z %v", tiles, width, rows, withZ), got, want, 1e-5)
				}
			}
		}
	}
}

// TestWinogradGoTwins runs the Winograd cases on the Go transforms.
func TestWinogradGoTwins(t *testing.T) {
	if !useWinoAsm {
		t.Skip("the Go twins are already the only transforms")
	}
	useWinoAsm = false
	defer func() { useWinoAsm = true }()
	TestWinograd(t)
}

// TestWinogradOnlyWeights: a node whose declared input shape always takes
// Winograd packs no GEMM weights, and still computes an input of another
// shape (where Winograd does not pay) correctly.
func TestWinogradOnlyWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	c := convCase{x: []int{1, 16, 4, 4}, w: []int{16, 16, 3, 3}, pads: []int{1, 1, 1, 1}, bias: true}
	x, w, bt := randTensor(r, c.x...), randTensor(r, c.w...), randTensor(r, c.w[0])
	n := &graph.Node{Op: "Conv", Attrs: c.attrs(), Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}}
	declared := graph.Type{DType: tensor.Float32, Ranked: true, Shape: []graph.Dim{graph.Unknown, graph.Fixed(16), graph.Fixed(56), graph.Fixed(56)}}
	k, err := buildConv(&ops.Build{Node: n, Consts: []*tensor.Tensor{nil, w, bt}, Types: []graph.Type{declared, {}, {}}})
	if err != nil {
		t.Fatal(err)
	}
	if ck := k.(*convKernel); ck.wino == nil || ck.packed != nil {
		t.Fatalf("want Winograd weights only")
	}
	y := runKernel(t, k, testCtx(), x, w, bt)
	shape, want := refConv(c, x.F32(), w.F32(), bt.F32())
	checkClose(t, "4x4 input", y, shape, want, 1e-4)
}
