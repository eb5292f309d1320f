// Package conformance runs the official ONNX backend test data (the Debian
// package libonnx-testdata: node, pytorch-converted, pytorch-operator and
// simple suites) through Stride and compares every output with the
// reference, rtol 1e-3 and atol 1e-5, exactly for integers, bools and
// strings.
//
// Cases Stride does not support yet are listed, each with a reason, in
// unsupported.txt. The test fails when an unlisted case fails and when a
// listed case passes, so the list can only shrink. See README.md.
package conformance
