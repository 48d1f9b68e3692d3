/** Figures of notebook 05 (Gaussian mixtures): soft assignments and the choice of K. */
import {
  AxesOptions,
  figure,
  Figure,
  lines,
  lineTrace,
  PALETTE,
  scatterTrace,
} from '../../plot/figure';
import { checkOptions } from '../../runtime/checks';
import { covarianceEllipse } from './gaussian-mixture';

/** A fitted 2-D mixture in plain numbers: weights[j], means[j] = [m1, m2], covariances[j] 2x2. */
export interface MixtureParameters {
  weights: number[];
  means: number[][];
  covariances: number[][][];
}

/**
 * The points coloured by their responsibility r for component `shown`, from grey (r = 0) to the
 * component's colour (r = 1), under every component's 1- and 2-standard-deviation ellipse.
 */
export function responsibilityFigure(
  points: { x: number[]; y: number[]; responsibility: number[] },
  mixture: MixtureParameters,
  shown: number,
  axes: Pick<AxesOptions, 'xTitle' | 'yTitle'>,
): Figure {
  const k = mixture.means.length;
  if (mixture.weights.length !== k || mixture.covariances.length !== k)
    throw new Error(
      `responsibilityFigure: ${mixture.weights.length} weights, ${k} means and ` +
        `${mixture.covariances.length} covariances; one of each per component`,
    );
  if (!(Number.isInteger(shown) && shown >= 0 && shown < k))
    throw new Error(`responsibilityFigure: shown must be a component 0..${k - 1}, got ${shown}`);
  if (points.responsibility.some((r) => !(r >= 0 && r <= 1)))
    throw new Error('responsibilityFigure: responsibilities must lie in [0, 1]');
  const ellipses = mixture.means.flatMap((m, j) =>
    [1, 2].map((stds) => ({
      ...lineTrace({
        name: `component ${j} (weight ${mixture.weights[j].toFixed(2)})`,
        ...covarianceEllipse(m, mixture.covariances[j].flat(), stds),
        color: PALETTE[j],
        dash: stds === 1 ? 'dot' : 'solid',
      }),
      showlegend: stds === 2,
    })),
  );
  const label = `r(component ${shown})`;
  const colored = scatterTrace({
    name: label,
    x: points.x,
    y: points.y,
    color: points.responsibility,
    opacity: 0.9,
  });
  Object.assign(colored.marker as Record<string, unknown>, {
    colorscale: [
      [0, '#d9d9d9'],
      [1, PALETTE[shown]],
    ],
    cmin: 0,
    cmax: 1,
    colorbar: { title: { text: label } },
  });
  const fig = figure([{ ...colored, showlegend: false }, ...ellipses], {
    title: `Responsibility of component ${shown} and the fitted Gaussians`,
    ...axes,
    showLegend: true,
    width: 680,
    height: 520,
  });
  // the legend goes under the plot; the top keeps room for the title
  fig.layout.legend = { orientation: 'h', x: 0, y: -0.22 };
  fig.layout.margin = { ...(fig.layout.margin as object), b: 110 };
  return fig;
}

/** Train and held-out log-likelihood per point against the number of components K. */
export function heldOutLikelihoodFigure(
  ks: number[],
  perPoint: { train: number[]; heldOut: number[] },
  options: { title: string; yTitle: string },
): Figure {
  checkOptions('heldOutLikelihoodFigure', options, { title: true, yTitle: true });
  for (const values of [perPoint.train, perPoint.heldOut])
    if (values.length !== ks.length)
      throw new Error(
        `heldOutLikelihoodFigure: ${ks.length} values of K but ${values.length} log-likelihoods`,
      );
  return lines(
    [
      { name: 'train', x: ks, y: perPoint.train, mode: 'lines+markers' },
      { name: 'held-out', x: ks, y: perPoint.heldOut, mode: 'lines+markers' },
    ],
    { title: options.title, xTitle: 'number of components K', yTitle: options.yTitle },
  );
}
