import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime } from 'genlab';

function captureLog(fn: () => void): string[] {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    fn();
  } finally {
    console.log = original;
  }
  return lines;
}

test('outside a notebook progress prints plain lines, throttled, and the final state once', () => {
  assert.equal(runtime.inNotebook(), false);
  const lines = captureLog(() => {
    const p = runtime.progress(1000, { label: 'train', printMs: 60000 });
    for (let i = 0; i < 1000; i++) p.tick({ loss: 1 / (i + 1) });
    p.done();
  });
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /^100% train: 1000\/1000 \(.* s\) {2}loss 1\.00e-3$/);
});

test('progress text shows counts and the latest metrics', () => {
  const p = runtime.progress(4, { label: 'epoch', printMs: 1e9 });
  captureLog(() => p.tick({ 'test loss': 105.25 }, 2));
  assert.match(p.text(), /^epoch: 2\/4 \(.*left\) {2}test loss 105\.250$/);
});

test('progress rejects a non-positive total', () => {
  assert.throws(() => runtime.progress(0), /progress: total must be a positive integer, got 0/);
});

test('quick mode is read from GENLAB_QUICK through one helper', () => {
  const saved = process.env.GENLAB_QUICK;
  try {
    process.env.GENLAB_QUICK = '1';
    assert.equal(runtime.quick(), true);
    assert.equal(runtime.quickOr(10, 1), 1);
    process.env.GENLAB_QUICK = '0';
    assert.equal(runtime.quick(), false);
    assert.equal(runtime.quickOr(10, 1), 10);
    delete process.env.GENLAB_QUICK;
    assert.equal(runtime.quick(), false);
  } finally {
    if (saved === undefined) delete process.env.GENLAB_QUICK;
    else process.env.GENLAB_QUICK = saved;
  }
});
