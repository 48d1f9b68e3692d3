/**
 * A likelihood leaderboard: one table of test log-likelihoods of models of different families on
 * the same test images, each with its honest estimator (exact, a stochastic lower bound, or an
 * estimate) and its error bar, beside the published values. A row is one `LeaderboardEntry`;
 * lib/metrics/mnist-leaderboard has the kit's rows on binarized MNIST.
 *
 * Scores are cached beside the model they score (`cachedScore`): evaluating IWAE with K = 5,000 on
 * 10,000 images takes minutes, a rerun of the notebook reads the number back. The cache is keyed by
 * the checkpoint's checksum, the test set's fingerprint and the estimator's settings, so a
 * retrained model or another test set is scored anew.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fingerprint } from '../data/binarized';
import { ImageDataset } from '../data/mnist';
import { loopRegistry, runLoop } from '../runtime/loop';
import { figure, Figure, PALETTE } from '../plot/figure';
import { withSeed } from '../runtime/random';
import { LogLikelihood } from './likelihood';

/**
 * How a row's number relates to the test log-likelihood: 'exact'; a 'lower bound' in expectation
 * (ELBO, IWAE: the true value is higher); an 'estimate' that can err either way (AIS).
 */
export type EstimateKind = 'exact' | 'lower bound' | 'estimate';

const KINDS: EstimateKind[] = ['exact', 'lower bound', 'estimate'];

/** A published value, log-likelihood in nats per test image. */
export interface LiteratureValue {
  logLikelihood: number;
  /** e.g. 'Germain et al. 2015, 32 masks' */
  source: string;
}

/** A row's score on the test set. */
export interface Score {
  /** Mean test log-likelihood (or its bound or estimate), nats per image. */
  logLikelihood: number;
  /** One standard error of that number (see `errorSource`). */
  standardError: number;
  /** What the standard error covers, e.g. 'over test images' or 'AIS log Z and test images'. */
  errorSource: string;
  /** Number and fingerprint of the test images scored. */
  testImages: number;
  testFingerprint: string;
  /** Seconds of training that produced the model (as recorded when it was trained). */
  trainSeconds?: number;
  /** Seconds the evaluation took when it was computed (a cached score keeps them). */
  evaluationSeconds?: number;
}

export interface LeaderboardEntry {
  /** The model, e.g. 'MADE, 1 hidden layer of 500, direct connections'. */
  model: string;
  /** The estimator, e.g. 'exact', 'IWAE, K = 5,000', 'AIS, 100 runs x 14,500 temperatures'. */
  estimator: string;
  kind: EstimateKind;
  /** Published values for the same kind of model. */
  literature: LiteratureValue[];
  /**
   * Trains or loads the model and scores it on `test` (cached); absent for a row the kit does not
   * train yet, which then shows the literature alone.
   */
  score?: (test: ImageDataset) => Promise<Score>;
}

export interface LeaderboardRow {
  entry: LeaderboardEntry;
  score?: Score;
}

/** A score from per-image values: the mean and its standard error over images. */
export function scoreOf(
  test: ImageDataset,
  values: LogLikelihood,
  extra: Partial<Score> = {},
): Score {
  if (values.perImage.length !== test.size)
    throw new Error(`scoreOf: ${values.perImage.length} values for ${test.size} test images`);
  return {
    logLikelihood: values.mean,
    standardError: values.standardError,
    errorSource: 'over test images',
    testImages: test.size,
    testFingerprint: fingerprint(test),
    ...extra,
  };
}

function checkEntry(entry: LeaderboardEntry, i: number): void {
  if (!entry || typeof entry.model !== 'string' || entry.model === '')
    throw new Error(`leaderboard entry ${i}: model must be a non-empty name`);
  if (!KINDS.includes(entry.kind))
    throw new Error(
      `leaderboard entry '${entry.model}': kind must be one of ${KINDS.join(', ')}, got ` +
        `'${entry.kind}'`,
    );
  for (const value of entry.literature ?? [])
    if (!Number.isFinite(value.logLikelihood) || value.logLikelihood > 0)
      throw new Error(
        `leaderboard entry '${entry.model}': a literature log-likelihood must be a finite ` +
          `number <= 0 (nats per image), got ${value.logLikelihood}`,
      );
}

/**
 * Scores every entry on `test` in order (`onEntry` is told which one starts) and checks that all
 * scores are on exactly these test images. Each entry draws from its own seed (its index, unless
 * it seeds itself) and the caller's random stream is left as it was, so what is drawn after the
 * leaderboard does not depend on which scores were cached. A kit loop: an interrupt stops it in
 * the entry it is scoring, whose row is then left out (the rows before it are returned, their
 * scores cached).
 */
