// Package nn owns Stride's neural-network layer ops: convolution (Conv,
// ConvTranspose), pooling (MaxPool, AveragePool, LpPool, the Global pools,
// MaxUnpool, MaxRoiPool), matrix products (Gemm, MatMul, Einsum), Det,
// Dropout (inference) and the recurrent layers (RNN, GRU, LSTM).
//
// Every dense float32 product goes through one matrix multiply (matmul in
// matmul.go, backed by stride/internal/gemm, with a plain-Go reference
// beside it). Convolutions are lowered to it with im2col (transposed
// convolutions with col2im); direct-loop reference convolutions live in
// the tests. Pooling walks rows of outputs tap by tap, each window clipped
// to the input.
package nn
