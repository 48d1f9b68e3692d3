/**
 * The exercise format every notebook uses (see the README, "For instructors"):
 * - an exercise is a code cell with metadata `{"genlab": {"exercise": {"kind", "forbid"?}}}` whose
 *   solution is the lines between `// BEGIN SOLUTION` and `// END SOLUTION`;
 * - a graded test is a code cell with metadata `{"genlab": {"test": {"id", "points", "hidden"?}}}`
 *   whose source starts with `// Test <id> (<points> points)`; it grades the exercise above it.
 */
import { closestName } from 'genlab/dist/grading/forbid';
import { NotebookCell, cellSource } from '../jupyter';

export interface TestInfo {
  id: string;
  points: number;
  hidden: boolean;
}

/**
 * What a student does in an exercise: writes model code (`build`: a loss, a sampler step, an EM
 * step, a layer's forward pass, a training step), runs an experiment and reports a number
 * (`experiment`), answers a question about a figure (`interpret`), or writes a formula
 * (`formula`).
 */
export const EXERCISE_KINDS = ['build', 'experiment', 'interpret', 'formula'] as const;
export type ExerciseKind = (typeof EXERCISE_KINDS)[number];

export interface ExerciseInfo {
  kind: ExerciseKind;
  /** Library functions (paths like "distributions.kl") the solution must not call. */
  forbid: string[];
}

const TEST_KEYS = ['id', 'points', 'hidden'];
const EXERCISE_KEYS = ['kind', 'forbid'];

function unknownKeys(where: string, what: string, value: object, allowed: string[]): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) {
      const suggestion = closestName(key, allowed);
      throw new Error(
        `${where}: ${what} has an unknown field '${key}'` +
          `${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; its fields are ` +
          allowed.join(', '),
      );
    }
}

const BEGIN = /^(\s*)\/\/\s*BEGIN SOLUTION\s*$/;
const END = /^\s*\/\/\s*END SOLUTION\s*$/;
const HEADER = /^\s*\/\/\s*Test\s+(\S+)\s+\((\d+)\s+points?\)\s*$/;

/** The `genlab.test` metadata of a cell, as written (unchecked), or undefined. */
function rawTest(cell: NotebookCell): unknown {
  const genlab = cell.metadata?.genlab as { test?: unknown } | undefined;
  return genlab && typeof genlab === 'object' ? genlab.test : undefined;
}

/**
 * The exercise a cell declares, or null. Throws, naming `where`, when the metadata is malformed:
 * not an object, an unknown field, a kind that is not one of EXERCISE_KINDS, forbid not a list of
 * names, or a cell that is not a code cell with a solution.
 */
export function exerciseInfo(cell: NotebookCell, where: string): ExerciseInfo | null {
  const genlab = cell.metadata?.genlab as { exercise?: unknown } | undefined;
  const raw = genlab && typeof genlab === 'object' ? genlab.exercise : undefined;
  if (raw === undefined) return null;
  const example = '{"kind": "build"}';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`${where}: metadata genlab.exercise must be an object like ${example}`);
  unknownKeys(where, 'genlab.exercise', raw, EXERCISE_KEYS);
  const e = raw as { kind?: unknown; forbid?: unknown };
  if (typeof e.kind !== 'string' || !(EXERCISE_KINDS as readonly string[]).includes(e.kind)) {
    const suggestion = typeof e.kind === 'string' ? closestName(e.kind, EXERCISE_KINDS) : null;
    throw new Error(
      `${where}: genlab.exercise.kind must be one of ${EXERCISE_KINDS.join(', ')}, got ` +
        `${JSON.stringify(e.kind)}${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
    );
  }
  const forbid = e.forbid ?? [];
  if (!Array.isArray(forbid) || !forbid.every((f) => typeof f === 'string' && f !== ''))
    throw new Error(
      `${where}: genlab.exercise.forbid must be a list of library functions like ` +
        `["distributions.kl"], got ${JSON.stringify(e.forbid)}`,
    );
  if (cell.cell_type !== 'code' || !hasSolution(cellSource(cell)))
    throw new Error(
      `${where}: an exercise cell must be a code cell with the solution between // BEGIN ` +
        `SOLUTION and // END SOLUTION`,
    );
  return { kind: e.kind as ExerciseKind, forbid: forbid as string[] };
}

/**
 * The graded test a cell declares, or null for an ordinary cell. Throws, naming `where`, when the
 * metadata is malformed (id not a kebab-case string, points not a positive integer, hidden not a
 * boolean).
 */
