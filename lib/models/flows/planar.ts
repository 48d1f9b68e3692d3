/**
 * Planar flow (Rezende & Mohamed 2015; lecture 001): f(z) = z + û h(wᵀz + b), h = tanh.
 * By the matrix determinant lemma, det(I + h'(wᵀz + b) û wᵀ) = 1 + h'(wᵀz + b) ûᵀw, an O(d)
 * log-determinant.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../../runtime';
import { checkPoints } from './checks';
import { Flow, FlowResult } from './flow';
import { checkInteger, checkOptions, OptionKeys } from '../../runtime/checks';

function checkVector(who: string, what: string, v: tf.Tensor, dim: number): void {
  if (v.rank !== 1 || v.shape[0] !== dim)
    throw new Error(`${who}: ${what} must have shape [${dim}], got [${v.shape.join(', ')}]`);
}

/**
 * The invertibility constraint: û = u + (m(wᵀu) - wᵀu) w / ||w||² with m(a) = -1 + softplus(a), so
 * that ûᵀw = m(wᵀu) > -1 for every raw u (Rezende & Mohamed 2015, appendix A.1). u and w are [d]
 * vectors, or [K, d] matrices holding K layers' parameters as rows.
 */
export function planarUHat<T extends tf.Tensor1D | tf.Tensor2D>(u: T, w: T): T {
  if (
    (w.rank !== 1 && w.rank !== 2) ||
    u.rank !== w.rank ||
    u.shape.some((s, i) => s !== w.shape[i])
  ) {
    throw new Error(
      `planarUHat: u and w must both be [d] or both be [K, d], got u [${u.shape.join(', ')}] and ` +
        `w [${w.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const wu = tf.sum(tf.mul(w, u), -1, true);
    const m = tf.sub(tf.softplus(wu), 1);
    return tf.add(u, tf.mul(tf.div(tf.sub(m, wu), tf.sum(tf.square(w), -1, true)), w)) as T;
  });
}

/**
 * The inverse of planarUHat: a raw u whose constrained û is the given one (needs ûᵀw > -1). With c
 * = ûᵀw, u = û + (s - c) w / ||w||² where m(s) = c, i.e. s = log(exp(c + 1) - 1). Used to start
 * layers at a chosen û.
 */
export function planarRawU<T extends tf.Tensor1D | tf.Tensor2D>(uHat: T, w: T): T {
  if (
    (w.rank !== 1 && w.rank !== 2) ||
    uHat.rank !== w.rank ||
    uHat.shape.some((s, i) => s !== w.shape[i])
  ) {
    throw new Error(
      `planarRawU: uHat and w must both be [d] or both be [K, d], got uHat ` +
        `[${uHat.shape.join(', ')}] and w [${w.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const c = tf.sum(tf.mul(w, uHat), -1, true);
    if (tf.min(c).dataSync()[0] <= -1)
      throw new Error('planarRawU: ûᵀw must be > -1 (no raw u maps to this û)');
    const s = tf.log(tf.expm1(tf.add(c, 1)));
    return tf.add(uHat, tf.mul(tf.div(tf.sub(s, c), tf.sum(tf.square(w), -1, true)), w)) as T;
  });
}

/**
 * log |det ∂f/∂z| = log |1 + h'(wᵀz + b) uᵀw| per row of z [n, d], with h' = 1 - tanh², in O(d) per
 * point.
 */
export function planarLogDet(
  z: tf.Tensor2D,
  u: tf.Tensor1D,
  w: tf.Tensor1D,
  b: tf.Scalar | number,
): tf.Tensor1D {
  const d = w.shape[0];
  checkPoints('planarLogDet', z, d);
  checkVector('planarLogDet', 'u', u, d);
  return tf.tidy(() => {
    const a = tf.add(tf.squeeze(tf.matMul(z, tf.reshape(w, [d, 1])), [1]), b);
    const hPrime = tf.sub(1, tf.square(tf.tanh(a)));
    return tf.log(tf.abs(tf.add(1, tf.mul(hPrime, tf.sum(tf.mul(u, w)))))) as tf.Tensor1D;
  });
}

/**
 * The inverse of one planar layer. It has no closed form but reduces to one dimension: with α =
 * wᵀz, wᵀy = α + (ûᵀw) tanh(α + b), strictly increasing in α because ûᵀw > -1, and |α - wᵀy| ≤
 * |ûᵀw|; bisection finds α, then z = y - û tanh(α + b). Returns z and log |det ∂f^{-1}/∂y| = -log
 * |det ∂f/∂z|.
 */
export function planarInverse(
  y: tf.Tensor2D,
  uHat: tf.Tensor1D,
  w: tf.Tensor1D,
  b: tf.Scalar | number,
  iterations = 50,
): FlowResult {
  const d = w.shape[0];
  checkPoints('planarInverse', y, d);
  checkVector('planarInverse', 'uHat', uHat, d);
  return tf.tidy(() => {
    const c = tf.sum(tf.mul(w, uHat));
    const target = tf.squeeze(tf.matMul(y, tf.reshape(w, [d, 1])), [1]);
    const radius = tf.add(tf.abs(c), 1e-6);
    let lo = tf.sub(target, radius);
    let hi = tf.add(target, radius);
    for (let i = 0; i < iterations; i++) {
      const mid = tf.mul(0.5, tf.add(lo, hi));
      const below = tf.less(tf.add(mid, tf.mul(c, tf.tanh(tf.add(mid, b)))), target);
      lo = tf.where(below, mid, lo);
      hi = tf.where(below, hi, mid);
    }
    const alpha = tf.mul(0.5, tf.add(lo, hi));
    const z = tf.sub(
      y,
      tf.mul(tf.reshape(tf.tanh(tf.add(alpha, b)), [-1, 1]), uHat),
    ) as tf.Tensor2D;
    return { y: z, logDet: tf.neg(planarLogDet(z, uHat, w, b)) as tf.Tensor1D };
  });
}

/**
 * A raw u whose û is N(0, scale²) (sign flipped where ûᵀw would be <= -1/2), so that layers start
 * near the identity.
 */
function initialRawU<T extends tf.Tensor1D | tf.Tensor2D>(w: T, scale: number): T {
  return tf.tidy(() => {
    const draw = tf.randomNormal(w.shape, 0, scale, 'float32', nextSeed());
    const uHat = tf.where(
      tf.lessEqual(tf.sum(tf.mul(w, draw), -1, true), -0.5),
      tf.neg(draw),
      draw,
    ) as T;
    return planarRawU(uHat, w);
  });
}

export interface PlanarOptions {
  name?: string;
  /**
   * Standard deviation of the initial û and w (default 0.1; b starts at 0), so that the flow starts
   * near the identity.
   */
  initScale?: number;
}

const PLANAR_KEYS: OptionKeys<PlanarOptions> = { name: true, initScale: true };

/**
 * One planar layer with parameters (u, w, b); u is the raw parameter and û = planarUHat(u, w) is
 * used.
 */
export class PlanarFlow implements Flow {
  readonly u: tf.Variable<tf.Rank.R1>;
  readonly w: tf.Variable<tf.Rank.R1>;
  readonly b: tf.Variable<tf.Rank.R0>;
  readonly name: string;

  constructor(
    readonly dim: number,
    options: PlanarOptions = {},
  ) {
    checkOptions('PlanarFlow', options, PLANAR_KEYS);
    checkInteger('PlanarFlow', 'dim', dim);
    const scale = options.initScale ?? 0.1;
    if (!(scale > 0)) throw new Error(`PlanarFlow initScale must be > 0, got ${scale}`);
    this.name = options.name ?? 'planar';
    this.w = tf.variable(
      tf.randomNormal([dim], 0, scale, 'float32', nextSeed()),
    ) as tf.Variable<tf.Rank.R1>;
    this.u = tf.variable(initialRawU(this.w, scale)) as tf.Variable<tf.Rank.R1>;
    this.b = tf.variable(tf.scalar(0)) as tf.Variable<tf.Rank.R0>;
  }

  /** û, the constrained u actually used by the layer (ûᵀw > -1). */
  uHat(): tf.Tensor1D {
    return planarUHat(this.u, this.w);
  }

  // f(z) = z + û tanh(wᵀz + b),  log|det| = log|1 + h'(wᵀz + b) ûᵀw|
  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    return tf.tidy(() => {
      const uHat = this.uHat();
      const a = tf.add(tf.matMul(z, tf.reshape(this.w, [this.dim, 1])), this.b);
      const y = tf.add(z, tf.mul(tf.tanh(a), uHat)) as tf.Tensor2D;
      return { y, logDet: planarLogDet(z, uHat, this.w, this.b) };
    });
  }

  /** z = f^{-1}(y) by a one-dimensional bisection (see planarInverse). */
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => planarInverse(y, this.uHat(), this.w, this.b));
  }

  namedVariables(): Record<string, tf.Variable> {
    return { [`${this.name}.u`]: this.u, [`${this.name}.w`]: this.w, [`${this.name}.b`]: this.b };
  }

  dispose(): void {
    tf.dispose([this.u, this.w, this.b]);
  }
}

