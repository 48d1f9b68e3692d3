/**
 * Reader for the IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
 * bytes 0-1 are zero, byte 2 the element type, byte 3 the number of dimensions; then one big-endian
 * uint32 size per dimension; then the elements, big-endian, row-major.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';

const DTYPES = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
} as const;

export type IdxDtype = (typeof DTYPES)[keyof typeof DTYPES]['name'];

export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

export class IdxFormatError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'IdxFormatError';
  }
}

/** Parses IDX bytes; `file` names the source in error messages. */
export function parseIdx(bytes: Uint8Array, file = '<buffer>'): IdxArray {
  if (bytes.length < 4)
    throw new IdxFormatError(
      file,
      `is ${bytes.length} bytes long, too short for an IDX header (4 bytes)`,
    );
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxFormatError(
      file,
      `is not an IDX file: its magic number starts with 0x${hex(bytes[0])}${hex(bytes[1])}, ` +
        `expected 0x0000`,
    );
  }
  const type = DTYPES[bytes[2] as keyof typeof DTYPES];
  if (!type) throw new IdxFormatError(file, `has unknown IDX element type 0x${hex(bytes[2])}`);
  const ndim = bytes[3];
  if (ndim === 0) throw new IdxFormatError(file, 'declares zero dimensions');
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new IdxFormatError(
      file,
      `is truncated: ${bytes.length} bytes, but its header alone needs ${headerBytes}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (bytes.length < expected) {
    throw new IdxFormatError(
      file,
      `is truncated: ${bytes.length} bytes, but a ${type.name} array of shape ` +
        `[${shape.join(', ')}] needs ${expected}. ` +
        'Reinstall the data (e.g. `npm ci`) or download the file again.',
    );
  }
  if (bytes.length > expected) {
    throw new IdxFormatError(
      file,
      `has ${bytes.length - expected} bytes after the data of shape [${shape.join(', ')}]; is it ` +
        `the right file?`,
    );
  }
  return { dtype: type.name, shape, data: readElements(view, headerBytes, count, type.name) };
}

function readElements(
  view: DataView,
  offset: number,
  count: number,
  dtype: IdxDtype,
): IdxArray['data'] {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + offset, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + offset, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/**
 * Reads an IDX file (gzip-compressed if its name ends in .gz). Errors name the file and the
 * problem.
 */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new IdxFormatError(file, 'does not exist');
    throw new IdxFormatError(file, `cannot be read (${code ?? (err as Error).message})`);
  }
  if (file.endsWith('.gz')) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (err) {
      throw new IdxFormatError(
        file,
        `is not valid gzip data (${(err as Error).message}); the download may be incomplete`,
      );
    }
  }
  return parseIdx(bytes, file);
}

/** Serializes an array to IDX bytes (used to write fixtures and small data sets). */
export function encodeIdx(array: IdxArray): Uint8Array {
  const code = Number(Object.entries(DTYPES).find(([, t]) => t.name === array.dtype)?.[0]);
  const type = DTYPES[code as keyof typeof DTYPES];
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) {
    throw new Error(
      `encodeIdx: data has ${array.data.length} elements but shape [${array.shape.join(', ')}] ` +
        `needs ${count}`,
    );
  }
  const header = 4 + 4 * array.shape.length;
  const out = new Uint8Array(header + count * type.bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = array.shape.length;
  array.shape.forEach((s, d) => view.setUint32(4 + 4 * d, s, false));
  for (let i = 0; i < count; i++) {
    const v = Number(array.data[i]);
    const at = header + i * type.bytes;
    if (array.dtype === 'uint8') view.setUint8(at, v);
    else if (array.dtype === 'int8') view.setInt8(at, v);
    else if (array.dtype === 'int16') view.setInt16(at, v, false);
    else if (array.dtype === 'int32') view.setInt32(at, v, false);
    else if (array.dtype === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}
