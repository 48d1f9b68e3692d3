/**
 * In a notebook, errors outside a cell's own code must not kill the tslab kernel: the wasm
 * backend's Emscripten module installs process handlers that rethrow them, and tslab's unawaited
 * ZeroMQ sends can reject with EBUSY while training keeps the event loop busy. runtime.init undoes
 * the former and drops the latter. (Without it, the same notebook reports "the kernel died" in its
 * second cell.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { BUILD_DIR, cellSource, executeNotebook, readNotebook } from '../../scripts/jupyter';

test(
  'after runtime.init, an EBUSY rejection and an error thrown in a timer leave the ' +
    'kernel alive',
  async () => {
    // Under build/, so that the kernel (whose working folder is the notebook's) resolves 'genlab'.
    const dir = path.join(BUILD_DIR, 'test-kernel');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'kernel-alive.ipynb');
    const cell = (id: string, source: string) => ({
      cell_type: 'code',
      id,
      source,
      metadata: {},
      outputs: [],
      execution_count: null,
    });
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
      },
      cells: [
        cell('init', "import { runtime } from 'genlab';\nawait runtime.init({ report: false });"),
        cell(
          'errors',
          "Promise.reject(Object.assign(new Error('socket busy'), { code: 'EBUSY' " +
            "}));\nsetTimeout(() => { throw new Error('a timer failed'); }, 0);\nawait new " +
            'Promise((r) => setTimeout(r, 300));',
        ),
        cell('after', "console.log('still alive');"),
      ],
    };
    fs.writeFileSync(file, JSON.stringify(nb));
    const result = await executeNotebook(file, {
      outDir: path.join(dir, 'executed'),
      cellTimeout: 120,
    });
    assert.ok(result.ok, result.error);
    const executed = readNotebook(result.output as string);
    const text = (i: number) =>
      (executed.cells[i].outputs ?? [])
        .map((o) => cellSource({ source: (o.text ?? '') as string } as never))
        .join('');
    assert.match(text(2), /still alive/);
    assert.match(text(1), /a timer failed/, 'tslab still reports other errors');
    assert.doesNotMatch(text(1), /socket busy/, 'a dropped EBUSY output is not reported');
  },
);
