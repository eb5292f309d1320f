package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"stride/graph"
	"stride/importers/onnx"
	"stride/tensor"
	"stride/tensor/npy"
)

func newRunCmd() *cobra.Command {
	var (
		mf        modelFlags
		inputs    []string
		outDir    string
		outputs   string
		writeNpy  bool
		printVals bool
	)
	cmd := &cobra.Command{
		Use:   "run MODEL --input NAME=FILE ... --output-dir DIR",
		Short: "Run a model on input tensors and write its outputs",
		Long: `run feeds tensors (.pb TensorProto files as in the ONNX test-data layout, or .npy
files) to a model and writes each output as output_K.pb (K in graph output order,
or in --outputs order), plus output_K.npy with --npy.

--outputs A,B,... returns named intermediate values instead of the graph outputs;
for a Caffe net a name is a blob, holding its value after the forward pass.`,
		Example: `  infer run model.onnx --input data=x.npy --output-dir out
  infer run deploy.prototxt --weights w.caffemodel --input data=x.npy --outputs conv1,prob --output-dir out --npy`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := mf.load(args[0])
			if err != nil {
				return err
			}
			if outputs != "" {
				var names []string
				for _, n := range strings.Split(outputs, ",") {
					if n = strings.TrimSpace(n); n != "" {
						names = append(names, n)
					}
				}
				if g, err = g.WithOutputs(names); err != nil {
					return usagef("--outputs: %v (see 'infer inspect')", err)
				}
			}
			feeds, err := readFeeds(g, inputs)
			if err != nil {
				return err
			}
			s, err := mf.session(g)
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			outs, err := s.RunList(ctx, feeds)
			if err != nil {
				return err
			}
			if outDir != "" {
				if err := os.MkdirAll(outDir, 0o755); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			for k, t := range outs {
				name := g.Outputs[k].Name
				line := fmt.Sprintf("output_%d %q %v%v", k, name, t.DType, t.Shape)
				if outDir != "" {
					p := filepath.Join(outDir, fmt.Sprintf("output_%d.pb", k))
					if err := onnx.WriteTensorFile(p, name, t); err != nil {
						return err
					}
					if writeNpy {
						if err := npy.Write(filepath.Join(outDir, fmt.Sprintf("output_%d.npy", k)), t); err != nil {
							return err
						}
					}
					line += " -> " + p
				}
				fmt.Fprintln(w, line)
				if printVals {
					fmt.Fprintf(w, "  %v\n", t)
				}
			}
			return nil
		},
	}
	mf.register(cmd.Flags())
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "input tensor NAME=FILE (.pb or .npy); NAME may be omitted for a single-input model")
	cmd.Flags().StringVarP(&outDir, "output-dir", "o", "", "folder for output_K.pb files (created if missing)")
	cmd.Flags().StringVar(&outputs, "outputs", "", "comma-separated value names to return instead of the graph outputs")
	cmd.Flags().BoolVar(&writeNpy, "npy", false, "also write output_K.npy")
	cmd.Flags().BoolVar(&printVals, "print", false, "print the first values of each output")
	return cmd
}

// readFeeds reads NAME=FILE arguments.
func readFeeds(g *graph.Graph, specs []string) (map[string]*tensor.Tensor, error) {
	feeds := map[string]*tensor.Tensor{}
	for _, spec := range specs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok {
			if len(g.Inputs) != 1 {
				return nil, usagef("--input %s: name the input (NAME=FILE); the model has %s", spec, plural(len(g.Inputs), "input"))
			}
			name, file = g.Inputs[0].Name, spec
		}
		if g.Input(name) == nil {
			var names []string
			for _, v := range g.Inputs {
				names = append(names, v.Name)
			}
			return nil, usagef("--input %s: the model has no input %q (its inputs: %s)", spec, name, strings.Join(names, ", "))
		}
		t, err := readTensor(file)
		if err != nil {
			return nil, err
		}
		feeds[name] = t
	}
	for _, v := range g.Inputs {
		if _, ok := feeds[v.Name]; !ok {
			if _, hasDefault := g.Initializers[v.Name]; !hasDefault {
				return nil, usagef("missing --input for %q (%v)", v.Name, v.Type)
			}
		}
	}
	return feeds, nil
}

func readTensor(path string) (*tensor.Tensor, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usagef("input %s: no such file", path)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return npy.Read(path)
	case ".pb":
		_, t, err := onnx.ReadTensorFile(path)
		return t, err
	}
	return nil, usagef("input %s: expected a .npy or .pb (TensorProto) file", path)
}
