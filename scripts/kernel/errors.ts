/**
 * Errors as a student should see them: the message and the lines of their own cells that led to
 * it, at the line numbers of the cell (not of the compiled code), without the library's compiled
 * source or the kernel's frames. The whole stack is there on request (GENLAB_TRACE=1).
 */
import { decodeSourceMap, LineMap, traceThrough } from './sourcemap';

/** Set to 1 to get the whole stack trace of errors in notebooks. */
export const TRACE_ENV = 'GENLAB_TRACE';

/** An error as Jupyter shows it: `error` messages and error replies carry these three fields. */
export interface ErrorReport {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** The code of one executed cell, kept to map stack frames back to its lines. */
export interface CellRecord {
  /** How the cell is named to the student, e.g. 'In [3]'. */
  label: string;
  source: string;
  /** Maps from the running code back to the source (tslab: CommonJS -> ES module -> cell). */
  maps: LineMap[];
  /** Lines before the cell's source in the last map's source (tslab puts one line in front). */
  sourceLineOffset: number;
  /** Characters in front of the compiled code on the first line of the code that runs. */
  firstLineColumns: number;
}

/** One frame of a stack trace that ran in a cell, at the cell's own line (1-based). */
export interface CellFrame {
  file: string;
  line: number;
}

/** Cells by the file name their code ran under. */
export class CellRegistry {
  private readonly cells = new Map<string, CellRecord>();

  add(file: string, cell: Omit<CellRecord, 'maps'> & { sourceMaps?: string[] }): void {
    const { sourceMaps = [], ...rest } = cell;
    this.cells.set(file, { ...rest, maps: sourceMaps.map(decodeSourceMap) });
  }

  get(file: string): CellRecord | undefined {
    return this.cells.get(file);
  }

  /** The cell line (1-based) of a position (1-based line and column) in the code that ran. */
  cellLine(file: string, line: number, column: number): number | undefined {
    const cell = this.cells.get(file);
    if (!cell || cell.maps.length === 0) return undefined;
    const shift = line === 1 ? cell.firstLineColumns : 0;
    const position = traceThrough(cell.maps, line - 1, Math.max(0, column - 1 - shift));
    if (!position) return undefined;
    const cellLine = position.line - cell.sourceLineOffset + 1;
    return cellLine >= 1 ? cellLine : undefined;
  }

  /** The frames of `stack` that ran in known cells, innermost first, consecutive repeats merged. */
  frames(stack: string): CellFrame[] {
    const frames: CellFrame[] = [];
    for (const text of stack.split('\n')) {
      const m = /^\s*at (?:.*?\()?(.+?):(\d+):(\d+)\)?$/.exec(text);
      if (!m || !this.cells.has(m[1])) continue;
      const line = this.cellLine(m[1], Number(m[2]), Number(m[3]));
      if (line === undefined) continue;
      const last = frames[frames.length - 1];
      if (last && last.file === m[1] && last.line === line) continue;
      frames.push({ file: m[1], line });
    }
    return frames;
  }

  /** `stack` with every position in a cell rewritten as `In [n], line L`. */
  mapStack(stack: string): string {
    return stack.replace(/([^\s(]+(?: \[\d+\])?):(\d+):(\d+)/g, (whole, file, line, column) => {
      const cell = this.cells.get(file);
      const cellLine = cell && this.cellLine(file, Number(line), Number(column));
      return cell && cellLine ? `${cell.label}, line ${cellLine}` : whole;
    });
  }
}

/** At most this many frames of the student's cells are shown. */
const MAX_FRAMES = 4;

function sourceLine(cell: CellRecord, line: number): string {
  return (cell.source.split('\n')[line - 1] ?? '').trim();
}

function frameLine(cells: CellRegistry, current: string, frame: CellFrame): string {
  const cell = cells.get(frame.file) as CellRecord;
  const where = frame.file === current ? 'this cell' : cell.label;
  const code = sourceLine(cell, frame.line);
  return `    at line ${frame.line} of ${where}${code ? `: ${code}` : ''}`;
}

const INTERRUPTED = /^(Interrupted asynchronously|Script execution interrupted\.)$/;

/**
 * The report of a value thrown by the cell that ran as `current`: the error's name and message,
 * then the cell lines it passed through (or the whole stack, cells mapped, when `full`).
 */
export function runtimeErrorReport(
  error: unknown,
  cells: CellRegistry,
  current: string,
  full = false,
): ErrorReport {
  const isError = error instanceof Error;
  const message = isError ? error.message : String(error);
  if (isError && INTERRUPTED.test(message)) {
    return {
      ename: 'Interrupted',
      evalue: 'the cell was stopped (Kernel > Interrupt)',
      traceback: [
        'Interrupted: the cell was stopped (Kernel > Interrupt). Work it started in the ' +
          'background may still be running; Kernel > Restart stops everything.',
      ],
    };
  }
  const ename = isError ? error.name || 'Error' : 'Error';
  const stack = isError ? (error.stack ?? '') : '';
  const head = `${ename}: ${message}`;
  if (full && stack) {
    const mapped = cells.mapStack(stack);
    return {
      ename,
      evalue: message,
      traceback: mapped.startsWith(ename) ? [mapped] : [head, mapped],
    };
  }
  const frames = cells.frames(stack).slice(0, MAX_FRAMES);
  return {
    ename,
    evalue: message,
    traceback: [head, ...frames.map((f) => frameLine(cells, current, f))],
  };
}

/** A TypeScript diagnostic as tslab prints it: file (empty for the cell), 1-based line, column. */
export interface CompileDiagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** At most this many compile errors are listed. */
const MAX_DIAGNOSTICS = 3;

/** The report of a cell that does not compile: each problem with its cell line. */
export function compileErrorReport(diagnostics: CompileDiagnostic[], source: string): ErrorReport {
  // tslab lists a chained message ("Type X is not assignable... / Property y is missing...")
  // as several diagnostics at one position; they are one problem.
  const problems: CompileDiagnostic[] = [];
  for (const d of diagnostics) {
    const last = problems[problems.length - 1];
    if (last && last.file === d.file && last.line === d.line && last.column === d.column)
      last.message += ` ${d.message}`;
    else problems.push({ ...d });
  }
  const lines = source.split('\n');
  const traceback = problems.slice(0, MAX_DIAGNOSTICS).flatMap((p) => {
    const code = p.file ? '' : (lines[p.line - 1] ?? '').trim();
    const where = p.file ? `line ${p.line} of ${p.file}` : `line ${p.line} of this cell`;
    return [`CompileError: ${p.message}`, `    at ${where}${code ? `: ${code}` : ''}`];
  });
  if (problems.length > MAX_DIAGNOSTICS)
    traceback.push(`... and ${problems.length - MAX_DIAGNOSTICS} more`);
  const first = problems[0];
  const evalue = first ? first.message : 'the cell does not compile';
  return { ename: 'CompileError', evalue, traceback };
}
