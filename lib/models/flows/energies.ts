/**
 * The four 2D test energies of Rezende & Mohamed (2015), Table 1, with p(z) = exp(-U(z)) / Z.
 *   w1(z) = sin(2π z1 / 4),  w2(z) = 3 exp(-½((z1 - 1)/0.6)²),  w3(z) = 3 σ((z1 - 1)/0.3)
 *   U1 = ½((||z|| - 2)/0.4)² - log(exp(-½((z1 - 2)/0.6)²) + exp(-½((z1 + 2)/0.6)²))
 *   U2 = ½((z2 - w1)/0.4)²
 *   U3 = -log(exp(-½((z2 - w1)/0.35)²) + exp(-½((z2 - w1 + w2)/0.35)²))
 *   U4 = -log(exp(-½((z2 - w1)/0.4)²) + exp(-½((z2 - w1 + w3)/0.35)²))
 * U2-U4 are periodic in z1 and do not integrate over R²; like the paper's figures, every target
 * here lives in the window [-4, 4]²: outside it a steep quadratic wall, ½(dist to the window /
 * 0.1)², is added to U. Z is then finite and computed on a fine grid (midpoint rule), so log Z and
 * KL(q || p) in nats are exact to quadrature error.
 */
import * as tf from '@tensorflow/tfjs';
import { checkPoints } from './checks';
import { checkInteger, checkOptions } from '../../runtime/checks';

export type EnergyName = 'U1' | 'U2' | 'U3' | 'U4';
export const ENERGY_NAMES: EnergyName[] = ['U1', 'U2', 'U3', 'U4'];

/** Half-width of the window the targets live in, and the width of the wall outside it. */
export const WINDOW = 4;
export const WALL_WIDTH = 0.1;

const sq = (x: tf.Tensor, scale: number) => tf.mul(0.5, tf.square(tf.div(x, scale)));
/** -log(exp(-a) + exp(-b)), stable. */
const negLogSumExp = (a: tf.Tensor, b: tf.Tensor) =>
  tf.neg(tf.logSumExp(tf.stack([tf.neg(a), tf.neg(b)], 1), 1));

/**
 * The two terms a, b of the energies that are two-branch mixtures, U = ... - log(e^{-a} + e^{-b})
 * (U1: the right and left halves of the ring; U3, U4: the main wave and the second branch), from
 * z1, z2 and d = z2 - w1(z1); undefined for U2, which has one branch.
 */
function branchTerms(
  name: EnergyName,
  z1: tf.Tensor,
  d: tf.Tensor,
): [tf.Tensor, tf.Tensor] | undefined {
  switch (name) {
    case 'U1':
      return [sq(tf.sub(z1, 2), 0.6), sq(tf.add(z1, 2), 0.6)];
    case 'U2':
      return undefined;
    case 'U3': {
      const w2 = tf.mul(3, tf.exp(tf.neg(sq(tf.sub(z1, 1), 0.6))));
      return [sq(d, 0.35), sq(tf.add(d, w2), 0.35)];
    }
    case 'U4': {
      const w3 = tf.mul(3, tf.sigmoid(tf.div(tf.sub(z1, 1), 0.3)));
      return [sq(d, 0.4), sq(tf.add(d, w3), 0.35)];
    }
  }
}

/** z1, and d = z2 - w1(z1) with w1 = sin(2π z1 / 4). */
function waveCoordinates(z: tf.Tensor2D): { z1: tf.Tensor; d: tf.Tensor } {
  const [z1, z2] = tf.unstack(z, 1);
  return { z1, d: tf.sub(z2, tf.sin(tf.mul(z1, (2 * Math.PI) / 4))) };
}

function checkEnergyName(name: EnergyName): void {
  if (!ENERGY_NAMES.includes(name))
    throw new Error(`unknown energy '${name}': use one of ${ENERGY_NAMES.join(', ')}`);
}

/** U(z) of Rezende & Mohamed (2015) without the window's wall, for z [n, 2]. */
export function rezendeEnergy(name: EnergyName, z: tf.Tensor2D): tf.Tensor1D {
  checkEnergyName(name);
  checkPoints(`energy ${name}`, z, 2);
  return tf.tidy(() => {
    const { z1, d } = waveCoordinates(z);
    const branches = branchTerms(name, z1, d);
    if (!branches) return sq(d, 0.4); // U2
    const mixture = negLogSumExp(...branches);
    return name === 'U1' ? tf.add(sq(tf.sub(tf.norm(z, 2, 1), 2), 0.4), mixture) : mixture;
  }) as tf.Tensor1D;
}

