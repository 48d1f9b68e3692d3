/**
 * Feedback pages: the score and every test's outcome and reason, the notebook as it ran with each
 * test replaced by its verdict, and nothing of the student's output able to run in a browser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notebook } from '../../scripts/jupyter';
import { feedbackPage, plainText } from '../../scripts/grading/feedback';
import { sourceLines } from '../../scripts/grading/format';
import { ScoreRow } from '../../scripts/grading/results';

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E' +
  'rkJggg==';

function notebook(outputs: Array<Record<string, unknown>>): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', id: 'm', metadata: {}, source: sourceLines('# Task <b>bold</b>') },
      {
        cell_type: 'code',
        id: 'c',
        metadata: {},
        source: sourceLines('console.log("<script>alert(1)</script>");'),
        outputs,
        execution_count: null,
      },
      {
        cell_type: 'code',
        id: 't',
        metadata: { genlab: { test: { id: '01-a', points: 2 } } },
        source: sourceLines(
          '// Test 01-a (2 points)\ngenlabGrader.session.report("01-a", 0, () => (f));',
        ),
        outputs: [],
        execution_count: null,
      },
    ],
  };
}

const rows: ScoreRow[] = [
  {
    submission: 'alice/01.ipynb',
    test: '01-a',
    kind: 'build',
    points: 0,
    max_points: 2,
    reason: 'f: wrong value <img src=x onerror=alert(1)>',
  },
  {
    submission: 'alice/01.ipynb',
    test: '01-b',
    kind: 'interpret',
    points: 1,
    max_points: 1,
    reason: 'passed',
  },
];

test('the page shows the score, each outcome and reason, and the cells with the verdicts in place of the tests', () => {
  const ran = notebook([]);
  const executed = notebook([
    { output_type: 'stream', name: 'stdout', text: '<script>alert(1)</script>\n' },
    { output_type: 'display_data', data: { 'image/png': PNG, 'text/plain': 'fig' } },
    { output_type: 'display_data', data: { 'text/html': '<div onclick="x()">plot</div>' } },
    { output_type: 'error', ename: 'Error', evalue: `bad ${String.fromCharCode(27)}[31mred` },
  ]);
  const html = feedbackPage({
    submission: 'alice/01.ipynb',
    assignment: '01-x',
    rows,
    ran,
    executed,
    hiddenTests: new Set(['01-b']),
  });
  assert.match(html, /<title>01-x: 1 \/ 3 points<\/title>/);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">/,
  );
  assert.match(
    html,
    /<td>01-b \(hidden\)<\/td><td>interpret<\/td><td class="points">1 \/ 1<\/td><td>passed<\/td>/,
  );
  assert.match(html, /f: wrong value &lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /<div class="verdict failed"><b>Test 01-a<\/b> \(build\): 0 \/ 2 points/);
  assert.doesNotMatch(html, /genlabGrader/, "the grader's version of a test is not shown");
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(
    html,
    new RegExp(`<img alt="figure" src="data:image/png;base64,${PNG.replace(/[+/]/g, '\\$&')}">`),
  );
  assert.match(html, /\[a figure or table: open the executed notebook to see it\]/);
  assert.match(html, /Error: bad red/);
  // Nothing from the student's run is markup.
  assert.doesNotMatch(html, /<script|<[^>]*\s(onclick|onerror)=|<b>bold/i);
});

test('outputs that do not match the cells are not shown; long texts and bad images are cut', () => {
  const ran = notebook([]);
  const shuffled = notebook([{ output_type: 'stream', name: 'stdout', text: 'SECRET-OUTPUT' }]);
  shuffled.cells.reverse();
  const html = feedbackPage({
    submission: 'a',
    assignment: null,
    rows,
    ran,
    executed: shuffled,
    hiddenTests: new Set(),
  });
  assert.match(html, /could not be matched to its cells/);
  assert.doesNotMatch(html, /SECRET-OUTPUT/);
  const bad = notebook([
    { output_type: 'display_data', data: { 'image/png': 'not base64 "><script>' } },
    { output_type: 'stream', name: 'stdout', text: 'y'.repeat(50_000) },
  ]);
  const page = feedbackPage({
    submission: 'a',
    assignment: null,
    rows,
    ran,
    executed: bad,
    hiddenTests: new Set(),
  });
  assert.doesNotMatch(page, /<script/);
  assert.match(page, /\[\.\.\. 30000 more characters not shown\]/);
  assert.equal(plainText(`a${String.fromCharCode(0)}b\tc\n`), 'ab\tc\n');
});
