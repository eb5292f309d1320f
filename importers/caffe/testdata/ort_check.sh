#!/bin/sh
# Checks that Caffe nets converted to ONNX run in ONNX Runtime with the same
# outputs: the Caffe reference nets against BVLC Caffe's own outputs, and
# published nets (filler weights) against Stride's. A manual check (CI has no
# ONNX Runtime). Run from the repository root after installing the bench:
#
#   cp -r ../shared/bench /tmp/bench && (cd /tmp/bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci)
#   sh importers/caffe/testdata/ort_check.sh [OUT]
set -eu
OUT=${1:-/tmp/stride-caffe-ort}
BENCH=${BENCH:-/tmp/bench}
# net definition, and the blobs to check (the logits too: a saturated
# softmax hides differences).
NETS="BVLC-caffe/models/bvlc_alexnet/deploy.prototxt fc8,prob
BVLC-caffe/models/bvlc_googlenet/deploy.prototxt loss3/classifier,prob
KaimingHe+deep-residual-networks/prototxt/ResNet-50-deploy.prototxt fc1000,prob
forresti+SqueezeNet/SqueezeNet_v1.1/deploy.prototxt pool10,prob
shicai+DenseNet-Caffe/DenseNet_121.prototxt pool5,fc6
shicai+MobileNet-Caffe/mobilenet_deploy.prototxt fc7,prob
shicai+MobileNet-Caffe/mobilenet_v2_deploy.prototxt fc7,prob"
rm -rf "$OUT" && mkdir -p "$OUT"
ORTCHECK_NETS=$(echo "$NETS" | cut -d' ' -f1) go run ./importers/caffe/testdata/ortcheck -out "$OUT"
go build -o "$OUT/convert" ./cmd/convert
echo "$NETS" | while read -r rel outputs; do
	name=$(echo "${rel%.prototxt}" | tr '/+' '__')
	"$OUT/convert" "testdata/caffe/nets/$rel" "$OUT/weights/$name.caffemodel" -q \
		-o "$OUT/$name.onnx" --outputs "$outputs" --verify --test-data "$OUT/$name"
done
node "$BENCH/ort_check.js" "$OUT"/ref_* $(echo "$NETS" | while read -r rel outputs; do echo "$OUT/$(echo "${rel%.prototxt}" | tr '/+' '__')"; done)
