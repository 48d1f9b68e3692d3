/**
 * Student versions of instructor notebooks: solutions replaced by a stub that throws "not
 * implemented yet", hidden tests removed (unless kept), outputs cleared; every other cell
 * unchanged, cell ids kept (the grader uses them to put deleted tests back in place). Reading an
 * instructor notebook checks the whole exercise format and reports every problem at once.
 */
import { Notebook, NotebookCell, cellSource } from '../jupyter';
import {
  ExerciseInfo,
  TestInfo,
  exerciseInfo,
  hasSolution,
  headerProblem,
  replaceSolutions,
  sourceLines,
  testInfo,
} from './format';
import { GradedCall, gradedCalls } from './testcells';

export interface InstructorExercise extends ExerciseInfo {
  /** Index of the exercise cell in the instructor notebook. */
  index: number;
  /** Position among the notebook's exercises, from 1. */
  number: number;
  tests: InstructorTest[];
}

export interface InstructorTest extends TestInfo {
  /** Index of the test cell in the instructor notebook. */
  index: number;
  cell: NotebookCell;
  /** The exercise it grades: the nearest exercise cell above it. */
  exercise: InstructorExercise;
  calls: GradedCall[];
}

export interface Assignment {
  exercises: InstructorExercise[];
  tests: InstructorTest[];
  /** Non-fatal problems with the format (e.g. a test header that disagrees with its metadata). */
  warnings: string[];
}

/** Throws unless `path` names a function of the library (loaded only when an exercise forbids). */
function checkLibraryFunction(path: string): void {
  const genlab = require('genlab') as typeof import('genlab');
  genlab.grading.resolveLibraryFunction(genlab, path);
}

/**
 * The exercises and graded tests of an instructor notebook, in order. Throws one Error listing
 * every problem (malformed metadata, a misspelled kind or forbidden function, duplicate ids, a
 * solution without exercise metadata, a test before any exercise or an exercise without tests,
 * a visible test of an `interpret` exercise, a test cell the grader cannot split).
 */
export function readAssignment(nb: Notebook, name: string): Assignment {
  const problems: string[] = [];
  const warnings: string[] = [];
  const exercises: InstructorExercise[] = [];
  const tests: InstructorTest[] = [];
  const seen = new Map<string, number>();
  // Exercises whose metadata is malformed still own the tests below them (no follow-on errors).
  const broken = new Set<number>();
  const tested = new Set<number>();
  const brokenExercise = (index: number) => {
    broken.add(index);
    exercises.push({ kind: 'build', forbid: [], index, number: exercises.length + 1, tests: [] });
  };
  nb.cells.forEach((cell, index) => {
    const where = `${name}, cell ${index + 1}`;
    let declared: ExerciseInfo | null;
    try {
      declared = exerciseInfo(cell, where);
    } catch (err) {
      problems.push((err as Error).message);
      brokenExercise(index);
      return;
    }
    if (declared) {
      for (const path of declared.forbid) {
        try {
          checkLibraryFunction(path);
        } catch (err) {
          problems.push(`${where}: genlab.exercise.forbid: ${(err as Error).message}`);
        }
      }
      exercises.push({ ...declared, index, number: exercises.length + 1, tests: [] });
      return;
    }
    const exercise = exercises[exercises.length - 1];
    try {
      const test = testInfo(cell, where);
      if (!test) {
        if (cell.cell_type === 'code' && hasSolution(cellSource(cell))) {
          problems.push(
            `${where}: has a solution but no exercise metadata; add {"genlab": {"exercise": ` +
              `{"kind": "build"}}} (kind: build, experiment, interpret or formula)`,
          );
          brokenExercise(index);
        }
        return;
      }
      if (exercise) tested.add(exercise.index);
      const previous = seen.get(test.id);
      if (previous !== undefined)
        throw new Error(
          `${where}: test id ${test.id} is already used by cell ${previous + 1}; ids must be ` +
            `unique`,
        );
      seen.set(test.id, index);
      if (hasSolution(cellSource(cell)))
        throw new Error(
          `${where}: test ${test.id} contains a solution marker; solutions belong in the ` +
            `exercise cell`,
        );
      if (!exercise)
        throw new Error(
          `${where}: test ${test.id} comes before any exercise; a test grades the exercise cell ` +
            `above it`,
        );
      if (exercise.kind === 'interpret' && !test.hidden)
        throw new Error(
          `${where}: test ${test.id} grades an interpret exercise and would show its answer; ` +
            `make it hidden ("hidden": true)`,
        );
      const problem = headerProblem(cell, test);
      if (problem) warnings.push(`${where}: test ${test.id}: ${problem}`);
      const calls = gradedCalls(cellSource(cell), `${where}: test ${test.id}`);
      const entry = { ...test, index, cell, exercise, calls };
      exercise.tests.push(entry);
      tests.push(entry);
    } catch (err) {
      problems.push((err as Error).message);
    }
  });
  for (const e of exercises)
    if (!tested.has(e.index) && !broken.has(e.index))
      problems.push(
        `${name}, cell ${e.index + 1}: the ${e.kind} exercise has no graded test after it`,
      );
  if (problems.length > 0)
    throw new Error(
      problems.length === 1
        ? problems[0]
        : `${name}: ${problems.length} problems:\n  ${problems.join('\n  ')}`,
    );
  return { exercises, tests, warnings };
}

