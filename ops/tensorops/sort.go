package tensorops

import (
	"fmt"
	"slices"

	"stride/ops"
	"stride/tensor"
)

// TopK and Unique order elements: they compute positions on comparable keys
// (16-bit floats widened to float32, bools as uint8) and then move the
// original elements, so values come out bit-exact.

func init() {
	register(
		opDef{op: "TopK", inputs: 2, build: buildTopK},
		opDef{op: "Unique", inputs: 1, build: buildUnique},
	)
}

// sortKeys returns x in a form orderedOf accepts.
func sortKeys(x *tensor.Tensor) (*tensor.Tensor, ordered, error) {
	k := widen(x)
	if k.DType == tensor.Bool {
		var err error
		if k, err = tensor.Convert(k, tensor.Uint8); err != nil {
			return nil, nil, err
		}
	}
	o, err := orderedOf(k)
	return k, o, err
}

func buildTopK(b *ops.Build) (ops.Kernel, error) {
	axis, err := b.Node.AttrInt("axis", -1)
	if err != nil {
		return nil, err
	}
	largest, err := b.Node.AttrInt("largest", 1)
	if err != nil {
		return nil, err
	}
	// sorted=0 leaves the order unspecified; sorted output satisfies it.
	if _, err := b.Node.AttrInt("sorted", 1); err != nil {
		return nil, err
	}
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		if x.Rank() == 0 {
			return nil, fmt.Errorf("input must have rank >= 1")
		}
		a, err := ops.NormAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		k64, err := scalarInt(in[1], "k")
		if err != nil {
			return nil, err
		}
		n := x.Shape[a]
		if k64 < 0 || k64 > int64(n) {
			return nil, fmt.Errorf("k = %d is out of range for axis %d of shape %v", k64, a, x.Shape)
		}
		k := int(k64)
		keys, ord, err := sortKeys(x)
		if err != nil {
			return nil, err
		}
		shape := append([]int{}, x.Shape...)
		shape[a] = k
		vals, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		ind, err := c.Alloc(tensor.Int64, shape...)
		if err != nil {
			return nil, err
		}
		outer, inner := tensor.Size(x.Shape[:a]), tensor.Size(x.Shape[a+1:])
		idx := ind.I64()
		ord.topK(c, keys.Data, idx, outer, n, inner, k, largest != 0)
		offs := make([]int, len(idx))
		for p, j := range idx {
			offs[p] = (p/(k*inner)*n+int(j))*inner + p%inner
		}
		moverOf(x.Data).take(c, vals.Data, x.Data, offs, 1)
		return ops.Outs(vals, ind)
	}), nil
}

func (ords[T]) topK(c *ops.Ctx, src any, idx []int64, outer, n, inner, k int, largest bool) {
	s := src.([]T)
	if k == 0 {
		return
	}
	c.For(outer*inner, grainFor(n), func(lo, hi int) {
		pos := make([]int, 0, n)
		for l := lo; l < hi; l++ {
			o, i := l/inner, l%inner
			base := o*n*inner + i
			// cmpPos ranks position a before b (negative) when its value is
			// better, breaking ties by the lower position.
			cmpPos := func(a, b int) int {
				c := compareNaNLast(s[base+a*inner], s[base+b*inner])
				if largest {
					c = -c
				}
				if c == 0 {
					return a - b
				}
				return c
			}
			pos = selectBest(pos[:0], n, k, cmpPos)
			out := idx[o*k*inner+i:]
			for r, p := range pos {
				out[r*inner] = int64(p)
			}
		}
	})
}