export async function computeLeaderboard(
  entries: LeaderboardEntry[],
  test: ImageDataset,
  options: { onEntry?: (entry: LeaderboardEntry, index: number) => void } = {},
): Promise<LeaderboardRow[]> {
  entries.forEach(checkEntry);
  const expected = fingerprint(test);
  const rows: LeaderboardRow[] = [];
  await runLoop(
    'leaderboard',
    async (loop) => {
      for (const [i, entry] of entries.entries()) {
        if (await loop.shouldStop()) break;
        options.onEntry?.(entry, i);
        const score = entry.score ? await withSeed(i, () => entry.score!(test)) : undefined;
        if (loop.interrupted) break;
        if (score && score.testFingerprint !== expected)
          throw new Error(
            `leaderboard: '${entry.model}' was scored on other images (${score.testFingerprint}) ` +
              `than the test set (${expected})`,
          );
        rows.push({ entry, score });
      }
      if (loop.interrupted)
        loop.stop(`row ${rows.length + 1}/${entries.length}`, `the table has ${rows.length} rows`);
    },
    { then: 'run the cell again to continue (the scores done are cached)' },
  );
  return rows;
}

function formatNats(v: number | undefined, digits = 2): string {
  return v === undefined ? '' : v.toFixed(digits).replace('-', '−');
}

/** One plain row per entry, for `plot.showTable` or a DataFrame. */
export function leaderboardTable(
  rows: LeaderboardRow[],
): Record<string, string | number | undefined>[] {
  return rows.map(({ entry, score }) => ({
    model: entry.model,
    estimator: entry.estimator,
    'the number is': entry.kind,
    'test log-likelihood (nats/image)': score?.logLikelihood,
    '± s.e.': score?.standardError,
    'error covers': score?.errorSource ?? (entry.score ? '' : 'not trained by the kit yet'),
    literature: entry.literature
      .map((l) => `${formatNats(l.logLikelihood)} (${l.source})`)
      .join('; '),
  }));
}

/** The table as Markdown, for the README (numbers to 2 decimals). */
export function leaderboardMarkdown(rows: LeaderboardRow[]): string {
  const header =
    '| model | estimator | the number is | test log-likelihood (nats/image) | literature |\n' +
    '|---|---|---|---|---|\n';
  return (
    header +
    rows
      .map(({ entry, score }) => {
        const value = score
          ? `**${formatNats(score.logLikelihood)}** ± ${score.standardError.toFixed(2)}`
          : 'not trained by the kit yet';
        const literature = entry.literature
          .map((l) => `${formatNats(l.logLikelihood)} (${l.source})`)
          .join('; ');
        return `| ${entry.model} | ${entry.estimator} | ${entry.kind} | ${value} | ${literature} |`;
      })
      .join('\n') +
    '\n'
  );
}

/**
 * The score cached in `<modelDir>/scores.json` under `key` (the estimator's settings) if it was
 * computed for the checkpoint now in `modelDir` and for these test images; otherwise `compute()`,
 * stored there unless an interrupt stopped it. A checkpoint saved again replaces the folder, and
 * with it the cache.
 */
export async function cachedScore(
  modelDir: string,
  key: Record<string, unknown>,
  test: ImageDataset,
  compute: () => Promise<Score> | Score,
): Promise<Score> {
  const manifest = path.join(modelDir, 'manifest.json');
  const file = path.join(modelDir, 'scores.json');
  const checksum = fs.existsSync(manifest)
    ? (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { sha256?: string }).sha256
    : undefined;
  const id = JSON.stringify({ ...key, checkpoint: checksum, test: fingerprint(test) });
  let cache: Record<string, Score> = {};
  if (fs.existsSync(file)) {
    try {
      cache = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      cache = {}; // an unreadable cache is recomputed and rewritten
    }
  }
  if (checksum && cache[id]) return cache[id];
  const started = Date.now();
  const score = await compute();
  const stored = { ...score, evaluationSeconds: (Date.now() - started) / 1000 };
  // a computation stopped by an interrupt (Kernel > Interrupt) is partial: not cached
  if (checksum && !loopRegistry().interrupted) {
    cache[id] = stored;
    const temp = `${file}.partial-${process.pid}`;
    fs.writeFileSync(temp, JSON.stringify(cache, null, 2));
    fs.renameSync(temp, file);
  }
  return stored;
}

/**
 * The leaderboard as a figure: each scored row's number with ± 2 standard errors, and the
 * literature values beside them (one line per row: model and estimator).
 */
export function leaderboardFigure(rows: LeaderboardRow[]): Figure {
  const label = (r: LeaderboardRow) => `${r.entry.model}<br>${r.entry.estimator}`;
  const scored = rows.filter((r) => r.score !== undefined);
  const literature = rows.flatMap((r) => r.entry.literature.map((l) => ({ row: r, value: l })));
  return figure(
    [
      {
        type: 'scatter',
        mode: 'markers',
        name: 'this kit (± 2 s.e.)',
        y: scored.map(label),
        x: scored.map((r) => r.score!.logLikelihood),
        error_x: {
          type: 'data',
          array: scored.map((r) => 2 * r.score!.standardError),
          visible: true,
        },
        marker: { size: 10, color: PALETTE[0] },
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'literature',
        y: literature.map((l) => label(l.row)),
        x: literature.map((l) => l.value.logLikelihood),
        text: literature.map((l) => l.value.source),
        marker: { size: 10, symbol: 'diamond-open', color: PALETTE[1] },
      },
    ],
    {
      title: 'Test log-likelihood on binarized MNIST',
      xTitle: 'log p(x) (nats per test image)',
      yTitle: '',
      showLegend: true,
      width: 900,
      height: 520,
    },
  );
}
