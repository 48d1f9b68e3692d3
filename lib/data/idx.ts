/**
 * Reader for the IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
 * bytes 0-1 are zero, byte 2 the element type, byte 3 the number of dimensions; then one big-endian
 * uint32 size per dimension; then the elements, big-endian, row-major. Gzip-compressed files are
 * inflated, never beyond the size their header declares.
 */
import * as zlib from 'zlib';
import { checkInteger, checkOptions } from '../runtime/checks';
import { FileError, readRegularFile } from './files';

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

export class IdxFormatError extends FileError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = 'IdxFormatError';
  }
}

/**
 * Largest IDX array read by default (1 GiB; the largest MNIST-format data set, EMNIST ByClass, has
 * 0.55 GB of training images).
 */
export const MAX_IDX_BYTES = 2 ** 30;

/** The dtype and shape a header declares, and the byte length of header plus data. */
function parseHeader(
  bytes: Uint8Array,
  file: string,
): {
  type: (typeof DTYPES)[keyof typeof DTYPES];
  shape: number[];
  headerBytes: number;
  totalBytes: number;
} {
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
  const zero = shape.indexOf(0);
  if (zero >= 0)
    throw new IdxFormatError(
      file,
      `declares size 0 for dimension ${zero} (shape ${formatShape(shape)}): it holds no data`,
    );
  const count = shape.reduce((a, b) => a * b, 1);
  return { type, shape, headerBytes, totalBytes: headerBytes + count * type.bytes };
}

/**
 * Parses IDX bytes; `file` names the source in error messages. Refuses truncated or oversized data,
 * zero sizes, and NaN or infinite values in float arrays.
 */
export function parseIdx(bytes: Uint8Array, file = '<buffer>'): IdxArray {
  const { type, shape, headerBytes, totalBytes } = parseHeader(bytes, file);
  if (bytes.length < totalBytes) {
    throw new IdxFormatError(
      file,
      `is truncated: ${bytes.length} bytes, but a ${type.name} array of shape ` +
        `${formatShape(shape)} needs ${totalBytes}. ` +
        'Reinstall the data (e.g. `npm ci`) or download the file again.',
    );
  }
  if (bytes.length > totalBytes) {
    throw new IdxFormatError(
      file,
      `has ${bytes.length - totalBytes} bytes after the data of shape ${formatShape(shape)}; is ` +
        `it the right file?`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = readElements(view, headerBytes, (totalBytes - headerBytes) / type.bytes, type.name);
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new IdxFormatError(file, `holds ${data[bad]} at element ${bad}`);
  }
  return { dtype: type.name, shape, data };
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

/** A shape for messages: a header that declares 255 dimensions is shown by its first eight. */
function formatShape(shape: number[]): string {
  if (shape.length <= 8) return `[${shape.join(', ')}]`;
  return `[${shape.slice(0, 8).join(', ')}, ... (${shape.length} dimensions)]`;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** Deflate inflates at most 1032-fold: a header declaring more than that is a lie. */
const MAX_DEFLATE_RATIO = 1032;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates gzip data to exactly the size its IDX header declares: the header is read from the first
 * inflated bytes, and inflation stops (with an error) past the declared size, so a corrupted or
 * malicious file cannot exhaust memory.
 */
function gunzipIdx(compressed: Uint8Array, file: string, maxBytes: number): Buffer {
  const inflate = (input: Uint8Array, options: zlib.ZlibOptions, tooLarge: string): Buffer => {
    try {
      return zlib.gunzipSync(input, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        throw new IdxFormatError(file, tooLarge);
      throw new IdxFormatError(
        file,
        `is not valid gzip data (${(err as Error).message}); the download may be incomplete`,
      );
    }
  };
  // The header (at most 4 + 4 * 255 bytes) from a growing prefix of the compressed bytes.
  const headerOf = (prefix: number): Buffer => {
    const limit = MAX_DEFLATE_RATIO * prefix;
    const header = inflate(
      compressed.subarray(0, prefix),
      { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: limit },
      `inflates to more than ${limit} bytes from its first ${prefix}; it is not gzip data`,
    );
    const complete = header.length >= 4 && header.length >= 4 + 4 * header[3];
    return complete || prefix >= compressed.length ? header : headerOf(4 * prefix);
  };
  const { type, shape, totalBytes } = parseHeader(headerOf(64), file);
  const declared = `a ${type.name} array of shape ${formatShape(shape)} (${totalBytes} bytes)`;
  if (totalBytes > maxBytes)
    throw new IdxFormatError(file, `declares ${declared}, more than the limit of ${maxBytes}`);
  if (totalBytes > MAX_DEFLATE_RATIO * compressed.length)
    throw new IdxFormatError(
      file,
      `declares ${declared}, more than ${compressed.length} compressed bytes can hold; the file ` +
        'is corrupted',
    );
  return inflate(
    compressed,
    { maxOutputLength: totalBytes },
    `inflates to more than the ${totalBytes} bytes its header declares (${declared}); the file ` +
      'is corrupted or not the data it claims to be',
  );
}

export interface ReadIdxOptions {
  /** Refuse arrays (or files) larger than this many bytes (default MAX_IDX_BYTES, 1 GiB). */
  maxBytes?: number;
}

/**
 * Reads an IDX file, plain or gzip-compressed (recognized by its content). Only a regular file is
 * read; errors name the file and the problem.
 */
export function readIdx(file: string, options: ReadIdxOptions = {}): IdxArray {
  checkOptions('readIdx', options, { maxBytes: true });
  const maxBytes = options.maxBytes ?? MAX_IDX_BYTES;
  checkInteger('readIdx', 'maxBytes', maxBytes);
  const error = (f: string, problem: string) => new IdxFormatError(f, problem);
  const bytes = readRegularFile(file, maxBytes, error);
  return parseIdx(isGzip(bytes) ? gunzipIdx(bytes, file, maxBytes) : bytes, file);
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
