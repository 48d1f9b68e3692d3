import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { grading } from 'genlab';
import {
  Notebook,
  NotebookCell,
  cellSource,
  findPython,
  readNotebook,
} from '../../scripts/jupyter';
import { claimedTestId, replaceSolutions, sourceLines } from '../../scripts/grading/format';
import { instructorTests, serializeNotebook, studentVersion } from '../../scripts/grading/release';
import { FIXTURE, NAME } from './fixture';

function code(source: string, metadata: Record<string, unknown> = {}, id?: string): NotebookCell {
  return {
    cell_type: 'code',
    id: id ?? `c${Math.random().toString(36).slice(2, 10)}`,
    source: sourceLines(source),
    metadata,
    outputs: [],
    execution_count: null,
  };
}

function notebook(cells: NotebookCell[]): Notebook {
  return { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab' } }, cells };
}

const testMeta = (id: string, points: number, hidden = false) => ({
  genlab: { test: hidden ? { id, points, hidden } : { id, points } },
});
const exerciseMeta = (kind = 'formula', forbid?: string[]) => ({
  genlab: { exercise: forbid ? { kind, forbid } : { kind } },
});
/** An exercise cell defining f, and a test of it. */
const exercise = (kind = 'formula', forbid?: string[]) =>
  code(
    'function f(): number {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}',
    exerciseMeta(kind, forbid),
  );
const graded = (id: string, points = 2, hidden = false) =>
  code(
    `// Test ${id} (${points} points)\ngrading.checkClose(f(), 1);`,
    testMeta(id, points, hidden),
  );

test(
  "the student version replaces each solution by the stub, at the marker's indentation, " +
    'numbered per notebook',
  () => {
    const nb = readNotebook(FIXTURE);
    const { notebook: student, stubs } = studentVersion(nb, NAME);
    assert.deepEqual(
      stubs,
      [1, 2, 3, 4, 5, 6].map((n) => `${NAME}-${n}`),
    );
    const sources = student.cells.map(cellSource).join('\n');
    assert.doesNotMatch(
      sources,
      /BEGIN SOLUTION|END SOLUTION|return x \* x|Math\.log1p\(Math\.exp\(-Math\.abs/,
    );
    const square = student.cells.find((c) => cellSource(c).startsWith('function square'));
    assert.equal(
      cellSource(square as NotebookCell),
      `function square(x: number): number {\n  throw grading.notImplemented('${NAME}-1');\n}`,
    );
    const kl = student.cells.find((c) => cellSource(c).startsWith('function gaussianKl'));
    assert.match(
      cellSource(kl as NotebookCell),
      new RegExp(`\\{\\n  throw grading\\.notImplemented\\('${NAME}-3'\\);\\n\\}$`),
    );
  },
);

test('the stub throws the "not implemented yet" error when run', () => {
  const stubLine = replaceSolutions(
    '// BEGIN SOLUTION\nreturn 1;\n// END SOLUTION',
    () => "throw grading.notImplemented('02-kl');",
    'x',
  ).source;
  const run = new Function('grading', stubLine) as (g: typeof grading) => unknown;
  assert.throws(
    () => run(grading),
    /^NotImplementedError: not implemented yet: 02-kl; write your solution in place of this line$/,
  );
});

test(
  'everything but solutions and hidden tests is unchanged: same cells, ids, metadata, ' +
    'sources; outputs cleared',
  () => {
    const nb = readNotebook(FIXTURE);
    nb.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: 'old output' }];
    nb.cells[1].execution_count = 3;
    const { notebook: student, tests } = studentVersion(nb, NAME);
    const hidden = tests.filter((t) => t.hidden).map((t) => t.index);
    assert.deepEqual(
      hidden.map((i) => claimedTestId(nb.cells[i])),
      ['99-square-negative', '99-shape'],
    );
    const kept = nb.cells.filter((_, i) => !hidden.includes(i));
    assert.equal(student.cells.length, kept.length);
    kept.forEach((cell, i) => {
      const s = student.cells[i];
      assert.equal(s.id, cell.id);
      assert.deepEqual(s.metadata, cell.metadata);
      assert.equal(s.cell_type, cell.cell_type);
      if (!/BEGIN SOLUTION/.test(cellSource(cell)))
        assert.deepEqual(s.source, cell.source, `cell ${cell.id} changed`);
      if (s.cell_type === 'code') {
        assert.deepEqual(s.outputs, []);
        assert.equal(s.execution_count, null);
      }
    });
    assert.equal((student.metadata.genlab as { assignment: string }).assignment, NAME);
    assert.deepEqual(student.metadata.kernelspec, nb.metadata.kernelspec);
    // The instructor notebook itself is untouched.
    assert.equal(nb.cells[1].execution_count, 3);
  },
);

test('--keep-hidden keeps hidden tests', () => {
  const nb = readNotebook(FIXTURE);
  const { notebook: student } = studentVersion(nb, NAME, { keepHidden: true });
  assert.equal(student.cells.length, nb.cells.length);
  assert.ok(student.cells.some((c) => claimedTestId(c) === '99-square-negative'));
  assert.ok(student.cells.some((c) => claimedTestId(c) === '99-shape'));
});

test('the student version is valid nbformat (checked by nbformat itself) and reads back the same', () => {
  const { notebook: student } = studentVersion(readNotebook(FIXTURE), NAME);
  const text = serializeNotebook(student);
  assert.deepEqual(JSON.parse(text), student);
  const file = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-release-')),
    `${NAME}.ipynb`,
  );
  fs.writeFileSync(file, text);
  const r = spawnSync(
    findPython(),
    [
      '-c',
      'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))',
      file,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('grading is added to the genlab import when the notebook does not import it', () => {
  const nb = notebook([
    code("import { runtime, plot } from 'genlab';\nawait runtime.init({ seed: 0 });"),
    exercise(),
    graded('05-f'),
  ]);
  const { notebook: student } = studentVersion(nb, '05-x');
  assert.equal(
    cellSource(student.cells[0]),
    "import { runtime, plot, grading } from 'genlab';\nawait runtime.init({ seed: 0 });",
  );
  // A notebook that already imports grading keeps its import as it is.
  const already = notebook([
    code("import { grading, runtime } from 'genlab';"),
    nb.cells[1],
    nb.cells[2],
  ]);
  assert.equal(
    cellSource(studentVersion(already, '05-x').notebook.cells[0]),
    "import { grading, runtime } from 'genlab';",
  );
  // A notebook without exercises is copied as is.
  assert.equal(
    cellSource(studentVersion(notebook([nb.cells[0]]), '05-x').notebook.cells[0]),
    cellSource(nb.cells[0]),
  );
  assert.throws(
    () => studentVersion(notebook([nb.cells[1], nb.cells[2]]), '05-x'),
    /05-x: has exercises but no `import \{ \.\.\. \} from 'genlab'` cell/,
  );
});

test('several solution regions in one cell each get their own exercise number', () => {
  const nb = notebook([
    code("import { grading } from 'genlab';"),
    code(
      'function a(): number {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}\nfunction ' +
        'b(): number {\n    // BEGIN SOLUTION\n    return 2;\n    // END SOLUTION\n}',
      exerciseMeta('build'),
    ),
    code('// Test 07-ab (1 point)\ngrading.checkClose(a() + b(), 3);', testMeta('07-ab', 1)),
    code(
      'function c(): number {\n// BEGIN SOLUTION\nreturn 3;\n// END SOLUTION\n}',
      exerciseMeta(),
    ),
    code('// Test 07-c (1 point)\ngrading.checkClose(c(), 3);', testMeta('07-c', 1)),
  ]);
  const { notebook: student, stubs } = studentVersion(nb, '07-flows');
  assert.deepEqual(stubs, ['07-flows-1', '07-flows-2', '07-flows-3']);
  assert.equal(
    cellSource(student.cells[1]),
    "function a(): number {\n  throw grading.notImplemented('07-flows-1');\n}\nfunction b(): " +
      "number {\n    throw grading.notImplemented('07-flows-2');\n}",
  );
  assert.equal(
    cellSource(student.cells[3]),
    "function c(): number {\nthrow grading.notImplemented('07-flows-3');\n}",
  );
});

test('malformed exercise markup is an error naming the notebook, cell and line', () => {
  const one = (source: string) =>
    notebook([
      code("import { grading } from 'genlab';"),
      code(source, exerciseMeta()),
      graded('03-t'),
    ]);
  assert.throws(
    () => studentVersion(one('// BEGIN SOLUTION\nreturn 1;'), '03-a'),
    /03-a, cell 2: the solution opened on line 1 is never closed/,
  );
  assert.throws(
    () => studentVersion(one('return 1;\n// END SOLUTION'), '03-a'),
    /03-a, cell 2: line 2 closes a solution that was never opened/,
  );
  assert.throws(
    () => studentVersion(one('// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION'), '03-a'),
    /line 2 opens a solution while the one of line 1 is still open/,
  );
});

test('malformed test metadata is an error; a header that disagrees with it is a warning', () => {
  const withTest = (
    meta: unknown,
    source = '// Test 01-a (2 points)\ngrading.checkClose(f(), 1);',
  ) => notebook([exercise(), code(source, { genlab: { test: meta } })]);
  assert.throws(
    () => instructorTests(withTest({ id: 'Bad Id', points: 2 }), '01-n'),
    /01-n, cell 2: genlab.test.id must be a kebab-case string like "01-gaussian-kl", got "Bad Id"/,
  );
  assert.throws(
    () => instructorTests(withTest({ id: '01-a', points: 0 }), '01-n'),
    /genlab.test.points of test 01-a must be a positive integer, got 0/,
  );
  assert.throws(
    () => instructorTests(withTest({ id: '01-a', points: 1.5 }), '01-n'),
    /must be a positive integer, got 1.5/,
  );
  assert.throws(
    () => instructorTests(withTest({ id: '01-a', points: 2, hidden: 'yes' }), '01-n'),
    /hidden of test 01-a must be true or false, got "yes"/,
  );
  assert.throws(
    () =>
      instructorTests(
        withTest(
          { id: '01-a', points: 2 },
          '// Test 01-a (2 points)\n// BEGIN SOLUTION\n// END SOLUTION',
        ),
        '01-n',
      ),
    /contains a solution marker/,
  );
  const dup = notebook([exercise(), graded('01-a'), graded('01-a')]);
  assert.throws(
    () => instructorTests(dup, '01-n'),
    /01-n, cell 3: test id 01-a is already used by cell 2/,
  );
  const md: NotebookCell = {
    cell_type: 'markdown',
    id: 'm',
    source: 'x',
    metadata: testMeta('01-a', 2),
  };
  assert.throws(
    () => instructorTests(notebook([exercise(), md]), '01-n'),
    /only code cells can be graded tests, this one is markdown/,
  );
  const warnings: string[] = [];
  const tests = instructorTests(withTest({ id: '01-a', points: 3 }), '01-n', warnings);
  assert.deepEqual(
    tests.map((t) => [t.id, t.points, t.hidden]),
    [['01-a', 3, false]],
  );
  assert.deepEqual(warnings, [
    '01-n, cell 2: test 01-a: its first line should be `// Test 01-a (3 points)`, found `// Test ' +
      '01-a (2 points)`',
  ]);
  const single: string[] = [];
  instructorTests(
    withTest({ id: '01-a', points: 1 }, '// Test 01-a (1 point)\ngrading.checkClose(f(), 1);'),
    '01-n',
    single,
  );
  assert.deepEqual(single, []);
});

test('exercise metadata: kinds, forbidden functions and their checks, each error naming the cell', () => {
  const nb = readNotebook(FIXTURE);
  const report = studentVersion(nb, NAME);
  assert.deepEqual(
    report.exercises.map((e) => [e.kind, e.forbid, e.tests.map((t) => t.id)]),
    [
      ['formula', [], ['99-square', '99-square-negative']],
      ['build', [], ['99-row-sums']],
      ['formula', ['distributions.kl'], ['99-gaussian-kl']],
      ['formula', [], ['99-softplus']],
      ['experiment', [], ['99-descent']],
      ['interpret', [], ['99-shape']],
    ],
  );
  const problems = (cells: NotebookCell[]) => () => instructorTests(notebook(cells), '04-n');
  assert.throws(
    problems([code('// BEGIN SOLUTION\nconst x = 1;\n// END SOLUTION'), graded('04-a')]),
    /04-n, cell 1: has a solution but no exercise metadata; add \{"genlab": \{"exercise": \{"kind": "build"\}\}\}/,
  );
  assert.throws(
    problems([exercise('biuld'), graded('04-a')]),
    /04-n, cell 1: genlab.exercise.kind must be one of build, experiment, interpret, formula, got "biuld" \(did you mean 'build'\?\)/,
  );
  assert.throws(
    problems([
      code('// BEGIN SOLUTION\n// END SOLUTION', {
        genlab: { exercise: { kind: 'build', forbids: [] } },
      }),
      graded('04-a'),
    ]),
    /04-n, cell 1: genlab.exercise has an unknown field 'forbids' \(did you mean 'forbid'\?\)/,
  );
  assert.throws(
    problems([exercise('formula', ['distributions.kll']), graded('04-a')]),
    /04-n, cell 1: genlab.exercise.forbid: distributions.kll: distributions has no 'kll' \(did you mean kl\?\)/,
  );
  assert.throws(
    problems([exercise('formula', ['runtime.QUICK_ENV']), graded('04-a')]),
    /runtime.QUICK_ENV is not a function/,
  );
  assert.throws(
    problems([exercise('formula', 'distributions.kl' as never), graded('04-a')]),
    /genlab.exercise.forbid must be a list of library functions like \["distributions.kl"\], got "distributions.kl"/,
  );
  assert.throws(
    problems([code('const x = 1;', exerciseMeta()), graded('04-a')]),
    /04-n, cell 1: an exercise cell must be a code cell with the solution between/,
  );
  assert.throws(
    problems([graded('04-a'), exercise()]),
    /04-n, cell 1: test 04-a comes before any exercise/,
  );
  assert.throws(
    problems([exercise()]),
    /04-n, cell 1: the formula exercise has no graded test after it/,
  );
  assert.throws(
    problems([exercise('interpret'), graded('04-a')]),
    /04-n, cell 2: test 04-a grades an interpret exercise and would show its answer; make it hidden/,
  );
  assert.throws(
    problems([
      exercise(),
      code('// Test 04-a (2 points)\ngrading.checkClose(f(), 1);', {
        genlab: { test: { id: '04-a', points: 2, hiden: true } },
      }),
    ]),
    /genlab.test has an unknown field 'hiden' \(did you mean 'hidden'\?\)/,
  );
  // Every problem of a notebook is reported at once.
  assert.throws(
    problems([exercise('biuld'), graded('04-a'), exercise(), code('x;', testMeta('04-b', 1))]),
    (err: Error) => {
      assert.match(
        err.message,
        /^04-n: 2 problems:\n {2}04-n, cell 1: .*kind.*\n {2}04-n, cell 4: test 04-b: a test cell must call grading.check[^\n]*$/,
      );
      return true;
    },
  );
  // A hidden interpret test is fine.
  assert.equal(
    instructorTests(notebook([exercise('interpret'), graded('04-a', 1, true)]), '04-n').length,
    1,
  );
});
