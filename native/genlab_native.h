/*
 * What the addon's source files share: argument parsing over the wasm heap, the activation codes and the
 * fused bias + activation loop (genlab_native.c), and the registration of the convolution kernels
 * (genlab_conv.c).
 */
#ifndef GENLAB_NATIVE_H
#define GENLAB_NATIVE_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The elementwise loops of both source files are compiled twice, for AVX2 + FMA (x86-64-v3) and
 * for the baseline x86-64, and the loader picks the one the CPU runs (GCC/Clang target_clones on
 * x86-64 ELF). So the addon needs no -march=native to be fast and runs on any x86-64 CPU;
 * native/build.sh adds -march=native only when GENLAB_MARCH_NATIVE=1. Elsewhere (ARM, macOS) the
 * compiler's default target is used.
 */
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__)
#define HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/* Activation codes shared with lib/runtime/kernels (ACTIVATION_CODES). */
enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_SIGMOID = 2, ACT_TANH = 3, ACT_LEAKY_RELU = 4, ACT_SOFTPLUS = 5 };

#define MAX_ARGS 20

/* A call's arguments; argument 0 is always the wasm heap (an ArrayBuffer). */
typedef struct {
  napi_env env;
  uint8_t *heap;
  size_t length;
  napi_value argv[MAX_ARGS];
  size_t argc;
  bool failed;
} Args;

bool args_init(Args *a, napi_env env, napi_callback_info info, size_t expected, const char *name);
int64_t arg_int(Args *a, size_t i);
double arg_double(Args *a, size_t i);
/* Pointer to `count` floats at byte `offset` of the heap, or NULL (and a thrown RangeError) if outside it. */
float *heap_floats(Args *a, int64_t offset, int64_t count);
/* y = act(y + bias) in place over rows x cols, row-wise; bias may be NULL. */
void apply_bias_activation(float *restrict y, const float *restrict bias, int64_t rows, int64_t cols, int act,
                           float alpha);
/* Adds the convolution and batch-norm functions of genlab_conv.c to the addon's exports. */
void genlab_conv_register(napi_env env, napi_value exports);

#endif
