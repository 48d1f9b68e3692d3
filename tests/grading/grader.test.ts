/**
 * The grader's bookkeeping without Jupyter: restoring test cells, reading outcomes, the score
 * table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, NotebookCell, cellSource, readNotebook } from '../../scripts/jupyter';
import { claimedTestId, sourceLines } from '../../scripts/grading/format';
import {
  findInstructorNotebook,
  gradeSubmission,
  prepareSubmission,
  scoreExecuted,
  toCsv,
  totalsCsv,
} from '../../scripts/grading/grader';
import { instructorTests, serializeNotebook, studentVersion } from '../../scripts/grading/release';

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

function setup() {
  const instructor = readNotebook(FIXTURE);
  const tests = instructorTests(instructor, NAME);
  const student = studentVersion(instructor, NAME).notebook;
  return { instructor, tests, student };
}

const ids = (nb: Notebook) => nb.cells.map((c) => claimedTestId(c));
const testCell = (nb: Notebook, id: string) =>
  nb.cells.find((c) => claimedTestId(c) === id) as NotebookCell;

test(
  'an untouched student version gets its hidden test back after the test before it, ' +
    'with no note',
  () => {
    const { instructor, tests, student } = setup();
    const { notebook, notes } = prepareSubmission(instructor, tests, student);
    assert.deepEqual(ids(notebook), ids(instructor));
    assert.deepEqual(
      notebook.cells.map((c) => c.id),
      instructor.cells.map((c) => c.id),
    );
    assert.deepEqual([...notes.values()], [null, null, null, null, null]);
  },
);

test('an edited test cell is restored and noted; a deleted one is re-inserted in place and noted', () => {
  const { instructor, tests, student } = setup();
  const edited = testCell(student, '99-gaussian-kl');
  edited.source = sourceLines('// Test 99-gaussian-kl (4 points)\n// passes trivially\n');
  const deletedIndex = student.cells.findIndex((c) => claimedTestId(c) === '99-row-sums');
  const deletedId = student.cells[deletedIndex].id;
  student.cells.splice(deletedIndex, 1);
  const { notebook, notes } = prepareSubmission(instructor, tests, student);
  assert.equal(
    cellSource(testCell(notebook, '99-gaussian-kl')),
    cellSource(testCell(instructor, '99-gaussian-kl')),
  );
  assert.equal(notes.get('99-gaussian-kl'), 'edited');
  assert.equal(notes.get('99-row-sums'), 'deleted');
  const restored = notebook.cells.findIndex((c) => claimedTestId(c) === '99-row-sums');
  assert.equal(notebook.cells[restored].id, deletedId);
  assert.match(
    cellSource(notebook.cells[restored - 1]),
    /^function rowSums/,
    'restored right after its exercise cell',
  );
  // Trailing whitespace is not an edit.
  const { student: s2 } = setup();
  testCell(s2, '99-square').source = sourceLines(`${cellSource(testCell(s2, '99-square'))}  \n\n`);
  assert.equal(prepareSubmission(instructor, tests, s2).notes.get('99-square'), null);
});

test('a test cell whose metadata was stripped is still recognized by its header line', () => {
  const { instructor, tests, student } = setup();
  const cell = testCell(student, '99-softplus');
  cell.metadata = {};
  cell.source = sourceLines('// Test 99-softplus (2 points)\nconsole.log("ok");');
  const { notebook, notes } = prepareSubmission(instructor, tests, student);
  assert.equal(notes.get('99-softplus'), 'edited');
  assert.equal(notebook.cells.filter((c) => claimedTestId(c) === '99-softplus').length, 1);
  assert.deepEqual(
    testCell(notebook, '99-softplus').metadata,
    testCell(instructor, '99-softplus').metadata,
  );
});

test('cells claiming unknown or duplicate test ids lose their test metadata', () => {
  const { instructor, tests, student } = setup();
  const fake: NotebookCell = {
    cell_type: 'code',
    id: 'fake',
    source: sourceLines('// Test 99-bonus (100 points)\n'),
    metadata: { genlab: { test: { id: '99-bonus', points: 100 } } },
    outputs: [],
    execution_count: null,
  };
  const copy = JSON.parse(JSON.stringify(testCell(student, '99-square'))) as NotebookCell;
  copy.id = 'copy';
  copy.source = sourceLines('// Test 99-square (2 points)\nconsole.log("copy");');
  student.cells.push(fake, copy);
  const { notebook } = prepareSubmission(instructor, tests, student);
  const graded = notebook.cells.filter(
    (c) => (c.metadata.genlab as { test?: unknown } | undefined)?.test,
  );
  assert.deepEqual(
    graded.map((c) => (c.metadata.genlab as { test: { id: string } }).test.id),
    tests.map((t) => t.id),
  );
  assert.ok(!graded.some((c) => c.id === 'fake' || c.id === 'copy'));
});

test('a notebook with none of the instructor cells gets the tests appended in order', () => {
  const { instructor, tests } = setup();
  const empty: Notebook = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };
  const { notebook, notes } = prepareSubmission(instructor, tests, empty);
  assert.deepEqual(
    notebook.cells.map((c) => claimedTestId(c)),
    tests.map((t) => t.id),
  );
  assert.equal(notes.get('99-square'), 'deleted');
  assert.equal(notes.get('99-square-negative'), null, 'hidden tests are not "deleted"');
});

function executed(nb: Notebook, outputs: Record<string, Array<Record<string, unknown>>>): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const cell of copy.cells) {
    const key = claimedTestId(cell) ?? cell.id ?? '';
    if (outputs[key]) cell.outputs = outputs[key];
  }
  return copy;
}
const error = (ename: string, evalue: string) => ({
  output_type: 'error',
  ename,
  evalue,
  traceback: [],
});

test(
  'scores: an error-free test cell earns its points; an error gives 0 with the error, and ' +
    'names a failed cell above',
  () => {
    const { instructor, tests } = setup();
    const { notebook, notes } = prepareSubmission(instructor, tests, instructor);
    notes.set('99-row-sums', 'edited');
    const klCell = notebook.cells.find((c) =>
      cellSource(c).startsWith('function gaussianKl'),
    ) as NotebookCell;
    const run = executed(notebook, {
      '99-square': [{ output_type: 'stream', name: 'stdout', text: '✓ square agrees' }],
      '99-row-sums': [
        error(
          'CheckError',
          'rowSums: wrong shape: expected [4], got [3] on input (x=tensor float32 [4, 3] ...)',
        ),
      ],
      [klCell.id as string]: [error('CompileError', '2:13 - Expression expected.')],
      '99-gaussian-kl': [error('CompileError', "1:15 - Cannot find name 'gaussianKl'.")],
      '99-softplus': [
        error(
          'CellTimeout',
          'the cell did not finish within 60 s (an infinite loop?); the kernel was stopped',
        ),
      ],
    });
    const rows = scoreExecuted('alice.ipynb', run, tests, notes);
    assert.deepEqual(
      rows.map((r) => [r.test, r.points, r.max_points]),
      [
        ['99-square', 2, 2],
        ['99-square-negative', 1, 1],
        ['99-row-sums', 0, 3],
        ['99-gaussian-kl', 0, 4],
        ['99-softplus', 0, 2],
      ],
    );
    assert.equal(rows[0].reason, 'passed');
    assert.equal(
      rows[2].reason,
      'CheckError: rowSums: wrong shape: expected [4], got [3] on input (x=tensor float32 [4, 3] ' +
        "...); the test cell was edited; graded with the instructor's version",
    );
    assert.match(
      rows[3].reason,
      /^CompileError: 1:15 - Cannot find name 'gaussianKl'\. \(cell \d+ above failed first: CompileError: 2:13 - Expression expected\.\)$/,
    );
    assert.match(rows[4].reason, /^the cell did not finish within 60 s \(an infinite loop\?\)/);
    assert.ok(rows.every((r) => r.submission === 'alice.ipynb'));
  },
);

test('the CSVs: scores quote commas, quotes and newlines; totals sum per submission', () => {
  const csv = toCsv([
    { submission: 'a b.ipynb', test: 't', points: 0, max_points: 2, reason: 'x, "y"\nz' },
  ]);
  assert.equal(csv, 'submission,test,points,max_points,reason\na b.ipynb,t,0,2,"x, ""y""\nz"\n');
  const rows = [
    { submission: 'alice', test: 'a', points: 2, max_points: 2, reason: 'passed' },
    { submission: 'bob', test: 'a', points: 0, max_points: 2, reason: 'x' },
    { submission: 'alice', test: 'b', points: 1, max_points: 3, reason: 'y' },
  ];
  assert.equal(totalsCsv(rows), 'submission,points,max_points\nalice,3,5\nbob,0,2\n');
});

test('the instructor notebook is found by --source, by the assignment metadata, or by file name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-grade-'));
  fs.copyFileSync(FIXTURE, path.join(dir, `${NAME}.ipynb`));
  const { student } = setup();
  assert.equal(
    findInstructorNotebook('/x/renamed-by-alice.ipynb', student, { sourceDir: dir }),
    path.join(dir, `${NAME}.ipynb`),
  );
  assert.equal(
    findInstructorNotebook(`/x/${NAME}.ipynb`, null, { sourceDir: dir }),
    path.join(dir, `${NAME}.ipynb`),
  );
  assert.equal(findInstructorNotebook('/x/y.ipynb', null, { source: FIXTURE }), FIXTURE);
  assert.throws(
    () => findInstructorNotebook('/x/y.ipynb', null, { sourceDir: dir }),
    /no instructor notebook for \/x\/y.ipynb: looked for y.ipynb in .* \(pass --source NOTEBOOK\)/,
  );
  fs.rmSync(dir, { recursive: true });
});

test(
  'an unreadable submission or a missing instructor notebook gives 0 with the reason, without ' +
    'running anything',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-grade-'));
    const broken = path.join(dir, `${NAME}.ipynb`);
    fs.writeFileSync(broken, '{ "cells": [ this is not json');
    const rows = gradeSubmission(broken, { source: FIXTURE }, 'bob.ipynb');
    assert.equal(rows.length, 5);
    for (const r of rows) {
      assert.equal(r.points, 0);
      assert.match(
        r.reason,
        /^the submission cannot be read: .*malformed notebook, not valid JSON/,
      );
    }
    const orphan = path.join(dir, 'nothing-like-it.ipynb');
    fs.writeFileSync(orphan, serializeNotebook(setup().instructor).replace(/"assignment"/, '"x"'));
    const none = gradeSubmission(orphan, { sourceDir: path.dirname(FIXTURE) }, 'carol.ipynb');
    assert.deepEqual(
      none.map((r) => [r.test, r.points, r.max_points]),
      [['(all)', 0, 0]],
    );
    assert.match(none[0].reason, /^cannot grade: no instructor notebook for/);
    fs.rmSync(dir, { recursive: true });
  },
);
