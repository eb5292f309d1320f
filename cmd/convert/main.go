// Command convert turns a Caffe net into an ONNX model.
//
//	convert NET.prototxt [WEIGHTS.caffemodel] -o MODEL.onnx [--verify] [--test-data DIR]
//
// The net is imported into Stride's op graph (standard ONNX operators) and
// written with the shared ONNX exporter. Without weights, parameters come
// from the net's fillers (seeded). --verify runs the Caffe graph and the
// written model on the same random input and reports the largest
// difference; --test-data also writes the model with that input and the
// outputs in the ONNX test-data layout (model.onnx, test_data_set_0/), which
// ONNX Runtime or `infer test` can check.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"stride/graph"
	"stride/importers/caffe"
	"stride/importers/onnx"
	"stride/runtime"
	"stride/tensor"
)

// usageError marks a mistake in how the command was called: exit code 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type config struct {
	output      string
	weights     string
	phase       string
	stages      []string
	seed        int64
	inputShapes []string
	outputs     []string
	verify      bool
	tolerance   float64
	testData    string
	summary     bool
	quiet       bool
}

func run(args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := pflag.NewFlagSet("convert", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVarP(&cfg.output, "output", "o", "", "the ONNX model to write (required)")
	fs.StringVar(&cfg.weights, "weights", "", "trained weights (.caffemodel); also accepted as the second argument")
	fs.StringVar(&cfg.phase, "phase", "test", "phase selecting layers by their include/exclude rules: test or train")
	fs.StringSliceVar(&cfg.stages, "stage", nil, "net state stage for include/exclude rules (repeatable)")
	fs.Int64Var(&cfg.seed, "seed", 1, "seed for filler-initialised weights and for the --verify input")
	fs.StringArrayVar(&cfg.inputShapes, "input-shape", nil, "input shape NAME=D1,D2,... (repeatable); data layers reading a database need it")
	fs.StringSliceVar(&cfg.outputs, "outputs", nil, "blobs to make the model's outputs, in order (default: the net's outputs)")
	fs.BoolVar(&cfg.verify, "verify", false, "run the Caffe graph and the written model on the same random input and report the largest difference")
	fs.Float64Var(&cfg.tolerance, "tolerance", 1e-5, "largest difference --verify accepts, relative to each output's largest magnitude")
	fs.StringVar(&cfg.testData, "test-data", "", "also write DIR/model.onnx and DIR/test_data_set_0 (random input, Stride's outputs)")
	fs.BoolVar(&cfg.summary, "summary", false, "print the net's layers with their shapes")
	fs.BoolVarP(&cfg.quiet, "quiet", "q", false, "do not print the importer's notes")
	fs.Usage = func() {} // printed for --help only, below
	err := fs.Parse(args)
	switch {
	case errors.Is(err, pflag.ErrHelp):
		fmt.Fprintf(stdout, "Usage: convert NET.prototxt [WEIGHTS.caffemodel] -o MODEL.onnx [flags]\n\nConverts a Caffe net to an ONNX model.\n\nFlags:\n%s", fs.FlagUsages())
		return 0
	case err != nil:
		err = usageError{err}
	default:
		err = convert(&cfg, fs.Args(), stdout)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "convert: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "Run 'convert --help' for usage.")
		return 2
	}
	return 1
}

var errFailed = errors.New("verification failed")

func convert(cfg *config, args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		return usagef("no net given (usage: convert NET.prototxt [WEIGHTS.caffemodel] -o MODEL.onnx)")
	case len(args) > 2:
		return usagef("too many arguments: %s", strings.Join(args[2:], " "))
	case cfg.output == "":
		return usagef("no output given: add -o MODEL.onnx")
	}
	if len(args) == 2 {
		if cfg.weights != "" {
			return usagef("weights given twice: %s and --weights %s", args[1], cfg.weights)
		}
		cfg.weights = args[1]
	}
	phase, err := caffe.ParsePhase(cfg.phase)
	if err != nil {
		return usageError{err}
	}
	shapes, err := caffe.ParseInputShapes(cfg.inputShapes)
	if err != nil {
		return usageError{err}
	}
	net, err := caffe.Import(args[0], caffe.Options{
		Weights: cfg.weights, Phase: phase, Stages: cfg.stages, Seed: cfg.seed, InputShapes: shapes,
	})
	if err != nil {
		return err
	}
	if cfg.summary {
		if err := net.WriteSummary(stdout); err != nil {
			return err
		}
	} else if !cfg.quiet {
		for _, n := range net.Notes {
			fmt.Fprintf(stdout, "note: %s\n", n)
		}
	}
	g, err := net.SelectOutputs(cfg.outputs)
	if err != nil {
		return usageError{err}
	}
	if err := onnx.Save(g, cfg.output); err != nil {
		return fmt.Errorf("writing %s: %w", cfg.output, err)
	}
	src := "fillers (seed " + fmt.Sprint(cfg.seed) + ")"
	if cfg.weights != "" {
		src = cfg.weights
	}
	fmt.Fprintf(stdout, "wrote %s: %d nodes, %d parameters from %s; inputs %s; outputs %s\n",
		cfg.output, len(g.Nodes), net.NumParams(), src, valueList(g.Inputs), valueList(g.Outputs))
	if !cfg.verify && cfg.testData == "" {
		return nil
	}
	inputs, err := randomInputs(g, cfg.seed)
	if err != nil {
		return err
	}
	want, err := runGraph(g, inputs)
	if err != nil {
		return fmt.Errorf("running the Caffe graph: %w", err)
	}
	if cfg.verify {
		if err := verify(cfg, g, inputs, want, stdout); err != nil {
			return err
		}
	}
	if cfg.testData != "" {
		if err := writeTestData(cfg.testData, g, inputs, want); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote test data to %s\n", cfg.testData)
	}
	return nil
}

