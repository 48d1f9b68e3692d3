/**
 * The course notebooks follow the exercise format: every one releases cleanly (balanced solution
 * markers, valid and unique test ids, headers that match the metadata) and has the exercises the
 * course asks for (at least three in each of notebooks 01-05, two in each later one, among them
 * a build, an experiment and an interpret exercise), each followed by graded tests, visible ones
 * except for interpretations; the README's exercise table is the one these notebooks produce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, cellSource, listNotebooks, readNotebook } from '../../scripts/jupyter';
import {
  EXERCISE_TABLE_HEADER,
  exerciseTableRows,
  studentVersion,
} from '../../scripts/grading/release';

const LEARNING_KINDS = ['build', 'experiment', 'interpret'] as const;

for (const file of listNotebooks()) {
  const name = path.basename(file, '.ipynb');
  test(`${name}: releases cleanly, with enough exercises and graded tests`, () => {
    const nb = readNotebook(file);
    const report = studentVersion(nb, name);
    assert.deepEqual(report.warnings, []);
    const number = Number(name.slice(0, 2));
    const required = number >= 1 && number <= 5 ? 3 : 2;
    assert.ok(
      report.exercises.length >= required,
      `${name} has ${report.exercises.length} exercise(s), needs at least ${required}`,
    );
    const kinds = new Set(report.exercises.map((e) => e.kind));
    assert.deepEqual(
      LEARNING_KINDS.filter((k) => !kinds.has(k)),
      [],
      `${name}: exercise kinds missing`,
    );
    // Students check their work with a visible test; an interpretation's tests are hidden.
    const unchecked = report.exercises.filter(
      (e) => e.kind !== 'interpret' && !e.tests.some((t) => !t.hidden),
    );
    assert.deepEqual(
      unchecked.map((e) => `exercise ${e.number}`),
      [],
      `${name}: exercises without a visible test`,
    );
    for (const t of report.tests)
      assert.ok(
        t.id.startsWith(`${name.slice(0, 2)}-`),
        `test id ${t.id} should start with the notebook number`,
      );
    // A test cannot run before the exercise it checks: none comes before the first solution.
    const solutionCells = nb.cells
      .map((c, i) => (/\/\/\s*BEGIN SOLUTION/.test(cellSource(c)) ? i : -1))
      .filter((i) => i >= 0);
    const firstSolution = Math.min(...solutionCells);
    for (const t of report.tests)
      assert.ok(t.index > firstSolution, `test ${t.id} comes before any exercise`);
  });
}

test("the README's exercise table lists every notebook's exercises as they are", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- exercises: [^>]*-->\n([\s\S]*?)<!-- end of exercises -->/.exec(readme);
  assert.ok(block, 'README.md has the exercise table between its markers');
  const rows = listNotebooks().flatMap((file) => {
    const name = path.basename(file, '.ipynb');
    return exerciseTableRows(name, studentVersion(readNotebook(file), name).exercises);
  });
  assert.equal(
    block[1],
    [...EXERCISE_TABLE_HEADER, ...rows, ''].join('\n'),
    "the README's exercise table is out of date: paste the table that " +
      '`npm run assignments -- --markdown` prints between its markers',
  );
});
