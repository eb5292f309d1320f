// Package data reads the training and test sets the trainer uses and
// prepares batches from them: MNIST and Fashion-MNIST IDX files (gzipped
// or not), CIFAR-10 binary batches, and folders of images with one
// sub-folder per class, detected from a folder's contents (Open). Batches
// apply Caffe's TransformationParameter (scale, mean values or mean file,
// crop, mirror) plus random shifts, and are shuffled per epoch; every
// random choice derives from the seed and the batch's index, so any batch
// can be produced again exactly (a resumed run sees the data an
// uninterrupted one would).
package data
