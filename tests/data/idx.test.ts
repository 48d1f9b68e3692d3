import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { data } from 'genlab';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-idx-'));
}

test('IDX round trip for every element type, big-endian, row-major', () => {
  const cases: data.IdxArray[] = [
    { dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) },
    { dtype: 'int8', shape: [4], data: Int8Array.from([-128, -1, 0, 127]) },
    { dtype: 'int16', shape: [2, 2], data: Int16Array.from([-32768, -2, 3, 32767]) },
    { dtype: 'int32', shape: [3], data: Int32Array.from([-2147483648, 7, 2147483647]) },
    { dtype: 'float32', shape: [1, 2, 2], data: Float32Array.from([0.5, -1.25, 3e10, -0]) },
    { dtype: 'float64', shape: [2], data: Float64Array.from([Math.PI, -1e-300]) },
  ];
  for (const c of cases) {
    const parsed = data.parseIdx(data.encodeIdx(c));
    assert.equal(parsed.dtype, c.dtype);
    assert.deepEqual(parsed.shape, c.shape);
    assert.deepEqual(Array.from(parsed.data), Array.from(c.data));
  }
});

test('the header is read as the format specifies: magic 0x00000803 for a 3-D ubyte array', () => {
  const bytes = data.encodeIdx({
    dtype: 'uint8',
    shape: [1, 2, 2],
    data: Uint8Array.from([1, 2, 3, 4]),
  });
  assert.deepEqual(
    Array.from(bytes.subarray(0, 16)),
    [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2],
  );
});

test('a missing file is an error naming it', () => {
  const file = path.join(tempDir(), 'nope-idx3-ubyte');
  assert.throws(
    () => data.readIdx(file),
    (e: Error) => e.message === `${file}: does not exist`,
  );
});

test('a truncated file is an error naming it, its size and the size it needs', () => {
  const dir = tempDir();
  const full = data.encodeIdx({ dtype: 'uint8', shape: [10, 4, 4], data: new Uint8Array(160) });
  const file = path.join(dir, 'train-images-idx3-ubyte');
  fs.writeFileSync(file, full.subarray(0, 100));
  assert.throws(
    () => data.readIdx(file),
    new RegExp(
      `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is truncated: 100 bytes, but a uint8 ` +
        `array of shape \\[10, 4, 4\\] needs 176`,
    ),
  );
  fs.writeFileSync(file, full.subarray(0, 10));
  assert.throws(() => data.readIdx(file), /is truncated: 10 bytes, but its header alone needs 16/);
  fs.writeFileSync(file, full.subarray(0, 2));
  assert.throws(() => data.readIdx(file), /too short for an IDX header/);
});

test('a file that is not IDX, or has bytes after its data, is rejected with the reason', () => {
  const dir = tempDir();
  const file = path.join(dir, 'x');
  fs.writeFileSync(file, Buffer.from('<html>not found</html>'));
  assert.throws(
    () => data.readIdx(file),
    /is not an IDX file: its magic number starts with 0x3c68/,
  );
  fs.writeFileSync(file, Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 1, 7]));
  assert.throws(() => data.readIdx(file), /unknown IDX element type 0x42/);
  fs.writeFileSync(
    file,
    Buffer.concat([
      Buffer.from(data.encodeIdx({ dtype: 'uint8', shape: [2], data: Uint8Array.from([1, 2]) })),
      Buffer.from([9]),
    ]),
  );
  assert.throws(() => data.readIdx(file), /has 1 bytes after the data/);
});

test('gzip-compressed IDX files are read, and a broken gzip says so', () => {
  const dir = tempDir();
  const file = path.join(dir, 'a-idx1-ubyte.gz');
  fs.writeFileSync(
    file,
    zlib.gzipSync(data.encodeIdx({ dtype: 'uint8', shape: [3], data: Uint8Array.from([7, 8, 9]) })),
  );
  assert.deepEqual(Array.from(data.readIdx(file).data), [7, 8, 9]);
  const gzipped = zlib.gzipSync(
    data.encodeIdx({ dtype: 'uint8', shape: [3000], data: new Uint8Array(3000).map((_, i) => i) }),
  );
  fs.writeFileSync(file, gzipped.subarray(0, gzipped.length - 30));
  assert.throws(() => data.readIdx(file), /is not valid gzip data .*download may be incomplete/);
});

