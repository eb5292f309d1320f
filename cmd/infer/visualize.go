package main

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"stride/imageio"
	"stride/inspect"
	"stride/runtime"
	"stride/tensor"
)

func newVisualizeCmd() *cobra.Command {
	var (
		mf  modelFlags
		pf  prepFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "visualize [MODEL] IMAGE --out DIR",
		Short: "Draw a model's first-layer filters and every convolution's activation maps for an image",
		Long: `visualize writes PNG pictures of what a convolutional network sees, in the style of
Zeiler & Fergus and ConvNetJS, and an index.html that shows them in order:

  input.png      the image as the network gets it (resized and cropped)
  filters.png    the first convolution's filters, as colour patches when it reads
                 RGB, each normalised to its own range
  maps-NN.png    the activation maps of each convolution (after its bias, batch
                 norm and activation, when only those follow it), one tile per
                 channel, each normalised: black is its lowest value, white its highest

MODEL is an .onnx file or a Caffe .prototxt (with --weights); without one, the
built-in Fashion-MNIST classifier is used. The image is preprocessed as by
classify, with the same flags.`,
		Example: `  infer visualize testdata/images/fashion-mnist/t10k-0000-ankle-boot.png --out vis
  infer visualize model.onnx cat.jpg --out vis && xdg-open vis/index.html`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required: the folder to write the pictures to")
			}
			model, rest := splitModel(args)
			if len(rest) != 1 {
				return usagef("want one IMAGE after the model (usage: %s)", cmd.Use)
			}
			v := &visualizer{mf: &mf, pf: &pf, out: out, model: model, image: rest[0]}
			return v.run(cmd)
		},
	}
	mf.register(cmd.Flags())
	pf.register(cmd.Flags())
	cmd.Flags().StringVarP(&out, "out", "o", "", "folder for the PNG files and index.html (created if missing)")
	return cmd
}

type visualizer struct {
	mf    *modelFlags
	pf    *prepFlags
	out   string
	model string
	image string
}

func (v *visualizer) run(cmd *cobra.Command) error {
	cf := classifyFlags{mf: *v.mf}
	g, _, name, caffe, err := cf.loadModel(v.model)
	if err != nil {
		return err
	}
	if !fileExists(v.image) {
		return usagef("%s: no such file", v.image)
	}
	in, prep, _, err := v.pf.build(g, name, caffe)
	if err != nil {
		return err
	}
	convs, err := inspect.ConvMaps(g)
	if err != nil {
		return err
	}
	if len(convs) == 0 {
		return usagef("%s has no convolutions to draw", name)
	}
	img, err := imageio.Open(v.image, v.pf.maxPixels())
	if err != nil {
		return fmt.Errorf("%s: %w", v.image, err)
	}
	crop := prep.Crop(img)
	rows := max(in.Batch, 1)
	data := make([]float32, rows*in.Len())
	prep.FillCropped(crop, data[:in.Len()])
	x, err := toInputType(tensor.From(in.Shape(rows), data), in.DType)
	if err != nil {
		return err
	}
	weights := convs[0].Conv.Input(1)
	names := []string{weights}
	for _, c := range convs {
		names = append(names, c.Value)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	vals, err := inspect.RunValues(ctx, g, map[string]*tensor.Tensor{in.Name: x}, names,
		runtime.WithThreads(v.mf.threads), runtime.WithOptimize(v.mf.optimize))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := os.MkdirAll(v.out, 0o755); err != nil {
		return err
	}
	page := &visPage{Model: filepath.Base(name), Image: filepath.Base(v.image)}
	if v.model == "" {
		page.Model = name
	}
	add := func(file, title, caption string, m image.Image) error {
		if err := imageio.WritePNG(filepath.Join(v.out, file), m); err != nil {
			return err
		}
		page.Figures = append(page.Figures, visFigure{File: file, Title: title, Caption: caption})
		fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(v.out, file))
		return nil
	}
	_, s := imageio.GridShape(1, in.Width, in.Height, 160, 640)
	if err := add("input.png", "input", fmt.Sprintf("%dx%d, as the network gets it after resizing and cropping", in.Width, in.Height),
		imageio.Grid([]image.Image{crop}, 1, s, 0)); err != nil {
		return err
	}
	fm, caption, err := filterPicture(vals[weights], in.Channels == 3, prep.Norm.BGR)
	if err != nil {
		return fmt.Errorf("first convolution %s: %w", convs[0].Conv.Label(), err)
	}
	if err := add("filters.png", "filters of "+layerName(convs[0]), caption, fm); err != nil {
		return err
	}
	for i, c := range convs {
		m, caption, err := mapsPicture(vals[c.Value])
		if err != nil {
			return fmt.Errorf("%s: %w", c.Conv.Label(), err)
		}
		title := layerName(c)
		if len(c.After) > 0 {
			title += " → " + strings.Join(c.After, " → ")
		}
		if err := add(fmt.Sprintf("maps-%02d.png", i+1), title, caption, m); err != nil {
			return err
		}
	}
	if err := page.write(filepath.Join(v.out, "index.html")); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), filepath.Join(v.out, "index.html"))
	return nil
}

