/**
 * Reading a file the kit did not write (a data set, a saved model): only a regular file is read,
 * never a FIFO that would block forever or a device such as /dev/zero that never ends, and never
 * more than a stated number of bytes. Every problem is a `FileError` naming the file.
 */
import * as fs from 'fs';

/** A file that cannot be used, with what is wrong with it. */
export class FileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = 'FileError';
  }
}

function kindOf(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of the regular file `file`, at most `maxBytes` of them. The file is opened without
 * blocking and checked after opening (so a FIFO, a device or a symlink to one is refused, and a
 * file swapped in between cannot slip through). `makeError(file, problem)` builds the errors.
 */
export function readRegularFile(
  file: string,
  maxBytes: number,
  makeError: (file: string, problem: string) => Error = (f, p) => new FileError(f, p),
): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw makeError(file, 'does not exist');
    if (code === 'EACCES') throw makeError(file, 'cannot be read (permission denied)');
    throw makeError(file, `cannot be opened (${code ?? (err as Error).message})`);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) {
      const link = fs.lstatSync(file).isSymbolicLink()
        ? ` (a symbolic link to ${kindOf(stats)})`
        : '';
      throw makeError(file, `is ${kindOf(stats)}${link}, not a regular file; pass a data file`);
    }
    if (stats.size > maxBytes)
      throw makeError(file, `is ${stats.size} bytes long, more than the limit of ${maxBytes}`);
    const bytes = Buffer.alloc(stats.size);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0)
        throw makeError(file, `shrank while being read (${read} of ${stats.size} bytes)`);
      read += n;
    }
    return bytes;
  } catch (err) {
    if (err instanceof Error && (err as NodeJS.ErrnoException).code !== undefined)
      throw makeError(file, `cannot be read (${(err as NodeJS.ErrnoException).code})`);
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}
