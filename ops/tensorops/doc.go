// Package tensorops owns Stride's tensor-manipulation operators: the ops
// that reshape, reorder, select, combine, pad, index and generate tensors
// (Reshape, Transpose, Concat, Slice, Gather, Scatter*, Pad, TopK, Unique,
// CumSum, the random generators, ...).
//
// Data movement is written once per op as generic code over the element
// type: moverOf picks the instantiation for a tensor's slice type once per
// call, so every dtype (strings and the 16-bit float bit patterns included)
// is handled natively and exactly. Most movement reduces to a few
// primitives: a strided copy between two views of the same shape (Transpose,
// Slice, Expand, Tile, Concat, Split, DepthToSpace, ...), a gather of blocks
// at computed offsets (Gather, GatherND, Compress, Pad's reflect/edge/wrap,
// ...), and its scatter counterpart. Ops that compare or add values use the
// ordered and numeric families in numeric.go.
package tensorops
