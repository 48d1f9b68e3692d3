import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, runtime, tf } from 'genlab';

test('setup', async () => {
  await runtime.init({ seed: 0, report: false });
});

test('ring samples: 8 modes, P(within 3 std) = 1 - exp(-9/2), equal mode weights', () => {
  runtime.seed(7);
  const n = 8000;
  const x = data.sampleRing(n);
  const c = data.ringCoverage(x);
  // ‖x - μ‖²/σ² ~ χ²₂, so P(‖x - μ‖ < 3σ) = 1 - e^{-9/2}
  const p = 1 - Math.exp(-4.5);
  assert.ok(
    Math.abs(c.fractionNearMode - p) < 5 * Math.sqrt((p * (1 - p)) / n),
    `fraction ${c.fractionNearMode} vs ${p}`,
  );
  assert.equal(c.modesCovered, 8);
  const share = (p * n) / 8;
  const se = Math.sqrt(n * (p / 8) * (1 - p / 8));
  for (const k of c.counts) assert.ok(Math.abs(k - share) < 5 * se, `mode count ${k} vs ${share}`);
  x.dispose();
});

test(
  'a generator collapsed onto one mean covers one mode, one spread on the circle between ' +
    'modes covers none',
  () => {
    const means = data.ringMeans();
    assert.ok(Math.abs(Math.hypot(...means[2]) - 2) < 1e-12);
    const collapsed = new Float32Array(200).map((_, i) => means[3][i % 2]);
    const one = data.ringCoverage(collapsed);
    assert.deepEqual([one.modesCovered, one.fractionNearMode, one.counts[3]], [1, 1, 100]);
    const between = new Float32Array(160);
    for (let i = 0; i < 80; i++) {
      const angle = (2 * Math.PI * ((i % 8) + 0.5)) / 8;
      between[2 * i] = 2 * Math.cos(angle);
      between[2 * i + 1] = 2 * Math.sin(angle);
    }
    const none = data.ringCoverage(between);
    assert.deepEqual([none.modesCovered, none.fractionNearMode], [0, 0]);
  },
);

test('ringBatches disposes each batch when the next is requested', () => {
  const before = tf.memory().numTensors;
  const it = data.ringBatches(5, { modes: 4 });
  for (let i = 0; i < 3; i++) assert.deepEqual(it.next().value!.shape, [5, 2]);
  it.return(undefined);
  assert.equal(tf.memory().numTensors, before);
});

test('bad ring parameters are clear errors', () => {
  assert.throws(() => data.sampleRing(0), /n must be a positive integer, got 0/);
  assert.throws(
    () => data.sampleRing(5, { std: 0 }),
    /sampleRing: std must be a finite number > 0, got 0/,
  );
  assert.throws(() => data.ringMeans({ modes: 2.5 }), /modes must be a positive integer, got 2.5/);
  assert.throws(() => data.ringMeans({ radius: -1 }), /radius must be a finite number > 0, got -1/);
  assert.throws(() => data.ringCoverage(new Float32Array(3)), /expected 2D points/);
  const wrong = tf.zeros([4, 3]) as tf.Tensor2D;
  assert.throws(() => data.ringCoverage(wrong), /expected samples \[n, 2\], got \[4, 3\]/);
  assert.throws(
    () => data.ringCoverage(new Float32Array(4), { minFraction: 0 }),
    /minFraction must be a number in \(0, 1\], got 0/,
  );
  assert.throws(
    () => data.ringCoverage(new Float32Array(4), { minFrac: 0.1 } as never),
    /ringCoverage: unknown option 'minFrac' \(did you mean 'minFraction'\?\); the options are /,
  );
  assert.throws(() => data.moons(10, { noize: 0.2 } as never), /did you mean 'noise'/);
  wrong.dispose();
});
