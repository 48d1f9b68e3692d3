/**
 * Reading source maps (version 3) to find the line of a cell that generated code came from. tslab
 * compiles a cell twice (TypeScript to an ES module, then to CommonJS), so a position in the code
 * that runs goes back to the cell through two maps.
 */

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One mapping: a generated column and the source line and column it came from (all 0-based). */
interface Segment {
  column: number;
  sourceLine: number;
  sourceColumn: number;
}

/** A decoded source map: for each generated line, its segments sorted by column. */
export type LineMap = Segment[][];

/** The base-64 VLQ numbers of one segment of a `mappings` string. */
function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`source map: '${char}' is not a base-64 digit`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  if (shift !== 0) throw new Error(`source map: segment '${segment}' ends inside a number`);
  return values;
}

/** Decodes the `mappings` of a source map (JSON text) of one source file. */
export function decodeSourceMap(json: string): LineMap {
  const { mappings } = JSON.parse(json) as { mappings?: unknown };
  if (typeof mappings !== 'string') throw new Error('source map: no mappings string');
  let sourceLine = 0;
  let sourceColumn = 0;
  return mappings.split(';').map((line) => {
    let column = 0;
    const segments: Segment[] = [];
    for (const text of line.split(',')) {
      if (text === '') continue;
      const v = decodeVlq(text);
      column += v[0];
      if (v.length < 4) continue;
      sourceLine += v[2];
      sourceColumn += v[3];
      segments.push({ column, sourceLine, sourceColumn });
    }
    return segments.sort((a, b) => a.column - b.column);
  });
}

/**
 * The source position of a generated position (0-based line and column): the last segment of that
 * line that starts at or before the column, else the line's first segment, else null.
 */
export function originalPosition(
  map: LineMap,
  line: number,
  column: number,
): { line: number; column: number } | null {
  const segments = map[line];
  if (!segments || segments.length === 0) return null;
  let found = segments[0];
  for (const s of segments) {
    if (s.column > column) break;
    found = s;
  }
  return { line: found.sourceLine, column: found.sourceColumn };
}

/** Follows a generated position through maps in order (each map's source is the next's output). */
export function traceThrough(
  maps: LineMap[],
  line: number,
  column: number,
): { line: number; column: number } | null {
  let position: { line: number; column: number } | null = { line, column };
  for (const map of maps) {
    if (!position) return null;
    position = originalPosition(map, position.line, position.column);
  }
  return position;
}
