/**
 * MCMC diagnostics on plain arrays: running frequencies, total-variation distance to an exact
 * distribution, autocorrelation, effective sample size, burn-in and thinning.
 */

function checkSeries(name: string, x: ArrayLike<number>, min = 1): void {
  if (x.length < min) throw new Error(`${name} needs at least ${min} values, got ${x.length}`);
}

/** TV(p, q) = 1/2 sum_k |p_k - q_k| (0 = identical, 1 = disjoint supports). */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length || p.length === 0)
    throw new Error(
      `totalVariation: p and q must have the same positive length, got ${p.length} and ${q.length}`,
    );
  let s = 0;
  for (let k = 0; k < p.length; k++) s += Math.abs(p[k] - q[k]);
  return s / 2;
}

/** Empirical frequencies of the states 0..numStates-1 among `codes`. */
export function frequencies(codes: ArrayLike<number>, numStates: number): number[] {
  checkSeries('frequencies(codes)', codes);
  const counts = new Array<number>(numStates).fill(0);
  for (let t = 0; t < codes.length; t++) {
    const c = codes[t];
    if (!Number.isInteger(c) || c < 0 || c >= numStates)
      throw new Error(
        `frequencies: code ${c} at position ${t} is not a state in [0, ${numStates})`,
      );
    counts[c]++;
  }
  return counts.map((c) => c / codes.length);
}

/**
 * Running frequencies: row r is the empirical distribution of codes[0..at[r]-1]. `at` defaults to
 * every step 1..n; pass checkpoints (e.g. log-spaced) for long runs.
 */
export function runningFrequencies(
  codes: ArrayLike<number>,
  numStates: number,
  at?: number[],
): number[][] {
  checkSeries('runningFrequencies(codes)', codes);
  const points = at ?? Array.from({ length: codes.length }, (_, t) => t + 1);
  const counts = new Array<number>(numStates).fill(0);
  const out: number[][] = [];
  let t = 0;
  for (const n of points) {
    if (!Number.isInteger(n) || n < 1 || n > codes.length || n < t)
      throw new Error(
        `runningFrequencies: checkpoints must be increasing integers in [1, ${codes.length}], ` +
          `got ${n}`,
      );
    for (; t < n; t++) {
      const c = codes[t];
      if (!Number.isInteger(c) || c < 0 || c >= numStates)
        throw new Error(
          `runningFrequencies: code ${c} at position ${t} is not a state in [0, ${numStates})`,
        );
      counts[c]++;
    }
    out.push(counts.map((k) => k / n));
  }
  return out;
}

/** TV distance between the running frequencies at each checkpoint and the exact distribution. */
export function runningTotalVariation(
  codes: ArrayLike<number>,
  exact: ArrayLike<number>,
  at: number[],
): number[] {
  return runningFrequencies(codes, exact.length, at).map((f) => totalVariation(f, exact));
}

/**
 * About `count` integers log-spaced from `from` to `to` (distinct, increasing, both ends included).
 */
export function logCheckpoints(from: number, to: number, count: number): number[] {
  if (!(from >= 1 && to >= from && count >= 2))
    throw new Error(
      `logCheckpoints: need 1 <= from <= to and count >= 2, got from=${from}, to=${to}, ` +
        `count=${count}`,
    );
  const out = new Set<number>();
  for (let k = 0; k < count; k++) out.add(Math.round(from * Math.pow(to / from, k / (count - 1))));
  return Array.from(out).sort((a, b) => a - b);
}

function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let t = 0; t < x.length; t++) s += x[t];
  return s / x.length;
}

/** Sample autocorrelation rho_k = c_k / c_0 for lags 0..maxLag (c_k the biased autocovariance). */
export function autocorrelation(x: ArrayLike<number>, maxLag: number): number[] {
  checkSeries('autocorrelation(x)', x, 2);
  if (!Number.isInteger(maxLag) || maxLag < 0 || maxLag >= x.length)
    throw new Error(
      `autocorrelation: maxLag must be an integer in [0, ${x.length - 1}], got ${maxLag}`,
    );
  const n = x.length;
  const m = mean(x);
  const c = (k: number) => {
    let s = 0;
    for (let t = 0; t + k < n; t++) s += (x[t] - m) * (x[t + k] - m);
    return s / n;
  };
  const c0 = c(0);
  if (c0 === 0)
    throw new Error(
      'autocorrelation: the series is constant, so its autocorrelation is undefined (is the ' +
        'chain stuck?)',
    );
  return Array.from({ length: maxLag + 1 }, (_, k) => (k === 0 ? 1 : c(k) / c0));
}

/**
 * Integrated autocorrelation time tau = 1 + 2 sum_k rho_k from autocorrelations rho_0 = 1, rho_1,
 * ..., truncated by Geyer's initial positive sequence: pairs rho_{2m} + rho_{2m+1} are summed while
 * positive.
 */
export function integratedAutocorrelationTime(rho: ArrayLike<number>): number {
  if (rho.length < 2 || rho[0] !== 1)
    throw new Error(
      `integratedAutocorrelationTime: rho must start with rho_0 = 1 and have at least 2 lags, ` +
        `got [${Array.from(rho).slice(0, 3).join(', ')}${rho.length > 3 ? ', ...' : ''}]`,
    );
  let tau = -1;
  for (let m = 0; 2 * m + 1 < rho.length; m++) {
    const pair = rho[2 * m] + rho[2 * m + 1];
    if (pair <= 0) break;
    tau += 2 * pair;
  }
  return tau;
}

/**
 * Effective sample size n / tau (tau the integrated autocorrelation time, from up to 1000 lags).
 */
export function effectiveSampleSize(x: ArrayLike<number>): number {
  checkSeries('effectiveSampleSize(x)', x, 4);
  const n = x.length;
  const tau = integratedAutocorrelationTime(autocorrelation(x, Math.min(n - 1, 1000)));
  return n / Math.max(tau, 1 / n);
}

/** Drops the first `count` values (burn-in). */
export function discardBurnIn<T extends ArrayLike<number>>(x: T, count: number): number[] {
  if (!Number.isInteger(count) || count < 0 || count >= x.length)
    throw new Error(`discardBurnIn: count must be an integer in [0, ${x.length}), got ${count}`);
  return Array.from(x).slice(count);
}

/** Keeps every `every`-th value (thinning), starting with the `every`-th. */
export function thin(x: ArrayLike<number>, every: number): number[] {
  if (!Number.isInteger(every) || every < 1)
    throw new Error(`thin: every must be a positive integer, got ${every}`);
  const out: number[] = [];
  for (let t = every - 1; t < x.length; t += every) out.push(x[t]);
  return out;
}
