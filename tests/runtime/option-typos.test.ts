/**
 * A misspelled option must never train or draw something else in silence: every public options or
 * config object named here refuses an unknown key at once, naming the function and the valid keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { data, grading, models, nn, plot, runtime, samplers, tf } from 'genlab';

const figure = () => plot.lines([{ name: 'a', x: [0, 1], y: [0, 1] }]);

/** [what is called, the call with one misspelled option, the message expected]. */
const CASES: Array<[string, () => unknown, RegExp]> = [
  [
    'RBM',
    () => new models.boltzmann.RBM(4, 2, { weightscale: 1 } as never),
    /RBM: .*'weightscale'/,
  ],
  [
    'EnergyNetwork',
    () => new models.ebm.EnergyNetwork(2, [4], { activaton: 'relu' } as never),
    /EnergyNetwork: .*'activaton'/,
  ],
  [
    'PlanarFlow',
    () => new models.flows.PlanarFlow(2, { nam: 'x' } as never),
    /PlanarFlow: .*'nam'/,
  ],
  [
    'PlanarStack',
    () => new models.flows.PlanarStack(2, 3, { initscale: 1 } as never),
    /PlanarStack: .*'initscale'/,
  ],
  ['target', () => models.flows.target('U1', { gridsize: 30 } as never), /target: .*'gridsize'/],
  [
    'fitGaussianByGradientAscent',
    () => models.gaussian.fitGaussianByGradientAscent([1, 2], { step: 3 } as never),
    /fitGaussianByGradientAscent: .*'step'/,
  ],
  ['Conv2d', () => new nn.Conv2d(1, 2, 3, { strid: 2 } as never), /Conv2d: .*'strid'/],
  [
    'ConvTranspose2d',
    () => new nn.ConvTranspose2d(1, 2, 3, { outputpadding: 1 } as never),
    /ConvTranspose2d: .*'outputpadding'/,
  ],
  ['BatchNorm', () => new nn.BatchNorm(2, { momentm: 0.1 } as never), /BatchNorm: .*'momentm'/],
  [
    'MaskedConv2d',
    () => new nn.MaskedConv2d(1, 2, 3, 'A', { activaton: 'relu' } as never),
    /MaskedConv2d: .*'activaton'/,
  ],
  [
    'PixelCNN',
    () => new models.autoregressive.PixelCNN({ imageShape: [4, 4], blocks: 2 } as never),
    /PixelCNN config: .*'blocks'/,
  ],
  ['show', () => plot.show(figure(), { nme: 'x' } as never), /show: .*'nme'/],
  [
    'showImages',
    () => plot.showImages([[0, 1, 0, 1]], { colums: 2 } as never),
    /showImages: .*'colums'/,
  ],
  ['showTable', () => plot.showTable([{ a: 1 }], { digit: 3 } as never), /showTable: .*'digit'/],
  [
    'saveFigure',
    () => plot.saveFigure(figure(), '/tmp/never.png', { widht: 3 } as never),
    /saveFigure: .*'widht'/,
  ],
  [
    'grading.check',
    () =>
      grading.check(
        (x: number) => x,
        (x: number) => x,
        { inputs: () => [1], trial: 3 } as never,
      ),
    /check: .*'trial'/,
  ],
  [
    'grading.checkClose',
    () => grading.checkClose(1, 1, { rtoll: 1 } as never),
    /checkClose: .*'rtoll'/,
  ],
  [
    'grading.checkRange',
    () => grading.checkRange(1, { min: 0, mx: 2 } as never),
    /checkRange: .*'mx'/,
  ],
  [
    'grading.checkAnswer',
    () => grading.checkAnswer('a', 'a', { choice: ['a'] } as never),
    /checkAnswer: .*'choice'/,
  ],
  ['sampleRing', () => data.sampleRing(4, { mode: 8 } as never), /sampleRing: .*'mode'/],
  ['progress', () => runtime.progress(3, { lable: 'x' } as never), /progress: .*'lable'/],
  [
    'stackedTracesFigure',
    () => samplers.stackedTracesFigure([{ rho: 0.5, values: [0, 1] }], { titel: 'x' } as never),
    /stackedTracesFigure: .*'titel'/,
  ],
  [
    'heldOutLikelihoodFigure',
    () =>
      models.gmm.heldOutLikelihoodFigure([1], { train: [0], heldOut: [0] }, {
        title: 'x',
        ytitle: 'y',
      } as never),
    /heldOutLikelihoodFigure: .*'ytitle'/,
  ],
  [
    'energyCurvesFigure',
    () => models.ebm.energyCurvesFigure([], { titel: 'x' } as never),
    /energyCurvesFigure: .*'titel'/,
  ],
  [
    'aisAgainstExactFigure',
    () =>
      models.boltzmann.aisAgainstExactFigure([{ K: 1, logZ: 0, se: 0 }], 0, {
        runs: 1,
        modle: 'x',
      } as never),
    /aisAgainstExactFigure: .*'modle'/,
  ],
];

test('options objects across the library refuse a misspelled key, naming the function', async () => {
  await runtime.init({ seed: 0, report: false });
  const before = tf.memory().numTensors;
  for (const [what, call, message] of CASES) {
    await assert.rejects(async () => call(), message, what);
  }
  assert.equal(tf.memory().numTensors, before, 'a refused call leaks no tensors');
});
