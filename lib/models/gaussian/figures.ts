/** Figures of notebook 01 (maximum likelihood for Gaussians): the ascent gap and the surface. */
import {
  contour,
  Figure,
  levelSeries,
  lines,
  lineTrace,
  PALETTE,
  scatterTrace,
} from '../../plot/figure';
import { checkOptions } from '../../runtime/checks';
import { GaussianFit } from './mle';

/**
 * The gap ℓ(θ̂)/N − ℓ(θ)/N per step on a log axis, with the float32 resolution of ℓ/N as a dashed
 * line; gaps at or below the resolution (round-off, some zero or negative) are drawn on that line.
 */
export function ascentGapFigure(steps: number[], gaps: number[], resolution: number): Figure {
  if (steps.length !== gaps.length || steps.length === 0)
    throw new Error(
      `ascentGapFigure: ${steps.length} steps and ${gaps.length} gaps; one gap per step, at ` +
        'least one',
    );
  if (!(resolution > 0 && Number.isFinite(resolution)))
    throw new Error(`ascentGapFigure: resolution must be positive and finite, got ${resolution}`);
  const bad = gaps.findIndex((g) => Number.isNaN(g));
  if (bad >= 0) throw new Error(`ascentGapFigure: the gap at step ${steps[bad]} is NaN`);
  return lines(
    [
      { name: 'gradient ascent', x: steps, y: gaps.map((g) => Math.max(g, resolution)) },
      levelSeries('float32 resolution of ℓ/N', [steps[0], steps[steps.length - 1]], resolution, {
        dash: 'dash',
        color: PALETTE[7],
      }),
    ],
    {
      title: 'Gap to the maximum average log-likelihood',
      xTitle: 'Adam step',
      yTitle: 'ℓ(θ̂)/N − ℓ(θ)/N (nats)',
      logY: true,
    },
  );
}

/** What likelihoodSurfaceFigure marks on the surface. */
export interface SurfaceMarks {
  /** The optimizer's path over (μ, σ), drawn as a white line. */
  path: { mu: number; sigma: number }[];
  /** The maximum-likelihood estimate, drawn as a point. */
  mle: GaussianFit;
  /** The contour levels run from `floor` up to `maximum` (ℓ/N at the MLE) in steps of 0.1 nats. */
  floor: number;
  maximum: number;
}

/**
 * The average log-likelihood ℓ/N over a grid of (μ, σ) as filled contours (average[i][j] at
 * (mus[j], sigmas[i]), as logLikelihoodSurface lays it out), with an ascent path and the MLE.
 */
export function likelihoodSurfaceFigure(
  grid: { mus: number[]; sigmas: number[]; average: number[][] },
  marks: SurfaceMarks,
): Figure {
  checkOptions('likelihoodSurfaceFigure', marks, {
    path: true,
    mle: true,
    floor: true,
    maximum: true,
  });
  if (!(marks.floor < marks.maximum))
    throw new Error(
      `likelihoodSurfaceFigure: floor (${marks.floor}) must lie below maximum (${marks.maximum})`,
    );
  if (!(marks.mle.sigma > 0))
    throw new Error(
      `likelihoodSurfaceFigure: the MLE's sigma must be positive, got ${marks.mle.sigma}`,
    );
  const fig = contour(grid.average, {
    x: grid.mus,
    y: grid.sigmas,
    zTitle: 'ℓ/N (nats)',
    title: 'Average log-likelihood over (μ, σ)',
    xTitle: 'μ',
    yTitle: 'σ',
  });
  fig.data[0].contours = { start: marks.floor, end: marks.maximum, size: 0.1 };
  fig.data.push(
    lineTrace({
      name: 'Adam path',
      x: marks.path.map((s) => s.mu),
      y: marks.path.map((s) => s.sigma),
      color: 'white',
      mode: 'lines',
    }),
    scatterTrace({
      name: 'MLE',
      x: [marks.mle.mu],
      y: [marks.mle.sigma],
      color: PALETTE[3],
      size: 12,
      opacity: 1,
    }),
  );
  fig.layout.showlegend = true;
  fig.layout.legend = { x: 0.02, y: 0.98, bgcolor: 'rgba(255,255,255,0.85)' };
  return fig;
}
