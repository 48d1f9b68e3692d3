/**
 * The grader's cell runner (scripts/grading/run_cells.py) on its time limits and kernel deaths.
 * These use Jupyter's Python kernel, which starts in a second, so the limits can be short; the
 * tslab path is covered by grade-jupyter.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, NotebookCell, ROOT, findPython } from '../../scripts/jupyter';
import { sourceLines } from '../../scripts/grading/format';
import { serializeNotebook } from '../../scripts/grading/release';

const hasPythonKernel =
  fs.existsSync('/usr/share/jupyter/kernels/python3') ||
  fs.existsSync('/usr/local/share/jupyter/kernels/python3');

function run(
  sources: string[],
  cellTimeout: number,
  totalTimeout: number,
): { cells: NotebookCell[]; kernelPid: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-run-cells-'));
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: sources.map((s, i) => ({
      cell_type: 'code',
      id: `c${i}`,
      source: sourceLines(s),
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
  };
  const input = path.join(dir, 'in.ipynb');
  const output = path.join(dir, 'out.ipynb');
  const pidFile = path.join(dir, 'pid');
  fs.writeFileSync(input, serializeNotebook(nb));
  const r = spawnSync(
    findPython(),
    [
      path.join(ROOT, 'scripts', 'grading', 'run_cells.py'),
      input,
      output,
      '--kernel',
      'python3',
      '--cwd',
      dir,
      '--cell-timeout',
      String(cellTimeout),
      '--total-timeout',
      String(totalTimeout),
      '--pid-file',
      pidFile,
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const cells = (JSON.parse(fs.readFileSync(output, 'utf8')) as Notebook).cells;
  const kernelPid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(dir, { recursive: true });
  return { cells, kernelPid };
}

const errorName = (cell: NotebookCell) =>
  (cell.outputs ?? []).find((o) => o.output_type === 'error')?.ename ?? null;
const stdout = (cell: NotebookCell) =>
  (cell.outputs ?? [])
    .filter((o) => o.name === 'stdout')
    .map((o) => o.text)
    .join('');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test(
  'an infinite loop and a dying kernel cost only their own cell: the kernel restarts with the ' +
    'earlier cells replayed',
  { skip: !hasPythonKernel && 'no Python kernel' },
  () => {
    const { cells, kernelPid } = run(
      [
        'x = 1',
        'while True:\n    pass',
        'print(x + 1)',
        'import os\nos._exit(1)',
        'print(x + 2)',
        'raise ValueError("bad")',
        'print(x + 3)',
      ],
      8,
      200,
    );
    assert.deepEqual(cells.map(errorName), [
      null,
      'CellTimeout',
      null,
      'KernelDied',
      null,
      'ValueError',
      null,
    ]);
    assert.deepEqual(
      [2, 4, 6].map((i) => stdout(cells[i]).trim()),
      ['2', '3', '4'],
    );
    assert.match(
      String(cells[1].outputs?.[0].evalue),
      /did not finish within 8 s \(an infinite loop\?\)/,
    );
    assert.equal(alive(kernelPid), false, 'the last kernel is gone');
  },
);

test(
  'past the submission time limit the running cell is stopped and the rest is not run',
  { skip: !hasPythonKernel && 'no Python kernel' },
  () => {
    const { cells, kernelPid } = run(['x = 1', 'while True:\n    pass', 'print(x)'], 100, 6);
    assert.deepEqual(cells.map(errorName), [null, 'SubmissionTimeout', 'NotRun']);
    assert.match(String(cells[1].outputs?.[0].evalue), /time limit of 6 s ran out in this cell/);
    assert.equal(alive(kernelPid), false, 'the looping kernel was killed');
  },
);
