/**
 * The kit-loop registry and its interrupt contract, against a stand-in for the kernel side (a timer
 * that calls interrupt(), as the kernel's SIGINT handler does), and the event loop's turns during a
 * long loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtime } from 'genlab';
import { captureLines, interruptAfter } from './loop-helpers';

const registry = runtime.loopRegistry();

/** A loop of `steps` batches over runLoop, calling `hook` after each; returns the batches done. */
function countingLoop(steps: number, hook: () => void = () => undefined) {
  return runtime.runLoop(
    'counting',
    async (loop) => {
      for (let i = 0; i < steps; i++) {
        if (await loop.shouldStop()) {
          loop.stop(`batch ${i}/${steps}`, 'the count keeps its last batch');
          return i;
        }
        hook();
      }
      return steps;
    },
    { then: 'count again to go on' },
  );
}

test('the registry is one process-global object at Symbol.for("genlab.loops")', () => {
  const global = globalThis as unknown as Record<symbol, unknown>;
  assert.equal(global[Symbol.for('genlab.loops')], registry);
  assert.equal(registry.active, 0);
  assert.equal(registry.interrupted, false);
});

test('active counts the kit loops running now, nested ones included', async () => {
  const seen: number[] = [];
  await runtime.runLoop('outer', async () => {
    seen.push(registry.active);
    await runtime.runLoop('inner', async () => {
      seen.push(registry.active);
    });
    seen.push(registry.active);
  });
  assert.deepEqual(seen, [1, 2, 1]);
  assert.equal(registry.active, 0);
  await assert.rejects(
    runtime.runLoop('failing', async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(registry.active, 0, 'a loop that throws is no longer counted');
});

test(
  'an interrupt stops a loop at the next batch boundary with one line; later loops return at ' +
    'once, silently, until reset()',
  async () => {
    const stop = interruptAfter(7);
    const { value: done, lines } = await captureLines(() => countingLoop(1000, stop.hook));
    assert.equal(stop.callsAtInterrupt(), 7);
    assert.equal(done, 7, 'no batch runs after the interrupt');
    assert.deepEqual(lines, [
      'counting: stopped at batch 7/1000 (interrupted); the count keeps its last batch; count ' +
        'again to go on',
    ]);
    const later = await captureLines(() => countingLoop(10));
    assert.equal(later.value, 0, 'a loop started after the interrupt returns at once');
    assert.deepEqual(later.lines, [], 'one interrupt prints one line');
    registry.reset();
    assert.equal(await countingLoop(10), 10, 'reset() forgets the interrupt');
  },
);

test("the outermost loop's `then` tells how to go on", async () => {
  const stop = interruptAfter(2);
  const { lines } = await captureLines(() =>
    runtime.runLoop('experiment', () => countingLoop(100, stop.hook), {
      then: 'run the cell again to start over',
    }),
  );
  registry.reset();
  assert.deepEqual(lines, [
    'counting: stopped at batch 2/100 (interrupted); the count keeps its last batch; run the ' +
      'cell again to start over',
  ]);
});

test('a long loop lets timers run while it computes', async () => {
  // 200 batches of 5 ms: the loop gives the event loop a turn every YIELD_INTERVAL_MS.
  let firedAt: number | undefined;
  let batches = 0;
  setTimeout(() => (firedAt = batches), 0);
  await countingLoop(200, () => {
    const start = performance.now();
    while (performance.now() - start < 5) {
      // busy
    }
    batches++;
  });
  assert.ok(firedAt !== undefined && firedAt < 200, `the timer fired after batch ${firedAt}`);
});

test('withSeed draws from its seed and leaves the stream where it was', async () => {
  runtime.seed(5);
  const expected = [runtime.random(), runtime.random()];
  runtime.seed(5);
  const inside = await runtime.withSeed(9, async () => [runtime.random(), Math.random()]);
  assert.deepEqual([runtime.random(), runtime.random()], expected);
  runtime.seed(9);
  assert.deepEqual(inside, [runtime.random(), runtime.random()]);
  await assert.rejects(
    runtime.withSeed(-1, async () => 0),
    /seed must be a non-negative integer, got -1/,
  );
});
