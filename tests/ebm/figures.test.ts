import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtime, tf, training } from 'genlab';

const { ContrastiveDivergence, EnergyNetwork, energyCurvesFigure, uniformNoise } = models.ebm;

type Line = { name: string; x: number[]; y: number[]; line: { color: string; dash?: string } };
const axisTitle = (fig: { layout: Record<string, unknown> }, axis: string) =>
  (fig.layout[axis] as { title: { text: string } }).title.text;

test('energyCurvesFigure draws CD fits: data solid, samples dashed, a colour per run', async () => {
  await runtime.init({ seed: 3, report: false });
  const net = new EnergyNetwork(2, [4]);
  const cd = new ContrastiveDivergence(net, {
    noise: uniformNoise(2, -1, 1),
    langevin: { steps: 2, stepSize: 0.01 },
  });
  const fitted = new training.History();
  const points = tf.randomNormal([32, 2]) as tf.Tensor2D;
  await cd.fit(points, {
    steps: 6,
    batchSize: 8,
    progress: false,
    history: fitted,
    historyEvery: 2,
  });
  const pushed = new training.History();
  pushed.push({ step: 10, 'E(data)': -1, 'E(samples)': 1 });
  const fig = energyCurvesFigure(
    [
      { label: 'fit', history: fitted },
      { label: 'α = 0', history: pushed },
    ],
    { title: 'energies' },
  );
  const series = fig.data as unknown as Line[];
  assert.deepEqual(
    series.map((s) => s.name),
    ['fit: E(data)', 'fit: E(samples)', 'α = 0: E(data)', 'α = 0: E(samples)'],
  );
  assert.deepEqual(series[0].x, [2, 4, 6]);
  assert.deepEqual(series[1].y, fitted.column('E(samples)'));
  assert.deepEqual(series[3].y, [1]);
  assert.deepEqual(
    series.map((s) => s.line.dash ?? 'solid'),
    ['solid', 'dash', 'solid', 'dash'],
  );
  assert.equal(series[0].line.color, series[1].line.color);
  assert.notEqual(series[1].line.color, series[2].line.color);
  assert.equal(axisTitle(fig, 'xaxis'), 'update');
  assert.equal(axisTitle(fig, 'yaxis'), 'mean energy');
  tf.dispose(points);
  cd.dispose();
  net.dispose();
});

test('energyCurvesFigure refuses no runs and a history without the energies', () => {
  assert.throws(() => energyCurvesFigure([]), /energyCurvesFigure: no runs given/);
  const losses = new training.History();
  losses.push({ step: 1, loss: 0.5 });
  assert.throws(
    () => energyCurvesFigure([{ label: 'dsm', history: losses }]),
    /the history of 'dsm' has no column 'E\(data\)' \(it has: step, loss\)/,
  );
  assert.throws(
    () => energyCurvesFigure([{ label: 'empty', history: new training.History() }]),
    /has no column 'step' \(it has: no rows\)/,
  );
});
