/**
 * The grader end to end through real Jupyter and the project's tslab kernel, on the fixture
 * notebook: the instructor's version scores full marks, the student version zero on every exercise
 * (and runs everywhere else), and tampered submissions get the right partial scores with the right
 * reasons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, NotebookCell, cellSource, readNotebook } from '../../scripts/jupyter';
import { claimedTestId, sourceLines } from '../../scripts/grading/format';
import { ScoreRow, gradeSubmission } from '../../scripts/grading/grader';
import { serializeNotebook, studentVersion } from '../../scripts/grading/release';

const FIXTURE = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'tests',
  'grading',
  'fixtures',
  '99-grading-fixture.ipynb',
);
const NAME = '99-grading-fixture';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-grade-e2e-'));
const executedDir = path.join(work, 'executed');
// Generous per-cell limit: importing tfjs on a busy 2-core machine can take tens of seconds.
const options = {
  source: FIXTURE,
  cellTimeout: 60,
  submissionTimeout: 600,
  executedDir,
  env: { GENLAB_QUICK: '1' },
};

function write(name: string, nb: Notebook): string {
  const file = path.join(work, name, `${NAME}.ipynb`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, serializeNotebook(nb));
  return file;
}

/** Replaces the body of the exercise cell that defines `fn`. */
function setExercise(nb: Notebook, fn: string, source: string): void {
  const cell = nb.cells.find((c) => cellSource(c).startsWith(`function ${fn}(`)) as NotebookCell;
  cell.source = sourceLines(source);
}

function scores(rows: ScoreRow[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.test, r.points]));
}

function reasons(rows: ScoreRow[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [r.test, r.reason]));
}

test('the instructor notebook scores full marks', () => {
  const rows = gradeSubmission(FIXTURE, options, 'instructor');
  assert.deepEqual(
    rows.map((r) => [r.test, r.points, r.max_points, r.reason]),
    [
      ['99-square', 2, 2, 'passed'],
      ['99-square-negative', 1, 1, 'passed'],
      ['99-row-sums', 3, 3, 'passed'],
      ['99-gaussian-kl', 4, 4, 'passed'],
      ['99-softplus', 2, 2, 'passed'],
    ],
  );
});

test('the student version scores zero on every exercise and runs without error elsewhere', () => {
  const student = studentVersion(readNotebook(FIXTURE), NAME).notebook;
  const rows = gradeSubmission(write('student', student), options, 'student');
  assert.deepEqual(scores(rows), {
    '99-square': 0,
    '99-square-negative': 0,
    '99-row-sums': 0,
    '99-gaussian-kl': 0,
    '99-softplus': 0,
  });
  for (const r of rows) assert.match(r.reason, /not implemented yet/, `${r.test}: ${r.reason}`);
  const executed = readNotebook(path.join(executedDir, 'student.ipynb'));
  for (const cell of executed.cells) {
    const failed = (cell.outputs ?? []).some((o) => o.output_type === 'error');
    const isTest = claimedTestId(cell) !== null;
    assert.equal(
      failed,
      isTest,
      `cell ${cell.id}: ` +
        `${isTest ? 'a test should fail' : 'an ordinary cell should run'}\n${cellSource(cell)}`,
    );
  }
  const text = JSON.stringify(executed.cells.flatMap((c) => c.outputs ?? []));
  assert.match(text, /summary: 1, 2, 4/, 'the cell after the exercises ran');
});

test(
  'wrong answer, unsolved stub, syntax error and a deleted test cell: partial marks ' +
    'with reasons',
  () => {
    const nb = studentVersion(readNotebook(FIXTURE), NAME).notebook;
    setExercise(nb, 'square', 'function square(x: number): number {\n  return x * x;\n}');
    nb.cells.splice(
      nb.cells.findIndex((c) => claimedTestId(c) === '99-square'),
      1,
    );
    // rowSums stays the stub.
    setExercise(
      nb,
      'gaussianKl',
      'function gaussianKl(mu1: number, sigma1: number, mu2: number, sigma2: number): ' +
        'number {\n  ' +
        'return Math.log(sigma2 / sigma1) + sigma1 ** 2 / (2 * sigma2 ** 2) - 0.5;\n}',
    );
    setExercise(
      nb,
      'softplus',
      'function softplus(x: number): number {\n  return Math.max(x, 0) +;\n}',
    );
    const rows = gradeSubmission(write('tampered-a', nb), options, 'tampered-a');
    assert.deepEqual(scores(rows), {
      '99-square': 2,
      '99-square-negative': 1,
      '99-row-sums': 0,
      '99-gaussian-kl': 0,
      '99-softplus': 0,
    });
    const why = reasons(rows);
    assert.equal(
      why['99-square'],
      "passed; the test cell was deleted; restored from the instructor's notebook",
    );
    assert.match(why['99-row-sums'], /^CheckError: rowSums: not implemented yet/);
    assert.match(
      why['99-gaussian-kl'],
      /^CheckError: gaussianKl: wrong value: expected [\d.e-]+, got [\d.e-]+ .* on input \(mu1=/,
    );
    assert.match(
      why['99-softplus'],
      /^CompileError: .*Cannot find name 'softplus'.* \(cell \d+ above failed first: CompileError: .*Expression expected/,
    );
  },
);

test(
  'an infinite loop, a test edited to pass and a fake test cell: partial marks, and the rest ' +
    'still runs',
  () => {
    const nb = studentVersion(readNotebook(FIXTURE), NAME).notebook;
    // Loops forever on positive inputs (the check's random inputs), returns on negative ones (the
    // hidden test).
    setExercise(
      nb,
      'square',
      'function square(x: number): number {\n  while (x > 0) {}\n  return x * x;\n}',
    );
    setExercise(
      nb,
      'rowSums',
      'function rowSums(x: tf.Tensor2D): tf.Tensor1D {\n  return x.sum(1);\n}',
    );
    setExercise(
      nb,
      'gaussianKl',
      'function gaussianKl(mu1: number, sigma1: number, mu2: number, sigma2: number): ' +
        'number {\n  ' +
        'return 0;\n}',
    );
    const klTest = nb.cells.find((c) => claimedTestId(c) === '99-gaussian-kl') as NotebookCell;
    klTest.source = sourceLines(
      '// Test 99-gaussian-kl (4 points)\ngrading.checkClose(gaussianKl(0, 1, 0, 1), 0, { what: ' +
        "'kl' });",
    );
    setExercise(
      nb,
      'softplus',
      'function softplus(x: number): number {\n  return x > 30 ? x : Math.log1p(Math.exp(x));\n}',
    );
    nb.cells.push({
      cell_type: 'code',
      id: 'bonus',
      metadata: { genlab: { test: { id: '99-bonus', points: 100 } } },
      source: sourceLines('// Test 99-bonus (100 points)\nconsole.log("free points");'),
      outputs: [],
      execution_count: null,
    });
    const rows = gradeSubmission(write('tampered-b', nb), options, 'tampered-b');
    assert.deepEqual(scores(rows), {
      '99-square': 0,
      '99-square-negative': 1,
      '99-row-sums': 3,
      '99-gaussian-kl': 0,
      '99-softplus': 2,
    });
    const why = reasons(rows);
    assert.match(why['99-square'], /^the cell did not finish within 60 s \(an infinite loop\?\)/);
    assert.match(
      why['99-gaussian-kl'],
      /^CheckError: gaussianKl: wrong value.*; the test cell was edited; graded with the instructor's version$/,
    );
  },
);

test.after(() => fs.rmSync(work, { recursive: true, force: true }));
