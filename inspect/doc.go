// Package inspect describes a model layer by layer in the terms of the
// Stanford CS231n lecture on CNNs: for each layer its op, kernel size F,
// stride S and padding P, the output volume W x H x D (W2 = (W1 - F + 2P)/S
// + 1), its parameter count (a 5x5 convolution with 10 filters on 3
// channels has 10 x (5*5*3 + 1) = 760), its multiply-adds and its receptive
// field on the input image. It works from the op graph alone, so ONNX models
// and Caffe nets read the same, and it finds every value's shape by running
// the model once on a zero input. It also finds what `infer visualize`
// draws: the first convolution's filters and each convolution's activation
// maps.
package inspect
