// Package imageio turns image files into model inputs. It decodes JPEG, PNG,
// GIF, BMP, TIFF and WebP (refusing images whose header announces more
// pixels than a limit, before their pixels are decoded), finds a model's
// image input and its layout, resizes the shorter side with a good-quality
// filter and center-crops, and normalises in the torchvision style
// (mean/std) or the Caffe style (mean values or a mean.binaryproto, scale,
// BGR order). It also draws the small pictures `infer visualize` writes:
// normalised maps and filters laid out in grids.
package imageio
