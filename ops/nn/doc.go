// Package nn owns Stride's neural-network layer ops: convolution (Conv,
// ConvTranspose, and the fused FusedConv of the "stride" domain), pooling
// (MaxPool, AveragePool, LpPool, the Global pools, MaxUnpool, MaxRoiPool),
// matrix products (Gemm, FusedGemm, MatMul, Einsum), Det, Dropout
// (inference) and the recurrent layers (RNN, GRU, LSTM).
//
// Dense float32 products go through stride/internal/gemm. Constant
// weights are packed once when a node is built: convolution weights as
// GEMM left operands (one per group), fully connected weights as right
// operands. A 2-D (or 1-D) convolution then picks, per call:
//
//   - Winograd F(4x4, 3x3) (winograd.go) for 3x3 stride-1 ungrouped
//     convolutions with enough output tiles;
//   - a direct kernel (conv_depthwise.go) when each group has one input
//     channel (depthwise);
//   - otherwise one GEMM per image and group whose right operand is packed
//     panel by panel straight from the input (implicit im2col,
//     conv_packed.go), or is the input itself for 1x1 stride-1 kernels.
//
// Bias, the FusedConv residual and the activation are applied as outputs
// are stored. 3-D convolutions use an explicit im2col patch matrix
// (convIm2col), which is also the reference the fast paths are tested
// against, together with direct-loop references in the tests. The hot
// inner loops (depthwise rows, Winograd transforms, max-pool passes) have
// AVX-512 assembly versions with pure-Go twins, used without AVX-512 and
// under the purego build tag.
//
// Pooling walks rows of outputs tap by tap, each window clipped to the
// input; 1-D and 2-D float32 max and average pooling take separable fast
// passes (pool_2d.go).
package nn
