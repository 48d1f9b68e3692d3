import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { nn, runtime, tf, training } from 'genlab';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'genlab-ckpt-'));
}

/** A config reader for tests: any object, typed as C. */
function anyConfig<C>(raw: unknown): C {
  return raw as C;
}

/** The pid of a process that has exited (for leftovers and locks of a dead process). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

const CHILD = path.join(__dirname, 'save-loop-child.js');

/** The checkpoint's counter, after checking that it is complete and consistent. */
function loadCounter(dir: string): number {
  const { config, tensors } = training.loadCheckpoint(dir, anyConfig<{ counter: number }>);
  for (const t of Object.values(tensors)) {
    const values = t.dataSync();
    assert.equal(values.length, 1 << 19, 'every tensor is complete');
    assert.ok(
      values.every((v) => v === config.counter),
      'weights and config are from one save',
    );
  }
  tf.dispose(Object.values(tensors));
  return config.counter;
}

/** What is in the folder above a checkpoint besides the checkpoint itself. */
function leftoversNextTo(dir: string): string[] {
  return fs.readdirSync(path.dirname(dir)).filter((name) => name !== path.basename(dir));
}

test('save then load restores config and every value exactly', async () => {
  await runtime.init({ seed: 0, report: false });
  const mlp = new nn.MLP([5, 4, 3], { name: 'enc' });
  const dir = path.join(tempDir(), 'model');
  training.saveCheckpoint(dir, { sizes: mlp.sizes }, mlp.namedVariables());
  const loaded = training.loadCheckpoint(dir, anyConfig<{ sizes: number[] }>);
  assert.deepEqual(loaded.config, { sizes: [5, 4, 3] });
  const copy = new nn.MLP([5, 4, 3], { name: 'enc' });
  training.assignVariables(copy.namedVariables(), loaded.tensors);
  const x = tf.randomNormal([2, 5]) as tf.Tensor2D;
  assert.deepEqual(copy.apply(x).arraySync(), mlp.apply(x).arraySync());
  assert.ok(training.hasCheckpoint(dir));
});

test('a save that fails midway leaves the earlier checkpoint intact and no loadable partial one', () => {
  const root = tempDir();
  const dir = path.join(root, 'model');
  const a = { w: tf.tensor([1, 2, 3]) };
  training.saveCheckpoint(dir, { version: 1 }, a);
  let writes = 0;
  const failing: training.WriteFile = (file, bytes) => {
    if (++writes === 2) throw new Error('disk full (injected)');
    fs.writeFileSync(file, bytes);
  };
  assert.throws(
    () => training.saveCheckpoint(dir, { version: 2 }, { w: tf.tensor([4, 5, 6]) }, failing),
    /disk full/,
  );
  const loaded = training.loadCheckpoint(dir, anyConfig<{ version: number }>);
  assert.equal(loaded.config.version, 1);
  assert.deepEqual(Array.from(loaded.tensors.w.dataSync()), [1, 2, 3]);
  assert.deepEqual(fs.readdirSync(root), ['model'], 'no temporary folder or lock is left behind');
  const fresh = path.join(root, 'fresh');
  writes = 0;
  assert.throws(() => training.saveCheckpoint(fresh, {}, a, failing), /disk full/);
  assert.equal(training.hasCheckpoint(fresh), false);
  assert.throws(
    () => training.loadCheckpoint(fresh, anyConfig),
    /is not a saved model: .*manifest.json is missing/,
  );
  assert.throws(
    () => training.loadCheckpoint(path.join(root, 'no', 'such', 'model'), anyConfig),
    /is not a saved model: .*manifest.json is missing/,
  );
});

