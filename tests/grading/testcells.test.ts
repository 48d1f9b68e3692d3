/**
 * Splitting test cells: the graded calls found with TypeScript's parser, the rules that keep a
 * test's own code out of a submission's kernel, and the two programs the grader writes from a
 * cell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradedCalls, referenceSource, studentSource } from '../../scripts/grading/testcells';

test('graded calls: method and checked expression of each top-level grading call, in order', () => {
  const source = [
    '// Test 05-x (3 points)',
    'const randomMixture = () => [runtime.random()];',
    'grading.check(responsibilities, (a: number) => [a], { inputs: randomMixture });',
    "grading.checkClose(f(-3), 9, { what: 'f(-3)' });",
    "grading.checkRange(finalLoss, { max: 100, what: 'loss' });",
    "grading.checkAnswer(answer.trim(), 'b', { choices: ['a', 'b'] });",
    'console.log(grading.formatValue(1));',
  ].join('\n');
  const calls = gradedCalls(source, 'n, cell 3');
  assert.deepEqual(
    calls.map((c) => [c.method, c.subject]),
    [
      ['check', 'responsibilities'],
      ['checkClose', 'f(-3)'],
      ['checkRange', 'finalLoss'],
      ['checkAnswer', 'answer.trim()'],
    ],
  );
  assert.equal(
    referenceSource(source, '05-x', calls).split('\n').slice(2, 4).join('\n'),
    'grading.session.site("05-x", 0).check(responsibilities, (a: number) => [a], { inputs: ' +
      'randomMixture });\n' +
      'grading.session.site("05-x", 1).checkClose(f(-3), 9, { what: \'f(-3)\' });',
  );
  const student = studentSource('// Test 05-x (3 points)', '05-x', calls);
  assert.match(student, /^\/\/ Test 05-x \(3 points\)\n/);
  assert.match(
    student,
    /genlabGrader\.session\.report\("05-x", 3, \(\) => \(answer\.trim\(\)\)\);$/,
  );
  assert.doesNotMatch(student, /randomMixture|choices|'b'|100/);
});

test('a subject may declare its own names; property names are not references', () => {
  const calls = gradedCalls(
    'const x = 2;\ngrading.check((x: number) => model.x + x, ref, { inputs });',
    'n, cell 1',
  );
  assert.equal(calls[0].subject, '(x: number) => model.x + x');
});

test('test cells the grader cannot split are errors naming the cell and line', () => {
  const bad: Array<[string, RegExp]> = [
    [
      'console.log(1);',
      /n, cell 4: a test cell must call grading.check, .* at its top level; this one calls none/,
    ],
    [
      'for (const s of [1, 2]) grading.checkClose(f(s), s);',
      /n, cell 4, line 1: grading.checkClose must be called as a statement of its own at the top level/,
    ],
    [
      'function t() {\n  grading.check(f, g, { inputs });\n}\nt();',
      /line 2: grading.check must be called/,
    ],
    ['const ok = grading.checkClose(f(), 1);', /must be called as a statement of its own/],
    ['const c = grading.check;\nc(f, g, { inputs });', /must be called as a statement of its own/],
    ['grading.checkClose();', /grading.checkClose needs the value to check/],
    [
      'const y = helper(3);\ngrading.checkClose(square(y), 9);',
      /line 2: the checked expression of grading.checkClose uses y, which the test cell itself defines; .* define it in an earlier cell/,
    ],
    [
      'function local(v: number) { return v; }\ngrading.check(local, ref, { inputs });',
      /uses local, which the test cell itself defines/,
    ],
  ];
  for (const [source, message] of bad)
    assert.throws(() => gradedCalls(source, 'n, cell 4'), message, source);
});
