/**
 * The grader's bookkeeping without Jupyter: restoring test cells, the notebooks of the reference
 * and student runs, the plan sent into a submission's kernel, and the verdicts on its answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, NotebookCell, cellSource, readNotebook } from '../../scripts/jupyter';
import { claimedTestId, sourceLines } from '../../scripts/grading/format';
import {
  Reference,
  buildPlan,
  findInstructorNotebook,
  judgeSubmission,
  loadInstructorNotebook,
  prepareSubmission,
  readAnswers,
  referenceNotebook,
  studentNotebook,
} from '../../scripts/grading/grader';
import { studentVersion } from '../../scripts/grading/release';
import { JobResult } from '../../scripts/grading/sandbox';
import { ReferenceRecord, siteKey } from 'genlab/dist/grading/records';
import { FIXTURE, NAME, TESTS } from './fixture';

function setup() {
  const instructor = loadInstructorNotebook(FIXTURE);
  const student = studentVersion(instructor.notebook, NAME).notebook;
  return { instructor, tests: instructor.tests, student };
}

const ids = (nb: Notebook) => nb.cells.map((c) => claimedTestId(c));
const testCell = (nb: Notebook, id: string) =>
  nb.cells.find((c) => claimedTestId(c) === id) as NotebookCell;

test(
  'an untouched student version gets its hidden tests back after the cells before them, ' +
    'with no note',
  () => {
    const { instructor, tests, student } = setup();
    const { notebook, notes } = prepareSubmission(instructor.notebook, tests, student);
    assert.deepEqual(ids(notebook), ids(instructor.notebook));
    assert.deepEqual(
      notebook.cells.map((c) => c.id),
      instructor.notebook.cells.map((c) => c.id),
    );
    assert.deepEqual(
      [...notes.values()],
      TESTS.map(() => null),
    );
  },
);

test('an edited test cell is restored and noted; a deleted one is re-inserted in place and noted', () => {
  const { instructor, tests, student } = setup();
  const edited = testCell(student, '99-gaussian-kl');
  edited.source = sourceLines('// Test 99-gaussian-kl (4 points)\n// passes trivially\n');
  const deletedIndex = student.cells.findIndex((c) => claimedTestId(c) === '99-row-sums');
  const deletedId = student.cells[deletedIndex].id;
  student.cells.splice(deletedIndex, 1);
  const { notebook, notes } = prepareSubmission(instructor.notebook, tests, student);
  assert.equal(
    cellSource(testCell(notebook, '99-gaussian-kl')),
    cellSource(testCell(instructor.notebook, '99-gaussian-kl')),
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
  assert.equal(prepareSubmission(instructor.notebook, tests, s2).notes.get('99-square'), null);
});

test('a test cell whose metadata was stripped is still recognized by its header line', () => {
  const { instructor, tests, student } = setup();
  const cell = testCell(student, '99-softplus');
  cell.metadata = {};
  cell.source = sourceLines('// Test 99-softplus (2 points)\nconsole.log("ok");');
  const { notebook, notes } = prepareSubmission(instructor.notebook, tests, student);
  assert.equal(notes.get('99-softplus'), 'edited');
  assert.equal(notebook.cells.filter((c) => claimedTestId(c) === '99-softplus').length, 1);
  assert.deepEqual(
    testCell(notebook, '99-softplus').metadata,
    testCell(instructor.notebook, '99-softplus').metadata,
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
  const { notebook } = prepareSubmission(instructor.notebook, tests, student);
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
  const { notebook, notes } = prepareSubmission(instructor.notebook, tests, empty);
  assert.deepEqual(
    notebook.cells.map((c) => claimedTestId(c)),
    tests.map((t) => t.id),
  );
  assert.equal(notes.get('99-square'), 'deleted');
  assert.equal(notes.get('99-square-negative'), null, 'hidden tests are not "deleted"');
});

test(
  'the reference run records at each graded call; the student run hands only the checked ' +
    'expression to the session, and nothing else of a test reaches its kernel',
  () => {
    const { instructor, tests, student } = setup();
    const reference = referenceNotebook(instructor);
    assert.equal(
      cellSource(testCell(reference, '99-softplus')),
      '// Test 99-softplus (2 points)\n' +
        'grading.session.site("99-softplus", 0).check(softplus, (x: number) => ' +
        'Math.log1p(Math.exp(x)), { inputs: () => [10 * runtime.randn()], rtol: 1e-9 });\n' +
        'grading.session.site("99-softplus", 1).checkClose(softplus(1000), 1000, { what: ' +
        "'softplus(1000)' });",
    );
    reference.cells.forEach((cell, i) => {
      const original = instructor.notebook.cells[i];
      if (claimedTestId(original) === null) assert.deepEqual(cell.source, original.source);
    });
    const ran = studentNotebook(instructor, prepareSubmission(instructor.notebook, tests, student));
    const text = cellSource(testCell(ran, '99-softplus'));
    assert.equal(
      text,
      '// Test 99-softplus (2 points)\n' +
        "// The grader's version of this test: it sends your answers to the grader, which " +
        'compares\n' +
        '// them with the reference outside this notebook.\n' +
        "import { grading as genlabGrader } from 'genlab';\n" +
        'genlabGrader.session.report("99-softplus", 0, () => (softplus));\n' +
        'genlabGrader.session.report("99-softplus", 1, () => (softplus(1000)));',
    );
    const all = ran.cells
      .filter((c) => claimedTestId(c) !== null)
      .map(cellSource)
      .join('\n');
    assert.doesNotMatch(all, /Math\.log1p|runtime\.randn|'c'|choices|max: 0\.01|\b9\b/);
  },
);

const records: ReferenceRecord[] = [
  {
    test: '99-square',
    call: 0,
    method: 'check',
    name: 'square',
    params: ['x'],
    trials: [
      { args: [2], expected: 4 },
      { args: [-1.5], expected: 2.25 },
    ],
    tolerance: {},
  },
  { test: '99-square-negative', call: 0, method: 'checkClose', name: 'square(-3)', expected: 9 },
  {
    test: '99-row-sums',
    call: 0,
    method: 'check',
    name: 'rowSums',
    params: ['x'],
    trials: [
      {
        args: [{ tensor: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }],
        expected: { tensor: 'float32', shape: [2], data: Float32Array.of(3, 7) },
      },
    ],
  },
  {
    test: '99-gaussian-kl',
    call: 0,
    method: 'check',
    name: 'gaussianKl',
    params: ['mu1', 'sigma1', 'mu2', 'sigma2'],
    trials: [{ args: [0, 1, 0, 1], expected: 0 }],
  },
  {
    test: '99-softplus',
    call: 0,
    method: 'check',
    name: 'softplus',
    params: ['x'],
    trials: [{ args: [0], expected: Math.LN2 }],
    tolerance: { rtol: 1e-9 },
  },
  { test: '99-softplus', call: 1, method: 'checkClose', name: 'softplus(1000)', expected: 1000 },
  {
    test: '99-descent',
    call: 0,
    method: 'checkRange',
    name: 'distance',
    range: { max: 0.01 },
  },
  {
    test: '99-shape',
    call: 0,
    method: 'checkAnswer',
    name: 'your answer',
    answer: 'c',
    answerOptions: { choices: ['a', 'b', 'c'] },
  },
];
const reference: Reference = new Map(records.map((r) => [siteKey(r.test, r.call), r]));

const answers = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join('\n');

function run(records: string, executed: Notebook | null = null): JobResult {
  return { executed, records, recordsTruncated: false, problem: null };
}

test('the plan carries the inputs and the forbidden functions, never an expected result', () => {
  const { instructor } = setup();
  const plan = buildPlan(instructor, reference);
  assert.deepEqual(
    plan.sites.map((s) => [s.test, s.call, s.kind, s.args?.length ?? null]),
    [
      ['99-square', 0, 'function', 2],
      ['99-square-negative', 0, 'value', null],
      ['99-row-sums', 0, 'function', 1],
      ['99-gaussian-kl', 0, 'function', 1],
      ['99-softplus', 0, 'function', 1],
      ['99-softplus', 1, 'value', null],
      ['99-descent', 0, 'value', null],
      ['99-shape', 0, 'value', null],
    ],
  );
  assert.deepEqual(plan.forbidden, { '99-gaussian-kl': ['distributions.kl'] });
  const text = JSON.stringify(plan);
  for (const secret of ['expected', 'answer', 'range', '2.25', '"c"', '1000', 'tolerance'])
    assert.ok(!text.includes(secret), `the plan contains ${secret}`);
});

test('verdicts: agreement, wrong values, forbidden calls, types, ranges, answers, and missing answers', () => {
  const { instructor, tests, student } = setup();
  const prepared = prepareSubmission(instructor.notebook, tests, student);
  prepared.notes.set('99-row-sums', 'edited');
  const ran = studentNotebook(instructor, prepared);
  const executed: Notebook = JSON.parse(JSON.stringify(ran));
  const klIndex = executed.cells.findIndex((c) => cellSource(c).startsWith('function gaussianKl'));
  executed.cells[klIndex].outputs = [
    { output_type: 'error', ename: 'CompileError', evalue: '2:13 - Expression expected.' },
  ];
  executed.cells[klIndex + 1].outputs = [
    { output_type: 'error', ename: 'CompileError', evalue: "5:1 - Cannot find name 'gaussianKl'." },
  ];
  const text = answers([
    {
      test: '99-square',
      call: 0,
      trials: [{ value: 4 }, { value: 2.25 }],
      forbidden: [],
      instrumented: true,
    },
    {
      test: '99-square-negative',
      call: 0,
      outcome: { value: 9 },
      forbidden: [],
      instrumented: true,
    },
    {
      test: '99-row-sums',
      call: 0,
      trials: [
        {
          value: {
            tensor: 'float32',
            shape: [2, 1],
            data: Buffer.from(Float32Array.of(3, 7).buffer).toString('base64'),
          },
        },
      ],
      forbidden: [],
      instrumented: true,
    },
    {
      test: '99-softplus',
      call: 0,
      trials: [{ value: Math.LN2 }],
      forbidden: [],
      instrumented: true,
    },
    {
      test: '99-softplus',
      call: 1,
      outcome: { error: { name: 'RangeError', message: 'boom' } },
      forbidden: [],
      instrumented: true,
    },
    { test: '99-descent', call: 0, outcome: { value: 0.5 }, forbidden: [], instrumented: true },
    {
      test: '99-shape',
      call: 0,
      outcome: { value: { string: ' C ' } },
      forbidden: [],
      instrumented: true,
    },
    'not json at all',
  ]);
  const rows = judgeSubmission(
    'alice.ipynb',
    instructor,
    reference,
    ran,
    run(text, executed),
    prepared.notes,
  );
  assert.deepEqual(
    rows.map((r) => [r.test, r.kind, r.points, r.max_points]),
    [
      ['99-square', 'formula', 2, 2],
      ['99-square-negative', 'formula', 1, 1],
      ['99-row-sums', 'build', 0, 3],
      ['99-gaussian-kl', 'formula', 0, 4],
      ['99-softplus', 'formula', 0, 2],
      ['99-descent', 'experiment', 0, 1],
      ['99-shape', 'interpret', 1, 1],
    ],
  );
  const why = Object.fromEntries(rows.map((r) => [r.test, r.reason]));
  assert.equal(why['99-square'], 'passed');
  assert.equal(
    why['99-row-sums'],
    'rowSums: wrong shape: expected [2], got [2, 1] on input (x=tensor float32 [2, 2] [[1, 2], ' +
      "[3, 4]]); the test cell was edited; graded with the instructor's version",
  );
  assert.match(
    why['99-gaussian-kl'],
    /^CompileError: 5:1 - Cannot find name 'gaussianKl'\. \(cell \d+ above failed first: CompileError: 2:13 - Expression expected\.\) \(some answers were unreadable or too large\)$/,
  );
  assert.equal(why['99-softplus'], 'softplus(1000) threw RangeError: boom');
  assert.equal(why['99-descent'], 'distance: got 0.5, expected a number at most 0.01');

  // A forbidden call costs the test, whatever the values.
  const forbidden = answers([
    {
      test: '99-gaussian-kl',
      call: 0,
      trials: [{ value: 0 }],
      forbidden: ['distributions.kl'],
      instrumented: true,
    },
  ]);
  const kl = judgeSubmission('bob.ipynb', instructor, reference, ran, run(forbidden), new Map());
  assert.equal(
    kl.find((r) => r.test === '99-gaussian-kl')?.reason,
    'gaussianKl: the solution calls distributions.kl, which this exercise does not allow: write ' +
      'it yourself',
  );
  // Not a function, a stub, and a run that came back without its notebook.
  const other = answers([
    { test: '99-square', call: 0, notFunction: 'undefined', forbidden: [], instrumented: true },
    {
      test: '99-row-sums',
      call: 0,
      trials: [{ error: { name: 'NotImplementedError', message: 'x' } }],
      forbidden: [],
      instrumented: true,
    },
    {
      test: '99-shape',
      call: 0,
      outcome: { value: { string: 'd' } },
      forbidden: [],
      instrumented: true,
    },
  ]);
  const broken = { ...run(other), problem: 'it ran past the time limit (900 s)' };
  const why2 = Object.fromEntries(
    judgeSubmission('carol.ipynb', instructor, reference, ran, broken, new Map()).map((r) => [
      r.test,
      r.reason,
    ]),
  );
  assert.equal(
    why2['99-square'],
    'check: the function to check is undefined; run the exercise cell that defines it first',
  );
  assert.match(why2['99-row-sums'], /^rowSums: not implemented yet/);
  assert.equal(why2['99-shape'], 'your answer: "d" is not one of the choices a, b, c');
  assert.equal(
    why2['99-descent'],
    'no answer reached the grader: it ran past the time limit (900 s)',
  );
});

test('answers are read strictly: malformed lines are skipped, the last answer of a site counts', () => {
  const { answers: read, unreadable } = readAnswers(
    [
      '{"test":"a","call":0,"outcome":{"value":1},"forbidden":[]}',
      '{"test":"a","call":0,"outcome":{"value":2},"forbidden":[]}',
      '{"test":"b","call":0,"outcome":{"value":{"tensor":"float32","shape":[3],"data":"AAAA"}}}',
      '{"test":"c","call":"0"}',
      '[1, 2',
      '{"test":"d","call":0,"outcome":{"value":{"evil":1}}}',
    ].join('\n'),
  );
  assert.deepEqual([...read.keys()], ['a#0']);
  assert.deepEqual(read.get('a#0')?.outcome, { value: 2 });
  assert.equal(unreadable, 4);
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
  assert.ok(readNotebook(FIXTURE));
});
