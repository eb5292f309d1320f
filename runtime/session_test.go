package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"stride/graph"
	"stride/ops"
	"stride/tensor"
)

// Test ops live in their own domain so they never clash with real ones.
const testDomain = "test.stride"

var folded int // counts Build-time runs of tAddOne (constant folding)

func init() {
	addOne := func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		y, err := c.Alloc(tensor.Float32, x.Shape...)
		if err != nil {
			return nil, err
		}
		for i, v := range x.F32() {
			y.F32()[i] = v + 1
		}
		return ops.Outs(y)
	}
	ops.Register(
		&ops.Def{Op: "AddOne", Domain: testDomain, Build: func(b *ops.Build) (ops.Kernel, error) {
			return ops.KernelFunc(addOne), nil
		}},
		&ops.Def{Op: "View", Domain: testDomain, Build: func(b *ops.Build) (ops.Kernel, error) {
			return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				return ops.Outs(&tensor.Tensor{DType: in[0].DType, Shape: []int{in[0].Len()}, Data: in[0].Data})
			}), nil
		}},
		&ops.Def{Op: "Boom", Domain: testDomain, Build: func(b *ops.Build) (ops.Kernel, error) {
			return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				var s []int
				_ = s[3] // a kernel bug: must become an error, not a crash
				return nil, nil
			}), nil
		}},
		&ops.Def{Op: "Wait", Domain: testDomain, Build: func(b *ops.Build) (ops.Kernel, error) {
			return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				<-c.Done()
				return ops.Outs(in[0])
			}), nil
		}},
	)
}

func node(op string, in, out string) *graph.Node {
	return &graph.Node{Name: op + "_" + out, Op: op, Domain: testDomain, Inputs: []string{in}, Outputs: []string{out}}
}

func chainGraph(n int) *graph.Graph {
	g := graph.New("chain")
	g.Opsets[testDomain] = 1
	g.Inputs = []*graph.Value{{Name: "x", Type: graph.Type{DType: tensor.Float32, Shape: []graph.Dim{graph.Sym("batch"), graph.Fixed(2)}, Ranked: true}}}
	prev := "x"
	for i := 0; i < n; i++ {
		out := fmt.Sprintf("v%d", i)
		g.Nodes = append(g.Nodes, node("AddOne", prev, out))
		prev = out
	}
	g.Outputs = []*graph.Value{{Name: prev}}
	return g
}

func TestRunChain(t *testing.T) {
	s, err := NewSession(chainGraph(5), WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := tensor.From([]int{3, 2}, []float32{0, 1, 2, 3, 4, 5})
	for run := 0; run < 3; run++ { // buffers recycled across runs must not leak values
		out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		got := out["v4"].F32()
		for i, v := range got {
			if v != float32(i)+5 {
				t.Fatalf("run %d: got %v", run, got)
			}
		}
	}
	if x.F32()[0] != 0 {
		t.Fatal("input modified")
	}
}

func TestInputChecks(t *testing.T) {
	s, err := NewSession(chainGraph(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	cases := map[string]struct {
		in   map[string]*tensor.Tensor
		want string
	}{
		"unknown name": {map[string]*tensor.Tensor{"y": tensor.Zeros(tensor.Float32, 1, 2)}, `unknown input "y"`},
		"missing":      {map[string]*tensor.Tensor{}, `missing input "x"`},
		"dtype":        {map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Int64, 1, 2)}, "got int64, want float32"},
		"rank":         {map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Float32, 2)}, "rank 1"},
		"dim":          {map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Float32, 1, 3)}, "want float32[batch,2]"},
	}
	for name, c := range cases {
		_, err := s.Run(ctx, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

func TestSymbolicDimBinding(t *testing.T) {
	g := chainGraph(1)
	g.Inputs = append(g.Inputs, &graph.Value{Name: "y", Type: g.Inputs[0].Type})
	g.Nodes = append(g.Nodes, node("AddOne", "y", "w"))
	g.Outputs = append(g.Outputs, &graph.Value{Name: "w"})
	s, err := NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Float32, 2, 2), "y": tensor.Zeros(tensor.Float32, 3, 2)})
	if err == nil || !strings.Contains(err.Error(), "batch was bound to 2") {
		t.Fatalf("got %v", err)
	}
}

