/*
 * genlab native kernels for the TensorFlow.js wasm backend.
 *
 * Every function works in place on the wasm backend's heap: JavaScript passes the wasm Memory's
 * ArrayBuffer and byte offsets of the operands (tensor slots the backend allocated), so no data is copied.
 * GEMM is OpenBLAS's cblas_sgemm; the elementwise kernels are plain loops the compiler vectorizes.
 * Built by native/build.sh; loaded when present by lib/runtime/kernels (which falls back to pure wasm).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include "genlab_native.h"

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

bool args_init(Args *a, napi_env env, napi_callback_info info, size_t expected, const char *name) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->failed = false;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok || a->argc != expected) {
    char msg[128];
    snprintf(msg, sizeof msg, "genlab_native.%s expects %zu arguments", name, expected);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  if (napi_get_arraybuffer_info(env, a->argv[0], &data, &a->length) != napi_ok) {
    napi_throw_type_error(env, NULL, "genlab_native: first argument must be the wasm heap ArrayBuffer");
    return false;
  }
  a->heap = (uint8_t *)data;
  return true;
}

int64_t arg_int(Args *a, size_t i) {
  int64_t x = 0;
  if (napi_get_value_int64(a->env, a->argv[i], &x) != napi_ok) a->failed = true;
  return x;
}

double arg_double(Args *a, size_t i) {
  double x = 0;
  if (napi_get_value_double(a->env, a->argv[i], &x) != napi_ok) a->failed = true;
  return x;
}

float *heap_floats(Args *a, int64_t offset, int64_t count) {
  if (a->failed || offset < 0 || count < 0 || offset % 4 != 0 || offset + count * 4 > (int64_t)a->length) {
    if (!a->failed) napi_throw_range_error(a->env, NULL, "genlab_native: operand outside the wasm heap");
    a->failed = true;
    return NULL;
  }
  return (float *)(a->heap + offset);
}

/*
 * sgemm(heap, transA, transB, batch, m, n, k, aOffset, aBatchStride, bOffset, bBatchStride, cOffset)
 * For each batch index i: C_i [m x n] = op(A_i) op(B_i), row-major; op(A) = A [m x k], or with transA
 * A stored as [k x m]. Offsets and batch strides are in bytes; a stride of 0 broadcasts that operand.
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 12, "sgemm")) return NULL;
  bool ta = false, tb = false;
  napi_get_value_bool(env, a.argv[1], &ta);
  napi_get_value_bool(env, a.argv[2], &tb);
  const int64_t batch = arg_int(&a, 3), m = arg_int(&a, 4), n = arg_int(&a, 5), k = arg_int(&a, 6);
  const int64_t aOff = arg_int(&a, 7), aStride = arg_int(&a, 8), bOff = arg_int(&a, 9), bStride = arg_int(&a, 10);
  const int64_t cOff = arg_int(&a, 11);
  if (a.failed || batch < 1 || m < 0 || n < 0 || k < 0 || aStride < 0 || bStride < 0) {
    napi_throw_range_error(env, NULL, "genlab_native.sgemm: invalid sizes");
    return NULL;
  }
  if (!heap_floats(&a, aOff + (batch - 1) * aStride, m * k) || !heap_floats(&a, bOff + (batch - 1) * bStride, k * n) ||
      !heap_floats(&a, cOff, batch * m * n))
    return NULL;
  for (int64_t i = 0; i < batch; i++) {
    const float *pa = (const float *)(a.heap + aOff + i * aStride);
    const float *pb = (const float *)(a.heap + bOff + i * bStride);
    float *pc = (float *)(a.heap + cOff) + i * m * n;
    if (m == 0 || n == 0) continue;
    if (k == 0) {
      memset(pc, 0, (size_t)(m * n) * sizeof(float));
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, pa, ta ? (int)m : (int)k, pb, tb ? (int)k : (int)n, 0.0f, pc, (int)n);
  }
  return NULL;
}

/*
 * Vectorizable float32 elementary functions (Cephes polynomials, ~2 ulp): straight-line arithmetic and
 * selects only, so the compiler turns the loops below into AVX code. IEEE special values are preserved:
 * NaN in gives NaN out, exp overflows to +inf, log(0) = -inf, log(x < 0) = NaN.
 */
