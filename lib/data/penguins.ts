/**
 * The Palmer penguins (Gorman, Williams & Fraser 2014; 344 penguins of three species measured on
 * three islands), as shipped by the `vega-datasets` npm package in data/penguins.json. Rows with
 * any missing measurement or sex are dropped (333 remain), and the count dropped is reported.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface Penguin {
  species: string;
  island: string;
  beakLengthMm: number;
  beakDepthMm: number;
  flipperLengthMm: number;
  bodyMassG: number;
  sex: 'female' | 'male';
}

/** The numeric columns, usable as features. */
export const PENGUIN_FEATURES = [
  'beakLengthMm',
  'beakDepthMm',
  'flipperLengthMm',
  'bodyMassG',
] as const;
export type PenguinFeature = (typeof PENGUIN_FEATURES)[number];

/** Axis labels with units for each feature. */
export const PENGUIN_FEATURE_LABELS: Record<PenguinFeature, string> = {
  beakLengthMm: 'beak length (mm)',
  beakDepthMm: 'beak depth (mm)',
  flipperLengthMm: 'flipper length (mm)',
  bodyMassG: 'body mass (g)',
};

const SOURCE_COLUMNS: Record<PenguinFeature, string> = {
  beakLengthMm: 'Beak Length (mm)',
  beakDepthMm: 'Beak Depth (mm)',
  flipperLengthMm: 'Flipper Length (mm)',
  bodyMassG: 'Body Mass (g)',
};

export interface PenguinData {
  /** The complete rows. */
  rows: Penguin[];
  /** How many rows of the file had a missing value and were dropped. */
  dropped: number;
  /** The file read. */
  source: string;
}

/** The path of data/penguins.json in the installed vega-datasets package. */
export function penguinsFile(): string {
  // The package's "exports" hide package.json from require.resolve, so look in the node_modules
  // folders.
  for (const dir of require.resolve.paths('vega-datasets') ?? []) {
    const file = path.join(dir, 'vega-datasets', 'data', 'penguins.json');
    if (fs.existsSync(file)) return file;
  }
  throw new Error(
    "loadPenguins: the npm package 'vega-datasets' (data/penguins.json) is not installed; run " +
      '`npm install` in the project root (it is a dependency of the kit).',
  );
}

/**
 * Reads the penguins (from `file`, default the vega-datasets copy), dropping rows with missing
 * values.
 */
export function loadPenguins(file: string = penguinsFile()): PenguinData {
  if (!fs.existsSync(file))
    throw new Error(
      `loadPenguins: ${file} does not exist; pass the path of a penguins.json file or reinstall ` +
        `vega-datasets.`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`loadPenguins: ${file} is not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (!Array.isArray(raw) || raw.length === 0)
    throw new Error(`loadPenguins: ${file} must hold a non-empty JSON array of records`);
  const required = ['Species', 'Island', 'Sex', ...Object.values(SOURCE_COLUMNS)];
  const missingColumns = required.filter((c) => !(c in (raw as Record<string, unknown>[])[0]));
  if (missingColumns.length > 0)
    throw new Error(`loadPenguins: ${file} lacks the column(s) ${missingColumns.join(', ')}`);
  const rows: Penguin[] = [];
  for (const r of raw as Record<string, unknown>[]) {
    const numbers = PENGUIN_FEATURES.map((f) => r[SOURCE_COLUMNS[f]]);
    const sex = typeof r.Sex === 'string' ? r.Sex.toLowerCase() : '';
    if (
      numbers.some((v) => typeof v !== 'number' || !Number.isFinite(v)) ||
      (sex !== 'female' && sex !== 'male')
    )
      continue;
    const [beakLengthMm, beakDepthMm, flipperLengthMm, bodyMassG] = numbers as number[];
    rows.push({
      species: String(r.Species),
      island: String(r.Island),
      beakLengthMm,
      beakDepthMm,
      flipperLengthMm,
      bodyMassG,
      sex,
    });
  }
  return { rows, dropped: raw.length - rows.length, source: file };
}

export interface FeatureMatrix {
  /** Row-major [n, features.length] values, standardized if requested. */
  values: Float32Array;
  n: number;
  features: PenguinFeature[];
  /**
   * Per-feature mean and standard deviation used for standardization (0 and 1 when not
   * standardized).
   */
  mean: number[];
  std: number[];
}

/**
 * The chosen numeric columns as an [n, d] matrix, optionally standardized to mean 0 and variance 1.
 */
export function penguinMatrix(
  rows: Penguin[],
  features: PenguinFeature[],
  options: { standardize?: boolean } = {},
): FeatureMatrix {
  const unknown = features.filter((f) => !(PENGUIN_FEATURES as readonly string[]).includes(f));
  if (unknown.length > 0 || features.length === 0) {
    throw new Error(
      `penguinMatrix: features must be a non-empty list from ${PENGUIN_FEATURES.join(', ')}, got ` +
        `${JSON.stringify(features)}`,
    );
  }
  if (rows.length < 2) throw new Error(`penguinMatrix: need at least 2 rows, got ${rows.length}`);
  const d = features.length;
  const n = rows.length;
  const mean = features.map((f) => rows.reduce((s, r) => s + r[f], 0) / n);
  const std = features.map((f, j) =>
    Math.sqrt(rows.reduce((s, r) => s + (r[f] - mean[j]) ** 2, 0) / (n - 1)),
  );
  const standardize = options.standardize ?? false;
  const values = new Float32Array(n * d);
  rows.forEach((r, i) =>
    features.forEach(
      (f, j) => (values[i * d + j] = standardize ? (r[f] - mean[j]) / std[j] : r[f]),
    ),
  );
  return {
    values,
    n,
    features,
    mean: standardize ? mean : features.map(() => 0),
    std: standardize ? std : features.map(() => 1),
  };
}
