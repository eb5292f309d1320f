package caffe

import (
	"fmt"
	"strings"
)

// inputLayer declares its tops as graph inputs: one shape for every top or
// one per top.
func inputLayer(c *lctx) error {
	if err := c.needBottoms(0, 0); err != nil {
		return err
	}
	if err := c.needTops(1, -1); err != nil {
		return err
	}
	shapes := c.lp.GetInputParam().GetShape()
	if len(shapes) > 1 && len(shapes) != len(c.tops) {
		return c.errorf("has %d shapes for %d tops (give one, or one per top)", len(shapes), len(c.tops))
	}
	for i := range c.tops {
		var shape []int
		if len(shapes) > 0 {
			shape = int64sToInts(shapes[min(i, len(shapes)-1)].GetDim())
		}
		if err := c.input(i, shape); err != nil {
			return err
		}
	}
	return nil
}

// dataInputs turns a data layer into graph inputs: top 0 (the data) with
// the given shape (nil when only the data source knows it) and top 1, when
// present, the labels, one per sample.
func (c *lctx) dataInputs(batch int, data []int) error {
	if err := c.needBottoms(0, 0); err != nil {
		return err
	}
	if err := c.needTops(1, 2); err != nil {
		return err
	}
	if batch <= 0 {
		return c.errorf("batch_size must be positive (it is %d)", batch)
	}
	if data != nil {
		data = append([]int{batch}, data...)
	}
	if err := c.input(0, data); err != nil {
		return err
	}
	if len(c.tops) == 2 {
		if err := c.input(1, []int{batch}); err != nil {
			return err
		}
	}
	c.dataNote()
	return nil
}

// dataNote tells the user what the data layer's pre-processing was, since
// the graph takes its output, not the raw data.
func (c *lctx) dataNote() {
	var steps []string
	if tp := c.lp.GetTransformParam(); tp != nil {
		if tp.GetCropSize() > 0 {
			steps = append(steps, fmt.Sprintf("crop %d", tp.GetCropSize()))
		}
		if tp.GetMirror() {
			steps = append(steps, "mirror")
		}
		if tp.GetMeanFile() != "" {
			steps = append(steps, "subtract mean file "+tp.GetMeanFile())
		}
		if len(tp.GetMeanValue()) > 0 {
			steps = append(steps, fmt.Sprintf("subtract mean %v", tp.GetMeanValue()))
		}
		if tp.GetScale() != 1 {
			steps = append(steps, fmt.Sprintf("scale by %g", tp.GetScale()))
		}
	}
	msg := fmt.Sprintf("%s became graph input(s) %s", c.L.describe(), strings.Join(c.lp.Top, ", "))
	if len(steps) > 0 {
		msg += "; feed data already pre-processed as the layer did: " + strings.Join(steps, ", ")
	}
	c.L.Note = "data layer: its tops are graph inputs"
	c.b.notef("%s", msg)
}

// cropOr returns [channels, crop, crop] when crop is set, else
// [channels, h, w] when both are set, else nil.
func cropOr(channels, crop, h, w int) []int {
	switch {
	case crop > 0:
		return []int{channels, crop, crop}
	case h > 0 && w > 0:
		return []int{channels, h, w}
	}
	return nil
}

// dataLayer (LMDB/LevelDB): the image size is in the database, so the
// input shapes option must give it.
func dataLayer(c *lctx) error {
	return c.dataInputs(int(c.lp.GetDataParam().GetBatchSize()), nil)
}

func imageDataLayer(c *lctx) error {
	ip := c.lp.GetImageDataParam()
	ch := 3
	if !ip.GetIsColor() {
		ch = 1
	}
	data := cropOr(ch, int(c.lp.GetTransformParam().GetCropSize()), int(ip.GetNewHeight()), int(ip.GetNewWidth()))
	return c.dataInputs(int(ip.GetBatchSize()), data)
}

func windowDataLayer(c *lctx) error {
	wp := c.lp.GetWindowDataParam()
	crop := int(c.lp.GetTransformParam().GetCropSize())
	return c.dataInputs(int(wp.GetBatchSize()), cropOr(3, crop, 0, 0))
}

func memoryDataLayer(c *lctx) error {
	mp := c.lp.GetMemoryDataParam()
	data := []int{int(mp.GetChannels()), int(mp.GetHeight()), int(mp.GetWidth())}
	return c.dataInputs(int(mp.GetBatchSize()), data)
}

// hdf5DataLayer: every top's shape is in the HDF5 files.
func hdf5DataLayer(c *lctx) error {
	if err := c.needBottoms(0, 0); err != nil {
		return err
	}
	if err := c.needTops(1, -1); err != nil {
		return err
	}
	for i := range c.tops {
		if err := c.input(i, nil); err != nil {
			return err
		}
	}
	c.dataNote()
	return nil
}

// dummyDataLayer: shapes are given (current or legacy 4-D form), one for
// all tops or one per top. The data is fed as input rather than generated.
func dummyDataLayer(c *lctx) error {
	if err := c.needBottoms(0, 0); err != nil {
		return err
	}
	if err := c.needTops(1, -1); err != nil {
		return err
	}
	dp := c.lp.GetDummyDataParam()
	n := len(c.tops)
	pick := func(v []uint32, i int) int {
		if len(v) == 0 {
			return 0
		}
		return int(v[min(i, len(v)-1)])
	}
	for i := 0; i < n; i++ {
		var shape []int
		switch {
		case len(dp.GetShape()) > 0:
			if len(dp.GetShape()) != 1 && len(dp.GetShape()) != n {
				return c.errorf("has %d shapes for %d tops (give one, or one per top)", len(dp.GetShape()), n)
			}
			shape = int64sToInts(dp.GetShape()[min(i, len(dp.GetShape())-1)].GetDim())
		case len(dp.GetNum()) > 0:
			shape = []int{pick(dp.GetNum(), i), pick(dp.GetChannels(), i), pick(dp.GetHeight(), i), pick(dp.GetWidth(), i)}
		}
		if err := c.input(i, shape); err != nil {
			return err
		}
	}
	c.dataNote()
	return nil
}

// dropped leaves a layer out of the inference graph.
func dropped(why string) translateFunc {
	return func(c *lctx) error {
		c.drop(why)
		return nil
	}
}