static inline float bits_to_float(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

static inline int32_t float_to_bits(float f) {
  int32_t i;
  memcpy(&i, &f, sizeof i);
  return i;
}

static inline float v_exp(float x) {
  const float c = x < -88.0f ? -88.0f : (x > 88.5f ? 88.5f : x);
  const float fl = floorf(c * 1.44269504088896341f + 0.5f);
  float r = c - fl * 0.693359375f;
  r = r - fl * -2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500E-4f;
  y = y * r + 1.3981999507E-3f;
  y = y * r + 8.3334519073E-3f;
  y = y * r + 4.1665795894E-2f;
  y = y * r + 1.6666665459E-1f;
  y = y * r + 5.0000001201E-1f;
  y = y * z + r + 1.0f;
  const int32_t n = (int32_t)fl, n1 = n >> 1, n2 = n - n1;
  y = y * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
  y = x > 88.72283905206835f ? INFINITY : y;
  return x != x ? x : y;
}

static inline float v_log(float x) {
  /* scale subnormals into the normal range */
  const int sub = x < 1.17549435e-38f;
  const float xs = sub ? x * 8388608.0f : x;
  const int32_t bits = float_to_bits(xs);
  float e = (float)(((bits >> 23) & 0xff) - 126) - (sub ? 23.0f : 0.0f);
  float m = bits_to_float((bits & 0x007fffff) | 0x3f000000);
  const int low = m < 0.707106781186547524f;
  e = low ? e - 1.0f : e;
  m = low ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292E-2f;
  y = y * m - 1.1514610310E-1f;
  y = y * m + 1.1676998740E-1f;
  y = y * m - 1.2420140846E-1f;
  y = y * m + 1.4249322787E-1f;
  y = y * m - 1.6668057665E-1f;
  y = y * m + 2.0000714765E-1f;
  y = y * m - 2.4999993993E-1f;
  y = y * m + 3.3333331174E-1f;
  y = y * m * z;
  y = y + -2.12194440e-4f * e;
  y = y - 0.5f * z;
  float r = m + y;
  r = r + 0.693359375f * e;
  r = x == INFINITY ? INFINITY : r;
  r = x == 0.0f ? -INFINITY : r;
  return (x < 0.0f || x != x) ? NAN : r;
}

/* log(1 + x), accurate for small x: log(u) * x / (u - 1) with u = 1 + x (Goldberg). */
static inline float v_log1p(float x) {
  const float u = 1.0f + x;
  const float d = u - 1.0f;
  const float r = v_log(u) * (x / (d == 0.0f ? 1.0f : d));
  return d == 0.0f ? x : (x == INFINITY ? INFINITY : r);
}

static inline float v_sigmoid(float x) { return 1.0f / (1.0f + v_exp(-x)); }

static inline float v_softplus(float x) { return (x > 0.0f ? x : 0.0f) + v_log1p(v_exp(-fabsf(x))); }

static inline float v_tanh(float x) {
  const float ax = fabsf(x);
  const float z = x * x;
  float p = -5.70498872745E-3f;
  p = p * z + 2.06390887954E-2f;
  p = p * z - 5.37397155531E-2f;
  p = p * z + 1.33314422036E-1f;
  p = p * z - 3.33332819422E-1f;
  const float small = p * z * x + x;
  const float big = 1.0f - 2.0f / (v_exp(ax + ax) + 1.0f);
  const float r = ax < 0.625f ? small : (x < 0.0f ? -big : big);
  return x != x ? x : r;
}

#define ELEMENTWISE(expr)                                  \
  for (int64_t i = 0; i < rows; i++) {                     \
    float *restrict row = y + i * cols;                    \
    for (int64_t j = 0; j < cols; j++) {                   \
      const float z = row[j] + (bias ? bias[j] : 0.0f);    \
      row[j] = (expr);                                     \
    }                                                      \
  }

HOT void apply_bias_activation(float *restrict y, const float *restrict bias, int64_t rows, int64_t cols, int act,
                           float alpha) {
  switch (act) {
    case ACT_RELU: ELEMENTWISE(z > 0.0f ? z : 0.0f); break;
    case ACT_SIGMOID: ELEMENTWISE(v_sigmoid(z)); break;
    case ACT_TANH: ELEMENTWISE(v_tanh(z)); break;
    case ACT_LEAKY_RELU: ELEMENTWISE(z > 0.0f ? z : alpha * z); break;
    case ACT_SOFTPLUS: ELEMENTWISE(v_softplus(z)); break;
    default: ELEMENTWISE(z); break;
  }
}

/*
 * biasActivate(heap, yOffset, rows, cols, biasOffset, act, alpha): y = act(y + bias) in place, row-wise;
 * a negative biasOffset means no bias.
 */
static napi_value bias_activate(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 7, "biasActivate")) return NULL;
  const int64_t rows = arg_int(&a, 2), cols = arg_int(&a, 3);
  const int act = (int)arg_int(&a, 5);
  const float alpha = (float)arg_double(&a, 6);
  float *y = heap_floats(&a, arg_int(&a, 1), rows * cols);
  const int64_t biasOff = arg_int(&a, 4);
  const float *bias = biasOff < 0 ? NULL : heap_floats(&a, biasOff, cols);
  if (!y || (biasOff >= 0 && !bias)) return NULL;
  apply_bias_activation(y, bias, rows, cols, act, alpha);
  return NULL;
}