test('truncated or corrupted weights and mismatched models are refused with the reason', () => {
  const dir = path.join(tempDir(), 'model');
  training.saveCheckpoint(dir, {}, { 'l.w': tf.ones([2, 2]), 'l.b': tf.zeros([2]) });
  const weights = path.join(dir, 'weights.bin');
  const bytes = fs.readFileSync(weights);
  fs.writeFileSync(weights, bytes.subarray(0, 8));
  assert.throws(
    () => training.loadCheckpoint(dir, anyConfig),
    /weights.bin: has 8 bytes, the manifest says 24/,
  );
  bytes[0] ^= 0xff;
  fs.writeFileSync(weights, bytes);
  assert.throws(
    () => training.loadCheckpoint(dir, anyConfig),
    /weights.bin: is corrupted \(checksum mismatch\)/,
  );
  const v = { 'l.w': tf.variable(tf.zeros([2, 3])), 'l.b': tf.variable(tf.zeros([2])) };
  assert.throws(
    () => training.assignVariables(v, { 'l.w': tf.ones([2, 2]), 'l.b': tf.zeros([2]) }),
    /'l.w' has shape \[2,2\], the model expects \[2,3\]/,
  );
  assert.throws(() => training.assignVariables(v, { 'l.w': tf.ones([2, 3]) }), /missing \[l.b\]/);
});

test('every corrupt or foreign checkpoint is a CheckpointError naming the file and the problem', () => {
  const root = tempDir();
  const good = path.join(root, 'good');
  training.saveCheckpoint(good, { kind: 'demo', size: 3 }, { w: tf.tensor([1, 2, 3]) });
  const readDemo = (raw: unknown) => {
    const config = training.savedConfig(raw, 'demo');
    runtime.checkInteger('saved demo', 'size', config.size);
    return config;
  };
  const manifest = JSON.parse(fs.readFileSync(path.join(good, 'manifest.json'), 'utf8'));
  const nanWeights = Buffer.from(Float32Array.from([1, NaN, 3]).buffer);
  // [what is broken, the file named in the error, the problem]
  const cases: [string, (dir: string) => void, string, RegExp][] = [
    ['manifest null', (d) => write(d, 'manifest.json', 'null'), 'manifest.json', /holds null/],
    [
      'manifest {}',
      (d) => write(d, 'manifest.json', '{}'),
      'manifest.json',
      /has format undefined/,
    ],
    [
      'manifest without tensors',
      (d) => write(d, 'manifest.json', JSON.stringify({ ...manifest, tensors: undefined })),
      'manifest.json',
      /has no list of tensors/,
    ],
    [
      'wrong offsets',
      (d) =>
        write(
          d,
          'manifest.json',
          JSON.stringify({ ...manifest, tensors: [{ ...manifest.tensors[0], offset: 4 }] }),
        ),
      'manifest.json',
      /tensor 0 \('w'\) is placed at bytes 4 \+ 12; a float32 tensor of shape \[3\]/,
    ],
    [
      'wrong shape',
      (d) =>
        write(
          d,
          'manifest.json',
          JSON.stringify({ ...manifest, tensors: [{ ...manifest.tensors[0], shape: [-3] }] }),
        ),
      'manifest.json',
      /has shape \[-3\]/,
    ],
    [
      'manifest garbage',
      (d) => write(d, 'manifest.json', '\u0000\u0001garbage'),
      'manifest.json',
      /is not valid JSON/,
    ],
    ['config garbage', (d) => write(d, 'config.json', '{"kind": '), 'config.json', /not valid/],
    ['config missing', (d) => fs.rmSync(path.join(d, 'config.json')), 'config.json', /not exist/],
    ['config {}', (d) => write(d, 'config.json', '{}'), 'config.json', /size must be a positive/],
    [
      'config of another kind of model',
      (d) => write(d, 'config.json', JSON.stringify({ kind: 'vae' })),
      'config.json',
      /holds a saved 'vae', not a 'demo'/,
    ],
    ['config a list', (d) => write(d, 'config.json', '[1]'), 'config.json', /must be an object/],
    [
      'non-finite weights with a valid checksum',
      (d) => {
        write(d, 'weights.bin', nanWeights);
        const sha256 = crypto.createHash('sha256').update(nanWeights).digest('hex');
        write(d, 'manifest.json', JSON.stringify({ ...manifest, sha256 }));
      },
      'weights.bin',
      /tensor 'w' holds NaN at element 1: the model was saved after training diverged/,
    ],
    [
      'weights a symlink to /dev/zero',
      (d) => {
        fs.rmSync(path.join(d, 'weights.bin'));
        fs.symlinkSync('/dev/zero', path.join(d, 'weights.bin'));
      },
      'weights.bin',
      /is a character device \(a symbolic link to a character device\)/,
    ],
    [
      'manifest a FIFO',
      (d) => {
        fs.rmSync(path.join(d, 'manifest.json'));
        execFileSync('mkfifo', [path.join(d, 'manifest.json')]);
      },
      'manifest.json',
      /is a named pipe \(FIFO\), not a regular file/,
    ],
    [
      'weights missing',
      (d) => fs.rmSync(path.join(d, 'weights.bin')),
      'weights.bin',
      /has gone missing/,
    ],
  ];
  function write(dir: string, name: string, content: string | Buffer): void {
    fs.writeFileSync(path.join(dir, name), content);
  }
  cases.forEach(([what, damage, file, problem], i) => {
    const dir = path.join(root, `case-${i}`);
    fs.cpSync(good, dir, { recursive: true });
    damage(dir);
    assert.throws(
      () => training.loadCheckpoint(dir, readDemo),
      (e: Error) => {
        assert.ok(e instanceof training.CheckpointError, `${what}: ${e.name} ${e.message}`);
        assert.ok(e.message.startsWith(path.join(dir, file)), `${what}: ${e.message}`);
        assert.match(e.message, problem, what);
        return true;
      },
    );
  });
  assert.equal(training.loadCheckpoint(good, readDemo).config.size, 3);
});

