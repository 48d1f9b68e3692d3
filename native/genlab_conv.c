/*
 * genlab convolution and batch-norm kernels for the TensorFlow.js wasm backend (registered by
 * lib/runtime/conv-kernels). Like the rest of the addon they work in place on the wasm heap.
 *
 * Layouts are TensorFlow.js's: images NHWC [batch, height, width, channels], filters
 * [kernelHeight, kernelWidth, inChannels, outChannels]. A convolution is im2col + OpenBLAS sgemm: the
 * patch of input pixels under output pixel p is row p of a matrix cols [P, K] (K = kh kw inC, zero
 * where the window leaves the padded input), so y [P, outC] = cols W, dW = cols^T dy and the
 * gradient with respect to the input scatters dy W^T back onto the pixels (col2im). cols is built a
 * block of rows at a time in a scratch buffer that stays in cache; when the patches are the input's
 * own rows (1x1 kernels with stride 1, or a kernel as large as the unpadded input) x is used as is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "genlab_native.h"

/* Floats of im2col scratch per block of rows: 1 MB, about a core's share of cache. */
#define BLOCK_FLOATS (256 * 1024)

typedef struct {
  int64_t batch, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, padTop, padLeft;
} Geometry;

static float *scratch;
static size_t scratchFloats;

/* A buffer of at least n floats (reused across calls; the addon runs on the JavaScript thread only). */
static float *scratch_floats(Args *a, size_t n) {
  if (n <= scratchFloats) return scratch;
  free(scratch);
  scratchFloats = 0;
  scratch = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
  if (!scratch) {
    napi_throw_error(a->env, NULL, "genlab_native: out of memory for the convolution scratch buffer");
    a->failed = true;
    return NULL;
  }
  scratchFloats = n;
  return scratch;
}

/*
 * Reads the geometry from argument i, an Int32Array [batch, inH, inW, inC, outH, outW, outC, kH, kW,
 * strideH, strideW, padTop, padLeft]. Sizes must be positive and pads non-negative; any window position is
 * memory-safe (pixels outside the input read as zeros), so nothing else needs checking here.
 */
static bool geometry_arg(Args *a, size_t i, const char *name, Geometry *g) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_int32_array || length != 13) {
    char msg[128];
    snprintf(msg, sizeof msg, "genlab_native.%s: the geometry must be an Int32Array of 13 sizes", name);
    napi_throw_type_error(a->env, NULL, msg);
    return false;
  }
  const int32_t *v = data;
  int64_t *fields[] = {&g->batch, &g->inH, &g->inW, &g->inC, &g->outH, &g->outW, &g->outC,
                       &g->kH,    &g->kW,  &g->sH,  &g->sW,  &g->padTop, &g->padLeft};
  for (int k = 0; k < 13; k++) {
    *fields[k] = v[k];
    if (v[k] < (k >= 11 ? 0 : 1)) {
      char msg[128];
      snprintf(msg, sizeof msg, "genlab_native.%s: geometry entry %d is %d", name, k, v[k]);
      napi_throw_range_error(a->env, NULL, msg);
      return false;
    }
  }
  return true;
}

/* True when row p of cols is row p of the input itself: no copy needed. */
static bool patches_are_rows(const Geometry *g) {
  const bool pointwise = g->kH == 1 && g->kW == 1 && g->sH == 1 && g->sW == 1 && g->outH == g->inH && g->outW == g->inW;
  const bool whole = g->kH == g->inH && g->kW == g->inW && g->outH == 1 && g->outW == 1;
  return g->padTop == 0 && g->padLeft == 0 && (pointwise || whole);
}

static int64_t patch_size(const Geometry *g) { return g->kH * g->kW * g->inC; }

/* Rows per block so that a block of cols fills BLOCK_FLOATS (at least one row). */
static int64_t block_rows(const Geometry *g) {
  const int64_t rows = BLOCK_FLOATS / patch_size(g);
  return rows < 1 ? 1 : rows;
}

