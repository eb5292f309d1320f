#!/usr/bin/env node
'use strict';
// Compare the top-1 predictions of ONNX Runtime with Stride's on a model
// directory written by `train --export M.onnx --export-testdata DIR`
// (DIR/model.onnx, DIR/test_data_set_0/input_0.pb and output_0.pb).
//
//   cp -r ../shared/bench /tmp/bench && (cd /tmp/bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci)
//   node examples/bench/ort_top1.js DIR /tmp/bench/ort
//
// Prints how many rows agree and the largest absolute output difference;
// exits 1 on any disagreement.

const fs = require('fs');
const path = require('path');

async function main() {
  const dir = process.argv[2];
  const ortDir = process.argv[3] || '/tmp/bench/ort';
  const { loadOrt, readTensorProto } = require(path.join(ortDir, 'lib.js'));
  const ort = loadOrt();
  const set = path.join(dir, 'test_data_set_0');
  const x = readTensorProto(path.join(set, 'input_0.pb'));
  const ref = readTensorProto(path.join(set, 'output_0.pb'));
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'),
    { executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1 });
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor(x.ortType, x.data, x.dims);
  const out = (await session.run(feeds))[session.outputNames[0]];
  const n = ref.dims[0], k = ref.data.length / n;
  let agree = 0, maxAbs = 0;
  for (let i = 0; i < n; i++) {
    let a = 0, b = 0;
    for (let j = 0; j < k; j++) {
      const o = out.data[i * k + j], r = ref.data[i * k + j];
      maxAbs = Math.max(maxAbs, Math.abs(o - r));
      if (o > out.data[i * k + a]) a = j;
      if (r > ref.data[i * k + b]) b = j;
    }
    if (a === b) agree++;
  }
  console.log(`ort vs stride: top-1 agrees on ${agree}/${n} rows; max |ort - stride| = ${maxAbs.toExponential(3)}`);
  process.exit(agree === n ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