func TestConstantFolding(t *testing.T) {
	g := chainGraph(1)
	g.Initializers["c"] = tensor.From([]int{2}, []float32{10, 20})
	g.Nodes = append(g.Nodes, node("AddOne", "c", "c1"), node("AddOne", "c1", "c2"))
	g.Outputs = append(g.Outputs, &graph.Value{Name: "c2"})
	s, err := NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.generic.steps) != 1 {
		t.Fatalf("%d steps after folding, want 1", len(s.generic.steps))
	}
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Float32, 1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["c2"].F32(); got[0] != 12 || got[1] != 22 {
		t.Fatal(got)
	}
	s2, _ := NewSession(g, WithOptimize(false))
	defer s2.Close()
	if len(s2.generic.steps) != 3 {
		t.Fatalf("optimize=false folded anyway: %d steps", len(s2.generic.steps))
	}
}

func TestViewsKeepBuffersAlive(t *testing.T) {
	// v0 is viewed by v1; v0's slot dies early but its buffer must live
	// until v1's reader has run, and must not be handed out meanwhile.
	g := chainGraph(1)
	g.Nodes = append(g.Nodes, node("View", "v0", "v1"), node("AddOne", "x", "other"), node("AddOne", "v1", "v2"))
	g.Outputs = []*graph.Value{{Name: "v2"}, {Name: "other"}}
	s, err := NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for run := 0; run < 3; run++ {
		out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.From([]int{1, 2}, []float32{1, 2})})
		if err != nil {
			t.Fatal(err)
		}
		if got := out["v2"].F32(); got[0] != 3 || got[1] != 4 {
			t.Fatalf("run %d: %v", run, got)
		}
	}
}

func TestConcurrentRuns(t *testing.T) {
	s, err := NewSession(chainGraph(20), WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := tensor.From([]int{1, 2}, []float32{float32(g), float32(-g)})
			for i := 0; i < 50; i++ {
				out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
				if err != nil {
					errs <- err
					return
				}
				if got := out["v19"].F32(); got[0] != float32(g)+20 || got[1] != float32(-g)+20 {
					errs <- fmt.Errorf("goroutine %d got %v", g, got)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestKernelPanicBecomesError(t *testing.T) {
	g := chainGraph(0)
	g.Nodes = []*graph.Node{node("Boom", "x", "y")}
	g.Outputs = []*graph.Value{{Name: "y"}}
	s, err := NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Float32, 1, 2)})
	if err == nil || !strings.Contains(err.Error(), "Boom") {
		t.Fatalf("got %v", err)
	}
}

func TestCancellation(t *testing.T) {
	g := chainGraph(0)
	g.Nodes = []*graph.Node{node("Wait", "x", "y")}
	g.Outputs = []*graph.Value{{Name: "y"}}
	s, err := NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Run(ctx, map[string]*tensor.Tensor{"x": tensor.Zeros(tensor.Float32, 1, 2)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownOp(t *testing.T) {
	g := chainGraph(0)
	g.Nodes = []*graph.Node{{Name: "n1", Op: "NoSuchOp", Inputs: []string{"x"}, Outputs: []string{"y"}}}
	g.Outputs = []*graph.Value{{Name: "y"}}
	_, err := NewSession(g)
	if err == nil || !strings.Contains(err.Error(), `unsupported op type "NoSuchOp"`) || !strings.Contains(err.Error(), "n1") {
		t.Fatalf("got %v", err)
	}
}

func TestSpecialisedPlans(t *testing.T) {
	// y = Reshape(AddOne(x), Shape(x)): with x's batch dim symbolic the
	// Shape node runs each time; a plan specialised to the fed shape folds it.
	g := chainGraph(1)
	g.Opsets[""] = 17
	g.Nodes = append(g.Nodes,
		&graph.Node{Name: "shape", Op: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
		&graph.Node{Name: "reshape", Op: "Reshape", Inputs: []string{"v0", "s"}, Outputs: []string{"y"}})
	g.Outputs = []*graph.Value{{Name: "y"}}
	s, err := NewSession(g)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{1, 3, 1} {
		x := tensor.Zeros(tensor.Float32, n, 2)
		out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		if y := out["y"]; y.Shape[0] != n || y.F32()[0] != 1 {
			t.Fatalf("batch %d: %v", n, y)
		}
	}
	if len(s.specs) != 2 {
		t.Fatalf("%d specialised plans, want 2", len(s.specs))
	}
	for _, p := range s.specs {
		if len(p.steps) >= len(s.generic.steps) {
			t.Fatalf("specialised plan has %d steps, generic %d: Shape not folded", len(p.steps), len(s.generic.steps))
		}
	}
}