/** K planar layers named planar.0 .. planar.K-1. */
export function planarFlows(
  dim: number,
  K: number,
  options: Omit<PlanarOptions, 'name'> = {},
): PlanarFlow[] {
  checkInteger('planarFlows', 'the number of planar layers K', K);
  return Array.from(
    { length: K },
    (_, k) => new PlanarFlow(dim, { ...options, name: `planar.${k}` }),
  );
}

/**
 * K planar layers f_K∘...∘f_1 whose parameters are stored stacked (u, w: [K, d], b: [K]) and
 * applied in one operation with hand-derived gradients (tf.customGrad). Same mathematics as K
 * `PlanarFlow` layers (the tests check values and gradients against them), but one backend
 * operation and three variables instead of ~60 operations and three variables per layer: what makes
 * K = 32 trainable on a CPU.
 */
export class PlanarStack implements Flow {
  readonly u: tf.Variable<tf.Rank.R2>;
  readonly w: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
  readonly name: string;

  constructor(
    readonly dim: number,
    readonly K: number,
    options: PlanarOptions = {},
  ) {
    checkOptions('PlanarStack', options, PLANAR_KEYS);
    checkInteger('PlanarStack', 'dim', dim);
    checkInteger('planarFlows', 'the number of planar layers K', K);
    const scale = options.initScale ?? 0.1;
    if (!(scale > 0)) throw new Error(`PlanarStack initScale must be > 0, got ${scale}`);
    this.name = options.name ?? 'planar';
    this.w = tf.variable(
      tf.randomNormal([K, dim], 0, scale, 'float32', nextSeed()),
    ) as tf.Variable<tf.Rank.R2>;
    this.u = tf.variable(initialRawU(this.w, scale)) as tf.Variable<tf.Rank.R2>;
    this.b = tf.variable(tf.zeros([K])) as tf.Variable<tf.Rank.R1>;
  }

