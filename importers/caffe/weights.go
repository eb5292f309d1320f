package caffe

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"stride/internal/atomicfile"
	"stride/proto/caffepb"
	"stride/tensor"
)

// param returns parameter blob i of the layer, of Caffe shape `shape`: read
// from the caffemodel when it has the layer, shared with an earlier layer
// when the ParamSpec names a shared blob, and otherwise filled with filler
// (def when the net gives none; nil means zeros).
func (c *lctx) param(i int, shape []int, filler, def *caffepb.FillerParameter) (*Param, error) {
	if i != len(c.L.Params) {
		return nil, fmt.Errorf("internal error: parameter %d requested out of order", i)
	}
	p := &Param{LrMult: 1, DecayMult: 1}
	var spec *caffepb.ParamSpec
	if i < len(c.lp.Param) {
		spec = c.lp.Param[i]
		p.LrMult, p.DecayMult, p.Share = spec.GetLrMult(), spec.GetDecayMult(), spec.GetName()
	}
	if p.Share != "" {
		if owner := c.b.shared[p.Share]; owner != nil {
			same := tensor.SameShape(owner.Data.Shape, shape)
			if !same && (spec.GetShareMode() != caffepb.ParamSpec_PERMISSIVE || tensor.Size(owner.Data.Shape) != tensor.Size(shape)) {
				return nil, fmt.Errorf("shared parameter %q has shape %v, this layer needs %v", p.Share, owner.Data.Shape, shape)
			}
			if !same {
				owner = &Param{Data: owner.Data.Reshape(shape...), LrMult: p.LrMult, DecayMult: p.DecayMult, Share: p.Share, FromWeights: owner.FromWeights}
			}
			c.L.Params = append(c.L.Params, owner)
			return owner, nil
		}
	}
	n, err := tensor.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("parameter blob %d of shape %v is too large (a num_output or input size too large?): %w", i, shape, err)
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("parameter blob %d would have shape %v", i, shape)
		}
	}
	if c.b.nParams+int64(n) > c.b.maxParams {
		return nil, fmt.Errorf("parameter blob %d of shape %v has %d elements, beyond the net's limit of %d parameters (a num_output or input size too large?)", i, shape, n, c.b.maxParams)
	}
	c.b.nParams += int64(n)
	if wl := c.b.weights[c.L.Name]; wl != nil {
		c.b.weightsUsed[c.L.Name] = true
		if i >= len(wl.Blobs) {
			return nil, fmt.Errorf("the caffemodel has %d parameter blob(s) for this layer; blob %d (shape %v) is missing", len(wl.Blobs), i, shape)
		}
		bp := wl.Blobs[i]
		if !blobShapeMatches(bp, shape) {
			return nil, fmt.Errorf("parameter blob %d in the caffemodel has shape %v, the layer needs %v", i, blobShape(bp), shape)
		}
		t, err := BlobTensor(bp)
		if err != nil {
			return nil, fmt.Errorf("parameter blob %d in the caffemodel: %w", i, err)
		}
		p.Data = t.Reshape(shape...)
		p.FromWeights = true
	} else {
		p.Data = tensor.Zeros(tensor.Float32, shape...)
		if filler == nil {
			filler = def
		}
		if err := Fill(p.Data, filler, FillerRNG(c.b.opts.Seed, c.L.Name, i)); err != nil {
			return nil, fmt.Errorf("parameter blob %d: %w", i, err)
		}
	}
	if p.Share != "" {
		c.b.shared[p.Share] = p
	}
	c.L.Params = append(c.L.Params, p)
	return p, nil
}

// checkParamCount verifies that the caffemodel holds exactly the blobs the
// layer uses, as Caffe does when it copies trained layers.
func (c *lctx) checkParamCount() error {
	wl := c.b.weights[c.L.Name]
	if wl == nil || len(wl.Blobs) == len(c.L.Params) {
		return nil
	}
	return fmt.Errorf("the caffemodel has %d parameter blob(s) for this layer, the layer has %d", len(wl.Blobs), len(c.L.Params))
}

// useParam adds p to the graph as an initializer, viewed with shape view
// (nil: the blob's own shape) and sharing the blob's storage, and returns
// its value id.
func (c *lctx) useParam(p *Param, suffix string, view []int) string {
	if view == nil {
		view = p.Data.Shape
	}
	if p.valueID != "" && tensor.SameShape(c.b.vals[p.valueID].shape, view) {
		return p.valueID
	}
	id := c.constTensor(suffix, p.Data.Reshape(view...))
	if p.valueID == "" {
		p.valueID = id
	}
	return id
}

