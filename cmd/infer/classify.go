package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"time"

	"github.com/spf13/cobra"

	"stride/graph"
	"stride/imageio"
	"stride/importers"
	"stride/runtime"
	"stride/tensor"
)

type classifyFlags struct {
	mf       modelFlags
	pf       prepFlags
	labels   string
	output   string
	top      int
	batch    int
	jobs     int
	format   string
	progress string
	quiet    bool
	verbose  bool
}

func newClassifyCmd() *cobra.Command {
	var f classifyFlags
	cmd := &cobra.Command{
		Use:   "classify [MODEL] IMAGES...",
		Short: "Classify images, files, folders or globs, and print the top classes",
		Long: `classify runs an image classifier on JPEG, PNG, GIF, BMP, TIFF and WebP files and
prints each image's top classes with their probabilities, in input order.

MODEL is an .onnx file or a Caffe .prototxt (with --weights); without one, a small
built-in Fashion-MNIST classifier is used. IMAGES are files, folders (searched
recursively for image files) or glob patterns.

Each image is resized (shorter side, Catmull-Rom) and center-cropped to the model's
input size, converted to gray for a one-channel model, and normalised by a preset:
  imagenet-torch  RGB/255, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (default for colour ONNX models)
  caffe           BGR 0-255 minus mean values 104,117,123 (default for Caffe nets)
  none            RGB/255 (default for grayscale models)
--mean, --std, --scale, --mean-file and --channel-order change a preset's values.
Scores become probabilities by softmax unless the model already outputs a
distribution.

Images that cannot be read are reported on stderr and skipped; the exit code is
then 1. Ctrl-C stops after printing the results so far (exit code 130).`,
		Example: `  infer classify testdata/images/fashion-mnist
  infer classify resnet18.onnx --labels imagenet_classes.txt --top 5 photos/ 'more/*.jpg'
  infer classify deploy.prototxt --weights w.caffemodel --mean-file mean.binaryproto --labels synset_words.txt cat.jpg
  infer classify model.onnx --format jsonl images/ > results.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, args)
		},
	}
	fs := cmd.Flags()
	f.mf.register(fs)
	f.pf.register(fs)
	fs.StringVar(&f.labels, "labels", "", "class names, one per line (or synset_words.txt lines such as 'n01440764 tench, Tinca tinca')")
	fs.StringVar(&f.output, "output", "", "model output holding the class scores (default: the first)")
	fs.IntVarP(&f.top, "top", "k", 3, "number of classes to print per image")
	fs.IntVar(&f.batch, "batch", 8, "images per model run (a model with a fixed batch size uses its own)")
	fs.IntVar(&f.jobs, "jobs", goruntime.NumCPU(), "images decoded in parallel")
	fs.StringVar(&f.format, "format", "table", "output format: table, csv or jsonl")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (for more than a few images, on a terminal), always or never")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "print no progress bar or summary on stderr")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print the model input and the preprocessing on stderr")
	return cmd
}

func (f *classifyFlags) check() error {
	switch {
	case f.top < 1:
		return usagef("--top %d: want at least 1", f.top)
	case f.batch < 1:
		return usagef("--batch %d: want at least 1", f.batch)
	case f.jobs < 1:
		return usagef("--jobs %d: want at least 1", f.jobs)
	case f.format != "table" && f.format != "csv" && f.format != "jsonl":
		return usagef("--format %q: want table, csv or jsonl", f.format)
	case f.progress != "auto" && f.progress != "always" && f.progress != "never":
		return usagef("--progress %q: want auto, always or never", f.progress)
	}
	return nil
}

// splitModel separates an optional leading model file from the images.
func splitModel(args []string) (model string, images []string) {
	if _, err := importers.Detect(args[0]); err == nil {
		return args[0], args[1:]
	}
	return "", args
}

func (f *classifyFlags) run(cmd *cobra.Command, args []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := f.check(); err != nil {
		return err
	}
	model, images := splitModel(args)
	if len(images) == 0 {
		return usagef("no images given (usage: %s)", cmd.Use)
	}
	paths, err := expandImages(images)
	if err != nil {
		return err
	}
	g, labels, name, caffe, err := f.loadModel(model)
	if err != nil {
		return err
	}
	if f.output != "" {
		if g, err = g.WithOutputs([]string{f.output}); err != nil {
			return usagef("--output: %v", err)
		}
	}
	in, prep, desc, err := f.pf.build(g, name, caffe)
	if err != nil {
		return err
	}
	if f.labels != "" {
		if labels, err = readLabels(f.labels); err != nil {
			return err
		}
	}
	sess, err := f.mf.session(g)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer sess.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }() // a second Ctrl-C ends the process

	classes, err := outputSize(ctx, sess, in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if labels != nil && len(labels) != classes {
		src := f.labels
		if src == "" {
			src = "the built-in labels"
		}
		return usagef("%s has %d labels but the model's output %q has %d classes", src, len(labels), sess.Outputs()[0].Name, classes)
	}
	if f.verbose {
		fmt.Fprintf(stderr, "infer: model %s: %s; %d classes\n", name, desc, classes)
	}
	out, err := newResultWriter(f.format, stdout, paths)
	if err != nil {
		return err
	}
	batch := f.batch
	if in.Batch > 0 {
		batch = in.Batch
	}
	c := &classifier{sess: sess, in: in, prep: prep, batch: batch, jobs: f.jobs, maxPixels: f.pf.maxPixels()}
	mode := f.progress
	if f.quiet {
		mode = "never"
	}
	bar := newProgress(stderr, mode, len(paths))
	sharedTerminal := isTerminal(stdout) // results would run into the bar
	done, failed := 0, 0
	start := time.Now()
	runErr := c.run(ctx, paths, func(res []imageResult) error {
		if sharedTerminal || hasError(res) {
			bar.clear()
		}
		for _, r := range res {
			if r.err != nil {
				failed++
				fmt.Fprintf(stderr, "infer: %s: %v\n", r.path, r.err)
				continue
			}
			done++
			if err := out.write(r.path, topK(r.scores, f.top, labels)); err != nil {
				return err
			}
		}
		if err := out.flush(); err != nil {
			return err
		}
		bar.add(len(res))
		return nil
	})
	bar.finish()
	if err := out.flush(); err != nil && runErr == nil {
		runErr = err
	}
	if !f.quiet {
		summary(stderr, done, failed, len(paths), time.Since(start))
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		fmt.Fprintf(stderr, "infer: interrupted after %d of %s\n", done+failed, plural(len(paths), "image"))
		return exitError{130}
	case runErr != nil:
		return runErr
	case failed > 0:
		return exitError{1}
	}
	return nil
}

func hasError(res []imageResult) bool {
	for _, r := range res {
		if r.err != nil {
			return true
		}
	}
	return false
}

// loadModel opens MODEL, or the built-in model when it is "".
func (f *classifyFlags) loadModel(model string) (g *graph.Graph, labels []string, name string, caffe bool, err error) {
	if model == "" {
		if f.mf.weights != "" {
			return nil, nil, "", false, usagef("--weights needs a Caffe MODEL")
		}
		g, labels, err = defaultModel()
		return g, labels, defaultModelName, false, err
	}
	g, err = f.mf.load(model)
	if err != nil {
		return nil, nil, "", false, err
	}
	format, _ := importers.Detect(model)
	return g, nil, model, format == importers.Caffe, nil
}

// outputSize returns the number of classes, from the output's declared
// shape or else from one run on a zero image.
func outputSize(ctx context.Context, s *runtime.Session, in *imageio.Input) (int, error) {
	rows := max(in.Batch, 1)
	if shape, ok := s.Outputs()[0].Type.Static(); ok && len(shape) > 0 {
		if n := tensor.Size(shape); n > 0 && n%rows == 0 {
			return n / rows, nil
		}
	}
	x, err := toInputType(tensor.Zeros(tensor.Float32, in.Shape(rows)...), in.DType)
	if err != nil {
		return 0, err
	}
	outs, err := s.RunList(ctx, map[string]*tensor.Tensor{in.Name: x})
	if err != nil {
		return 0, err
	}
	if n := outs[0].Len(); n > 0 && n%rows == 0 {
		return n / rows, nil
	}
	return 0, fmt.Errorf("output %q has shape %v: not one row of scores per image", s.Outputs()[0].Name, outs[0].Shape)
}

func summary(w io.Writer, done, failed, total int, d time.Duration) {
	rate := 0.0
	if s := d.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	msg := fmt.Sprintf("classified %s in %.2fs (%.1f images/s)", plural(done, "image"), d.Seconds(), rate)
	if failed > 0 {
		msg += fmt.Sprintf("; %d of %d failed", failed, total)
	}
	fmt.Fprintln(w, "infer: "+msg)
}