test('non-finite weights are never saved, and a folder of other files is never replaced', () => {
  const root = tempDir();
  const dir = path.join(root, 'model');
  training.saveCheckpoint(dir, { version: 1 }, { w: tf.tensor([1, 2]) });
  assert.throws(
    () => training.saveCheckpoint(dir, { version: 2 }, { w: tf.tensor([1, Infinity]) }),
    /saveCheckpoint: tensor 'w' must be finite, got Infinity at index \[1\]. Not saved to/,
  );
  assert.equal(training.loadCheckpoint(dir, anyConfig<{ version: number }>).config.version, 1);
  const notes = path.join(root, 'notes');
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, 'thesis.tex'), 'months of work');
  assert.throws(
    () => training.saveCheckpoint(notes, {}, { w: tf.tensor([1]) }),
    /notes: is a folder of other files \(thesis.tex...\), not a saved model/,
  );
  assert.throws(() => training.hasCheckpoint(notes), /is a folder of other files/);
  assert.equal(fs.readFileSync(path.join(notes, 'thesis.tex'), 'utf8'), 'months of work');
});

test(
  'a save killed between its renames is recovered (the new model if complete, else the old), ' +
    'and leftovers of dead processes go on the next save or load',
  () => {
    const pid = deadPid();
    const saveAs = (dir: string, counter: number) =>
      training.saveCheckpoint(dir, { counter }, { w: tf.fill([4], counter) });
    const counterOf = (dir: string) =>
      training.loadCheckpoint(dir, anyConfig<{ counter: number }>).config.counter;
    // The state a kill between the renames leaves: old model moved aside, new one complete.
    const root = tempDir();
    const dir = path.join(root, 'model');
    saveAs(path.join(root, 'scratch'), 1);
    fs.renameSync(path.join(root, 'scratch'), `${dir}.old-${pid}-1000`);
    saveAs(path.join(root, 'scratch'), 2);
    fs.renameSync(path.join(root, 'scratch'), `${dir}.partial-${pid}-1000`);
    assert.equal(training.hasCheckpoint(dir), true);
    assert.equal(counterOf(dir), 2);
    assert.deepEqual(leftoversNextTo(dir), []);
    // Killed while writing the new model: its folder has no manifest; the old model comes back.
    fs.renameSync(dir, `${dir}.old-${pid}-2000`);
    fs.mkdirSync(`${dir}.partial-${pid}-2000`);
    fs.writeFileSync(`${dir}.partial-${pid}-2000/weights.bin`, 'half');
    assert.equal(counterOf(dir), 2);
    assert.deepEqual(leftoversNextTo(dir), []);
    // With the model in place, a save removes what dead processes left, and keeps what a live
    // process is writing.
    const live = `${dir}.partial-${process.ppid}-3000`;
    fs.mkdirSync(`${dir}.partial-${pid}-3000`);
    fs.mkdirSync(`${dir}.old-${pid}-3000`);
    fs.mkdirSync(live);
    fs.writeFileSync(`${dir}.lock`, JSON.stringify({ pid, host: os.hostname() }));
    saveAs(dir, 3);
    assert.deepEqual(leftoversNextTo(dir), [path.basename(live)]);
    assert.equal(counterOf(dir), 3);
  },
);