/*
 * Visits the patch of output pixel p: for each kernel row ky, the run of kernel columns [kx0, kx1) whose
 * input pixels exist, as (offset of the run in the patch, offset of its first pixel in x, length in floats).
 * Everything outside the runs is padding.
 */
#define FOR_PATCH_RUNS(g, p, BODY)                                                         \
  do {                                                                                    \
    const int64_t perImage_ = (g)->outH * (g)->outW;                                       \
    const int64_t b_ = (p) / perImage_, r_ = (p) % perImage_;                              \
    const int64_t iy0_ = (r_ / (g)->outW) * (g)->sH - (g)->padTop;                         \
    const int64_t ix0_ = (r_ % (g)->outW) * (g)->sW - (g)->padLeft;                        \
    const int64_t kx0_ = ix0_ < 0 ? -ix0_ : 0;                                             \
    const int64_t kx1_ = ix0_ + (g)->kW > (g)->inW ? (g)->inW - ix0_ : (g)->kW;            \
    for (int64_t ky = 0; ky < (g)->kH; ky++) {                                             \
      const int64_t iy_ = iy0_ + ky;                                                       \
      if (iy_ < 0 || iy_ >= (g)->inH || kx1_ <= kx0_) continue;                            \
      const int64_t patchAt = (ky * (g)->kW + kx0_) * (g)->inC;                            \
      const int64_t inputAt = ((b_ * (g)->inH + iy_) * (g)->inW + ix0_ + kx0_) * (g)->inC; \
      const int64_t runLength = (kx1_ - kx0_) * (g)->inC;                                  \
      BODY;                                                                               \
    }                                                                                     \
  } while (0)

/* True when the window of output pixel p lies inside the input (no padding in its patch). */
static inline bool patch_inside(const Geometry *g, int64_t p) {
  const int64_t r = p % (g->outH * g->outW);
  const int64_t iy0 = (r / g->outW) * g->sH - g->padTop, ix0 = (r % g->outW) * g->sW - g->padLeft;
  return iy0 >= 0 && ix0 >= 0 && iy0 + g->kH <= g->inH && ix0 + g->kW <= g->inW;
}

/* cols[0 .. p1 - p0) = the patches of output pixels [p0, p1). */
static void im2col(const Geometry *g, const float *restrict x, int64_t p0, int64_t p1, float *restrict cols) {
  const int64_t K = patch_size(g);
  for (int64_t p = p0; p < p1; p++) {
    float *restrict row = cols + (p - p0) * K;
    if (!patch_inside(g, p)) memset(row, 0, (size_t)K * sizeof(float));
    FOR_PATCH_RUNS(g, p, memcpy(row + patchAt, x + inputAt, (size_t)runLength * sizeof(float)));
  }
}

/* dx += the patches of output pixels [p0, p1) in dcols, added back onto the pixels they came from. */
HOT static void col2im(const Geometry *g, const float *restrict dcols, int64_t p0, int64_t p1, float *restrict dx) {
  const int64_t K = patch_size(g);
  for (int64_t p = p0; p < p1; p++) {
    const float *restrict row = dcols + (p - p0) * K;
    FOR_PATCH_RUNS(g, p, for (int64_t j = 0; j < runLength; j++) dx[inputAt + j] += row[patchAt + j]);
  }
}

typedef struct {
  Geometry g;
  const float *in;   /* x (forward, filter gradient) or dy (input gradient) */
  const float *w;    /* filter, or dy for the filter gradient */
  float *out;        /* y, dx or dW */
  const float *bias; /* NULL: none */
  int act;
  float alpha;
} ConvCall;

/*
 * Parses (heap, geometry, inOffset, wOffset, outOffset[, biasOffset, act, alpha]) where the three operands
 * hold inCount, wCount and outCount floats and the bias (negative offset: none) biasCount.
 */