/**
 * For the two-branch energies U1, U3, U4: the share of the density at each point of z [n, 2] that
 * comes from the second branch, e^{-b} / (e^{-a} + e^{-b}) (U1: the left half of the ring; U3, U4:
 * the branch below the main wave). Its mean under a density is the mass that density puts on the
 * second branch: compare the target's with a fitted flow's to see which branches the flow found.
 */
export function secondBranchShare(name: EnergyName, z: tf.Tensor2D): tf.Tensor1D {
  checkEnergyName(name);
  checkPoints(`secondBranchShare ${name}`, z, 2);
  if (name === 'U2') throw new Error('secondBranchShare: U2 has one branch; use U1, U3 or U4');
  return tf.tidy(() => {
    const { z1, d } = waveCoordinates(z);
    const branches = branchTerms(name, z1, d)!;
    return tf.sigmoid(tf.sub(...branches)) as tf.Tensor1D;
  });
}

/** ½(dist(z, [-W, W]²)/wall)², zero inside the window. */
function windowWall(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(
    () => tf.sum(sq(tf.relu(tf.sub(tf.abs(z), WINDOW)), WALL_WIDTH), 1) as tf.Tensor1D,
  );
}

/** A 2D target density p(z) = exp(-U(z)) / Z with Z computed on a grid. */
export interface Target2D {
  readonly name: EnergyName;
  /** U(z) per row of z [n, 2] (the paper's energy plus the window's wall). */
  energy(z: tf.Tensor2D): tf.Tensor1D;
  /** log Z = log ∫ exp(-U(z)) dz on the grid. */
  readonly logZ: number;
  /** log p(z) = -U(z) - log Z. */
  logProb(z: tf.Tensor2D): tf.Tensor1D;
}

export interface TargetOptions {
  /** Grid points per axis for Z (default 600 over [-(W+1), W+1]², spacing 0.0167). */
  gridSize?: number;
}

/**
 * Evaluates f on the midpoints of an n × n grid over [-L, L]² (rows: z2, columns: z1); returns
 * values and the cell area.
 */
export function gridValues(
  f: (z: tf.Tensor2D) => tf.Tensor1D,
  halfWidth: number,
  n: number,
): { values: Float32Array; x: number[]; cellArea: number } {
  checkInteger('gridValues', 'grid size', n);
  if (!(halfWidth > 0)) throw new Error(`grid halfWidth must be > 0, got ${halfWidth}`);
  const h = (2 * halfWidth) / n;
  const x = Array.from({ length: n }, (_, i) => -halfWidth + (i + 0.5) * h);
  const values = tf.tidy(() => {
    const axis = tf.tensor1d(x);
    const z1 = tf.tile(axis, [n]);
    const z2 = tf.reshape(tf.tile(tf.reshape(axis, [n, 1]), [1, n]), [-1]);
    return f(tf.stack([z1, z2], 1) as tf.Tensor2D);
  });
  const out = values.dataSync() as Float32Array;
  values.dispose();
  return { values: out, x, cellArea: h * h };
}

/** log Σ exp(-U) · cell area in float64. */
function gridLogZ(energyValues: Float32Array, cellArea: number): number {
  let min = Infinity;
  for (const u of energyValues) min = Math.min(min, u);
  let sum = 0;
  for (const u of energyValues) sum += Math.exp(min - u);
  return -min + Math.log(sum * cellArea);
}

/** The target exp(-U(z))/Z for one of U1-U4, normalized on a grid. */
export function target(name: EnergyName, options: TargetOptions = {}): Target2D {
  checkEnergyName(name);
  checkOptions('target', options, { gridSize: true });
  const energy = (z: tf.Tensor2D) =>
    tf.tidy(() => tf.add(rezendeEnergy(name, z), windowWall(z)) as tf.Tensor1D);
  const n = options.gridSize ?? 600;
  const { values, cellArea } = gridValues(energy, WINDOW + 1, n);
  const logZ = gridLogZ(values, cellArea);
  return {
    name,
    energy,
    logZ,
    logProb: (z) => tf.tidy(() => tf.sub(tf.neg(energy(z)), logZ) as tf.Tensor1D),
  };
}