export function testInfo(cell: NotebookCell, where: string): TestInfo | null {
  const raw = rawTest(cell);
  if (raw === undefined) return null;
  if (cell.cell_type !== 'code')
    throw new Error(`${where}: only code cells can be graded tests, this one is ${cell.cell_type}`);
  const t = raw as { id?: unknown; points?: unknown; hidden?: unknown };
  if (typeof t !== 'object' || t === null || Array.isArray(t))
    throw new Error(
      `${where}: metadata genlab.test must be an object like {"id": "01-kl", "points": 2}`,
    );
  unknownKeys(where, 'genlab.test', t, TEST_KEYS);
  if (typeof t.id !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(t.id)) {
    throw new Error(
      `${where}: genlab.test.id must be a kebab-case string like "01-gaussian-kl", got ` +
        `${JSON.stringify(t.id)}`,
    );
  }
  if (typeof t.points !== 'number' || !Number.isInteger(t.points) || t.points < 1) {
    throw new Error(
      `${where}: genlab.test.points of test ${t.id} must be a positive integer, got ` +
        `${JSON.stringify(t.points)}`,
    );
  }
  if (t.hidden !== undefined && typeof t.hidden !== 'boolean') {
    throw new Error(
      `${where}: genlab.test.hidden of test ${t.id} must be true or false, got ` +
        `${JSON.stringify(t.hidden)}`,
    );
  }
  return { id: t.id, points: t.points, hidden: t.hidden === true };
}

/**
 * The test id a cell claims, from its metadata or else its `// Test <id> (...)` first line;
 * lenient, never throws.
 */
export function claimedTestId(cell: NotebookCell): string | null {
  if (cell.cell_type !== 'code') return null;
  const raw = rawTest(cell) as { id?: unknown } | undefined;
  if (raw && typeof raw === 'object' && typeof raw.id === 'string') return raw.id;
  const first = cellSource(cell).split('\n', 1)[0];
  return HEADER.exec(first)?.[1] ?? null;
}

/** A problem with a test cell's first line (it should repeat the id and points), or null. */
export function headerProblem(cell: NotebookCell, test: TestInfo): string | null {
  const first = cellSource(cell).split('\n', 1)[0];
  const expected = `// Test ${test.id} (${test.points} point${test.points === 1 ? '' : 's'})`;
  const m = HEADER.exec(first);
  if (!m || m[1] !== test.id || Number(m[2]) !== test.points)
    return `its first line should be \`${expected}\`, found \`${first}\``;
  return null;
}

/**
 * Replaces each solution region of `source` (marker lines included) by one line, `stub(n)` at the
 * indentation of the BEGIN marker, where n counts the regions. Throws on a marker without its
 * partner.
 */
export function replaceSolutions(
  source: string,
  stub: (n: number) => string,
  where: string,
): { source: string; regions: number } {
  const lines = source.split('\n');
  const out: string[] = [];
  let regions = 0;
  let open: { line: number; indent: string } | null = null;
  lines.forEach((line, i) => {
    const begin = BEGIN.exec(line);
    if (begin) {
      if (open)
        throw new Error(
          `${where}: line ${i + 1} opens a solution while the one of line ${open.line + 1} is ` +
            `still open (add // END SOLUTION)`,
        );
      open = { line: i, indent: begin[1] };
      return;
    }
    if (END.test(line)) {
      if (!open)
        throw new Error(
          `${where}: line ${i + 1} closes a solution that was never opened (add // BEGIN ` +
            `SOLUTION above it)`,
        );
      out.push(`${(open as { indent: string }).indent}${stub(regions)}`);
      regions++;
      open = null;
      return;
    }
    if (!open) out.push(line);
  });
  if (open)
    throw new Error(
      `${where}: the solution opened on line ${(open as { line: number }).line + 1} is never ` +
        `closed (add // END SOLUTION)`,
    );
  return { source: out.join('\n'), regions };
}

/** True if the text has a solution marker line. */
export function hasSolution(source: string): boolean {
  return source.split('\n').some((l) => BEGIN.test(l) || END.test(l));
}

/** Splits a source into nbformat's list of lines (each but the last ending in a newline). */
export function sourceLines(text: string): string[] {
  const parts = text.split('\n');
  return parts.map((p, i) => (i < parts.length - 1 ? `${p}\n` : p)).filter((p) => p !== '');
}
