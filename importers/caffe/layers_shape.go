package caffe

import (
	"stride/graph"
	"stride/tensor"
)

// concat joins bottoms along `axis` (or the legacy concat_dim).
func concat(c *lctx) error {
	if err := c.needBottoms(1, -1); err != nil {
		return err
	}
	if err := c.needTops(1, 1); err != nil {
		return err
	}
	cp := c.lp.GetConcatParam()
	shape := c.shapes[0]
	axis := int(cp.GetAxis())
	if cp != nil && cp.ConcatDim != nil {
		if cp.Axis != nil {
			return c.errorf("give either axis or the legacy concat_dim, not both")
		}
		axis = int(cp.GetConcatDim())
	}
	axis, err := canonAxis(axis, len(shape))
	if err != nil {
		return err
	}
	out := append([]int{}, shape...)
	for i, s := range c.shapes[1:] {
		if len(s) != len(shape) {
			return c.errorf("bottoms must have the same number of axes: %q is %v, %q is %v", c.lp.Bottom[0], shape, c.lp.Bottom[i+1], s)
		}
		for d := range s {
			if d != axis && s[d] != shape[d] {
				return c.errorf("bottoms must agree on all axes but %d: %q is %v, %q is %v", axis, c.lp.Bottom[0], shape, c.lp.Bottom[i+1], s)
			}
		}
		out[axis] += s[axis]
	}
	if len(c.bottoms) == 1 {
		c.setTop(0, c.bottoms[0], shape)
		return nil
	}
	c.setTop(0, c.emit("Concat", append([]string{}, c.bottoms...), out, attrs{"axis": graph.IntAttr(int64(axis))}), out)
	return nil
}

// slice cuts the bottom along `axis` (or the legacy slice_dim) at the
// slice points, or into equal parts, one per top.
func slice(c *lctx) error {
	if err := c.needBottoms(1, 1); err != nil {
		return err
	}
	if err := c.needTops(1, -1); err != nil {
		return err
	}
	sp := c.lp.GetSliceParam()
	shape := c.shapes[0]
	axis := int(sp.GetAxis())
	if sp != nil && sp.SliceDim != nil {
		if sp.Axis != nil {
			return c.errorf("give either axis or the legacy slice_dim, not both")
		}
		axis = int(sp.GetSliceDim())
	}
	axis, err := canonAxis(axis, len(shape))
	if err != nil {
		return err
	}
	dim, n := shape[axis], len(c.tops)
	var sizes []int
	if points := sp.GetSlicePoint(); len(points) > 0 {
		if len(points) != n-1 {
			return c.errorf("has %d slice points for %d tops (one fewer is needed)", len(points), n)
		}
		prev := 0
		for _, p := range points {
			if int(p) <= prev || int(p) >= dim {
				return c.errorf("slice points %v must increase strictly within (0, %d)", points, dim)
			}
			sizes = append(sizes, int(p)-prev)
			prev = int(p)
		}
		sizes = append(sizes, dim-prev)
	} else {
		if dim%n != 0 {
			return c.errorf("axis %d of size %d does not split evenly into %d tops", axis, dim, n)
		}
		for i := 0; i < n; i++ {
			sizes = append(sizes, dim/n)
		}
	}
	if n == 1 {
		c.setTop(0, c.bottoms[0], shape)
		return nil
	}
	shapes := make([][]int, n)
	for i, s := range sizes {
		shapes[i] = append([]int{}, shape...)
		shapes[i][axis] = s
	}
	outs := c.emitN("Split", []string{c.bottoms[0], c.constI("split", ints64(sizes)...)}, shapes, attrs{"axis": graph.IntAttr(int64(axis))})
	for i, o := range outs {
		c.setTop(i, o, shapes[i])
	}
	return nil
}

// split copies the bottom to every top.
func split(c *lctx) error {
	if err := c.needBottoms(1, 1); err != nil {
		return err
	}
	if err := c.needTops(1, -1); err != nil {
		return err
	}
	for i := range c.tops {
		c.setTop(i, c.bottoms[0], c.shapes[0])
	}
	return nil
}

// flatten merges the axes axis..end_axis into one.
func flatten(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	fp := c.lp.GetFlattenParam()
	shape := c.shapes[0]
	start, err := canonAxis(int(fp.GetAxis()), len(shape))
	if err != nil {
		return err
	}
	end, err := canonAxis(int(fp.GetEndAxis()), len(shape))
	if err != nil {
		return err
	}
	if end < start {
		return c.errorf("end_axis %d comes before axis %d", end, start)
	}
	out := append(append(append([]int{}, shape[:start]...), prod(shape[start:end+1])), shape[end+1:]...)
	c.setTop(0, c.reshape(c.bottoms[0], shape, out), out)
	return nil
}