func layerName(c inspect.ConvMap) string {
	if c.Conv.Name != "" {
		return c.Conv.Name
	}
	return c.Conv.Outputs[0]
}

// filterPicture draws weights [M, C, kh, kw]: one colour patch per filter
// when rgb and C is 3, else one gray patch per filter and input channel.
func filterPicture(w *tensor.Tensor, rgb, bgr bool) (image.Image, string, error) {
	if w == nil || len(w.Shape) != 4 {
		return nil, "", fmt.Errorf("weights are not of shape M x C x kh x kw")
	}
	m, c, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	vals := toFloat32(w)
	plane := kh * kw
	var tiles []image.Image
	cols := 0
	if rgb && c == 3 {
		for f := range m {
			ch := func(i int) []float32 { return vals[(f*3+i)*plane : (f*3+i+1)*plane] }
			r, g, b := ch(0), ch(1), ch(2)
			if bgr {
				r, b = b, r
			}
			tiles = append(tiles, imageio.ColorMap(r, g, b, kw, kh))
		}
	} else {
		for i := range m * c {
			tiles = append(tiles, imageio.GrayMap(vals[i*plane:(i+1)*plane], kw, kh))
		}
		if c > 1 {
			cols = c
		}
	}
	gc, scale := imageio.GridShape(len(tiles), kw, kh, 40, 1600)
	if cols == 0 {
		cols = gc
	}
	caption := fmt.Sprintf("%d filters of %dx%dx%d", m, kw, kh, c)
	if rgb && c == 3 {
		caption += ", as colour patches"
	} else if c > 1 {
		caption += ", one row per filter, one gray patch per input channel"
	}
	return imageio.Grid(tiles, cols, scale, 1), caption + "; each normalised to its own range", nil
}

// mapsPicture draws the first image's activation maps of a [N, D, H, W]
// (or [N, D, W]) value, one normalised tile per channel.
func mapsPicture(t *tensor.Tensor) (image.Image, string, error) {
	if t == nil || len(t.Shape) < 3 || len(t.Shape) > 4 {
		return nil, "", fmt.Errorf("activation maps are not of shape N x D x H x W")
	}
	d, h, w := t.Shape[1], 1, t.Shape[2]
	if len(t.Shape) == 4 {
		h, w = t.Shape[2], t.Shape[3]
	}
	vals := toFloat32(t)
	plane := h * w
	tiles := make([]image.Image, d)
	for i := range d {
		tiles[i] = imageio.GrayMap(vals[i*plane:(i+1)*plane], w, h)
	}
	cols, scale := imageio.GridShape(d, w, h, 48, 1600)
	caption := fmt.Sprintf("%d maps of %dx%d (W x H x D = %d x %d x %d); each normalised: black is its lowest value, white its highest", d, w, h, w, h, d)
	return imageio.Grid(tiles, cols, scale, 1), caption, nil
}

func toFloat32(t *tensor.Tensor) []float32 {
	if t.DType == tensor.Float32 {
		return t.F32()
	}
	f := t.Float64s()
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out
}
