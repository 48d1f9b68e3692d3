/**
 * The grader's cell runner (scripts/grading/run_cells.py) on its time limits, kernel deaths, output
 * cap and results bundle. These use Jupyter's Python kernel, which starts in a second, so the
 * limits can be short; the tslab path in a sandbox is covered by hostile.test.ts.
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
  extra: string[] = [],
): { cells: NotebookCell[]; kernelPid: number; bundle: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-run-cells-'));
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: sources.map((s, i) => ({
      cell_type: 'code',
      id: `c${i}`,
      source: sourceLines(s.replace('{dir}', dir)),
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
      ...extra.map((a) => a.replace('{dir}', dir)),
    ],
    { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
  );
  assert.equal(r.status, 0, r.stderr);
  const cells = (JSON.parse(fs.readFileSync(output, 'utf8')) as Notebook).cells;
  const kernelPid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.rmSync(dir, { recursive: true });
  return { cells, kernelPid, bundle: String(r.output[3] ?? '') };
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

test(
  'outputs past the cap are cut with a note in each cell that lost some, every error still ' +
    "shows, and the bundle carries the notebook and the kernel's records",
  { skip: !hasPythonKernel && 'no Python kernel' },
  () => {
    const { cells, bundle } = run(
      [
        'print("a" * 50000)',
        'print("b" * 100)\nprint("c" * 3000000)',
        'raise ValueError("still shown")',
        "open(r'{dir}/records.jsonl', 'w').write('{\"test\": \"t\"}\\n')",
      ],
      30,
      200,
      ['--max-output-bytes', '60000', '--output-file', '{dir}/records.jsonl', '--bundle-fd', '3'],
    );
    const text = (cell: NotebookCell) =>
      (cell.outputs ?? [])
        .map((o) => (Array.isArray(o.text) ? o.text.join('') : String(o.text ?? '')))
        .join('');
    assert.equal(text(cells[0]).trim(), 'a'.repeat(50000));
    assert.match(text(cells[1]), /^b{100}\nc+/);
    assert.ok(text(cells[1]).length < 20000, `${text(cells[1]).length} characters kept`);
    assert.match(
      text(cells[1]),
      /\[output truncated: 3\.\d MB of this cell's output not kept; the grader keeps 60\.0 kB of output per notebook\]/,
    );
    assert.equal(errorName(cells[2]), 'ValueError');
    const parsed = JSON.parse(bundle) as {
      notebook: Notebook;
      output: string;
      output_truncated: boolean;
    };
    assert.equal(parsed.notebook.cells.length, 4);
    assert.equal(parsed.output, '{"test": "t"}\n');
    assert.equal(parsed.output_truncated, false);
  },
);