#define SLOPE_LOOP(slope)                                 \
  for (int64_t i = 0; i < rows; i++) {                    \
    const float *restrict dyr = dy + i * cols;            \
    const float *restrict yr = y + i * cols;              \
    float *restrict dzr = dz + i * cols;                  \
    for (int64_t j = 0; j < cols; j++) {                  \
      const float yv = yr[j];                             \
      (void)yv;                                           \
      const float g = dyr[j] * (slope);                   \
      dzr[j] = g;                                         \
      db[j] += g;                                         \
    }                                                     \
  }

/*
 * denseGrad(heap, dyOffset, yOffset, rows, cols, act, alpha, dzOffset, dbOffset):
 * dz = dy * act'(z) written with the layer's output y (what the forward pass keeps), db = column sums of dz.
 */
HOT static void dense_grad_loop(const float *restrict dy, const float *restrict y, int64_t rows, int64_t cols,
                                int act, float alpha, float *restrict dz, float *restrict db) {
  memset(db, 0, (size_t)cols * sizeof(float));
  switch (act) {
    case ACT_RELU: SLOPE_LOOP(yv > 0.0f ? 1.0f : 0.0f); break;
    case ACT_SIGMOID: SLOPE_LOOP(yv * (1.0f - yv)); break;
    case ACT_TANH: SLOPE_LOOP(1.0f - yv * yv); break;
    case ACT_LEAKY_RELU: SLOPE_LOOP(yv > 0.0f ? 1.0f : alpha); break;
    case ACT_SOFTPLUS: SLOPE_LOOP(1.0f - v_exp(-yv)); break; /* sigmoid(z) = 1 - exp(-softplus(z)) */
    default: SLOPE_LOOP(1.0f); break;
  }
}

static napi_value dense_grad(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 9, "denseGrad")) return NULL;
  const int64_t rows = arg_int(&a, 3), cols = arg_int(&a, 4);
  const int act = (int)arg_int(&a, 5);
  const float alpha = (float)arg_double(&a, 6);
  const float *dy = heap_floats(&a, arg_int(&a, 1), rows * cols);
  const float *y = heap_floats(&a, arg_int(&a, 2), rows * cols);
  float *dz = heap_floats(&a, arg_int(&a, 7), rows * cols);
  float *db = heap_floats(&a, arg_int(&a, 8), cols);
  if (!dy || !y || !dz || !db) return NULL;
  dense_grad_loop(dy, y, rows, cols, act, alpha, dz, db);
  return NULL;
}

/* Unary op codes shared with lib/runtime/kernels (UNARY_CODES). */
enum { U_EXP = 0, U_LOG = 1, U_LOG1P = 2, U_SIGMOID = 3, U_SOFTPLUS = 4, U_TANH = 5 };

#define UNARY_LOOP(expr)                                    \
  for (int64_t i = 0; i < n; i++) {                         \
    const float v = x[i];                                   \
    y[i] = (expr);                                          \
  }

/* unary(heap, op, n, xOffset, yOffset): y = f(x) elementwise. */
HOT static void unary_loop(int op, int64_t n, const float *restrict x, float *restrict y) {
  switch (op) {
    case U_EXP: UNARY_LOOP(v_exp(v)); break;
    case U_LOG: UNARY_LOOP(v_log(v)); break;
    case U_LOG1P: UNARY_LOOP(v_log1p(v)); break;
    case U_SIGMOID: UNARY_LOOP(v_sigmoid(v)); break;
    case U_SOFTPLUS: UNARY_LOOP(v_softplus(v)); break;
    default: UNARY_LOOP(v_tanh(v)); break;
  }
}

