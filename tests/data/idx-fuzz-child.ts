/**
 * Child process of idx-fuzz.test.ts (so that its peak memory is its own):
 *   node idx-fuzz-child.js corrupt SEED TRIALS   writes TRIALS corrupted MNIST-format file pairs
 *                                                 and loads each with data.loadMnist
 *   node idx-fuzz-child.js valid SEED TRIALS      loads the intact pair as often (the baseline)
 * and prints one JSON line: the outcome of every trial and the process's peak resident memory.
 *
 * Every corruption breaks the format by construction (a header that lies, a label outside [0, 10),
 * a wrong image shape, a truncated, extended or swapped file, broken or bomb gzip, a special file),
 * except the compressed-byte flips, which count only when gunzip itself sees different data.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { data, runtime } from 'genlab';

export interface FuzzReport {
  trials: number;
  /** Trials refused with an error whose message names the corrupted file. */
  refusedNamingFile: number;
  /** Trials refused with an error that does not name the file: kind and message. */
  unclear: { kind: string; message: string }[];
  /** Trials that loaded without an error: the corruption kind. */
  accepted: string[];
  /** One message per corruption kind, to read. */
  examples: Record<string, string>;
  /** Peak resident memory of the process (bytes). */
  maxRss: number;
  /** Size of the largest intact file (bytes). */
  largestValidFile: number;
}

const IMAGES = 't10k-images-idx3-ubyte' as const;
const LABELS = 't10k-labels-idx1-ubyte' as const;

interface Corruption {
  kind: string;
  target: typeof IMAGES | typeof LABELS;
  /** The corrupted bytes, or a special file to put in place of the target. */
  bytes?: Buffer;
  special?: 'fifo' | 'dev-zero' | 'folder';
  gzip: boolean;
}

function setUint32(bytes: Buffer, offset: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32BE(value >>> 0, offset);
  return out;
}

function corrupt(random: () => number, images: Buffer, labels: Buffer): Corruption {
  const int = (n: number) => Math.floor(random() * n);
  const n = images.readUInt32BE(4);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const target = random() < 0.5 ? IMAGES : LABELS;
  const original = target === IMAGES ? images : labels;
  const ndim = original[3];
  const plain = (kind: string, bytes: Buffer, t = target): Corruption => ({
    kind,
    target: t,
    bytes,
    gzip: false,
  });
  const kinds: Array<() => Corruption> = [
    () => {
      const out = Buffer.from(original);
      out[int(2)] = 1 + int(255);
      return plain('magic', out);
    },
    () => {
      const out = Buffer.from(original);
      out[2] = pick([0, 1, 7, 9, 0x0b, 0x0c, 0x0d, 0x0e, 0x42, 255]);
      return plain('element type', out);
    },
    () => {
      const out = Buffer.from(original);
      out[3] = pick([0, 2, 4, 5, 255].map((d) => (d === ndim ? 1 : d)));
      return plain('dimension count', out);
    },
    () => {
      const d = int(ndim);
      const old = original.readUInt32BE(4 + 4 * d);
      const value = random() < 0.5 ? old + pick([-3, -2, -1, 1, 2, 3, 1000]) : int(2 ** 32);
      return plain(
        'dimension size',
        setUint32(original, 4 + 4 * d, value === old ? old + 1 : value),
      );
    },
    () => {
      const d = int(ndim);
      return plain('zero size', setUint32(original, 4 + 4 * d, 0));
    },
    () => {
      // The same bytes read as images of another shape.
      const [a, b, c] = pick([
        [n, 784, 1],
        [n, 56, 14],
        [n, 14, 56],
        [n, 1, 784],
        [2 * n, 28, 14],
        [n / 2, 28, 56],
        [4 * n, 14, 14],
      ]);
      let out = setUint32(images, 4, a);
      out = setUint32(out, 8, b);
      return plain('image shape', setUint32(out, 12, c), IMAGES);
    },
    () => {
      // A self-consistent label file with a different count.
      const count = Math.max(1, n + pick([-100, -1, 1, 7]));
      const body = Buffer.alloc(count, 3);
      return plain(
        'label count',
        Buffer.concat([setUint32(labels.subarray(0, 8), 4, count), body]),
        LABELS,
      );
    },
    () => {
      const out = Buffer.from(labels);
      out[8 + int(n)] = 10 + int(246);
      return plain('label value', out, LABELS);
    },
    () => plain('truncated', original.subarray(0, int(original.length))),
    () => {
      const extra = Buffer.from(Array.from({ length: 1 + int(2000) }, () => int(256)));
      return plain('extended', Buffer.concat([original, extra]));
    },
    () => plain('swapped', target === IMAGES ? labels : images),
    () => plain('empty', Buffer.alloc(0)),
    () => {
      const inner = kinds[int(12)]();
      return {
        ...inner,
        kind: `gzip of ${inner.kind}`,
        bytes: zlib.gzipSync(inner.bytes!),
        gzip: true,
      };
    },
    () => {
      // Compressed bytes flipped; counts only if gunzip sees a broken stream or different data.
      const good = zlib.gzipSync(original);
      for (;;) {
        const out = Buffer.from(good);
        const flips = 1 + int(4);
        for (let i = 0; i < flips; i++) out[10 + int(out.length - 10)] ^= 1 + int(255);
        let same: boolean;
        try {
          same = zlib.gunzipSync(out).equals(original);
        } catch {
          same = false;
        }
        if (!same) return { kind: 'gzip bytes flipped', target, bytes: out, gzip: true };
      }
    },
    () => {
      const good = zlib.gzipSync(original);
      return {
        kind: 'gzip truncated',
        target,
        bytes: good.subarray(0, int(good.length)),
        gzip: true,
      };
    },
    () => {
      // A bomb: the intact file, then 1 GiB of zeros in further gzip members (1 MB on disk).
      const zeros = zlib.gzipSync(Buffer.alloc(1 << 20));
      const bytes = Buffer.concat([zlib.gzipSync(original), ...Array(1024).fill(zeros)]);
      return { kind: 'gzip bomb', target, bytes, gzip: true };
    },
    () => {
      // A header that declares far more than the compressed bytes could hold.
      const header = setUint32(original.subarray(0, 4 + 4 * ndim), 4, 100000 + int(1e6));
      return { kind: 'gzip lying header', target, bytes: zlib.gzipSync(header), gzip: true };
    },
    () => {
      const special = pick<Corruption['special']>(['fifo', 'dev-zero', 'folder']);
      return { kind: `special file (${special})`, target, special, gzip: false };
    },
  ];
  return kinds[int(kinds.length)]();
}