/**
 * The graded tests of an instructor notebook (see readAssignment); `warnings` collects header
 * problems.
 */
export function instructorTests(
  nb: Notebook,
  name: string,
  warnings: string[] = [],
): InstructorTest[] {
  const assignment = readAssignment(nb, name);
  warnings.push(...assignment.warnings);
  return assignment.tests;
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

/** The header and separator of `exerciseTableRows`' Markdown table (the README's exercise list). */
export const EXERCISE_TABLE_HEADER = [
  '| notebook | exercise | kind | tests | points | must not call |',
  '|---|---|---|---|---|---|',
];

/** One Markdown table row per exercise of notebook `name`: kind, tests, points, forbidden calls. */
export function exerciseTableRows(name: string, exercises: InstructorExercise[]): string[] {
  return exercises.map(
    (e) =>
      `| ${name} | ${e.number} | ${e.kind} | ` +
      `${e.tests.map((t) => `${t.id}${t.hidden ? ' (hidden)' : ''}`).join(', ')} | ` +
      `${e.tests.reduce((s, t) => s + t.points, 0)} | ` +
      `${e.forbid.map((f) => `\`${f}\``).join(', ') || '—'} |`,
  );
}

export interface ReleaseReport {
  notebook: Notebook;
  /** The stubs' exercise names, `<notebook>-<n>`, one per solution region. */
  stubs: string[];
  exercises: InstructorExercise[];
  tests: InstructorTest[];
  warnings: string[];
}

/**
 * The student version of instructor notebook `nb` named `name` (file name without .ipynb). Solution
 * region n of the notebook gets the stub `throw grading.notImplemented('<name>-<n>')`.
 */
export function studentVersion(
  nb: Notebook,
  name: string,
  options: { keepHidden?: boolean } = {},
): ReleaseReport {
  const { exercises: declared, tests, warnings } = readAssignment(nb, name);
  const hiddenCells = new Set(
    tests.filter((t) => t.hidden && !options.keepHidden).map((t) => t.index),
  );
  const stubs: string[] = [];
  const cells: NotebookCell[] = [];
  nb.cells.forEach((cell, index) => {
    if (hiddenCells.has(index)) return;
    const copy = clean(cell);
    if (copy.cell_type === 'code') {
      const { source, regions } = replaceSolutions(
        cellSource(copy),
        (k) => {
          const exercise = `${name}-${stubs.length + k + 1}`;
          return `throw grading.notImplemented('${exercise}');`;
        },
        `${name}, cell ${index + 1}`,
      );
      for (let k = 0; k < regions; k++) stubs.push(`${name}-${stubs.length + 1}`);
      if (regions > 0) copy.source = sourceLines(source);
    }
    cells.push(copy);
  });
  if (stubs.length > 0 && !importsGrading(nb) && !addGradingImport(cells)) {
    throw new Error(
      `${name}: has exercises but no \`import { ... } from 'genlab'\` cell to add \`grading\` ` +
        `to; import genlab in the first code cell`,
    );
  }
  const metadata = {
    ...nb.metadata,
    genlab: { ...((nb.metadata.genlab as object) ?? {}), assignment: name },
  };
  return { notebook: { ...nb, metadata, cells }, stubs, exercises: declared, tests, warnings };
}

/** A notebook as nbformat writes it (one-space indent, trailing newline). */
export function serializeNotebook(nb: Notebook): string {
  return `${JSON.stringify(nb, null, 1)}\n`;
}
