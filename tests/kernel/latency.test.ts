/**
 * The kernel's latency, guarded by counts instead of clocks: the compiler work a cell causes
 * (programs built, declaration files read) and what the warm-up prepares before the first cell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { createConverter } from 'tslab/dist/converter';
import { Kernel } from '../../scripts/kernel/main';

/** tslab's TypeScript (the real module object, so that the spy below sees tslab's reads). */
const tslabSys = (require('@tslab/typescript-for-tslab') as typeof import('typescript')).sys;

/** The declaration files tslab reads while `body` runs. */
async function declarationsRead(body: () => unknown): Promise<string[]> {
  const readFile = tslabSys.readFile;
  const read: string[] = [];
  tslabSys.readFile = (file, encoding) => {
    if (file.endsWith('.d.ts')) read.push(file);
    return readFile.call(tslabSys, file, encoding);
  };
  try {
    await body();
  } finally {
    tslabSys.readFile = readFile;
  }
  return read;
}

test('patched tslab: a cell builds two plain programs, reusing every parsed declaration', async () => {
  const converter = createConverter({ isJS: false, isBrowser: false });
  try {
    assert.equal(converter.stats.programs, 1, 'the watch program starts with one program');
    let prev = '';
    const compile = (src: string) => {
      const result = converter.convert(prev, src);
      assert.deepEqual(result.diagnostics, [], src);
      prev = result.declOutput!;
    };
    const first = await declarationsRead(() => compile("import { runtime } from 'genlab';"));
    assert.ok(first.length > 100, "genlab's declarations are read once");
    for (const src of ['const a = 1 + 1', 'const b = runtime.quickOr(a, 2)']) {
      const before: number = converter.stats.programs;
      const read = await declarationsRead(() => compile(src));
      // One program to find the cell's names, one with them exported, each built by the plain
      // builder that reuses the previous program's files (tslab's default builder resolved the
      // imports of every declaration file again for each).
      assert.equal(converter.stats.programs - before, 2, src);
      assert.deepEqual(read, [], src);
    }
  } finally {
    converter.close();
  }
});

test("patched tslab: a cell's local .ts modules compile with it, their errors reported", () => {
  // Under the working folder, which tslab's TypeScript reads once per process.
  fs.mkdirSync('build', { recursive: true });
  const dir = path.relative(process.cwd(), fs.mkdtempSync(path.join('build', 'kernel-modules-')));
  fs.writeFileSync(path.join(dir, 'helper.ts'), 'export const twice = (x: number) => 2 * x;\n');
  fs.writeFileSync(
    path.join(dir, 'broken.ts'),
    "import { twice } from './helper';\nexport const s: string = twice(1);\n",
  );
  const converter = createConverter({ isJS: false, isBrowser: false });
  try {
    const ok = converter.convert(
      '',
      `import { twice } from './${dir}/helper';\nconst y = twice(21);`,
    );
    assert.deepEqual(ok.diagnostics, []);
    assert.match(ok.output!, /exports\.y = y/, 'the cell exports its names to later cells');
    assert.deepEqual(
      ok.sideOutputs?.map((o) => path.relative(process.cwd(), o.path)),
      [path.join(dir, 'helper.js')],
    );
    const bad = converter.convert('', `import { s } from './${dir}/broken';\nconst z = s;`);
    assert.deepEqual(
      bad.diagnostics.map((d) => [d.fileName, d.start.line, d.messageText]),
      [[path.join(dir, 'broken.ts'), 1, "Type 'number' is not assignable to type 'string'."]],
    );
  } finally {
    converter.close();
    fs.rmSync(dir, { recursive: true });
  }
});

test('kernel warm-up: the first cell reads no declarations and finds genlab loaded', async () => {
  const genlab = require.resolve('genlab');
  assert.equal(require.cache[genlab], undefined, 'genlab is not loaded before the warm-up');
  const kernel = new Kernel();
  try {
    assert.ok((await declarationsRead(() => kernel.warm())).length > 100);
    assert.ok(require.cache[genlab], 'the warm-up loads genlab as the notebook resolves it');
    const first = await declarationsRead(async () =>
      assert.ok(await kernel.executor.execute("import { runtime } from 'genlab';\nruntime;")),
    );
    assert.deepEqual(first, []);
  } finally {
    kernel.executor.close();
  }
});