static napi_value unary(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 5, "unary")) return NULL;
  const int op = (int)arg_int(&a, 1);
  const int64_t n = arg_int(&a, 2);
  const float *x = heap_floats(&a, arg_int(&a, 3), n);
  float *y = heap_floats(&a, arg_int(&a, 4), n);
  if (!x || !y) return NULL;
  if (op < U_EXP || op > U_TANH) {
    napi_throw_range_error(env, NULL, "genlab_native.unary: unknown op");
    return NULL;
  }
  unary_loop(op, n, x, y);
  return NULL;
}

/* Binary op codes shared with lib/runtime/kernels (BINARY_CODES). */
enum { B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3 };

/*
 * out[i, j] = a[i, j] op b[i, j] over rows x cols, where each operand is full (stride cols, 1), a row
 * vector broadcast over rows (0, 1) or a scalar (0, 0): the shapes tfjs broadcasting produces most.
 */
#define BINARY_ROWS(EXPR)                                                                  \
  for (int64_t i = 0; i < rows; i++) {                                                     \
    const float *restrict ar = a + i * aRow;                                               \
    const float *restrict br = b + i * bRow;                                               \
    float *restrict outr = out + i * cols;                                                 \
    if (aCol && bCol)                                                                      \
      for (int64_t j = 0; j < cols; j++) { const float x = ar[j], y = br[j]; outr[j] = (EXPR); } \
    else if (aCol)                                                                         \
      for (int64_t j = 0; j < cols; j++) { const float x = ar[j], y = br[0]; outr[j] = (EXPR); } \
    else if (bCol)                                                                         \
      for (int64_t j = 0; j < cols; j++) { const float x = ar[0], y = br[j]; outr[j] = (EXPR); } \
    else                                                                                   \
      for (int64_t j = 0; j < cols; j++) { const float x = ar[0], y = br[0]; outr[j] = (EXPR); } \
  }

HOT static void binary_loop(int op, int64_t rows, int64_t cols, const float *restrict a, int64_t aRow, int aCol,
                        const float *restrict b, int64_t bRow, int bCol, float *restrict out) {
  switch (op) {
    case B_ADD: BINARY_ROWS(x + y); break;
    case B_SUB: BINARY_ROWS(x - y); break;
    case B_MUL: BINARY_ROWS(x * y); break;
    default: BINARY_ROWS(x / y); break;
  }
}

/* Operand layouts: 0 = full [rows, cols], 1 = row vector [cols], 2 = scalar. */
static int64_t layout_count(int layout, int64_t rows, int64_t cols) {
  return layout == 0 ? rows * cols : (layout == 1 ? cols : 1);
}

/* binary(heap, op, rows, cols, aOffset, aLayout, bOffset, bLayout, outOffset) */
static napi_value binary(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 9, "binary")) return NULL;
  const int op = (int)arg_int(&a, 1);
  const int64_t rows = arg_int(&a, 2), cols = arg_int(&a, 3);
  const int aLayout = (int)arg_int(&a, 5), bLayout = (int)arg_int(&a, 7);
  if (op < B_ADD || op > B_DIV || aLayout < 0 || aLayout > 2 || bLayout < 0 || bLayout > 2) {
    napi_throw_range_error(env, NULL, "genlab_native.binary: unknown op or layout");
    return NULL;
  }
  const float *x = heap_floats(&a, arg_int(&a, 4), layout_count(aLayout, rows, cols));
  const float *y = heap_floats(&a, arg_int(&a, 6), layout_count(bLayout, rows, cols));
  float *out = heap_floats(&a, arg_int(&a, 8), rows * cols);
  if (!x || !y || !out) return NULL;
  binary_loop(op, rows, cols, x, aLayout == 0 ? cols : 0, aLayout != 2, y, bLayout == 0 ? cols : 0, bLayout != 2, out);
  return NULL;
}

/* -log Bernoulli(x; sigmoid(l)) = max(l, 0) - x l + log(1 + exp(-|l|)), the stable BCE with logits. */
static inline float bce_with_logits(float l, float x) { return (l > 0.0f ? l : 0.0f) - x * l + v_log1p(v_exp(-fabsf(l))); }

/*
 * The operands both likelihood kernels start with, arguments 1-5: (rows, cols, xRows, xOffset, logitsOffset).
 * Rows of logits [rows, cols] pair with rows of x [xRows, cols] cyclically: x repeats over leading sample axes.
 */
typedef struct {
  int64_t rows, cols, xRows;
  const float *x, *l;
} BceOperands;