static bool conv_call(Args *a, const char *name, ConvCall *c, bool fused, int which) {
  if (!geometry_arg(a, 1, name, &c->g)) return false;
  const Geometry *g = &c->g;
  const int64_t xCount = g->batch * g->inH * g->inW * g->inC, yCount = g->batch * g->outH * g->outW * g->outC;
  const int64_t wCount = g->kH * g->kW * g->inC * g->outC;
  /* which: 0 forward (x, W -> y), 1 input gradient (dy, W -> dx), 2 filter gradient (x, dy -> dW) */
  const int64_t counts[3][3] = {{xCount, wCount, yCount}, {yCount, wCount, xCount}, {xCount, yCount, wCount}};
  c->in = heap_floats(a, arg_int(a, 2), counts[which][0]);
  c->w = heap_floats(a, arg_int(a, 3), counts[which][1]);
  c->out = heap_floats(a, arg_int(a, 4), counts[which][2]);
  c->bias = NULL;
  c->act = ACT_LINEAR;
  c->alpha = 0.0f;
  if (fused) {
    const int64_t biasOff = arg_int(a, 5);
    if (biasOff >= 0) c->bias = heap_floats(a, biasOff, which == 0 ? g->outC : g->inC);
    c->act = (int)arg_int(a, 6);
    c->alpha = (float)arg_double(a, 7);
  }
  return !a->failed;
}

/* conv2d(heap, geometry, xOffset, wOffset, yOffset, biasOffset, act, alpha): y = act(conv(x, W) + bias). */
static napi_value conv2d(napi_env env, napi_callback_info info) {
  Args a;
  ConvCall c;
  if (!args_init(&a, env, info, 8, "conv2d") || !conv_call(&a, "conv2d", &c, true, 0)) return NULL;
  const Geometry *g = &c.g;
  const int64_t P = g->batch * g->outH * g->outW, K = patch_size(g), N = g->outC;
  if (patches_are_rows(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)P, (int)N, (int)K, 1.0f, c.in, (int)K, c.w, (int)N,
                0.0f, c.out, (int)N);
    apply_bias_activation(c.out, c.bias, P, N, c.act, c.alpha);
    return NULL;
  }
  const int64_t R = block_rows(g);
  float *cols = scratch_floats(&a, (size_t)(R * K));
  if (!cols) return NULL;
  for (int64_t p0 = 0; p0 < P; p0 += R) {
    const int64_t rows = p0 + R < P ? R : P - p0;
    im2col(g, c.in, p0, p0 + rows, cols);
    float *y = c.out + p0 * N;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)N, (int)K, 1.0f, cols, (int)K, c.w, (int)N,
                0.0f, y, (int)N);
    apply_bias_activation(y, c.bias, rows, N, c.act, c.alpha);
  }
  return NULL;
}

/*
 * conv2dBackpropInput(heap, geometry, dyOffset, wOffset, dxOffset, biasOffset, act, alpha):
 * dx = act(conv^T(dy, W) + bias), the gradient of conv(x, W) with respect to x (bias linear: the plain
 * gradient) and the transposed convolution of dy. The geometry is the forward convolution's (x -> dy).
 */
static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  Args a;
  ConvCall c;
  if (!args_init(&a, env, info, 8, "conv2dBackpropInput") || !conv_call(&a, "conv2dBackpropInput", &c, true, 1))
    return NULL;
  const Geometry *g = &c.g;
  const int64_t P = g->batch * g->outH * g->outW, K = patch_size(g), N = g->outC;
  const int64_t pixels = g->batch * g->inH * g->inW;
  if (patches_are_rows(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, (int)K, (int)N, 1.0f, c.in, (int)N, c.w, (int)N, 0.0f,
                c.out, (int)K);
  } else {
    const int64_t R = block_rows(g);
    float *dcols = scratch_floats(&a, (size_t)(R * K));
    if (!dcols) return NULL;
    memset(c.out, 0, (size_t)(pixels * g->inC) * sizeof(float));
    for (int64_t p0 = 0; p0 < P; p0 += R) {
      const int64_t rows = p0 + R < P ? R : P - p0;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)K, (int)N, 1.0f, c.in + p0 * N, (int)N, c.w,
                  (int)N, 0.0f, dcols, (int)K);
      col2im(g, dcols, p0, p0 + rows, c.out);
    }
  }
  apply_bias_activation(c.out, c.bias, pixels, g->inC, c.act, c.alpha);
  return NULL;
}

