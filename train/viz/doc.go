// Package viz draws what a training run shows a person: the curves of
// training loss and test accuracy against iterations (PNG, through
// gonum.org/v1/plot) and a grid of a convolution's filters (PNG).
package viz
