// Runs an UpscalerJS ESRGAN model in TensorFlow.js (pure-JS CPU backend), the runtime it was
// published for, as the independent reference for models/import_esrgan.py.
//
//   node tests/tfjs_reference.mjs MODULES DEFINITION MODEL_JSON IN_RGB W H OUT_F32
//
// MODULES      folder whose node_modules holds @tensorflow/tfjs and the model package (models/)
// DEFINITION   the package's model entry, e.g. @upscalerjs/esrgan-slim/4x: its setup() registers
//              the custom layers and its inputRange/outputRange say how pixels are scaled
// IN_RGB       W*H packed rgb24 pixels
// OUT_F32      the model output as float32 (sH, sW, 3) in [0, 1], not clamped
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const [modulesDir, definitionName, modelJson, inPath, w, h, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: tfjs_reference.mjs MODULES DEFINITION MODEL_JSON IN_RGB W H OUT_F32');
  process.exit(2);
}
const width = Number(w);
const height = Number(h);
const require = createRequire(join(resolve(modulesDir), 'package.json'));
const tf = require('@tensorflow/tfjs');
const definition = require(definitionName);

await tf.setBackend('cpu');
await tf.ready();
if (definition.setup) {
  definition.setup(tf);
}

// tfjs-node's file:// loader is not used (it needs a native build): hand the artifacts over
// directly, the shards of each manifest group concatenated in manifest order.
const model = JSON.parse(readFileSync(modelJson, 'utf8'));
const folder = dirname(modelJson);
const weightSpecs = model.weightsManifest.flatMap((group) => group.weights);
const shards = model.weightsManifest.flatMap(
  (group) => group.paths.map((p) => readFileSync(join(folder, p))));
const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
const net = await tf.loadLayersModel(
  tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs, weightData }));

const pixels = readFileSync(inPath);
if (pixels.length !== width * height * 3) {
  console.error(`${inPath}: ${pixels.length} bytes, expected ${width * height * 3}`
    + ` for ${width}x${height} rgb24`);
  process.exit(1);
}
const inMax = definition.inputRange[1];
const outMax = definition.outputRange[1];
const input = tf.tensor4d(Float32Array.from(pixels, (v) => (v / 255) * inMax),
  [1, height, width, 3]);
const output = net.predict(input).div(outMax);
writeFileSync(outPath, Buffer.from((await output.data()).buffer));
console.log(`${definitionName}: ${width}x${height} -> ${output.shape[2]}x${output.shape[1]}`);
