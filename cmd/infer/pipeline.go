package main

import (
	"context"
	"fmt"
	"sync"

	"stride/imageio"
	"stride/runtime"
	"stride/tensor"
)

// classifier runs batches of images through a model: while one batch runs,
// the next is decoded and preprocessed by a pool of goroutines.
type classifier struct {
	sess      *runtime.Session
	in        *imageio.Input
	prep      *imageio.Preprocessor
	batch     int // images per run
	jobs      int // decoding goroutines
	maxPixels int64
}

// imageResult is what became of one image: its scores (one per class) or
// the error that made it skip.
type imageResult struct {
	path   string
	scores []float64
	err    error
}

// prepared is a decoded batch: the input values of the images that
// decoded, packed in order, and every image's result so far.
type prepared struct {
	res  []imageResult
	ok   []int // indices into res of the images in data
	data []float32
}

// run classifies paths in batches and hands each batch's results, in input
// order, to emit. It stops at the first error from the model or emit, or
// when ctx is done, after the batches already emitted.
func (c *classifier) run(ctx context.Context, paths []string, emit func([]imageResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan *prepared)
	go func() {
		defer close(ready)
		for start := 0; start < len(paths); start += c.batch {
			b := c.prepare(ctx, paths[start:min(start+c.batch, len(paths))])
			select {
			case ready <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range ready { // let the producer finish its batch and exit
		}
	}()
	for b := range ready {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.infer(ctx, b); err != nil {
			return err
		}
		if err := emit(b.res); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// prepare decodes and preprocesses one batch, c.jobs images at a time.
func (c *classifier) prepare(ctx context.Context, paths []string) *prepared {
	n := c.in.Len()
	b := &prepared{res: make([]imageResult, len(paths)), data: make([]float32, len(paths)*n)}
	sem := make(chan struct{}, c.jobs)
	var wg sync.WaitGroup
	for i, p := range paths {
		b.res[i].path = p
		if ctx.Err() != nil {
			b.res[i].err = ctx.Err()
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			img, err := imageio.Open(p, c.maxPixels)
			if err == nil {
				err = c.prep.Fill(img, b.data[i*n:(i+1)*n])
			}
			b.res[i].err = err
		}()
	}
	wg.Wait()
	// Pack the images that decoded to the front.
	for i := range b.res {
		if b.res[i].err == nil {
			k := len(b.ok)
			if k != i {
				copy(b.data[k*n:(k+1)*n], b.data[i*n:(i+1)*n])
			}
			b.ok = append(b.ok, i)
		}
	}
	return b
}

// infer runs the model on a prepared batch and stores each image's scores.
func (c *classifier) infer(ctx context.Context, b *prepared) error {
	if len(b.ok) == 0 {
		return nil
	}
	n, per := len(b.ok), c.in.Len()
	rows := n
	if c.in.Batch > 0 {
		rows = c.in.Batch // a model with a fixed batch gets zero padding
	}
	data := b.data[:n*per]
	if rows > n {
		data = append(data, make([]float32, (rows-n)*per)...)
	}
	x, err := toInputType(tensor.From(c.in.Shape(rows), data), c.in.DType)
	if err != nil {
		return err
	}
	outs, err := c.sess.RunList(ctx, map[string]*tensor.Tensor{c.in.Name: x})
	if err != nil {
		return err
	}
	y := outs[0]
	if y.Len()%rows != 0 || y.Len() == 0 {
		return fmt.Errorf("output %q has shape %v, which does not split into %d images", c.sess.Outputs()[0].Name, y.Shape, rows)
	}
	vals, k := y.Float64s(), y.Len()/rows
	for j, i := range b.ok {
		b.res[i].scores = vals[j*k : (j+1)*k]
	}
	return nil
}

func toInputType(x *tensor.Tensor, dt tensor.DType) (*tensor.Tensor, error) {
	if dt == tensor.Float32 {
		return x, nil
	}
	return tensor.Convert(x, dt)
}
