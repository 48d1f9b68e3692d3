import { test } from 'node:test';
import assert from 'node:assert/strict';
import { samplers } from 'genlab';

type Trace = Record<string, unknown> & { name?: string; x: number[]; y: number[] };
const traces = (fig: { data: unknown[] }) => fig.data as Trace[];
const axisTitle = (fig: { layout: Record<string, unknown> }, axis: string) =>
  (fig.layout[axis] as { title: { text: string } }).title.text;

test('runningFrequenciesFigure: one estimated and one exact series per cell', () => {
  const checkpoints = [1, 10, 100];
  const running = [
    [1, 0],
    [0.6, 0.4],
    [0.52, 0.48],
  ];
  const fig = samplers.runningFrequenciesFigure(checkpoints, running, [0.5, 0.5], ['a', 'b']);
  const [estA, estB, exactA] = traces(fig);
  assert.deepEqual(
    traces(fig).map((t) => t.name),
    ['P̂a', 'P̂b', 'Pa exact', 'Pb exact'],
  );
  assert.deepEqual(estB.y, [0, 0.4, 0.48]);
  assert.deepEqual(estA.x, checkpoints);
  assert.deepEqual(exactA.x, [1, 100]);
  assert.deepEqual(exactA.y, [0.5, 0.5]);
  assert.equal(axisTitle(fig, 'xaxis'), 'sweeps t');
  assert.throws(
    () => samplers.runningFrequenciesFigure(checkpoints, running.slice(1), [0.5, 0.5], ['a', 'b']),
    /frequency rows for the checkpoints: expected 3 values, got 2/,
  );
});

test('gibbsPathsFigure: a density and a path per panel, each on its own axes', () => {
  const path = { rho: 0.5, xs: [0, 1, 1], ys: [0, 0, 1] };
  const fig = samplers.gibbsPathsFigure([path, { ...path, rho: 0.99 }], { title: 'paths' });
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.xaxis]),
    [
      ['ρ = 0.5 density', 'x1'],
      ['ρ = 0.5: 1 sweeps', 'x1'],
      ['ρ = 0.99 density', 'x2'],
      ['ρ = 0.99: 1 sweeps', 'x2'],
    ],
  );
  assert.equal(axisTitle(fig, 'xaxis2'), 'x₁');
  assert.equal(axisTitle(fig, 'yaxis2'), 'x₂');
  // the density is the unnormalized Gaussian: 1 at the origin, the centre of the 80-point grid
  const z = (traces(fig)[0] as unknown as { z: number[][] }).z;
  assert.equal(z.length, 80);
  assert.ok(Math.abs(Math.max(...z.flat()) - 1) < 0.01);
  assert.throws(
    () => samplers.gibbsPathsFigure([{ ...path, rho: 1 }], { title: 'paths' }),
    /correlation must lie in \(-1, 1\), got 1/,
  );
  assert.throws(
    () => samplers.gibbsPathsFigure([{ ...path, ys: [0] }], { title: 'paths' }),
    /expected 3 values, got 1/,
  );
});

test('stackedTracesFigure: one row per trace, numbered sweeps', () => {
  const fig = samplers.stackedTracesFigure(
    [
      { rho: 0, values: new Float32Array([1, 2, 3]) },
      { rho: 0.9, values: [4, 5, 6] },
    ],
    { title: 'traces' },
  );
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.yaxis, t.x]),
    [
      ['ρ = 0', 'y', [1, 2, 3]],
      ['ρ = 0.9', 'y2', [1, 2, 3]],
    ],
  );
  assert.equal(axisTitle(fig, 'yaxis2'), 'ρ = 0.9');
  assert.equal(axisTitle(fig, 'xaxis'), 'sweep');
  assert.throws(() => samplers.stackedTracesFigure([], { title: 'traces' }), /no traces given/);
});

test('autocorrelationFigure: measured curves and the theory ρ^(2k)', () => {
  const fig = samplers.autocorrelationFigure([0, 1, 2], [{ rho: 0.5, acf: [1, 0.3, 0.1] }], 20);
  const [measured, theory] = traces(fig);
  assert.equal(measured.name, 'ρ = 0.5');
  assert.deepEqual(theory.y, [1, 0.25, 0.0625]);
  assert.match(String((fig.layout.title as { text: string }).text), /mean of 20 chains/);
  assert.throws(
    () => samplers.autocorrelationFigure([0, 1], [{ rho: 0.5, acf: [1] }], 20),
    /autocorrelations for the lags: expected 2 values, got 1/,
  );
});

test('essFigure: measured against theory, on a log axis', () => {
  const rows = [
    { rho: 0, measured: 0.98, theory: 1 },
    { rho: 0.9, measured: 0.1, theory: 0.19 / 1.81 },
  ];
  const fig = samplers.essFigure(rows, 20);
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.x, t.y]),
    [
      ['measured (mean of 20 chains)', [0, 0.9], [0.98, 0.1]],
      ['(1 - ρ²) / (1 + ρ²)', [0, 0.9], [1, 0.19 / 1.81]],
    ],
  );
  assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
  assert.throws(() => samplers.essFigure([], 20), /no rows given/);
});

test('burnInFigure: discarded and kept stretches, and the expected path start·ρ^(2t)', () => {
  const trace = [8, 4, 2, 1, 0.5];
  const fig = samplers.burnInFigure(trace, { rho: 0.5, start: 8, burnIn: 2, shown: 4 });
  const [burn, kept, expected] = traces(fig);
  assert.deepEqual(
    [burn.x, burn.y],
    [
      [1, 2],
      [8, 4],
    ],
  );
  assert.deepEqual(
    [kept.x, kept.y],
    [
      [3, 4],
      [2, 1],
    ],
  );
  assert.deepEqual(expected.y, [2, 0.5]);
  assert.equal(expected.name, '8 ρ^(2t): expected path from the start');
  assert.equal((fig.layout.shapes as { x1: number }[])[0].x1, 2);
  assert.throws(
    () => samplers.burnInFigure(trace, { rho: 0.5, start: 8, burnIn: 2, shown: 6 }),
    /need 1 <= burnIn < shown <= 5 \(the trace's length\), got burnIn=2, shown=6/,
  );
});
