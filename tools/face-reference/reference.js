// Computes reference outputs of the face-api models for the fixture images in
// face/testdata, so that the Go forward pass in face/ can be checked against them.
//
// Usage (Node 20, from the repository root):
//   npm install --prefix /tmp/faceref @vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 \
//       @tensorflow/tfjs-backend-wasm@4.22.0 jpeg-js@0.4.4
//   NODE_PATH=/tmp/faceref/node_modules node tools/face-reference/reference.js face/testdata > face/testdata/reference.json
//
// Pixels: by default every image is decoded by the Go side
// (go run ./tools/face-reference/decode), so both implementations see
// identical pixels; DECODER=jpeg-js decodes with jpeg-js instead (it differs
// from Go's image/jpeg by a grey level or two in ~10% of pixels, enough to
// move landmarks by a pixel). TFJS_BACKEND=cpu uses the pure-JS backend
// (same numbers as wasm to about 5 decimals, 20–40× slower).
//
// For every *.jpg in the directory it records:
//   descriptor_whole: FaceRecognitionNet on the whole image (isolates the recognition net),
//   landmarks_whole:  FaceLandmark68Net on the whole image, in image pixels (isolates the landmark net),
//   detections:       TinyFaceDetector boxes and scores (isolates the detector),
//   face:             the full detectSingleFace().withFaceLandmarks().withFaceDescriptor() result.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const jpeg = require('jpeg-js');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const INPUT_SIZE = 320; // face.DetectorInputSize
const SCORE_THRESHOLD = 0.5;

function decode(file) {
  if (process.env.DECODER === 'jpeg-js') {
    const raw = jpeg.decode(fs.readFileSync(file), { useTArray: true, formatAsRGBA: false });
    return { width: raw.width, height: raw.height, data: raw.data };
  }
  const buf = childProcess.execFileSync('go', ['run', './tools/face-reference/decode', file], { maxBuffer: 1 << 28 });
  const width = buf.readUInt32LE(0);
  const height = buf.readUInt32LE(4);
  return { width, height, data: new Uint8Array(buf.buffer, buf.byteOffset + 8, width * height * 3) };
}

function round(x) { return Math.round(x * 1e6) / 1e6; }

function box(b) { return { x: round(b.x), y: round(b.y), width: round(b.width), height: round(b.height) }; }

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: reference.js DIR');
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
  wasm.setWasmPaths(wasmDir);
  await tf.setBackend(process.env.TFJS_BACKEND || 'wasm');
  await tf.ready();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: SCORE_THRESHOLD });

  const out = {
    generator: 'tools/face-reference/reference.js',
    backend: tf.getBackend(),
    face_api: '@vladmandic/face-api@1.7.15',
    tfjs: '@tensorflow/tfjs@4.22.0',
    decoder: process.env.DECODER === 'jpeg-js' ? 'jpeg-js@0.4.4' : 'go image/jpeg via tools/face-reference/decode',
    detector: { net: 'tiny_face_detector', input_size: INPUT_SIZE, score_threshold: SCORE_THRESHOLD },
    images: [],
  };
  const files = fs.readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.jpg')).sort();
  for (const file of files) {
    const raw = decode(path.join(dir, file));
    const img = tf.tensor3d(raw.data, [raw.height, raw.width, 3], 'int32');
    const rec = { file, width: raw.width, height: raw.height };

    rec.descriptor_whole = Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(img)).map(round);
    const lm = await faceapi.nets.faceLandmark68Net.detectLandmarks(img);
    rec.landmarks_whole = lm.positions.map((p) => [round(p.x), round(p.y)]);
    const dets = await faceapi.nets.tinyFaceDetector.locateFaces(img, options);
    rec.detections = dets.map((d) => ({ score: round(d.score), box: box(d.box) }));

    const res = await faceapi.detectSingleFace(img, options).withFaceLandmarks().withFaceDescriptor();
    if (res) {
      rec.face = {
        score: round(res.detection.score),
        box: box(res.detection.box),
        landmarks: res.landmarks.positions.map((p) => [round(p.x), round(p.y)]),
        aligned_box: box(res.landmarks.align(null, { useDlibAlignment: true })),
        descriptor: Array.from(res.descriptor).map(round),
      };
    }
    img.dispose();
    out.images.push(rec);
    process.stderr.write(`${file}: ${dets.length} detection(s)\n`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => { process.stderr.write(`${err.stack || err}\n`); process.exit(1); });