// blobShape returns a blob's shape: its shape field, else the legacy
// num/channels/height/width.
func blobShape(bp *caffepb.BlobProto) []int {
	if bp.Shape != nil {
		return int64sToInts(bp.Shape.Dim)
	}
	return []int{int(bp.GetNum()), int(bp.GetChannels()), int(bp.GetHeight()), int(bp.GetWidth())}
}

// blobShapeMatches compares a stored blob's shape with the shape a layer
// needs. A legacy 4-D blob matches when the needed shape, padded with
// leading 1s to four axes, equals it (Caffe's rule: V1 inner-product
// weights were stored as 1 x 1 x N x K).
func blobShapeMatches(bp *caffepb.BlobProto, want []int) bool {
	if bp.Shape != nil {
		return tensor.SameShape(int64sToInts(bp.Shape.Dim), want)
	}
	if len(want) > 4 {
		return false
	}
	padded := []int{1, 1, 1, 1}
	copy(padded[4-len(want):], want)
	return tensor.SameShape(blobShape(bp), padded)
}

// BlobTensor converts a stored blob to a float32 tensor of its shape
// (double data is rounded to float32).
func BlobTensor(bp *caffepb.BlobProto) (*tensor.Tensor, error) {
	shape := blobShape(bp)
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("blob shape %v has a negative dimension", shape)
		}
	}
	n, err := tensor.NumElements(shape)
	if err != nil {
		return nil, err
	}
	switch {
	case len(bp.Data) == n:
		return tensor.From(shape, append([]float32{}, bp.Data...)), nil
	case len(bp.DoubleData) == n && n > 0:
		d := make([]float32, n)
		for i, v := range bp.DoubleData {
			d[i] = float32(v)
		}
		return tensor.From(shape, d), nil
	}
	got := len(bp.Data)
	if got == 0 {
		got = len(bp.DoubleData)
	}
	return nil, fmt.Errorf("blob of shape %v needs %d values, holds %d", shape, n, got)
}

// BlobProto converts a tensor to a stored blob (shape field, float data).
func BlobProto(t *tensor.Tensor) (*caffepb.BlobProto, error) {
	if t.DType != tensor.Float32 {
		return nil, fmt.Errorf("blob must be float32, got %v", t.DType)
	}
	return &caffepb.BlobProto{
		Shape: &caffepb.BlobShape{Dim: ints64(t.Shape)},
		Data:  append([]float32{}, t.F32()...),
	}, nil
}

// LoadWeights reads a caffemodel and returns the parameter blobs of each
// layer that has any, by layer name, in Caffe's shapes.
func LoadWeights(path string) (map[string][]*tensor.Tensor, error) {
	net, err := ParseWeights(path)
	if err != nil {
		return nil, err
	}
	out := map[string][]*tensor.Tensor{}
	for _, lp := range net.Layer {
		for j, bp := range lp.Blobs {
			t, err := BlobTensor(bp)
			if err != nil {
				return nil, fmt.Errorf("%s: layer %q blob %d: %w", path, lp.GetName(), j, err)
			}
			out[lp.GetName()] = append(out[lp.GetName()], t)
		}
	}
	return out, nil
}

// EncodeWeights serialises the net's current parameters as a caffemodel:
// a NetParameter listing, in net order, every layer that has parameters
// with its name, type and blobs. Caffe reads it with --weights.
func EncodeWeights(n *Net) ([]byte, error) {
	np := &caffepb.NetParameter{Name: proto.String(n.Name)}
	for _, L := range n.Layers {
		if len(L.Params) == 0 {
			continue
		}
		lp := &caffepb.LayerParameter{Name: proto.String(L.Name), Type: proto.String(L.Type), Bottom: L.Bottoms, Top: L.Tops}
		for j, p := range L.Params {
			bp, err := BlobProto(p.Data)
			if err != nil {
				return nil, fmt.Errorf("layer %q blob %d: %w", L.Name, j, err)
			}
			lp.Blobs = append(lp.Blobs, bp)
		}
		np.Layer = append(np.Layer, lp)
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(np)
}

// SaveCaffemodel writes the net's current parameters to path as a
// caffemodel (see EncodeWeights), atomically.
func SaveCaffemodel(n *Net, path string) error {
	data, err := EncodeWeights(n)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}