static bool bce_operands(Args *a, const char *name, BceOperands *o) {
  o->rows = arg_int(a, 1);
  o->cols = arg_int(a, 2);
  o->xRows = arg_int(a, 3);
  if (!a->failed && (o->xRows < 1 || o->rows % o->xRows != 0)) {
    char msg[128];
    snprintf(msg, sizeof msg, "genlab_native.%s: %lld logit rows are not a multiple of %lld data rows", name, (long long)o->rows, (long long)o->xRows);
    napi_throw_range_error(a->env, NULL, msg);
    a->failed = true;
    return false;
  }
  o->x = heap_floats(a, arg_int(a, 4), o->xRows * o->cols);
  o->l = heap_floats(a, arg_int(a, 5), o->rows * o->cols);
  return o->x && o->l;
}

/*
 * bernoulliNll(heap, rows, cols, xRows, xOffset, logitsOffset, outOffset):
 * out[r] = sum_j bce_with_logits(l[r, j], x[r mod xRows, j]), summed in 8 interleaved partial sums.
 */
HOT static void bernoulli_nll_loop(const BceOperands o, float *restrict out) {
  for (int64_t r = 0; r < o.rows; r++) {
    const float *restrict lr = o.l + r * o.cols;
    const float *restrict xr = o.x + (r % o.xRows) * o.cols;
    float acc[8] = {0};
    int64_t j = 0;
    for (; j + 8 <= o.cols; j += 8)
      for (int k = 0; k < 8; k++) acc[k] += bce_with_logits(lr[j + k], xr[j + k]);
    float sum = 0.0f;
    for (; j < o.cols; j++) sum += bce_with_logits(lr[j], xr[j]);
    for (int k = 0; k < 8; k++) sum += acc[k];
    out[r] = sum;
  }
}

static napi_value bernoulli_nll(napi_env env, napi_callback_info info) {
  Args a;
  BceOperands o;
  if (!args_init(&a, env, info, 7, "bernoulliNll") || !bce_operands(&a, "bernoulliNll", &o)) return NULL;
  float *out = heap_floats(&a, arg_int(&a, 6), o.rows);
  if (!out) return NULL;
  bernoulli_nll_loop(o, out);
  return NULL;
}

/* bernoulliNllGrad(heap, rows, cols, xRows, xOffset, logitsOffset, dyOffset, outOffset): out[r, j] = dy[r] (sigmoid(l[r, j]) - x[r mod xRows, j]). */
HOT static void bernoulli_nll_grad_loop(const BceOperands o, const float *restrict dy, float *restrict out) {
  for (int64_t r = 0; r < o.rows; r++) {
    const float d = dy[r];
    const float *restrict lr = o.l + r * o.cols;
    const float *restrict xr = o.x + (r % o.xRows) * o.cols;
    float *restrict outr = out + r * o.cols;
    for (int64_t j = 0; j < o.cols; j++) outr[j] = d * (v_sigmoid(lr[j]) - xr[j]);
  }
}

static napi_value bernoulli_nll_grad(napi_env env, napi_callback_info info) {
  Args a;
  BceOperands o;
  if (!args_init(&a, env, info, 8, "bernoulliNllGrad") || !bce_operands(&a, "bernoulliNllGrad", &o)) return NULL;
  const float *dy = heap_floats(&a, arg_int(&a, 6), o.rows);
  float *out = heap_floats(&a, arg_int(&a, 7), o.rows * o.cols);
  if (!dy || !out) return NULL;
  bernoulli_nll_grad_loop(o, dy, out);
  return NULL;
}

/*
 * bernoulli(heap, n, pOffset, outOffset, state): out[i] = 1 if u_i < p[i] else 0, where u_i are the next
 * draws of the kit's sfc32 generator (lib/runtime/random.ts, same arithmetic, so the same numbers as its
 * JavaScript path); state is its Int32Array [a, b, c, d], read and advanced in place.
 */
static napi_value bernoulli_draw(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 5, "bernoulli")) return NULL;
  const int64_t n = arg_int(&a, 1);
  const float *restrict p = heap_floats(&a, arg_int(&a, 2), n);
  float *restrict out = heap_floats(&a, arg_int(&a, 3), n);
  if (!p || !out) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, a.argv[4], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length != 4) {
    napi_throw_type_error(env, NULL, "genlab_native.bernoulli: state must be an Int32Array of 4 words");
    return NULL;
  }
  int32_t *state = (int32_t *)data;
  uint32_t sa = (uint32_t)state[0], sb = (uint32_t)state[1], sc = (uint32_t)state[2], sd = (uint32_t)state[3];
  for (int64_t i = 0; i < n; i++) {
    const uint32_t t = sa + sb + sd;
    sd += 1;
    sa = sb ^ (sb >> 9);
    sb = sc + (sc << 3);
    sc = (sc << 21) | (sc >> 11);
    sc += t;
    out[i] = (double)t / 4294967296.0 < (double)p[i] ? 1.0f : 0.0f;
  }
  state[0] = (int32_t)sa;
  state[1] = (int32_t)sb;
  state[2] = (int32_t)sc;
  state[3] = (int32_t)sd;
  return NULL;
}