function place(dir: string, c: Corruption): string {
  for (const name of [c.target, `${c.target}.gz`])
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  const file = path.join(dir, c.gzip ? `${c.target}.gz` : c.target);
  if (c.special === 'fifo') execFileSync('mkfifo', [file]);
  else if (c.special === 'dev-zero') fs.symlinkSync('/dev/zero', file);
  else if (c.special === 'folder') fs.mkdirSync(file);
  else fs.writeFileSync(file, c.bytes!);
  return file;
}

function main(): void {
  const [mode, seedText, trialsText] = process.argv.slice(2);
  runtime.seed(Number(seedText));
  const random = runtime.random;
  const trials = Number(trialsText);
  // The first 500 test images and their labels, as intact IDX files.
  const test = data.loadMnist('test', { limit: 500 });
  const images = Buffer.from(
    data.encodeIdx({
      dtype: 'uint8',
      shape: [test.size, 28, 28],
      data: Uint8Array.from(test.images, (v) => Math.round(v * 255)),
    }),
  );
  const labels = Buffer.from(
    data.encodeIdx({ dtype: 'uint8', shape: [test.size], data: test.labels }),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-fuzz-'));
  const report: FuzzReport = {
    trials: 0,
    refusedNamingFile: 0,
    unclear: [],
    accepted: [],
    examples: {},
    maxRss: 0,
    largestValidFile: Math.max(images.length, labels.length),
  };
  try {
    for (let t = 0; t < trials; t++) {
      fs.writeFileSync(path.join(dir, IMAGES), images);
      fs.writeFileSync(path.join(dir, LABELS), labels);
      if (mode === 'valid') {
        data.loadMnist('test', { dir });
        report.trials++;
        continue;
      }
      const c = corrupt(random, images, labels);
      const file = place(dir, c);
      report.trials++;
      try {
        data.loadMnist('test', { dir });
        report.accepted.push(c.kind);
      } catch (err) {
        const message = (err as Error).message;
        if (message.includes(file)) report.refusedNamingFile++;
        else report.unclear.push({ kind: c.kind, message });
        report.examples[c.kind] ??= message.replace(dir, '<dir>');
      }
      for (const name of [IMAGES, LABELS, `${IMAGES}.gz`, `${LABELS}.gz`])
        fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report.maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify(report));
}

main();
