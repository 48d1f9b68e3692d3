import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import { spawnSync } from 'child_process';
import * as path from 'path';
import {
  cellSource,
  executeNotebook,
  firstError,
  kernelSpec,
  Notebook,
  listNotebooks,
  makeHtmlOffline,
  readNotebook,
  ROOT,
} from '../../scripts/jupyter';

const notebooks = listNotebooks();

test('there are notebooks, named NN-topic.ipynb', () => {
  assert.ok(notebooks.length > 0);
  for (const nb of notebooks) assert.match(path.basename(nb), /^\d\d-[a-z0-9-]+\.ipynb$/);
});

for (const file of notebooks) {
  test(
    `${path.basename(file)} is committed clean: nbformat 4.5, unique cell ids, no outputs, ` +
      `tslab kernel`,
    () => {
      const nb = readNotebook(file);
      assert.equal(nb.nbformat, 4);
      assert.ok(nb.nbformat_minor >= 5, `nbformat_minor ${nb.nbformat_minor}`);
      const ids = nb.cells.map((c) => c.id);
      assert.equal(new Set(ids).size, ids.length, 'cell ids are unique');
      for (const [i, cell] of nb.cells.entries()) {
        assert.match(cell.id ?? '', /^[a-zA-Z0-9-_]{1,64}$/, `cell ${i} id`);
        if (cell.cell_type === 'code') {
          assert.deepEqual(cell.outputs, [], `cell ${i} has outputs`);
          assert.equal(cell.execution_count ?? null, null, `cell ${i} has an execution count`);
        }
      }
      const spec = nb.metadata.kernelspec as { name: string; language: string };
      assert.equal(spec.name, 'tslab');
      assert.equal(spec.language, 'typescript');
      const first = nb.cells.find((c) => c.cell_type === 'code');
      assert.ok(
        first && /runtime\.init\(/.test(cellSource(first)),
        'the first code cell calls ' + 'runtime.init',
      );
      assert.equal(
        nb.cells[0].cell_type,
        'markdown',
        'a notebook opens with its question in ' + 'Markdown',
      );
    },
  );
}

test("the kernelspec starts the kit's kernel with this Node.js", () => {
  const spec = kernelSpec() as { argv: string[]; interrupt_mode: string };
  assert.deepEqual(spec.argv, [
    process.execPath,
    path.join(ROOT, 'dist', 'scripts', 'kernel', 'main.js'),
    '--config-path',
    '{connection_file}',
  ]);
  assert.equal(spec.interrupt_mode, 'signal');
});

test('a malformed notebook gives one clear error naming the file and the problem', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-nb-'));
  const cases: Array<[string, RegExp]> = [
    ['{"cells": [', /malformed notebook, not valid JSON/],
    [
      '{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "cells": []}',
      /malformed notebook, nbformat is 3, expected 4/,
    ],
    [
      '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
      /malformed notebook, 'cells' is missing or not a list/,
    ],
    [
      '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": ' +
        '"code", "id": ' +
        '"a", "source": "1", "metadata": {}}]}',
      /code cell 0 has no outputs list/,
    ],
    [
      '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "markdown", ' +
        '"source": "x", "metadata": {}}]}',
      /cell 0 has no id/,
    ],
  ];
  for (const [text, message] of cases) {
    const file = path.join(dir, 'bad.ipynb');
    fs.writeFileSync(file, text);
    await assert.rejects(
      executeNotebook(file),
      (e: Error) => e.message.startsWith(`${file}: malformed notebook`) && message.test(e.message),
    );
  }
  assert.throws(
    () => readNotebook(path.join(dir, 'missing.ipynb')),
    /missing.ipynb: cannot be read \(ENOENT\)/,
  );
});

test('exported HTML loads no script or stylesheet from the network', () => {
  const page =
    '<html><head><script src="https://cdn.example/require.min.js"></script>' +
    '<script src="file:///usr/share/javascript/mathjax/MathJax.js?config=TeX"></script>' +
    '<link rel="stylesheet" ' +
    'href="https://cdn.example/x.css"></head><body><p>$x^2$</p></body></html>';
  const out = makeHtmlOffline(page);
  assert.doesNotMatch(out, /<script[^>]*\ssrc=/i);
  assert.doesNotMatch(out, /<link[^>]*href="https?:/i);
  assert.match(out, /window\.MathJax=\{tex:/);
});

test('the runner reports a malformed notebook as failed, with the reason, and exits non-zero', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-run-'));
  const file = path.join(dir, '99-broken.ipynb');
  fs.writeFileSync(file, '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [');
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'dist', 'scripts', 'run-notebooks.js'), '--quick', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /99-broken\.ipynb\s+FAILED/);
  assert.match(r.stdout, /malformed notebook, not valid JSON/);
  assert.match(r.stdout, /0 passed, 1 failed/);
  const bad = spawnSync(
    process.execPath,
    [path.join(ROOT, 'dist', 'scripts', 'run-notebooks.js'), '--fast'],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown option --fast/);
});

test('a failing cell stops the run and is reported with its error message and its cell', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-run-'));
  const file = path.join(dir, '97-failing.ipynb');
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
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: [
      cell('a', "console.log('first');"),
      cell('b', "throw new Error('the data file is " + "missing: reinstall it');"),
      cell('c', "console.log('never');"),
    ],
  };
  fs.writeFileSync(file, JSON.stringify(nb));
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'dist', 'scripts', 'run-notebooks.js'), '--no-static-images', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /cell 2: Error: the data file is missing: reinstall it/);
  const executedFile = path.join(ROOT, 'build', 'notebooks', '97-failing.ipynb');
  try {
    assert.deepEqual(
      readNotebook(executedFile).cells[2].outputs,
      [],
      'cells after the failing ' + 'one are not run',
    );
  } finally {
    fs.rmSync(executedFile, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed run names the cell and its error; after a timeout, how to raise the limit', () => {
  const failed = (ename: string): Notebook => ({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', id: 'm', metadata: {}, source: ['# Title'] },
      {
        cell_type: 'code',
        id: 'c',
        metadata: {},
        source: ['await train();'],
        execution_count: 1,
        outputs: [{ output_type: 'error', ename, evalue: 'it stopped', traceback: [] }],
      },
    ],
  });
  const timeout = firstError(failed('CellTimeout'));
  assert.match(timeout ?? '', /^cell 2: CellTimeout: it stopped\n {2}if the cell is just slow/);
  assert.match(timeout ?? '', /npm run notebooks -- --timeout SECONDS/);
  assert.equal(
    firstError(failed('TypeError')),
    'cell 2: TypeError: it stopped\n  | await train();',
  );
});
