/**
 * Seeding. TensorFlow.js draws the seed of every unseeded random op (randomNormal, randomUniform, layer
 * initializers, multinomial) from Math.random, so one seeded generator installed there makes a whole
 * notebook reproducible on a given backend.
 */

/** sfc32: a small, fast 32-bit generator with a 128-bit state (passes PractRand to 2^40). */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

const nativeRandom = Math.random;
let generator: () => number = nativeRandom;
let currentSeed: number | undefined;

/** Seeds the kit's generator and installs it as Math.random. */
export function seed(value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`seed must be a non-negative integer, got ${value}`);
  }
  // Spread the seed over the state, then discard the first outputs as the generator's authors advise.
  const g = sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, value >>> 0);
  for (let i = 0; i < 15; i++) g();
  generator = g;
  currentSeed = value;
  Math.random = g;
}

/** The seed set by the last `seed` call, if any. */
export function currentSeedValue(): number | undefined {
  return currentSeed;
}

/** A uniform draw in [0, 1) from the kit's generator. */
export function random(): number {
  return generator();
}

/** An integer seed for a TensorFlow.js op that takes one, drawn from the kit's generator. */
export function nextSeed(): number {
  return Math.floor(generator() * 2147483647);
}

/** A standard normal draw (Box-Muller). */
export function randn(): number {
  let u = 0;
  while (u === 0) u = generator();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * generator());
}

/** A uniform random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(generator() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