// reshapeLayer applies Caffe's Reshape: the dims replace the bottom's axes
// [axis, axis+num_axes); 0 copies the bottom's dim, one -1 is inferred.
func reshapeLayer(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	rp := c.lp.GetReshapeParam()
	shape := c.shapes[0]
	rank := len(shape)
	start := int(rp.GetAxis())
	if start < 0 {
		start += rank + 1
	}
	if start < 0 || start > rank {
		return c.errorf("axis %d is out of range for a bottom with %d axes", rp.GetAxis(), rank)
	}
	numAxes := int(rp.GetNumAxes())
	end := rank
	if numAxes != -1 {
		if numAxes < 0 || start+numAxes > rank {
			return c.errorf("num_axes %d from axis %d goes beyond the bottom's %d axes", numAxes, start, rank)
		}
		end = start + numAxes
	}
	dims := rp.GetShape().GetDim()
	mid := make([]int, len(dims))
	infer := -1
	for i, d := range dims {
		switch {
		case d == 0:
			if start+i >= rank {
				return c.errorf("dim %d is 0 (copy), but the bottom has no axis %d", i, start+i)
			}
			mid[i] = shape[start+i]
		case d == -1:
			if infer >= 0 {
				return c.errorf("only one dim may be -1 (inferred)")
			}
			infer = i
		case d < -1 || d > int64(tensor.MaxElements):
			return c.errorf("dim %d is %d; dims must be positive, 0 (copy) or -1 (infer)", i, d)
		default:
			mid[i] = int(d)
		}
	}
	out := append(append(append([]int{}, shape[:start]...), mid...), shape[end:]...)
	count := tensor.Size(shape)
	if infer >= 0 {
		known := 1
		for i, d := range out {
			if i != start+infer {
				known *= d
			}
		}
		if known == 0 || count%known != 0 {
			return c.errorf("cannot infer the -1 dim: %d elements do not divide by %d", count, known)
		}
		out[start+infer] = count / known
	}
	if _, err := tensor.NumElements(out); err != nil || tensor.Size(out) != count {
		return c.errorf("shape %v does not hold the bottom's %d elements (shape %v)", out, count, shape)
	}
	c.setTop(0, c.reshape(c.bottoms[0], shape, out), out)
	return nil
}

// crop cuts bottom 0 to the shape of bottom 1 on the axes from `axis` on,
// at the given offsets (one for all axes, or one per cropped axis).
func crop(c *lctx) error {
	if err := c.needBottoms(2, 2); err != nil {
		return err
	}
	if err := c.needTops(1, 1); err != nil {
		return err
	}
	cp := c.lp.GetCropParam()
	shape, ref := c.shapes[0], c.shapes[1]
	if len(shape) != len(ref) {
		return c.errorf("bottoms must have the same number of axes, got %v and %v", shape, ref)
	}
	axis, err := canonAxis(int(cp.GetAxis()), len(shape))
	if err != nil {
		return err
	}
	offsets := cp.GetOffset()
	nc := len(shape) - axis
	if len(offsets) > 1 && len(offsets) != nc {
		return c.errorf("has %d offsets for %d cropped axes (give one, or one per axis)", len(offsets), nc)
	}
	out := append([]int{}, shape...)
	var starts, ends, axes []int64
	for i := axis; i < len(shape); i++ {
		off := 0
		if len(offsets) == 1 {
			off = int(offsets[0])
		} else if len(offsets) > 1 {
			off = int(offsets[i-axis])
		}
		if off+ref[i] > shape[i] {
			return c.errorf("crop of size %d at offset %d does not fit axis %d of size %d", ref[i], off, i, shape[i])
		}
		out[i] = ref[i]
		if off == 0 && ref[i] == shape[i] {
			continue
		}
		starts, ends, axes = append(starts, int64(off)), append(ends, int64(off+ref[i])), append(axes, int64(i))
	}
	if len(axes) == 0 {
		c.setTop(0, c.bottoms[0], out)
		return nil
	}
	y := c.emit("Slice", []string{c.bottoms[0], c.constI("starts", starts...), c.constI("ends", ends...), c.constI("axes", axes...)}, out, nil)
	c.setTop(0, y, out)
	return nil
}

// tile repeats the bottom `tiles` times along `axis`.
func tile(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	tp := c.lp.GetTileParam()
	shape := c.shapes[0]
	axis, err := canonAxis(int(tp.GetAxis()), len(shape))
	if err != nil {
		return err
	}
	n := int(tp.GetTiles())
	if n <= 0 {
		return c.errorf("tiles must be positive (it is %d)", n)
	}
	reps := ones(len(shape))
	reps[axis] = n
	out := append([]int{}, shape...)
	out[axis] *= n
	c.setTop(0, c.emit("Tile", []string{c.bottoms[0], c.constI("repeats", ints64(reps)...)}, out, nil), out)
	return nil
}

// dropout is the identity in TEST. In TRAIN it is ONNX Dropout in training
// mode (inverted dropout, as in Caffe).
func dropout(c *lctx) error {
	if err := c.io(); err != nil {
		return err
	}
	x, shape := c.bottoms[0], c.shapes[0]
	if c.b.opts.Phase == Test {
		c.setTop(0, x, shape)
		return nil
	}
	ratio := c.lp.GetDropoutParam().GetDropoutRatio()
	if ratio < 0 || ratio >= 1 {
		return c.errorf("dropout_ratio must be in [0, 1) (it is %g)", ratio)
	}
	training := c.constTensor("training_mode", tensor.Scalar(true))
	y := c.emit("Dropout", []string{x, c.constF("ratio", nil, ratio), training}, shape, nil)
	c.setTop(0, y, shape)
	return nil
}

// silence reads its bottoms and computes nothing; it only keeps them from
// becoming net outputs.
func silence(c *lctx) error {
	if err := c.needBottoms(1, -1); err != nil {
		return err
	}
	if err := c.needTops(0, 0); err != nil {
		return err
	}
	for _, b := range c.bottoms {
		c.b.silenced[b] = true
	}
	c.L.Note = "consumes its bottoms; computes nothing"
	return nil
}

// parameter outputs a learned blob.
func parameter(c *lctx) error {
	if err := c.needBottoms(0, 0); err != nil {
		return err
	}
	if err := c.needTops(1, 1); err != nil {
		return err
	}
	shape := int64sToInts(c.lp.GetParameterParam().GetShape().GetDim())
	if err := checkDims(shape); err != nil {
		return c.errorf("%v", err)
	}
	p, err := c.param(0, shape, nil, nil)
	if err != nil {
		return err
	}
	c.setTop(0, c.emit("Identity", []string{c.useParam(p, "value", nil)}, shape, nil), shape)
	return c.checkParamCount()
}