// selectBest returns the k best of positions 0..n-1 under cmpPos, best
// first: a full sort when k is a large part of n, else a bounded heap.
func selectBest(pos []int, n, k int, cmpPos func(a, b int) int) []int {
	if 4*k >= n {
		for j := 0; j < n; j++ {
			pos = append(pos, j)
		}
		slices.SortFunc(pos, cmpPos)
		return pos[:k]
	}
	// heap keeps the best k seen so far with the worst at the root.
	heap := pos[:0]
	worse := func(a, b int) bool { return cmpPos(heap[a], heap[b]) > 0 }
	down := func(i int) {
		for {
			l, w := 2*i+1, i
			if l < len(heap) && worse(l, w) {
				w = l
			}
			if r := l + 1; r < len(heap) && worse(r, w) {
				w = r
			}
			if w == i {
				return
			}
			heap[i], heap[w] = heap[w], heap[i]
			i = w
		}
	}
	for j := 0; j < n; j++ {
		switch {
		case len(heap) < k:
			heap = append(heap, j)
			for i := len(heap) - 1; i > 0 && worse(i, (i-1)/2); i = (i - 1) / 2 {
				heap[i], heap[(i-1)/2] = heap[(i-1)/2], heap[i]
			}
		case cmpPos(j, heap[0]) < 0:
			heap[0] = j
			down(0)
		}
	}
	slices.SortFunc(heap, cmpPos)
	return heap
}

func buildUnique(b *ops.Build) (ops.Kernel, error) {
	sorted, err := b.Node.AttrInt("sorted", 1)
	if err != nil {
		return nil, err
	}
	axis, err := b.Node.AttrInt("axis", 0)
	if err != nil {
		return nil, err
	}
	hasAxis := b.Node.Has("axis")
	return ops.KernelFunc(func(c *ops.Ctx, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := in[0]
		a := 0
		if !hasAxis {
			x = view(x, []int{x.Len()})
		} else if a, err = ops.NormAxis(axis, x.Rank()); err != nil {
			return nil, err
		}
		// Rows are the slices along the axis; make each one contiguous.
		rows := x.Shape[a]
		width := 0
		if rows > 0 {
			width = x.Len() / rows
		}
		byRow := x
		if a > 0 {
			perm := []int{a}
			for k := range x.Shape {
				if k != a {
					perm = append(perm, k)
				}
			}
			if byRow, err = transpose(c, x, perm); err != nil {
				return nil, err
			}
		}
		keys, ord, err := sortKeys(byRow)
		if err != nil {
			return nil, err
		}
		first, inverse, counts := ord.uniqueRows(keys.Data, rows, width, sorted != 0)
		shape := append([]int{}, x.Shape...)
		shape[a] = len(first)
		y, err := c.Alloc(x.DType, shape...)
		if err != nil {
			return nil, err
		}
		takeAlong(c, y, x, a, first)
		return ops.Outs(y, int64Vector(first), int64Vector(inverse), int64Vector(counts))
	}), nil
}

func int64Vector(v []int) *tensor.Tensor {
	return tensor.From([]int{len(v)}, ops.ToInt64s(v))
}

func (ords[T]) uniqueRows(src any, rows, width int, sorted bool) (first, inverse, counts []int) {
	s := src.([]T)
	row := func(r int) []T { return s[r*width : (r+1)*width] }
	cmpRows := func(a, b int) int {
		if c := slices.CompareFunc(row(a), row(b), compareNaNLast[T]); c != 0 {
			return c
		}
		return a - b
	}
	order := make([]int, rows)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, cmpRows)
	// Equal rows are now adjacent, each group led by its first occurrence.
	group := make([]int, rows)
	for i, r := range order {
		if i == 0 || slices.CompareFunc(row(order[i-1]), row(r), compareNaNLast[T]) != 0 {
			first = append(first, r)
			counts = append(counts, 0)
		}
		group[r] = len(first) - 1
		counts[len(counts)-1]++
	}
	if !sorted {
		// Renumber groups by first occurrence.
		byFirst := make([]int, len(first))
		for g := range byFirst {
			byFirst[g] = g
		}
		slices.SortFunc(byFirst, func(a, b int) int { return first[a] - first[b] })
		renum := make([]int, len(first))
		f2, c2 := make([]int, len(first)), make([]int, len(first))
		for ng, g := range byFirst {
			renum[g] = ng
			f2[ng], c2[ng] = first[g], counts[g]
		}
		first, counts = f2, c2
		for r := range group {
			group[r] = renum[group[r]]
		}
	}
	return first, group, counts
}
