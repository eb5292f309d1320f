package viz

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"stride/importers/onnx"
)

// Point is one value at an iteration.
type Point struct {
	Iter  int
	Value float64
}

// Curves are the series a training run produces.
type Curves struct {
	Title string
	// Loss is the training loss per iteration (drawn with a moving
	// average), TestLoss and Accuracy the test passes' values.
	Loss, TestLoss, Accuracy []Point
}

// smooth returns the moving average of the last w points.
func smooth(pts []Point, w int) plotter.XYs {
	xy := make(plotter.XYs, 0, len(pts))
	var sum float64
	for i, p := range pts {
		sum += p.Value
		if i >= w {
			sum -= pts[i-w].Value
		}
		n := min(i+1, w)
		xy = append(xy, plotter.XY{X: float64(p.Iter), Y: sum / float64(n)})
	}
	return xy
}

func xys(pts []Point, scale float64) plotter.XYs {
	xy := make(plotter.XYs, len(pts))
	for i, p := range pts {
		xy[i] = plotter.XY{X: float64(p.Iter), Y: p.Value * scale}
	}
	return xy
}

// WritePNG draws two panels, the losses and the test accuracy (in %),
// into a PNG of width x height pixels, written atomically.
func (c *Curves) WritePNG(path string, width, height int) error {
	if len(c.Loss) == 0 && len(c.Accuracy) == 0 {
		return fmt.Errorf("no data to plot yet")
	}
	lossPlot := plot.New()
	lossPlot.Title.Text = c.Title
	lossPlot.X.Label.Text = "iteration"
	lossPlot.Y.Label.Text = "loss"
	lossPlot.Add(plotter.NewGrid())
	if len(c.Loss) > 0 {
		raw, err := plotter.NewLine(xys(c.Loss, 1))
		if err != nil {
			return err
		}
		raw.Color = color.RGBA{R: 160, G: 190, B: 230, A: 255}
		lossPlot.Add(raw)
		w := max(1, len(c.Loss)/50)
		avg, err := plotter.NewLine(smooth(c.Loss, w))
		if err != nil {
			return err
		}
		avg.Color = color.RGBA{B: 200, A: 255}
		avg.Width = vg.Points(1.5)
		lossPlot.Add(avg)
		lossPlot.Legend.Add(fmt.Sprintf("training loss (mean of %d)", w), avg)
	}
	if len(c.TestLoss) > 0 {
		tl, tp, err := plotter.NewLinePoints(xys(c.TestLoss, 1))
		if err != nil {
			return err
		}
		tl.Color, tp.Color = color.RGBA{R: 220, G: 100, A: 255}, color.RGBA{R: 220, G: 100, A: 255}
		lossPlot.Add(tl, tp)
		lossPlot.Legend.Add("test loss", tl, tp)
	}
	lossPlot.Legend.Top = true
	accPlot := plot.New()
	accPlot.X.Label.Text = "iteration"
	accPlot.Y.Label.Text = "test accuracy (%)"
	accPlot.Add(plotter.NewGrid())
	if len(c.Accuracy) > 0 {
		al, ap, err := plotter.NewLinePoints(xys(c.Accuracy, 100))
		if err != nil {
			return err
		}
		al.Color, ap.Color = color.RGBA{G: 150, A: 255}, color.RGBA{G: 150, A: 255}
		accPlot.Add(al, ap)
		last := c.Accuracy[len(c.Accuracy)-1]
		best := 0.0
		for _, p := range c.Accuracy {
			best = math.Max(best, p.Value)
		}
		accPlot.Legend.Add(fmt.Sprintf("last %.2f%%, best %.2f%%", 100*last.Value, 100*best), al, ap)
		accPlot.Legend.Top = true
		accPlot.Legend.Left = false
		accPlot.Legend.YOffs = -vg.Points(40)
	}
	img := vgimg.New(vg.Length(width)*vg.Inch/96, vg.Length(height)*vg.Inch/96)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{lossPlot}, {accPlot}}, tiles, dc)
	lossPlot.Draw(canvases[0][0])
	accPlot.Draw(canvases[1][0])
	return writePNG(path, img)
}

func writePNG(path string, img *vgimg.Canvas) error {
	var buf pngBuffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return onnx.WriteFileAtomic(path, buf.b)
}

type pngBuffer struct{ b []byte }

func (p *pngBuffer) Write(b []byte) (int, error) {
	p.b = append(p.b, b...)
	return len(b), nil
}