func valueList(vs []*graph.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Name + " " + v.Type.String()
	}
	return strings.Join(parts, ", ")
}

// randomInputs draws every graph input uniformly from [-1, 1).
func randomInputs(g *graph.Graph, seed int64) (map[string]*tensor.Tensor, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	in := map[string]*tensor.Tensor{}
	for _, v := range g.Inputs {
		shape, ok := v.Type.Static()
		if !ok {
			return nil, fmt.Errorf("input %q has shape %v; give it with --input-shape", v.Name, v.Type)
		}
		t, err := tensor.New(tensor.Float32, shape...)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", v.Name, err)
		}
		for i := range t.F32() {
			t.F32()[i] = float32(2*rng.Float64() - 1)
		}
		in[v.Name] = t
	}
	return in, nil
}

// runGraph runs g once and returns its outputs in order.
func runGraph(g *graph.Graph, in map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	s, err := runtime.NewSession(g)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.RunList(context.Background(), in)
}

// verify loads the written model back, runs it on the same input and
// compares each output with the Caffe graph's.
func verify(cfg *config, g *graph.Graph, in map[string]*tensor.Tensor, want []*tensor.Tensor, stdout io.Writer) error {
	m, err := onnx.Load(cfg.output)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", cfg.output, err)
	}
	got, err := runGraph(m.Graph, in)
	if err != nil {
		return fmt.Errorf("running %s: %w", cfg.output, err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s has %d outputs, the net %d", cfg.output, len(got), len(want))
	}
	ok := true
	for i, v := range g.Outputs {
		abs, scale, err := maxDiff(got[i], want[i])
		if err != nil {
			return fmt.Errorf("output %q: %w", v.Name, err)
		}
		rel := 0.0
		if scale > 0 {
			rel = abs / scale
		}
		status := "ok"
		if rel > cfg.tolerance || math.IsNaN(abs) {
			status, ok = "FAIL", false
		}
		fmt.Fprintf(stdout, "verify %s: max |difference| %.3g (%.3g of the output's largest magnitude %.3g) %s\n", v.Name, abs, rel, scale, status)
	}
	if !ok {
		return fmt.Errorf("%w: the written model differs from the Caffe graph by more than %g", errFailed, cfg.tolerance)
	}
	return nil
}

// maxDiff returns the largest absolute difference and the largest
// magnitude of want.
func maxDiff(got, want *tensor.Tensor) (float64, float64, error) {
	if !tensor.SameShape(got.Shape, want.Shape) || got.DType != want.DType {
		return 0, 0, fmt.Errorf("got %v%v, want %v%v", got.DType, got.Shape, want.DType, want.Shape)
	}
	g, w := got.Float64s(), want.Float64s()
	var abs, scale float64
	for i := range w {
		d := math.Abs(g[i] - w[i])
		if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			d = math.NaN()
		}
		if d > abs || math.IsNaN(d) {
			abs = d
		}
		scale = math.Max(scale, math.Abs(w[i]))
	}
	return abs, scale, nil
}

// writeTestData writes DIR/model.onnx and DIR/test_data_set_0 with the
// inputs and the Caffe graph's outputs, in the ONNX test-data layout.
func writeTestData(dir string, g *graph.Graph, in map[string]*tensor.Tensor, out []*tensor.Tensor) error {
	set := filepath.Join(dir, "test_data_set_0")
	if err := os.MkdirAll(set, 0o755); err != nil {
		return err
	}
	if err := onnx.Save(g, filepath.Join(dir, "model.onnx")); err != nil {
		return err
	}
	for i, v := range g.Inputs {
		if err := onnx.WriteTensorFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)), v.Name, in[v.Name]); err != nil {
			return err
		}
	}
	for i, v := range g.Outputs {
		if err := onnx.WriteTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)), v.Name, out[i]); err != nil {
			return err
		}
	}
	return nil
}
