/**
 * Where the encoded data sit in latent space, in plain numbers (lectures 002, 004: an
 * autoencoder's codes are oddly shaped, not centred, and have holes; the VAE's KL term pulls them
 * onto the prior N(0, I)).
 */

function checkRows(caller: string, name: string, rows: number[][], width?: number): number {
  if (!Array.isArray(rows) || rows.length === 0)
    throw new Error(`${caller}: ${name} must be a non-empty list of rows [n][d]`);
  const d = width ?? (Array.isArray(rows[0]) ? rows[0].length : 0);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== d || d === 0)
      throw new Error(`${caller}: ${name}[${i}] must be a row of ${d || 'one or more'} numbers`);
    row.forEach((x, j) => {
      if (!Number.isFinite(x))
        throw new Error(`${caller}: ${name}[${i}][${j}] is ${x}, expected a finite number`);
    });
  });
  return d;
}

/** Mean and standard deviation of each coordinate of the codes, and the KL of that fit. */
export interface CodeStatistics {
  mean: number[];
  std: number[];
  /**
   * KL(N(mean, diag std^2) || N(0, I)) in nats: how far a Gaussian fit of the codes is from the
   * prior.
   */
  klFromPrior: number;
}

/**
 * Statistics of codes [n][d] (e.g. from encodeMeans): where they are centred and how they spread.
 */
export function codeStatistics(codes: number[][]): CodeStatistics {
  const d = checkRows('codeStatistics', 'codes', codes);
  if (codes.length < 2) throw new Error('codeStatistics: needs two codes or more');
  const n = codes.length;
  const mean = Array.from({ length: d }, (_, j) => codes.reduce((s, c) => s + c[j], 0) / n);
  const std = mean.map((m, j) => Math.sqrt(codes.reduce((s, c) => s + (c[j] - m) ** 2, 0) / n));
  // KL = 1/2 Σ_j (s_j^2 + m_j^2 - 1 - log s_j^2), the VAE's KL term in closed form
  const klFromPrior = mean.reduce(
    (s, m, j) => s + 0.5 * (std[j] ** 2 + m ** 2 - 1 - Math.log(std[j] ** 2)),
    0,
  );
  return { mean, std, klFromPrior };
}

/**
 * How far each point lies from the encoded data, in units of the codes' own spacing: the distance
 * from the point to its nearest code, divided by the median distance from a code to its nearest
 * other code. About 1 or less inside the cloud of codes; a point many spacings away sits in a hole
 * where the decoder never saw a code.
 */
export function distanceToCodes(codes: number[][], points: number[][]): number[] {
  const d = checkRows('distanceToCodes', 'codes', codes);
  checkRows('distanceToCodes', 'points', points, d);
  if (codes.length < 2) throw new Error('distanceToCodes: needs two codes or more');
  const nearest = (p: number[], skip = -1) => {
    let best = Infinity;
    codes.forEach((c, k) => {
      if (k === skip) return;
      let s = 0;
      for (let j = 0; j < d; j++) s += (c[j] - p[j]) ** 2;
      if (s < best) best = s;
    });
    return Math.sqrt(best);
  };
  const spacings = codes.map((c, k) => nearest(c, k)).sort((a, b) => a - b);
  const spacing = spacings[Math.floor(spacings.length / 2)];
  if (!(spacing > 0))
    throw new Error('distanceToCodes: more than half of the codes coincide; their spacing is 0');
  return points.map((p) => nearest(p) / spacing);
}
