// Package imageops owns Stride's image and signal operators:
//
//   - resampling: Resize, GridSample, RoiAlign, CenterCropPad, Col2Im;
//   - detection post-processing: NonMaxSuppression;
//   - spectral: DFT, STFT, HannWindow, HammingWindow, BlackmanWindow and
//     MelWeightMatrix.
//
// It lives in ops/image but is named imageops so that callers keep the
// standard library's image package. Each op family has its own file; the
// helpers shared between them (scalar operands, dtype codes, storing float64
// results into any element type, gathering by per-axis index maps) are in
// common.go and gather.go.
package imageops
