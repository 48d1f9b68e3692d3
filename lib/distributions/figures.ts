/** Figures of notebook 02 (KL divergence): the Monte Carlo error and KL over a parameter grid. */
import { Figure, heatmap, lines, PALETTE, scatterTrace, Series } from '../plot/figure';

/**
 * The root-mean-square error of Monte Carlo KL estimates against the sample size N on log-log axes,
 * one line per pair of distributions, with a dashed ∝ 1/√N line through the first pair's first
 * point.
 */
export function klMonteCarloErrorFigure(
  sampleSizes: number[],
  errors: { name: string; rmse: number[] }[],
  repeats: number,
): Figure {
  if (errors.length === 0) throw new Error('klMonteCarloErrorFigure: no pairs to draw');
  for (const { name, rmse } of errors)
    if (rmse.length !== sampleSizes.length)
      throw new Error(
        `klMonteCarloErrorFigure: '${name}' has ${rmse.length} errors for ` +
          `${sampleSizes.length} sample sizes`,
      );
  if (!sampleSizes.every((n) => n > 0))
    throw new Error(`klMonteCarloErrorFigure: sample sizes must be positive, got ${sampleSizes}`);
  if (!(Number.isInteger(repeats) && repeats > 0))
    throw new Error(`klMonteCarloErrorFigure: repeats must be a positive integer, got ${repeats}`);
  const reference = errors[0].rmse[0];
  const series: Series[] = errors.map(({ name, rmse }) => ({
    name,
    x: sampleSizes,
    y: rmse,
    mode: 'lines+markers',
  }));
  series.push({
    name: '∝ 1/√N',
    x: sampleSizes,
    y: sampleSizes.map((n) => reference * Math.sqrt(sampleSizes[0] / n)),
    dash: 'dash',
    color: '#000000',
  });
  return lines(series, {
    title: `Monte Carlo error of KL(p‖q), RMSE over ${repeats} repeats`,
    xTitle: 'samples N',
    yTitle: 'RMSE (nats)',
    logX: true,
    logY: true,
  });
}

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) over a grid as a heatmap of log₁₀(KL + 10⁻⁶) (kl[i][j] at (mus[j],
 * sigmas[i])), with the grid's smallest value marked.
 */
export function klToStandardNormalFigure(
  grid: { mus: number[]; sigmas: number[]; kl: number[][] },
  minimum: { mu: number; sigma: number },
): Figure {
  if (grid.kl.some((row) => row.some(Number.isNaN)))
    throw new Error('klToStandardNormalFigure: the KL grid holds NaN; check the parameters');
  const fig = heatmap(
    grid.kl.map((row) => row.map((v) => Math.log10(v + 1e-6))),
    {
      x: grid.mus,
      y: grid.sigmas,
      zTitle: 'log₁₀ KL',
      title: 'KL(N(μ, σ²) ‖ N(0, 1)) ≥ 0, zero only at μ = 0, σ = 1',
      xTitle: 'μ',
      yTitle: 'σ',
    },
  );
  fig.data.push(
    scatterTrace({
      name: 'minimum',
      x: [minimum.mu],
      y: [minimum.sigma],
      color: PALETTE[3],
      size: 12,
      opacity: 1,
    }),
  );
  fig.layout.legend = { x: 0.02, y: 0.98 };
  return fig;
}
