package imageio

import (
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"

	"stride/proto/caffepb"
)

// maxMeanFileBytes bounds a mean.binaryproto read into memory (an ImageNet
// mean image of 3x256x256 floats is 768 KiB).
const maxMeanFileBytes = 256 << 20

// ReadMeanFile reads a Caffe mean image (mean.binaryproto, a BlobProto of
// shape 1 x C x H x W or C x H x W) and returns the mean of each channel, in
// 0-255 pixel units and the net's channel order, as Caffe's own
// classification example uses it.
func ReadMeanFile(path string) ([]float32, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxMeanFileBytes {
		return nil, fmt.Errorf("%s: %d bytes is too large for a mean image", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b caffepb.BlobProto
	if err := proto.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: not a Caffe BlobProto (.binaryproto): %v", path, err)
	}
	var dims []int64
	if b.GetShape() != nil {
		dims = b.GetShape().GetDim()
	} else {
		dims = []int64{int64(b.GetNum()), int64(b.GetChannels()), int64(b.GetHeight()), int64(b.GetWidth())}
	}
	if len(dims) == 4 && dims[0] == 1 {
		dims = dims[1:]
	}
	if len(dims) != 3 || dims[0] < 1 || dims[1] < 1 || dims[2] < 1 {
		return nil, fmt.Errorf("%s: mean blob has shape %v, want 1 x C x H x W", path, dims)
	}
	vals := make([]float64, 0, len(b.GetData())+len(b.GetDoubleData()))
	for _, v := range b.GetData() {
		vals = append(vals, float64(v))
	}
	vals = append(vals, b.GetDoubleData()...)
	c, plane := dims[0], dims[1]*dims[2]
	if int64(len(vals)) != c*plane {
		return nil, fmt.Errorf("%s: mean blob of shape %v holds %d values, want %d", path, dims, len(vals), c*plane)
	}
	means := make([]float32, c)
	for i := range c {
		var s float64
		for _, v := range vals[i*plane : (i+1)*plane] {
			s += v
		}
		means[i] = float32(s / float64(plane))
	}
	return means, nil
}
