/**
 * Figures of notebooks 02 (KL divergence: the Monte Carlo error, KL over a parameter grid) and 03
 * (the ELBO: its gap to log p(x), its ascent, and log p(x) estimated several ways).
 */
import { Figure, heatmap, levelSeries, lines, PALETTE, scatterTrace, Series } from '../plot/figure';
import { checkOptions } from '../runtime/checks';

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

function checkLength(who: string, what: string, values: ArrayLike<number>, n: number): void {
  if (values.length !== n)
    throw new Error(`${who}: ${what} has ${values.length} values, expected ${n} (one per x)`);
}

function checkFinite(who: string, what: string, value: number): void {
  if (!Number.isFinite(value)) throw new Error(`${who}: ${what} must be finite, got ${value}`);
}

/**
 * The ELBO of q_t and log p(x) − KL(q_t ‖ p(z|x)) along a path of q_t (two curves that coincide),
 * under the exact log p(x).
 */
export function elboGapFigure(
  ts: number[],
  curves: { elbo: number[]; viaKl: number[] },
  logPx: number,
): Figure {
  checkLength('elboGapFigure', 'the ELBO curve', curves.elbo, ts.length);
  checkLength('elboGapFigure', 'the log p(x) − KL curve', curves.viaKl, ts.length);
  checkFinite('elboGapFigure', 'log p(x)', logPx);
  return lines(
    [
      levelSeries('log p(x) (exact)', ts, logPx),
      { name: 'ELBO(q_t)', x: ts, y: curves.elbo, color: PALETTE[0] },
      {
        name: 'log p(x) - KL(q_t || p(z|x))',
        x: ts,
        y: curves.viaKl,
        dash: 'dash',
        color: PALETTE[1],
      },
    ],
    {
      title: 'ELBO = log p(x) - KL(q || posterior)',
      xTitle: 't (q_t has mean t times the posterior mean)',
      yTitle: 'nats',
    },
  );
}

/** The ELBO after each Adam step so far, under the exact log p(x) it climbs towards. */
export function elboAscentFigure(history: number[], logPx: number): Figure {
  if (history.length === 0) throw new Error('elboAscentFigure: no steps yet');
  checkFinite('elboAscentFigure', 'log p(x)', logPx);
  const steps = history.map((_, i) => i);
  return lines([{ name: 'ELBO(q)', x: steps, y: history }, levelSeries('log p(x)', steps, logPx)], {
    title: 'Maximizing the ELBO over Gaussian q',
    xTitle: 'Adam step',
    yTitle: 'nats',
  });
}

/**
 * log p(x0) three ways against the number of Monte Carlo draws N: Monte Carlo over the prior (mean
 * ± sd of repeated runs), quadrature, and the ELBOs of the best uniform q and of q = prior.
 */
export function evidenceEstimatesFigure(
  sizes: number[],
  monteCarlo: { mean: number[]; spread: number[] },
  levels: { quadrature: number; bestUniform: number; prior: number },
): Figure {
  checkLength('evidenceEstimatesFigure', 'the Monte Carlo mean', monteCarlo.mean, sizes.length);
  checkLength('evidenceEstimatesFigure', 'the Monte Carlo spread', monteCarlo.spread, sizes.length);
  if (monteCarlo.spread.some((s) => !(s >= 0)))
    throw new Error('evidenceEstimatesFigure: a spread (standard deviation) must be >= 0');
  checkOptions('evidenceEstimatesFigure', levels, {
    quadrature: true,
    bestUniform: true,
    prior: true,
  });
  for (const [what, value] of Object.entries(levels))
    checkFinite('evidenceEstimatesFigure', what, value);
  return lines(
    [
      {
        name: 'Monte Carlo over the prior (mean ± sd of runs)',
        x: sizes,
        y: monteCarlo.mean,
        error: monteCarlo.spread,
        mode: 'lines+markers',
      },
      levelSeries('quadrature log p(x0)', sizes, levels.quadrature),
      levelSeries('ELBO, q = best uniform', sizes, levels.bestUniform, {
        dash: 'dash',
        color: PALETTE[1],
      }),
      levelSeries('ELBO, q = prior', sizes, levels.prior, { dash: 'dashdot', color: PALETTE[3] }),
    ],
    { title: 'log p(x0) three ways', xTitle: 'Monte Carlo draws N', yTitle: 'nats', logX: true },
  );
}