test('zero sizes and non-finite floats are refused, naming the file', () => {
  const zero = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 0]);
  assert.throws(
    () => data.parseIdx(zero, 'f'),
    /^IdxFormatError: f: declares size 0 for dimension 2 \(shape \[5, 28, 0\]\): it holds no data/,
  );
  const nan = data.encodeIdx({
    dtype: 'float32',
    shape: [3],
    data: Float32Array.from([1, NaN, 2]),
  });
  assert.throws(() => data.parseIdx(nan, 'g'), /g: holds NaN at element 1/);
});

test('FIFOs, devices, folders and symlinks to them are refused at once, naming the file', () => {
  const dir = tempDir();
  const fifo = path.join(dir, 'fifo-idx1-ubyte');
  execFileSync('mkfifo', [fifo]);
  // Opening a FIFO for reading blocks until a writer appears: a reader that does so hangs here.
  assert.throws(
    () => data.readIdx(fifo),
    /fifo-idx1-ubyte: is a named pipe \(FIFO\), not a regular/,
  );
  const zeroLink = path.join(dir, 'zero-idx1-ubyte');
  fs.symlinkSync('/dev/zero', zeroLink);
  assert.throws(
    () => data.readIdx(zeroLink),
    /zero-idx1-ubyte: is a character device \(a symbolic link to a character device\)/,
  );
  assert.throws(() => data.readIdx('/dev/null'), /\/dev\/null: is a character device/);
  assert.throws(() => data.readIdx(dir), /is a folder, not a regular file/);
});

test('gzip is inflated only up to the size the header declares; bombs are refused', () => {
  const dir = tempDir();
  const file = path.join(dir, 'bomb-idx3-ubyte.gz');
  const header = data.encodeIdx({
    dtype: 'uint8',
    shape: [10, 28, 28],
    data: new Uint8Array(7840),
  });
  // The header and data of 10 images, then 512 MiB of zeros in 32 more gzip members (gunzip
  // inflates concatenated members as one stream): 0.5 MB on disk.
  const zeros = zlib.gzipSync(Buffer.alloc(1 << 24));
  fs.writeFileSync(file, Buffer.concat([zlib.gzipSync(header), ...Array(32).fill(zeros)]));
  assert.throws(
    () => data.readIdx(file),
    (e: Error) =>
      e.message.startsWith(`${file}: inflates to more than the 7856 bytes its header declares`),
  );
  // A header that declares more than deflate can produce from the compressed size.
  const huge = Buffer.from([0, 0, 8, 3, 0, 0, 0x03, 0xe8, 0, 0, 1, 0, 0, 0, 1, 0]);
  fs.writeFileSync(file, zlib.gzipSync(huge));
  assert.throws(() => data.readIdx(file), /more than \d+ compressed bytes can hold/);
  // And the limit, for plain and compressed files alike.
  const small = data.encodeIdx({ dtype: 'uint8', shape: [100], data: new Uint8Array(100) });
  fs.writeFileSync(file, zlib.gzipSync(small));
  assert.throws(() => data.readIdx(file, { maxBytes: 50 }), /\(108 bytes\), more than the limit/);
  fs.writeFileSync(path.join(dir, 'plain'), small);
  assert.throws(
    () => data.readIdx(path.join(dir, 'plain'), { maxBytes: 50 }),
    /plain: is 108 bytes long, more than the limit of 50/,
  );
  assert.throws(() => data.readIdx(file, { maxByte: 50 } as never), /did you mean 'maxBytes'/);
});