  /** Layer k's parameters (û constrained): û_k, w_k, b_k. */
  layer(k: number): { uHat: tf.Tensor1D; w: tf.Tensor1D; b: tf.Scalar } {
    if (!Number.isInteger(k) || k < 0 || k >= this.K)
      throw new Error(`layer index must be an integer in [0, ${this.K - 1}], got ${k}`);
    return tf.tidy(() => {
      const w = tf.squeeze(tf.slice(this.w, [k, 0], [1, this.dim]), [0]) as tf.Tensor1D;
      const u = tf.squeeze(tf.slice(this.u, [k, 0], [1, this.dim]), [0]) as tf.Tensor1D;
      return { uHat: planarUHat(u, w), w, b: tf.squeeze(tf.slice(this.b, [k], [1])) as tf.Scalar };
    });
  }

  forward(z: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.forward`, z, this.dim);
    const n = z.shape[0];
    return tf.tidy(() => {
      const out = planarStackOp(z, this.u, this.w, this.b);
      return {
        y: tf.slice(out, [0, 0], [n, this.dim]) as tf.Tensor2D,
        logDet: tf.reshape(tf.slice(out, [0, this.dim], [n, 1]), [n]) as tf.Tensor1D,
      };
    });
  }

  /** Inverts the layers one by one, last first (planarInverse). */
  inverse(y: tf.Tensor2D): FlowResult {
    checkPoints(`${this.name}.inverse`, y, this.dim);
    return tf.tidy(() => {
      let z = y;
      let logDet = tf.zeros([y.shape[0]]) as tf.Tensor1D;
      for (let k = this.K - 1; k >= 0; k--) {
        const { uHat, w, b } = this.layer(k);
        const step = planarInverse(z, uHat, w, b);
        z = step.y;
        logDet = tf.add(logDet, step.logDet);
      }
      return { y: z, logDet };
    });
  }

  namedVariables(): Record<string, tf.Variable> {
    return { [`${this.name}.u`]: this.u, [`${this.name}.w`]: this.w, [`${this.name}.b`]: this.b };
  }

  dispose(): void {
    tf.dispose([this.u, this.w, this.b]);
  }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/**
 * The fused op: inputs z [n, d], raw u [K, d], w [K, d], b [K]; output [n, d + 1] = [y, Σ
 * log|det|].
 */
const planarStackOp = tf.customGrad(((
  zT: tf.Tensor,
  uT: tf.Tensor,
  wT: tf.Tensor,
  bT: tf.Tensor,
) => {
  const [n, d] = zT.shape;
  const K = wT.shape[0];
  const uData = uT.dataSync();
  const wData = wT.dataSync();
  const raw = Array.from({ length: K }, (_, k) => uData.subarray(k * d, (k + 1) * d));
  const w = Array.from({ length: K }, (_, k) => wData.subarray(k * d, (k + 1) * d));
  const b = bT.dataSync();
  const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[j] * y[j];
    return s;
  };
  // û = u + α w with α = (m(s) - s)/r, s = wᵀu, r = ||w||², m(s) = softplus(s) - 1
  const s = raw.map((uk, k) => dot(w[k], uk));
  const r = w.map((wk) => dot(wk, wk));
  const alpha = s.map((sk, k) => (softplus(sk) - 1 - sk) / r[k]);
  const u = raw.map((uk, k) => Float64Array.from(uk, (v, j) => v + alpha[k] * w[k][j]));
  const c = u.map((uk, k) => dot(uk, w[k]));
  // zs[k] is the input of layer k; ts[k] = tanh(w_kᵀz + b_k) per point; 1 + (1 - t²) c_k is the
  // determinant.
  const zs: Float64Array[] = [Float64Array.from(zT.dataSync())];
  const ts: Float64Array[] = [];
  const logDet = new Float64Array(n);
  for (let k = 0; k < K; k++) {
    const zk = zs[k];
    const next = new Float64Array(n * d);
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let a = b[k];
      for (let j = 0; j < d; j++) a += w[k][j] * zk[i * d + j];
      const ti = Math.tanh(a);
      t[i] = ti;
      for (let j = 0; j < d; j++) next[i * d + j] = zk[i * d + j] + u[k][j] * ti;
      logDet[i] += Math.log(Math.abs(1 + (1 - ti * ti) * c[k]));
    }
    ts.push(t);
    zs.push(next);
  }
  const out = new Float32Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * (d + 1) + j] = zs[K][i * d + j];
    out[i * (d + 1) + d] = logDet[i];
  }
  const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
    const g = dy.dataSync();
    const gld = Float64Array.from({ length: n }, (_, i) => g[i * (d + 1) + d]);
    let gy = Float64Array.from(
      { length: n * d },
      (_, m) => g[Math.floor(m / d) * (d + 1) + (m % d)],
    );
    const gRaw = new Float32Array(K * d);
    const gW = new Float32Array(K * d);
    const gB = new Float32Array(K);
    for (let k = K - 1; k >= 0; k--) {
      const zk = zs[k];
      const t = ts[k];
      const gz = new Float64Array(n * d);
      const gu = new Float64Array(d);
      const gw = new Float64Array(d);
      let gb = 0;
      let sumLd = 0;
      for (let i = 0; i < n; i++) {
        const h = 1 - t[i] * t[i];
        const det = 1 + h * c[k];
        // ∂/∂t of [gyᵀy + gld log|det|] = gyᵀû - 2 t c gld / det, and ∂/∂a = (1 - t²) ∂/∂t
        let gt = (-2 * t[i] * c[k] * gld[i]) / det;
        for (let j = 0; j < d; j++) gt += gy[i * d + j] * u[k][j];
        const ga = gt * h;
        sumLd += (gld[i] * h) / det;
        gb += ga;
        for (let j = 0; j < d; j++) {
          gz[i * d + j] = gy[i * d + j] + ga * w[k][j];
          gu[j] += gy[i * d + j] * t[i];
          gw[j] += ga * zk[i * d + j];
        }
      }
      // the log-determinant depends on û and w directly through c = ûᵀw
      for (let j = 0; j < d; j++) {
        gu[j] += sumLd * w[k][j];
        gw[j] += sumLd * u[k][j];
      }
      // back through û = u + α w: ∂α/∂u = (σ(s) - 1) w / r, ∂α/∂w = (σ(s) - 1) u / r - 2 (m - s) w
      // / r²
      const guw = dot(gu, w[k]);
      const ds = sigmoid(s[k]) - 1;
      for (let j = 0; j < d; j++) {
        gRaw[k * d + j] = gu[j] + (guw * ds * w[k][j]) / r[k];
        gW[k * d + j] =
          gw[j] +
          alpha[k] * gu[j] +
          guw * ((ds * raw[k][j]) / r[k] - (2 * alpha[k] * w[k][j]) / r[k]);
      }
      gB[k] = gb;
      gy = gz;
    }
    return [
      tf.tensor2d(Float32Array.from(gy), [n, d]),
      tf.tensor2d(gRaw, [K, d]),
      tf.tensor2d(gW, [K, d]),
      tf.tensor1d(gB),
    ];
  };
  return { value: tf.tensor2d(out, [n, d + 1]), gradFunc };
}) as Parameters<typeof tf.customGrad>[0]) as (
  z: tf.Tensor2D,
  u: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
) => tf.Tensor2D;
