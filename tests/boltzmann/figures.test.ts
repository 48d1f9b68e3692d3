import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models } from 'genlab';

const {
  fvbmLearningFigure,
  fvbmKlFigure,
  rbmReconstructionFigure,
  aisAgainstExactFigure,
  dbmStageSummaryRows,
} = models.boltzmann;

type Trace = Record<string, unknown> & { name?: string; x: number[]; y: number[] };
const traces = (fig: { data: unknown[] }) => fig.data as Trace[];
const axisTitle = (fig: { layout: Record<string, unknown> }, axis: 'xaxis' | 'yaxis') =>
  (fig.layout[axis] as { title: { text: string } }).title.text;

const fvbmRows = [
  { step: 0, exactLL: -6.9, gibbsLL: -6.9, exactKl: 0.8, gibbsKl: 0.8 },
  { step: 5, exactLL: -6.5, gibbsLL: -6.6, exactKl: 0.4, gibbsKl: 0.5 },
  { step: 10, exactLL: -6.3, gibbsLL: -6.35, exactKl: 0.2, gibbsKl: 0.3 },
];

test('fvbmLearningFigure: both students per step and the teacher across the steps', () => {
  const fig = fvbmLearningFigure(fvbmRows, { units: 10, chains: 100, teacherLogLikelihood: -6.2 });
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.x, t.y]),
    [
      ['exact gradient', [0, 5, 10], [-6.9, -6.5, -6.3]],
      ['Gibbs gradient (100 persistent chains)', [0, 5, 10], [-6.9, -6.6, -6.35]],
      ['teacher', [0, 10], [-6.2, -6.2]],
    ],
  );
  assert.match(String((fig.layout.title as { text: string }).text), /\(d = 10\)/);
  assert.equal(axisTitle(fig, 'xaxis'), 'gradient step');
  assert.equal(axisTitle(fig, 'yaxis'), 'average log-likelihood (nats)');
});

test('fvbmLearningFigure and fvbmKlFigure refuse no rows, NaN, a misspelled option', () => {
  const options = { units: 10, chains: 100, teacherLogLikelihood: -6.2 };
  assert.throws(() => fvbmLearningFigure([], options), /fvbmLearningFigure: no rows to plot/);
  assert.throws(
    () => fvbmKlFigure([fvbmRows[0], { ...fvbmRows[1], gibbsKl: NaN }]),
    /fvbmKlFigure: rows\[1\]\.gibbsKl must be a finite number, got NaN/,
  );
  assert.throws(
    () => fvbmLearningFigure(fvbmRows, { ...options, teacherLogLikelihood: Infinity }),
    /teacherLogLikelihood must be finite, got Infinity/,
  );
  assert.throws(
    () => fvbmLearningFigure(fvbmRows, { units: 10, chain: 100, teacherLogLikelihood: 0 } as never),
    /fvbmLearningFigure: .*'chain'/,
  );
});

test('fvbmKlFigure: the two students on a log KL axis', () => {
  const fig = fvbmKlFigure(fvbmRows);
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.y]),
    [
      ['exact gradient', [0.8, 0.4, 0.2]],
      ['Gibbs gradient', [0.8, 0.5, 0.3]],
    ],
  );
  assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
  assert.equal(axisTitle(fig, 'yaxis'), 'KL(teacher ‖ student) (nats)');
});

const epochRow = (epoch: number, reconstruction: number) => ({
  epoch,
  reconstruction,
  pseudoLogLikelihood: -80,
  seconds: epoch,
});