/* transpose(heap, batch, rows, cols, xOffset, outOffset): out[k] = x[k]^T for each [rows, cols] matrix, in tiles. */
static napi_value transpose(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 6, "transpose")) return NULL;
  const int64_t batch = arg_int(&a, 1), rows = arg_int(&a, 2), cols = arg_int(&a, 3);
  const float *x = heap_floats(&a, arg_int(&a, 4), batch * rows * cols);
  float *out = heap_floats(&a, arg_int(&a, 5), batch * rows * cols);
  if (!x || !out) return NULL;
  const int64_t T = 32;
  for (int64_t k = 0; k < batch; k++) {
    const float *xm = x + k * rows * cols;
    float *om = out + k * rows * cols;
    for (int64_t i0 = 0; i0 < rows; i0 += T)
      for (int64_t j0 = 0; j0 < cols; j0 += T) {
        const int64_t i1 = i0 + T < rows ? i0 + T : rows, j1 = j0 + T < cols ? j0 + T : cols;
        for (int64_t i = i0; i < i1; i++)
          for (int64_t j = j0; j < j1; j++) om[j * rows + i] = xm[i * cols + j];
      }
  }
  return NULL;
}

HOT static void adam_update(int64_t n, const float *restrict value, const float *restrict g, const float *restrict m,
                        const float *restrict v, float *restrict valueOut, float *restrict mOut, float *restrict vOut,
                        float negLr, float ob1, float ob2, float eps, float c1, float c2, float b1, float b2) {
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * b1 + g[i] * ob1;
    const float vi = v[i] * b2 + (g[i] * g[i]) * ob2;
    mOut[i] = mi;
    vOut[i] = vi;
    valueOut[i] = (mi / c1) / (sqrtf(vi / c2) + eps) * negLr + value[i];
  }
}

/*
 * adam(heap, n, valueOff, gradOff, mOff, vOff, valueOut, mOut, vOut, lr, 1-b1, 1-b2, eps, c1, c2, b1, b2)
 * m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2; value' = value - lr (m'/c1) / (sqrt(v'/c2) + eps),
 * with c1 = 1 - b1^t, c2 = 1 - b2^t: the same float32 operations, in the same order, as tf.train.adam
 * (all constants are passed already rounded to float32, as tfjs rounds them).
 */
static napi_value adam(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 17, "adam")) return NULL;
  const int64_t n = arg_int(&a, 1);
  const float *value = heap_floats(&a, arg_int(&a, 2), n), *g = heap_floats(&a, arg_int(&a, 3), n);
  const float *m = heap_floats(&a, arg_int(&a, 4), n), *v = heap_floats(&a, arg_int(&a, 5), n);
  float *valueOut = heap_floats(&a, arg_int(&a, 6), n), *mOut = heap_floats(&a, arg_int(&a, 7), n);
  float *vOut = heap_floats(&a, arg_int(&a, 8), n);
  const float negLr = -(float)arg_double(&a, 9), ob1 = (float)arg_double(&a, 10), ob2 = (float)arg_double(&a, 11);
  const float eps = (float)arg_double(&a, 12), c1 = (float)arg_double(&a, 13), c2 = (float)arg_double(&a, 14);
  const float b1 = (float)arg_double(&a, 15), b2 = (float)arg_double(&a, 16);
  if (!value || !g || !m || !v || !valueOut || !mOut || !vOut) return NULL;
  adam_update(n, value, g, m, v, valueOut, mOut, vOut, negLr, ob1, ob2, eps, c1, c2, b1, b2);
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t n = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1) napi_get_value_int64(env, argv[0], &n);
  openblas_set_num_threads(n < 1 ? 1 : (int)n);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"biasActivate", NULL, bias_activate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"denseGrad", NULL, dense_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adam", NULL, adam, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bernoulli", NULL, bernoulli_draw, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bernoulliNll", NULL, bernoulli_nll, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bernoulliNllGrad", NULL, bernoulli_nll_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  genlab_conv_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