/* conv2dBackpropFilter(heap, geometry, xOffset, dyOffset, dwOffset): dW = cols(x)^T dy. */
static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  Args a;
  ConvCall c;
  if (!args_init(&a, env, info, 5, "conv2dBackpropFilter") || !conv_call(&a, "conv2dBackpropFilter", &c, false, 2))
    return NULL;
  const Geometry *g = &c.g;
  const int64_t P = g->batch * g->outH * g->outW, K = patch_size(g), N = g->outC;
  const float *dy = c.w;
  if (patches_are_rows(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)N, (int)P, 1.0f, c.in, (int)K, dy, (int)N, 0.0f,
                c.out, (int)N);
    return NULL;
  }
  const int64_t R = block_rows(g);
  float *cols = scratch_floats(&a, (size_t)(R * K));
  if (!cols) return NULL;
  for (int64_t p0 = 0; p0 < P; p0 += R) {
    const int64_t rows = p0 + R < P ? R : P - p0;
    im2col(g, c.in, p0, p0 + rows, cols);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)N, (int)rows, 1.0f, cols, (int)K, dy + p0 * N,
                (int)N, p0 == 0 ? 0.0f : 1.0f, c.out, (int)N);
  }
  return NULL;
}

/* act'(z) from y = act(z), for the activations batch norm fuses (linear, relu, leakyRelu). */
static inline float slope_of(float y, int act, float alpha) {
  return act == ACT_LINEAR ? 1.0f : (y > 0.0f ? 1.0f : (act == ACT_RELU ? 0.0f : alpha));
}

/* Checks batch norm's sizes and activation (throwing a RangeError naming the function if they are bad). */
static bool bn_sizes(Args *a, int64_t rows, int64_t cols, int act, const char *name) {
  if (a->failed) return false;
  const char *problem = rows < 1 || cols < 1 ? "rows and cols must be positive"
                        : (act == ACT_LINEAR || act == ACT_RELU || act == ACT_LEAKY_RELU)
                            ? NULL
                            : "the activation must be linear, relu or leakyRelu";
  if (!problem) return true;
  char msg[128];
  snprintf(msg, sizeof msg, "genlab_native.%s: %s", name, problem);
  napi_throw_range_error(a->env, NULL, msg);
  return false;
}

/*
 * Zeroed per-column work space: `doubles` arrays of cols doubles followed by `floats` arrays of cols
 * floats, in one block the caller frees (NULL, with a thrown error, when memory runs out).
 */
static double *column_buffers(Args *a, int64_t cols, int doubles, int floats, const char *name) {
  double *block = calloc((size_t)cols, doubles * sizeof(double) + floats * sizeof(float));
  if (!block) {
    char msg[128];
    snprintf(msg, sizeof msg, "genlab_native.%s: out of memory", name);
    napi_throw_error(a->env, NULL, msg);
  }
  return block;
}

