package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"stride/conformance"
)

func newTestCmd() *cobra.Command {
	var (
		mf         modelFlags
		rtol, atol float64
	)
	cmd := &cobra.Command{
		Use:   "test DIR...",
		Short: "Run model folders in the ONNX test-data layout and compare outputs",
		Long: `test runs folders in the ONNX test-data layout (model.onnx, or a Caffe .prototxt
with its .caffemodel, plus test_data_set_N/input_K.pb and output_K.pb) and prints
pass or fail with the largest absolute and relative error of every output. A DIR
without a model inside is searched one level down for such folders. The exit code
is 1 when any comparison fails.`,
		Example: `  infer test /usr/share/libonnx-testdata/data/pytorch-converted
  infer test --rtol 1e-4 mymodel/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cases []string
			for _, a := range args {
				fi, err := os.Stat(a)
				if err != nil || !fi.IsDir() {
					return usagef("%s: not a folder", a)
				}
				if modelIn(a) != "" {
					cases = append(cases, a)
					continue
				}
				subs, _ := filepath.Glob(filepath.Join(a, "*"))
				sort.Strings(subs)
				for _, s := range subs {
					if modelIn(s) != "" {
						cases = append(cases, s)
					}
				}
			}
			if len(cases) == 0 {
				return usagef("no model folders (model.onnx or *.prototxt + test_data_set_*) in %v", args)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			w := cmd.OutOrStdout()
			passed, failed := 0, 0
			for _, dir := range cases {
				if ctx.Err() != nil {
					break
				}
				ok := testOne(ctx, w, &mf, dir, rtol, atol)
				if ok {
					passed++
				} else {
					failed++
				}
			}
			fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
			if ctx.Err() != nil {
				fmt.Fprintln(w, "interrupted")
				return exitError{130}
			}
			if failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	mf.register(cmd.Flags())
	cmd.Flags().Float64Var(&rtol, "rtol", conformance.RTol, "relative tolerance")
	cmd.Flags().Float64Var(&atol, "atol", conformance.ATol, "absolute tolerance")
	return cmd
}

// modelIn returns the model file of a test folder, or "".
func modelIn(dir string) string {
	if p := filepath.Join(dir, "model.onnx"); fileExists(p) {
		return p
	}
	if ps, _ := filepath.Glob(filepath.Join(dir, "*.prototxt")); len(ps) == 1 {
		return ps[0]
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func testOne(ctx context.Context, w interface{ Write([]byte) (int, error) }, mf *modelFlags, dir string, rtol, atol float64) bool {
	name := filepath.Base(dir)
	model := modelIn(dir)
	local := *mf
	if filepath.Ext(model) == ".prototxt" && local.weights == "" {
		if ws, _ := filepath.Glob(filepath.Join(dir, "*.caffemodel")); len(ws) == 1 {
			local.weights = ws[0]
		}
	}
	g, err := local.load(model)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	s, err := local.session(g)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	defer s.Close()
	res, err := conformance.RunDataSets(ctx, s, dir, rtol, atol)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	ok := true
	for i, set := range res {
		for _, r := range set {
			status := "PASS"
			detail := ""
			if r.Err != nil {
				status, ok = "FAIL", false
				detail = ": " + r.Err.Error()
			}
			fmt.Fprintf(w, "%s %s test_data_set_%d %q max_abs=%.3g max_rel=%.3g%s\n", status, name, i, r.Name, r.Diff.MaxAbs, r.Diff.MaxRel, detail)
		}
	}
	return ok
}
