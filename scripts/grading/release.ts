/**
 * Student versions of instructor notebooks: solutions replaced by a stub that throws "not
 * implemented yet", hidden tests removed (unless kept), outputs cleared; every other cell
 * unchanged, cell ids kept (the grader uses them to put deleted tests back in place).
 */
import { Notebook, NotebookCell, cellSource } from '../jupyter';
import {
  TestInfo,
  hasSolution,
  headerProblem,
  replaceSolutions,
  sourceLines,
  testInfo,
} from './format';

export interface InstructorTest extends TestInfo {
  /** Index of the test cell in the instructor notebook. */
  index: number;
  cell: NotebookCell;
}

export interface ReleaseReport {
  notebook: Notebook;
  exercises: string[];
  tests: InstructorTest[];
  /** Non-fatal problems with the format (e.g. a test header that disagrees with its metadata). */
  warnings: string[];
}

/**
 * The graded tests of an instructor notebook, in order. Throws on malformed metadata and duplicate
 * ids; `warnings` collects header lines that disagree with the metadata.
 */
export function instructorTests(
  nb: Notebook,
  name: string,
  warnings: string[] = [],
): InstructorTest[] {
  const tests: InstructorTest[] = [];
  const seen = new Map<string, number>();
  nb.cells.forEach((cell, index) => {
    const where = `${name}, cell ${index + 1}`;
    const test = testInfo(cell, where);
    if (!test) return;
    const previous = seen.get(test.id);
    if (previous !== undefined)
      throw new Error(
        `${where}: test id ${test.id} is already used by cell ${previous + 1}; ids must be unique`,
      );
    seen.set(test.id, index);
    if (hasSolution(cellSource(cell)))
      throw new Error(
        `${where}: test ${test.id} contains a solution marker; solutions belong in the ` +
          `exercise cell`,
      );
    const problem = headerProblem(cell, test);
    if (problem) warnings.push(`${where}: test ${test.id}: ${problem}`);
    tests.push({ ...test, index, cell });
  });
  return tests;
}

/**
 * Matches `import { a, b } from 'genlab'` (the first such import is where `grading` is added if
 * missing).
 */
const GENLAB_IMPORT = /import\s*\{([^}]*)\}\s*from\s*(['"])genlab\2/;

function importsGrading(nb: Notebook): boolean {
  return nb.cells.some((c) => {
    const m = c.cell_type === 'code' ? GENLAB_IMPORT.exec(cellSource(c)) : null;
    return m != null && m[1].split(',').some((n) => n.trim() === 'grading');
  });
}

/** Adds `grading` to the notebook's first named import from 'genlab'; false if there is none. */
function addGradingImport(cells: NotebookCell[]): boolean {
  for (const cell of cells) {
    if (cell.cell_type !== 'code') continue;
    const text = cellSource(cell);
    const m = GENLAB_IMPORT.exec(text);
    if (!m) continue;
    const names = m[1].trim().replace(/,\s*$/, '');
    const updated = m[0].replace(`{${m[1]}}`, `{ ${names ? `${names}, ` : ''}grading }`);
    cell.source = sourceLines(text.replace(m[0], updated));
    return true;
  }
  return false;
}

function clean(cell: NotebookCell): NotebookCell {
  const copy: NotebookCell = JSON.parse(JSON.stringify(cell));
  if (copy.cell_type === 'code') {
    copy.outputs = [];
    copy.execution_count = null;
    delete (copy.metadata as Record<string, unknown>).execution;
  }
  return copy;
}

/**
 * The student version of instructor notebook `nb` named `name` (file name without .ipynb). Exercise
 * n of the notebook gets the stub `throw grading.notImplemented('<name>-<n>')`.
 */
export function studentVersion(
  nb: Notebook,
  name: string,
  options: { keepHidden?: boolean } = {},
): ReleaseReport {
  const warnings: string[] = [];
  const tests = instructorTests(nb, name, warnings);
  const hiddenCells = new Set(
    tests.filter((t) => t.hidden && !options.keepHidden).map((t) => t.index),
  );
  const exercises: string[] = [];
  const cells: NotebookCell[] = [];
  nb.cells.forEach((cell, index) => {
    if (hiddenCells.has(index)) return;
    const copy = clean(cell);
    if (copy.cell_type === 'code') {
      const { source, regions } = replaceSolutions(
        cellSource(copy),
        (k) => {
          const exercise = `${name}-${exercises.length + k + 1}`;
          return `throw grading.notImplemented('${exercise}');`;
        },
        `${name}, cell ${index + 1}`,
      );
      for (let k = 0; k < regions; k++) exercises.push(`${name}-${exercises.length + 1}`);
      if (regions > 0) copy.source = sourceLines(source);
    }
    cells.push(copy);
  });
  if (exercises.length > 0 && !importsGrading(nb) && !addGradingImport(cells)) {
    throw new Error(
      `${name}: has exercises but no \`import { ... } from 'genlab'\` cell to add \`grading\` ` +
        `to; import genlab in the first code cell`,
    );
  }
  const metadata = {
    ...nb.metadata,
    genlab: { ...((nb.metadata.genlab as object) ?? {}), assignment: name },
  };
  return { notebook: { ...nb, metadata, cells }, exercises, tests, warnings };
}

/** A notebook as nbformat writes it (one-space indent, trailing newline). */
export function serializeNotebook(nb: Notebook): string {
  return `${JSON.stringify(nb, null, 1)}\n`;
}
