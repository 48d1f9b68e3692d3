import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models } from 'genlab';

const { responsibilityFigure, heldOutLikelihoodFigure } = models.gmm;

type Trace = Record<string, unknown> & { name?: string; x: number[]; y: number[] };
const traces = (fig: { data: unknown[] }) => fig.data as Trace[];

const mixture = {
  weights: [0.25, 0.75],
  means: [
    [0, 0],
    [5, 5],
  ],
  covariances: [
    [
      [1, 0],
      [0, 1],
    ],
    [
      [4, 1],
      [1, 1],
    ],
  ],
};
const points = { x: [0, 5, 2.5], y: [0, 5, 2.5], responsibility: [1, 0, 0.5] };
const axes = { xTitle: 'flipper (mm)', yTitle: 'beak (mm)' };

test('responsibilityFigure: coloured points, then a 1- and 2-sd ellipse per component', () => {
  const fig = responsibilityFigure(points, mixture, 1, axes);
  const [colored, ...ellipses] = traces(fig);
  assert.equal(colored.name, 'r(component 1)');
  assert.deepEqual((colored.marker as { color: number[] }).color, [1, 0, 0.5]);
  assert.deepEqual(
    ellipses.map((t) => [t.name, (t.line as { dash: string }).dash, t.showlegend]),
    [
      ['component 0 (weight 0.25)', 'dot', false],
      ['component 0 (weight 0.25)', 'solid', true],
      ['component 1 (weight 0.75)', 'dot', false],
      ['component 1 (weight 0.75)', 'solid', true],
    ],
  );
  // the 2-sd ellipse of the unit Gaussian is the circle of radius 2 around the origin
  const circle = ellipses[1];
  for (let i = 0; i < circle.x.length; i += 10)
    assert.ok(Math.abs(Math.hypot(circle.x[i], circle.y[i]) - 2) < 1e-9);
  assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'flipper (mm)');
});

test('responsibilityFigure: refuses a missing component, a bad index, r outside [0, 1]', () => {
  assert.throws(
    () => responsibilityFigure(points, { ...mixture, weights: [1] }, 0, axes),
    /1 weights, 2 means and 2 covariances; one of each per component/,
  );
  assert.throws(
    () => responsibilityFigure(points, mixture, 2, axes),
    /shown must be a component 0..1, got 2/,
  );
  assert.throws(
    () => responsibilityFigure({ ...points, responsibility: [1, NaN, 0] }, mixture, 0, axes),
    /responsibilities must lie in \[0, 1\]/,
  );
});

test('heldOutLikelihoodFigure: a train and a held-out series over K', () => {
  const fig = heldOutLikelihoodFigure(
    [1, 2, 3],
    { train: [-9, -8, -7.5], heldOut: [-9.1, -8.2, -8.4] },
    { title: 'K', yTitle: 'nats per penguin' },
  );
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.x, t.y]),
    [
      ['train', [1, 2, 3], [-9, -8, -7.5]],
      ['held-out', [1, 2, 3], [-9.1, -8.2, -8.4]],
    ],
  );
  assert.equal(
    (fig.layout.xaxis as { title: { text: string } }).title.text,
    'number of components K',
  );
  assert.throws(
    () =>
      heldOutLikelihoodFigure([1, 2], { train: [1, 2], heldOut: [1] }, { title: 'K', yTitle: 'y' }),
    /2 values of K but 1 log-likelihoods/,
  );
});
