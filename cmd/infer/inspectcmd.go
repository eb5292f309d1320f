package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"stride/importers"
	"stride/inspect"
	"stride/runtime"
)

func newInspectCmd() *cobra.Command {
	var (
		mf     modelFlags
		format string
		size   int
	)
	cmd := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Describe a model layer by layer: shapes, parameters, multiply-adds, receptive fields",
		Long: `inspect prints one row per layer in the terms of the CS231n lecture on CNNs: the op;
its kernel F, stride S and padding P; the output volume W x H x D, where
W2 = (W1 - F + 2P)/S + 1; the number of parameters (a 5x5 convolution with 10
filters on 3 channels has 760 = 10 x (5*5*3 + 1)); the multiply-adds for one
image; and the receptive field on the input image ("all" after a fully
connected layer or a global pool). Totals, the inputs and outputs, the opset and
the producer come with it. Pairs such as 5x3 are width x height.

MODEL is an .onnx file or a Caffe .prototxt (with or without --weights; shapes
and counts do not need the weights). The model is run once on a zero input to
learn every shape; an image input whose height and width are symbolic gets
--size. --format json writes the same report for scripts.`,
		Example: `  infer inspect testdata/models/seed_conv.onnx
  infer inspect deploy.prototxt --format json | jq '.layers[] | {name, params}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format %q: want table or json", format)
			}
			if size < 1 {
				return usagef("--size %d: want a positive size", size)
			}
			g, err := mf.load(args[0])
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			rep, err := inspect.Analyze(ctx, g, inspect.Options{
				Size:    size,
				Runtime: []runtime.Option{runtime.WithThreads(mf.threads), runtime.WithOptimize(mf.optimize)},
			})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if rep.ShapeError != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "infer: warning: %s: could not run the model to find shapes (%s); showing the shapes the file declares\n", args[0], rep.ShapeError)
			}
			f, _ := importers.Detect(args[0])
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Model  string `json:"model"`
					Format string `json:"format"`
					*inspect.Report
				}{args[0], string(f), rep})
			}
			return writeInspectTable(cmd.OutOrStdout(), args[0], f, rep)
		},
	}
	mf.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.Flags().IntVar(&size, "size", 224, "height and width for an image input whose size the model leaves open")
	return cmd
}

func writeInspectTable(w io.Writer, path string, f importers.Format, r *inspect.Report) error {
	origin := []string{strings.ToUpper(string(f))}
	if f == importers.ONNX && r.IRVersion > 0 {
		origin = append(origin, fmt.Sprintf("IR version %d", r.IRVersion))
	}
	if r.Opset > 0 {
		origin = append(origin, fmt.Sprintf("opset %d", r.Opset))
	}
	if r.Producer != "" {
		origin = append(origin, "producer "+strings.TrimSpace(r.Producer+" "+r.ProducerVersion))
	}
	fmt.Fprintf(w, "model: %s (%s)\n", path, strings.Join(origin, ", "))
	head := &table{}
	for _, p := range r.Inputs {
		vol := ""
		if p.Volume != nil {
			vol = p.Volume.String()
			if p.Layout != "" {
				vol += " (" + p.Layout + ")"
			}
		}
		head.add("input", p.Name, p.DType+p.ShapeString(), vol)
	}
	for _, p := range r.Outputs {
		head.add("output", p.Name, p.DType+p.ShapeString(), p.Volume.String())
	}
	if err := head.write(w); err != nil {
		return err
	}
	if r.Size > 0 {
		fmt.Fprintf(w, "(run with a %dx%d image: the model leaves its size open; see --size)\n", r.Size, r.Size)
	}
	fmt.Fprintln(w)

	t := &table{right: map[int]bool{0: true, 6: true, 7: true, 9: true}}
	t.add("#", "layer", "op", "kernel", "stride", "pad", "output (W x H x D)", "params", "params as", "mult-adds", "receptive field")
	for _, p := range r.Inputs {
		if p.Volume != nil {
			t.add("0", p.Name, "Input", "", "", "", p.Volume.String(), "", "", "", "1x1")
		}
	}
	for _, l := range r.Layers {
		t.add(fmt.Sprint(l.Index), l.Name, opLabel(l), pair(l.Kernel, false), pair(l.Stride, true), pads(l.Pad),
			volumeOrShape(l), countOrDash(l.Params), l.ParamsFormula, countOrDash(l.MACs), l.Receptive.String())
	}
	t.add("", "total", "", "", "", "", "", grouped(r.Params), "", grouped(r.MACs), "")
	return t.write(w)
}

// opLabel names a layer's op, with its groups for a grouped convolution.
func opLabel(l inspect.Layer) string {
	switch {
	case l.Group <= 1:
		return l.Op
	case l.Volume != nil && l.Group == l.Volume.D:
		return l.Op + " (depthwise)"
	}
	return fmt.Sprintf("%s (%d groups)", l.Op, l.Group)
}

// pair writes spatial values [h, w] as "WxH"; collapse writes one number
// when they are equal (strides and pads, where the lecture writes S and P).
func pair(v []int, collapse bool) string {
	switch {
	case len(v) == 0:
		return ""
	case len(v) == 1:
		return fmt.Sprint(v[0])
	case len(v) == 2 && v[0] == v[1] && collapse:
		return fmt.Sprint(v[0])
	case len(v) == 2:
		return fmt.Sprintf("%dx%d", v[1], v[0])
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, "x")
}

// pads writes ONNX pads [begins..., ends...]: one number when all equal,
// WxH when each axis is symmetric, else the list.
func pads(p []int) string {
	if len(p) == 0 {
		return ""
	}
	r := len(p) / 2
	sym := true
	for i := range r {
		sym = sym && p[i] == p[i+r]
	}
	if sym {
		same := true
		for _, x := range p[:r] {
			same = same && x == p[0]
		}
		if same {
			return fmt.Sprint(p[0])
		}
		return pair(p[:r], true)
	}
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func volumeOrShape(l inspect.Layer) string {
	if l.Volume != nil {
		return l.Volume.String()
	}
	if l.Shape != nil {
		return fmt.Sprint(l.Shape)
	}
	return "?"
}

func countOrDash(n int64) string {
	if n == 0 {
		return "-"
	}
	return grouped(n)
}
