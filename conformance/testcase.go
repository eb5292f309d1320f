package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"stride/graph"
	"stride/importers/onnx"
	"stride/runtime"
	"stride/tensor"
)

// DataSet is one test_data_set_N folder: inputs and expected outputs.
type DataSet struct {
	Dir     string
	Inputs  []*tensor.Tensor
	Names   []string // names stored in the input files ("" when absent)
	Outputs []*tensor.Tensor
}

var numbered = regexp.MustCompile(`^(input|output)_(\d+)\.pb$`)

// ReadDataSet reads the input_K.pb and output_K.pb files of a folder.
func ReadDataSet(dir string) (*DataSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ds := &DataSet{Dir: dir}
	type item struct {
		k    int
		name string
		t    *tensor.Tensor
	}
	var ins, outs []item
	for _, e := range entries {
		m := numbered.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		k, _ := strconv.Atoi(m[2])
		name, t, err := onnx.ReadTensorFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if m[1] == "input" {
			ins = append(ins, item{k, name, t})
		} else {
			outs = append(outs, item{k, name, t})
		}
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].k < ins[j].k })
	sort.Slice(outs, func(i, j int) bool { return outs[i].k < outs[j].k })
	for _, it := range ins {
		ds.Inputs = append(ds.Inputs, it.t)
		ds.Names = append(ds.Names, it.name)
	}
	for _, it := range outs {
		ds.Outputs = append(ds.Outputs, it.t)
	}
	return ds, nil
}

// Feeds maps a data set's inputs to the graph's inputs: by the name stored
// in the file when it names an input, else by position.
func (ds *DataSet) Feeds(g *graph.Graph) (map[string]*tensor.Tensor, error) {
	feeds := map[string]*tensor.Tensor{}
	for k, t := range ds.Inputs {
		name := ds.Names[k]
		if name == "" || g.Input(name) == nil {
			if k >= len(g.Inputs) {
				return nil, fmt.Errorf("input_%d.pb has no matching graph input (the graph has %d)", k, len(g.Inputs))
			}
			name = g.Inputs[k].Name
		}
		feeds[name] = asDeclared(t, g.Input(name).Type.DType)
	}
	return feeds, nil
}

// OutputResult is the comparison of one output.
type OutputResult struct {
	Name string
	Diff Diff
	Err  error
}

// RunCase loads model.onnx from dir and runs every test_data_set_*,
// comparing outputs.
func RunCase(ctx context.Context, dir string, opts ...runtime.Option) ([][]OutputResult, error) {
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, err
	}
	s, err := runtime.NewSession(m.Graph, opts...)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return RunDataSets(ctx, s, dir, RTol, ATol)
}

// RunDataSets runs every test_data_set_* folder of dir through a session and
// compares the outputs with the stored ones. It returns per-output results
// for each data set, or an error when a data set cannot be read or run.
func RunDataSets(ctx context.Context, s *runtime.Session, dir string, rtol, atol float64) ([][]OutputResult, error) {
	g := s.Graph()
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return nil, fmt.Errorf("%s has no test_data_set_* folders", dir)
	}
	var all [][]OutputResult
	for _, set := range sets {
		ds, err := ReadDataSet(set)
		if err != nil {
			return nil, err
		}
		feeds, err := ds.Feeds(g)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(set), err)
		}
		outs, err := s.RunList(ctx, feeds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(set), err)
		}
		if len(outs) != len(ds.Outputs) {
			return nil, fmt.Errorf("%s: model has %d outputs, data set %d", filepath.Base(set), len(outs), len(ds.Outputs))
		}
		var res []OutputResult
		for k, want := range ds.Outputs {
			d, err := Compare(outs[k], asDeclared(want, outs[k].DType), rtol, atol)
			res = append(res, OutputResult{Name: g.Outputs[k].Name, Diff: d, Err: err})
		}
		all = append(all, res)
	}
	return all, nil
}

// FirstError returns the first failing comparison of a RunCase result.
func FirstError(res [][]OutputResult) error {
	for i, set := range res {
		for _, r := range set {
			if r.Err != nil {
				return fmt.Errorf("test_data_set_%d output %q: %w", i, r.Name, r.Err)
			}
		}
	}
	return nil
}

// asDeclared relabels uint16 test data as bfloat16 where the model expects
// bfloat16: the ONNX 1.12 test data stores bfloat16 tensors as uint16.
func asDeclared(t *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	if t.DType == tensor.Uint16 && dt == tensor.BFloat16 {
		return &tensor.Tensor{DType: dt, Shape: t.Shape, Data: t.Data}
	}
	return t
}
