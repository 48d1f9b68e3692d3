/**
 * The notebook runner through the real kernel: output that outruns the kernel's ZeroMQ socket
 * arrives in full and in order (tslab does not wait for its sends, and zeromq defers every 513th
 * send to the event loop: in a cell that never yields, the sends after it used to throw EBUSY,
 * which ended the cell and swallowed tslab's own report of the error: "the cell failed without a
 * message"); errors outside a cell's code leave the kernel alive; and a kernel that dies says how.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  BUILD_DIR,
  cellSource,
  executeNotebook,
  kernelLastWords,
  readNotebook,
} from '../../scripts/jupyter';

// Under build/, so that the kernel (whose working folder is the notebook's) resolves 'genlab'.
const dir = path.join(BUILD_DIR, 'test-kernel');

/** Runs a notebook of the given code cells; returns the result and each cell's text output. */
async function run(name: string, cells: string[], env: Record<string, string> = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.ipynb`);
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((source, i) => ({
      cell_type: 'code',
      id: `cell-${i}`,
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    })),
  };
  fs.writeFileSync(file, JSON.stringify(nb));
  const result = await executeNotebook(file, { outDir: path.join(dir, 'executed'), env });
  const executed = result.output ? readNotebook(result.output) : undefined;
  const outputs = (i: number) => executed?.cells[i].outputs ?? [];
  const text = (i: number) =>
    outputs(i)
      .map((o) => cellSource({ source: (o.text ?? o.evalue ?? '') as string } as never))
      .join('');
  return { result, outputs, text };
}

const INIT = "import { runtime } from 'genlab';\nawait runtime.init({ report: false });";

test(
  'after runtime.init, a cell that redraws an output 600 times without yielding ends with all ' +
    'of it, and an error thrown in a timer leaves the kernel alive',
  async () => {
    const { result, outputs, text } = await run('kernel-sends', [
      INIT,
      [
        'const out = new runtime.LiveOutput();',
        "for (let i = 0; i < 600; i++) out.update({ 'text/plain': `redraw ${i}` });",
        "console.log('loop done');",
      ].join('\n'),
      [
        "setTimeout(() => { throw new Error('a timer failed'); }, 0);",
        'await new Promise((r) => setTimeout(r, 300));',
      ].join('\n'),
      "console.log('still alive');",
    ]);
    assert.ok(result.ok, result.error);
    const redraws = outputs(1).filter((o) => o.output_type === 'display_data');
    assert.equal(redraws.length, 1, 'the redraws replace one output');
    const shown = (redraws[0].data as Record<string, string | string[]>)['text/plain'];
    assert.equal([shown].flat().join(''), 'redraw 599', 'the last redraw is the one shown');
    assert.match(text(1), /loop done/);
    assert.match(text(2), /a timer failed/, 'tslab still reports errors outside cells');
    assert.match(text(3), /still alive/);
  },
);

test('a kernel killed in a cell is reported with its signal, not as a silent failure', async () => {
  const { result } = await run('kernel-killed', [
    "console.log('before');",
    "process.kill(process.pid, 'SIGKILL');",
  ]);
  assert.equal(result.ok, false);
  assert.match(
    result.error ?? '',
    /cell 2: KernelDied: the kernel died in this cell: it was killed by signal 9 \(SIGKILL: the system's out-of-memory killer/,
  );
  assert.doesNotMatch(result.error ?? '', /run again in a new kernel/);
  assert.ok((result.peakMemory ?? 0) > 10e6, `peak memory ${result.peakMemory} of a live kernel`);
});

test('a kernel whose JavaScript heap fills up is reported as out of memory', async () => {
  // A 300 MB heap fills in a second or two; the kernel itself needs about 160 MB.
  const { result } = await run(
    'kernel-oom',
    [
      "console.log('before');",
      'const hog: number[][] = [];\nfor (;;) hog.push(new Array(1e6).fill(1));',
    ],
    { NODE_OPTIONS: '--max-old-space-size=300' },
  );
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /cell 2: KernelDied: .*killed by signal 6 \(SIGABRT/);
  assert.match(result.error ?? '', /last words:\n.*JavaScript heap out of memory/);
});

test("the kernel's last words are its fatal lines, not the rest of the log", () => {
  const log = [
    '[NbClientApp] Executing notebook',
    '<--- Last few GCs --->',
    'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
    ' 1: 0xb8d0a3 node::Abort() [node]',
  ].join('\n');
  assert.deepEqual(kernelLastWords(log), [
    'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
  ]);
  assert.deepEqual(kernelLastWords('all fine\n'), []);
});