test('kill -9 at random moments of a save loop: always the last or the next model, complete', async () => {
  runtime.seed(7);
  const dir = path.join(tempDir(), 'model');
  let last = 0;
  for (let trial = 0; trial < 12; trial++) {
    const child = spawn(process.execPath, [CHILD, dir, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Let it complete 1-3 saves, then kill it at a random moment of the next ones.
    const target = 1 + Math.floor(runtime.random() * 3);
    let saved = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        saved += (chunk.toString().match(/saved/g) ?? []).length;
        if (saved >= target) resolve();
      });
      child.on('exit', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, runtime.random() * 150));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    assert.ok(saved >= target, `the child stopped early: ${stderr}`);
    // The counter restarts at 1 in every child: the model is this child's last or next save.
    const counter = loadCounter(dir);
    assert.ok(counter === saved || counter === saved + 1, `saved ${saved}, found ${counter}`);
    last = counter;
  }
  assert.ok(last > 0);
  training.saveCheckpoint(dir, { counter: 1 }, { a: tf.fill([1 << 19], 1) });
  assert.deepEqual(leftoversNextTo(dir), [], 'no leftovers after the next save');
});

test('two processes saving to one folder are serialized: every save lands whole', async () => {
  const dir = path.join(tempDir(), 'model');
  const run = (writer: number) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CHILD, dir, String(writer), '6']);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  const results = await Promise.all([run(1), run(2)]);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(loadCounter(dir), 6);
  assert.deepEqual(leftoversNextTo(dir), []);
});

test('history keeps rows, columns, CSV and a DataFrame', () => {
  const h = new training.History();
  h.push({ epoch: 1, loss: 3 });
  h.push({ epoch: 2, loss: 2, 'test loss': 2.5 });
  assert.deepEqual(h.column('loss'), [3, 2]);
  assert.deepEqual(h.column('test loss'), [NaN, 2.5]);
  assert.equal(h.toCsv(), 'epoch,loss,test loss\n1,3,\n2,2,2.5\n');
  const df = h.toDataFrame();
  assert.deepEqual(df.shape, [2, 3]);
  const fig = h.figure('epoch', ['loss', 'test loss'], { yTitle: 'loss (nats)' });
  assert.equal(fig.data.length, 2);
  assert.throws(
    () => h.push({ epoch: 'x' as unknown as number }),
    /metric 'epoch' must be a number/,
  );
  assert.throws(() => h.figure('epoch', ['loss'], { ytitle: 'x' } as never), /'yTitle'/);
  h.clear();
  assert.deepEqual([h.rows, h.columns, h.last], [[], [], undefined]);
  h.push({ epoch: 1, loss: 1 });
  assert.equal(h.toCsv(), 'epoch,loss\n1,1\n');
  assert.deepEqual(training.historyRowsFromJson('t', 'rows', [{ a: 1, b: null }]), [
    { a: 1, b: NaN },
  ]);
  assert.throws(
    () => training.historyRowsFromJson('t', 'rows', [{ a: 'x' }]),
    /t: rows\[0\] must be an object of numbers/,
  );
});
