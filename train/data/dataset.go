package data

import "fmt"

// Dataset is a labelled image set held in memory as 8-bit pixels.
type Dataset struct {
	// Name describes where the set came from (for messages).
	Name string
	// N images of C x H x W, stored one after the other (planar, C order).
	N, C, H, W int
	Pixels     []uint8
	// Labels holds one class index per image.
	Labels []int32
	// Classes names the classes when the source does (folders, CIFAR-10).
	Classes []string
}

// ImageSize is C*H*W.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Image returns the pixels of image i.
func (d *Dataset) Image(i int) []uint8 {
	n := d.ImageSize()
	return d.Pixels[i*n : (i+1)*n]
}

// NumClasses is one more than the largest label (at least len(Classes)).
func (d *Dataset) NumClasses() int {
	n := len(d.Classes)
	for _, l := range d.Labels {
		n = max(n, int(l)+1)
	}
	return n
}

func (d *Dataset) check() error {
	if d.N <= 0 {
		return fmt.Errorf("%s: no images", d.Name)
	}
	if len(d.Pixels) != d.N*d.ImageSize() || len(d.Labels) != d.N {
		return fmt.Errorf("%s: %d pixels and %d labels for %d images of %dx%dx%d", d.Name, len(d.Pixels), len(d.Labels), d.N, d.C, d.H, d.W)
	}
	return nil
}

// Head returns the first n images (all when n <= 0 or n >= N), sharing
// storage.
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.N {
		return d
	}
	c := *d
	c.N = n
	c.Pixels = d.Pixels[:n*d.ImageSize()]
	c.Labels = d.Labels[:n]
	return &c
}
