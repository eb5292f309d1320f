package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"stride/graph"
	"stride/runtime"
	"stride/tensor"
)

// benchResult is one `infer bench` measurement. Its text form matches the
// key=value line of the ONNX Runtime script in shared/bench, so a script can
// pair them up.
type benchResult struct {
	Model       string  `json:"model"`
	Batch       int     `json:"batch"`
	Threads     int     `json:"threads"`
	MedianMs    float64 `json:"median_ms"`
	P10         float64 `json:"p10"`
	P90         float64 `json:"p90"`
	MinMs       float64 `json:"min_ms"`
	Iters       int     `json:"iters"`
	LoadMs      float64 `json:"load_ms"`
	ImagesPerS  float64 `json:"images_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	Allocations uint64  `json:"-"`
}

func (r benchResult) line() string {
	return fmt.Sprintf("stride %s batch=%d threads=%d median_ms=%.3f p10=%.3f p90=%.3f min_ms=%.3f iters=%d load_ms=%.0f images_per_s=%.1f peak_rss_mb=%.1f",
		r.Model, r.Batch, r.Threads, r.MedianMs, r.P10, r.P90, r.MinMs, r.Iters, r.LoadMs, r.ImagesPerS, r.PeakRSSMB)
}

func newBenchCmd() *cobra.Command {
	var (
		mf         modelFlags
		batch      int
		warmup     int
		iters      int
		maxSeconds float64
		format     string
		profile    bool
		seed       uint64
	)
	cmd := &cobra.Command{
		Use:   "bench MODEL",
		Short: "Measure inference latency, throughput and peak memory",
		Long: `bench times Session.Run on a uniform random input in [-1,1) of the model's first
input shape, its batch dim set to --batch. It prints one line in the same key=value
form as shared/bench's ONNX Runtime script:

  stride <model> batch=N threads=T median_ms=X p10=.. p90=.. images_per_s=.. peak_rss_mb=..

--profile adds the time per op type and per node (slowest first).`,
		Example: `  infer bench resnet18.onnx --batch 8 --threads 2 --iters 30
  infer bench deploy.prototxt --weights w.caffemodel --profile`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if batch < 1 || iters < 1 || warmup < 0 {
				return usagef("--batch and --iters must be at least 1, --warmup at least 0")
			}
			if format != "text" && format != "json" {
				return usagef("--format must be text or json")
			}
			t0 := time.Now()
			g, err := mf.load(args[0])
			if err != nil {
				return err
			}
			s, err := mf.session(g)
			if err != nil {
				return err
			}
			defer s.Close()
			loadMs := float64(time.Since(t0).Microseconds()) / 1e3
			x, name, err := randomInput(g, batch, seed)
			if err != nil {
				return err
			}
			feeds := map[string]*tensor.Tensor{name: x}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			for i := 0; i < warmup; i++ {
				if _, err := s.RunList(ctx, feeds); err != nil {
					return err
				}
			}
			var prof *runtime.Profile
			if profile {
				prof = &runtime.Profile{}
			}
			var times []float64
			start := time.Now()
			for i := 0; i < iters; i++ {
				t := time.Now()
				if _, err := s.RunProfiled(ctx, feeds, prof); err != nil {
					if ctx.Err() != nil && len(times) > 0 {
						break // Ctrl-C: report what was measured
					}
					return err
				}
				times = append(times, float64(time.Since(t).Microseconds())/1e3)
				if maxSeconds > 0 && len(times) >= 3 && time.Since(start).Seconds() > maxSeconds {
					break
				}
			}
			sort.Float64s(times)
			r := benchResult{
				Model: modelName(args[0]), Batch: x.Shape[0], Threads: s.Threads(),
				MedianMs: percentile(times, 50), P10: percentile(times, 10), P90: percentile(times, 90), MinMs: times[0],
				Iters: len(times), LoadMs: loadMs, PeakRSSMB: peakRSSMB(),
			}
			r.ImagesPerS = float64(r.Batch) / (r.MedianMs / 1e3)
			w := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(w)
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(w, r.line())
			}
			if prof != nil {
				printProfile(w, prof)
			}
			return nil
		},
	}
	mf.register(cmd.Flags())
	cmd.Flags().IntVar(&batch, "batch", 1, "batch size (the model's first input dim)")
	cmd.Flags().IntVar(&warmup, "warmup", 3, "untimed runs first")
	cmd.Flags().IntVar(&iters, "iters", 20, "timed runs")
	cmd.Flags().Float64Var(&maxSeconds, "max-seconds", 0, "stop the timed loop after this long (at least 3 runs)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&profile, "profile", false, "print time per op type and per node")
	cmd.Flags().Uint64Var(&seed, "input-seed", 0, "seed of the random input")
	return cmd
}

// modelName names a model the way shared/bench does: the folder for a
// model.onnx, else the file name without extension.
func modelName(path string) string {
	base := filepath.Base(path)
	if base == "model.onnx" {
		abs, _ := filepath.Abs(path)
		return filepath.Base(filepath.Dir(abs))
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// percentile interpolates linearly between sorted samples (numpy's default).
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := float64(len(sorted)-1) * q / 100
	lo := int(pos)
	hi := lo
	if float64(lo) < pos {
		hi = lo + 1
	}
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// randomInput makes the benchmark input for the first graph input.
func randomInput(g *graph.Graph, batch int, seed uint64) (*tensor.Tensor, string, error) {
	if len(g.Inputs) == 0 {
		return nil, "", usagef("the model has no inputs")
	}
	in := g.Inputs[0]
	if in.Type.DType != tensor.Float32 {
		return nil, "", usagef("input %q is %v; bench feeds float32", in.Name, in.Type.DType)
	}
	if !in.Type.Ranked || len(in.Type.Shape) == 0 {
		return nil, "", usagef("input %q has no known shape", in.Name)
	}
	shape := make([]int, len(in.Type.Shape))
	for i, d := range in.Type.Shape {
		switch {
		case i == 0:
			shape[i] = batch
			if d.Known() && int(d.Size) != batch {
				fmt.Fprintf(os.Stderr, "infer: warning: model has fixed batch %d, using it instead of --batch %d\n", d.Size, batch)
				shape[i] = int(d.Size)
			}
		case d.Known():
			shape[i] = int(d.Size)
		default:
			return nil, "", usagef("input %q dim %d (%s) is symbolic; only the batch dim may be", in.Name, i, d)
		}
	}
	x, err := tensor.New(tensor.Float32, shape...)
	if err != nil {
		return nil, "", err
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range x.F32() {
		x.F32()[i] = float32(r.Float64()*2 - 1)
	}
	return x, in.Name, nil
}

// peakRSSMB reads the process's peak resident set size (Linux).
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

func printProfile(w io.Writer, p *runtime.Profile) {
	ops := p.Ops()
	var total time.Duration
	for _, o := range ops {
		total += o.Total
	}
	runs := time.Duration(max(p.Runs, 1))
	fmt.Fprintf(w, "\nper op type (mean per run):\n")
	for _, o := range ops {
		fmt.Fprintf(w, "  %-24s %9.3f ms %5.1f%%  %d nodes\n", o.Op, float64((o.Total/runs).Microseconds())/1e3, 100*float64(o.Total)/float64(total), o.Nodes)
	}
	fmt.Fprintf(w, "\nslowest nodes (mean per run):\n")
	for i, n := range p.Nodes() {
		if i == 25 {
			break
		}
		fmt.Fprintf(w, "  %-40s %-20s %9.3f ms\n", n.Name, n.Op, float64((n.Total/runs).Microseconds())/1e3)
	}
}