test('rbmReconstructionFigure: one series per model over its epochs; refuses empty input', () => {
  const fig = rbmReconstructionFigure([
    { name: 'CD-1', history: [epochRow(1, 30), epochRow(2, 25)] },
    { name: 'PCD', history: [epochRow(1, 35)] },
  ]);
  assert.deepEqual(
    traces(fig).map((t) => [t.name, t.x, t.y]),
    [
      ['CD-1', [1, 2], [30, 25]],
      ['PCD', [1], [35]],
    ],
  );
  assert.equal(axisTitle(fig, 'xaxis'), 'epoch');
  assert.throws(() => rbmReconstructionFigure([]), /no trained models to plot/);
  assert.throws(
    () => rbmReconstructionFigure([{ name: 'PCD', history: [] }]),
    /PCD has no epochs in its history/,
  );
});

test('aisAgainstExactFigure: estimates with 2-s.e. bars against K and the exact line', () => {
  const checks = [
    { K: 100, logZ: 210.2, se: 0.5 },
    { K: 1000, logZ: 211.4, se: 0.1 },
  ];
  const fig = aisAgainstExactFigure(checks, 211.5, { runs: 100, model: '784 x 15 RBM' });
  const [ais, exact] = traces(fig);
  assert.equal(ais.name, 'AIS (100 runs) ± 2 s.e.');
  assert.deepEqual(ais.x, [100, 1000]);
  assert.deepEqual((ais.error_y as { array: number[] }).array, [1, 0.2]);
  assert.deepEqual([exact.name, exact.y], ['exact', [211.5, 211.5]]);
  assert.equal(
    (fig.layout.title as { text: string }).text,
    'AIS against exact log Z (784 x 15 RBM)',
  );
  assert.equal(axisTitle(fig, 'xaxis'), 'intermediate distributions K');
  assert.throws(
    () => aisAgainstExactFigure([{ K: 100, logZ: 1, se: -0.1 }], 1, { runs: 1, model: 'm' }),
    /checks\[0\] needs a finite logZ and a standard error >= 0, got 1 ± -0.1/,
  );
  assert.throws(
    () => aisAgainstExactFigure([{ K: 1.5, logZ: 1, se: 0 }], 1, { runs: 1, model: 'm' }),
    /checks\[0\]\.K must be a positive integer, got 1.5/,
  );
  assert.throws(
    () => aisAgainstExactFigure(checks, NaN, { runs: 1, model: 'm' }),
    /the exact log Z must be finite, got NaN/,
  );
  assert.throws(
    () => aisAgainstExactFigure(checks, 1, { runs: 1, modle: 'm' } as never),
    /aisAgainstExactFigure: .*'modle'/,
  );
});

test('dbmStageSummaryRows: epochs, last error and own seconds per stage that ran', () => {
  const history = [
    { stage: 'bottom' as const, epoch: 1, reconstruction: 40, seconds: 10 },
    { stage: 'bottom' as const, epoch: 2, reconstruction: 30, seconds: 20 },
    { stage: 'top' as const, epoch: 1, reconstruction: 20, seconds: 25 },
    { stage: 'joint' as const, epoch: 1, reconstruction: 28, seconds: 40 },
    { stage: 'joint' as const, epoch: 2, reconstruction: 27, seconds: 51 },
  ];
  assert.deepEqual(dbmStageSummaryRows(history), [
    { stage: 'bottom', epochs: 2, 'reconstruction error': 30, seconds: 20 },
    { stage: 'top', epochs: 1, 'reconstruction error': 20, seconds: 5 },
    { stage: 'joint', epochs: 2, 'reconstruction error': 27, seconds: 26 },
  ]);
  // a run interrupted in its bottom stage: no rows for the stages that did not run
  assert.deepEqual(
    dbmStageSummaryRows(history.slice(0, 2)).map((r) => r.stage),
    ['bottom'],
  );
  assert.throws(
    () => dbmStageSummaryRows([{ ...history[0], stage: 'middle' as never }]),
    /history\[0\]\.stage is 'middle'; expected one of bottom, top, joint/,
  );
  assert.throws(
    () => dbmStageSummaryRows([history[1], history[0]]),
    /history\[1\]\.seconds must be finite and cumulative/,
  );
});