/* batch_norm's loops; sums: zeroed work space of 3 cols doubles and 2 cols floats. */
HOT static void bn_forward_loop(int64_t rows, int64_t cols, const float *restrict x, const float *restrict gamma,
                                const float *restrict beta, float eps, int act, float alpha, float *restrict y,
                                float *restrict mean, float *restrict var, double *sums) {
  double *restrict shift = sums, *restrict s1 = sums + cols, *restrict s2 = sums + 2 * cols;
  float *restrict scale = (float *)(sums + 3 * cols);
  for (int64_t c = 0; c < cols; c++) shift[c] = x[c];
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict xr = x + r * cols;
    for (int64_t c = 0; c < cols; c++) {
      const double d = (double)xr[c] - shift[c];
      s1[c] += d;
      s2[c] += d * d;
    }
  }
  float *restrict offset = scale + cols;
  for (int64_t c = 0; c < cols; c++) {
    const double m = s1[c] / (double)rows;
    const double v = s2[c] / (double)rows - m * m;
    mean[c] = (float)(shift[c] + m);
    var[c] = (float)(v > 0.0 ? v : 0.0);
    scale[c] = gamma[c] / sqrtf(var[c] + eps);
    offset[c] = beta[c] - mean[c] * scale[c];
  }
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict xr = x + r * cols;
    float *restrict yr = y + r * cols;
    for (int64_t c = 0; c < cols; c++) {
      const float z = xr[c] * scale[c] + offset[c];
      yr[c] = act == ACT_LINEAR ? z : (z > 0.0f ? z : (act == ACT_RELU ? 0.0f : alpha * z));
    }
  }
}

/*
 * batchNorm(heap, rows, cols, xOffset, gammaOffset, betaOffset, eps, act, alpha, yOffset, meanOffset, varOffset):
 * per column c, mean_c and the biased variance var_c over the rows, then
 * y = act(gamma_c (x - mean_c) / sqrt(var_c + eps) + beta_c). The sums are shifted by the first row and kept in
 * double, so a large mean costs no precision.
 */
static napi_value batch_norm(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 12, "batchNorm")) return NULL;
  const int64_t rows = arg_int(&a, 1), cols = arg_int(&a, 2);
  const float eps = (float)arg_double(&a, 6), alpha = (float)arg_double(&a, 8);
  const int act = (int)arg_int(&a, 7);
  if (!bn_sizes(&a, rows, cols, act, "batchNorm")) return NULL;
  const float *restrict x = heap_floats(&a, arg_int(&a, 3), rows * cols);
  const float *restrict gamma = heap_floats(&a, arg_int(&a, 4), cols);
  const float *restrict beta = heap_floats(&a, arg_int(&a, 5), cols);
  float *restrict y = heap_floats(&a, arg_int(&a, 9), rows * cols);
  float *restrict mean = heap_floats(&a, arg_int(&a, 10), cols);
  float *restrict var = heap_floats(&a, arg_int(&a, 11), cols);
  if (!x || !gamma || !beta || !y || !mean || !var) return NULL;
  double *sums = column_buffers(&a, cols, 3, 2, "batchNorm");
  if (!sums) return NULL;
  bn_forward_loop(rows, cols, x, gamma, beta, eps, act, alpha, y, mean, var, sums);
  free(sums);
  return NULL;
}

/* batch_norm_grad's loops; sums: zeroed work space of 2 cols doubles and 3 cols floats. */
HOT static void bn_backward_loop(int64_t rows, int64_t cols, const float *restrict dy, const float *restrict y,
                                 const float *restrict x, const float *restrict mean, const float *restrict var,
                                 const float *restrict gamma, const float *dMean, const float *dVar, float eps,
                                 int act, float alpha, float *restrict dx, float *restrict dGamma,
                                 float *restrict dBeta, double *sums) {
  double *restrict sg = sums, *restrict sgx = sums + cols;
  float *coef = (float *)(sums + 2 * cols);
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict dyr = dy + r * cols, *restrict yr = y + r * cols, *restrict xr = x + r * cols;
    for (int64_t c = 0; c < cols; c++) {
      const float g = dyr[c] * slope_of(yr[c], act, alpha);
      sg[c] += g;
      sgx[c] += (double)g * (double)(xr[c] - mean[c]);
    }
  }
  /* dx = a g + (x - mean) b + k per column */
  float *restrict ca = coef, *restrict cb = coef + cols, *restrict ck = coef + 2 * cols;
  const double M = (double)rows;
  for (int64_t c = 0; c < cols; c++) {
    const double s = 1.0 / sqrt((double)var[c] + (double)eps);
    const double gs = (double)gamma[c] * s;
    dBeta[c] = (float)sg[c];
    dGamma[c] = (float)(sgx[c] * s);
    ca[c] = (float)gs;
    cb[c] = (float)(-gs * sgx[c] * s * s / M + (dVar ? 2.0 * dVar[c] / M : 0.0));
    ck[c] = (float)(-gs * sg[c] / M + (dMean ? dMean[c] / M : 0.0));
  }
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict dyr = dy + r * cols, *restrict yr = y + r * cols, *restrict xr = x + r * cols;
    float *restrict dxr = dx + r * cols;
    for (int64_t c = 0; c < cols; c++)
      dxr[c] = ca[c] * (dyr[c] * slope_of(yr[c], act, alpha)) + (xr[c] - mean[c]) * cb[c] + ck[c];
  }
}

