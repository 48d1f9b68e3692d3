/**
 * Seeding. TensorFlow.js draws the seed of every unseeded random op (randomNormal, randomUniform,
 * layer initializers, multinomial) from Math.random, so one seeded generator installed there makes
 * a whole notebook reproducible on a given backend.
 */

// sfc32 (Chris Doty-Humphrey's small fast counting generator): 128 bits of state, passes PractRand
// to 2^40.
let a = 0;
let b = 0;
let c = 0;
let d = 0;
let seeded = false;
let currentSeed: number | undefined;
const nativeRandom = Math.random;

function sfc32(): number {
  const t = (((a + b) | 0) + d) | 0;
  d = (d + 1) | 0;
  a = b ^ (b >>> 9);
  b = (c + (c << 3)) | 0;
  c = (c << 21) | (c >>> 11);
  c = (c + t) | 0;
  return (t >>> 0) / 4294967296;
}

/** Seeds the kit's generator and installs it as Math.random. */
export function seed(value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`seed must be a non-negative integer, got ${value}`);
  }
  // Spread the seed over the state, then discard the first outputs as the generator's authors
  // advise.
  [a, b, c, d] = [0x9e3779b9 | 0, 0x243f6a88 | 0, 0xb7e15162 | 0, value | 0];
  for (let i = 0; i < 15; i++) sfc32();
  seeded = true;
  currentSeed = value;
  Math.random = sfc32;
}

/** The seed set by the last `seed` call, if any. */
export function currentSeedValue(): number | undefined {
  return currentSeed;
}

/** A uniform draw in [0, 1) from the kit's generator. */
export function random(): number {
  return seeded ? sfc32() : nativeRandom();
}

/**
 * Fills `out` with uniform draws in [0, 1), the same numbers as `out.length` calls of random(),
 * faster.
 */
export function fillUniform(out: Float64Array): Float64Array {
  if (!seeded) {
    for (let i = 0; i < out.length; i++) out[i] = nativeRandom();
    return out;
  }
  let [sa, sb, sc, sd] = [a, b, c, d];
  for (let i = 0; i < out.length; i++) {
    const t = (((sa + sb) | 0) + sd) | 0;
    sd = (sd + 1) | 0;
    sa = sb ^ (sb >>> 9);
    sb = (sc + (sc << 3)) | 0;
    sc = (sc << 21) | (sc >>> 11);
    sc = (sc + t) | 0;
    out[i] = (t >>> 0) / 4294967296;
  }
  [a, b, c, d] = [sa, sb, sc, sd];
  return out;
}

/**
 * The generator's state [a, b, c, d], for native code that continues its stream (undefined until
 * seeded).
 */
export function generatorState(): Int32Array | undefined {
  return seeded ? Int32Array.of(a, b, c, d) : undefined;
}

/** Continues the generator from a state taken by generatorState() and advanced by native code. */
export function restoreGeneratorState(state: Int32Array): void {
  if (!seeded || state.length !== 4)
    throw new Error(
      'restoreGeneratorState: pass the 4-word state returned by generatorState() after seed()',
    );
  [a, b, c, d] = [state[0], state[1], state[2], state[3]];
}

/**
 * Runs `fn` with the kit's generator seeded with `value`, then puts the generator back as it was.
 * What `fn` draws depends on `value` alone, not on what ran before it; and what is drawn after it
 * does not depend on how much `fn` drew. A computation whose result is cached (a trained model
 * saved under build/models) runs this way, so that its result is the same whichever notebook
 * computes it first, and the cells after it draw the same numbers whether it was computed or
 * loaded.
 */
export async function withSeed<T>(value: number, fn: () => Promise<T>): Promise<T> {
  const saved = { state: [a, b, c, d], seeded, currentSeed, mathRandom: Math.random };
  seed(value);
  try {
    return await fn();
  } finally {
    [a, b, c, d] = saved.state;
    seeded = saved.seeded;
    currentSeed = saved.currentSeed;
    Math.random = saved.mathRandom;
  }
}

/** An integer seed for a TensorFlow.js op that takes one, drawn from the kit's generator. */
export function nextSeed(): number {
  return Math.floor(random() * 2147483647);
}

/** A standard normal draw (Box-Muller). */
export function randn(): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A uniform random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