/*
 * batchNormGrad(heap, rows, cols, dyOffset, yOffset, xOffset, meanOffset, varOffset, gammaOffset, dMeanOffset,
 *               dVarOffset, eps, act, alpha, dxOffset, dGammaOffset, dBetaOffset):
 * the gradient of batchNorm's outputs (y, mean, var) with cotangents (dy, dMean, dVar; a negative offset
 * means zero). With g = dy act'(y), xhat = (x - mean) s and s = 1 / sqrt(var + eps):
 *   dBeta = sum_rows g,  dGamma = sum_rows g xhat,
 *   dx = gamma s (g - dBeta / M - xhat dGamma / M) + dMean / M + 2 dVar (x - mean) / M   (M = rows).
 */
static napi_value batch_norm_grad(napi_env env, napi_callback_info info) {
  Args a;
  if (!args_init(&a, env, info, 17, "batchNormGrad")) return NULL;
  const int64_t rows = arg_int(&a, 1), cols = arg_int(&a, 2);
  const float eps = (float)arg_double(&a, 11), alpha = (float)arg_double(&a, 13);
  const int act = (int)arg_int(&a, 12);
  if (!bn_sizes(&a, rows, cols, act, "batchNormGrad")) return NULL;
  const float *restrict dy = heap_floats(&a, arg_int(&a, 3), rows * cols);
  const float *restrict y = heap_floats(&a, arg_int(&a, 4), rows * cols);
  const float *restrict x = heap_floats(&a, arg_int(&a, 5), rows * cols);
  const float *restrict mean = heap_floats(&a, arg_int(&a, 6), cols);
  const float *restrict var = heap_floats(&a, arg_int(&a, 7), cols);
  const float *restrict gamma = heap_floats(&a, arg_int(&a, 8), cols);
  const int64_t dMeanOff = arg_int(&a, 9), dVarOff = arg_int(&a, 10);
  const float *dMean = dMeanOff < 0 ? NULL : heap_floats(&a, dMeanOff, cols);
  const float *dVar = dVarOff < 0 ? NULL : heap_floats(&a, dVarOff, cols);
  float *restrict dx = heap_floats(&a, arg_int(&a, 14), rows * cols);
  float *restrict dGamma = heap_floats(&a, arg_int(&a, 15), cols);
  float *restrict dBeta = heap_floats(&a, arg_int(&a, 16), cols);
  if (a.failed) return NULL;
  double *sums = column_buffers(&a, cols, 2, 3, "batchNormGrad");
  if (!sums) return NULL;
  bn_backward_loop(rows, cols, dy, y, x, mean, var, gamma, dMean, dVar, eps, act, alpha, dx, dGamma, dBeta, sums);
  free(sums);
  return NULL;
}

void genlab_conv_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropInput", NULL, conv2d_backprop_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropFilter", NULL, conv2d_backprop_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batchNorm", NULL, batch_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"batchNormGrad", NULL, batch_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
