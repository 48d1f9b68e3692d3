#!/bin/sh
# Builds native/build/genlab_native.node: GEMM (OpenBLAS) and fused elementwise, dense, Adam and
# likelihood kernels that genlab registers on the TensorFlow.js wasm backend. Needs a C compiler,
# Node's headers (NODE_INCLUDE=..., default: those of the node on PATH) and OpenBLAS (Debian/Ubuntu:
# apt-get install gcc libopenblas-dev pkg-config). Without this build genlab runs its pure-wasm
# kernels, and runtime.init says so.
#
# The flags are portable: the hot loops are compiled for AVX2 and for baseline x86-64 and picked at
# load time (see HOT in genlab_native.c), so the addon runs on any x86-64 CPU. GENLAB_MARCH_NATIVE=1
# adds -march=native (only for a build used on this CPU alone). BLAS_CFLAGS / BLAS_LIBS override what
# pkg-config says about OpenBLAS, e.g. on macOS with Homebrew:
#   BLAS_CFLAGS="-I$(brew --prefix openblas)/include" BLAS_LIBS="-L$(brew --prefix openblas)/lib -lopenblas"
set -eu
cd "$(dirname "$0")"
NODE_INCLUDE="${NODE_INCLUDE:-$(dirname "$(dirname "$(command -v node)")")/include/node}"
[ -f "$NODE_INCLUDE/node_api.h" ] || NODE_INCLUDE=/usr/include/node
if [ -z "${BLAS_CFLAGS+set}" ]; then BLAS_CFLAGS="$(pkg-config --cflags openblas 2>/dev/null || true)"; fi
if [ -z "${BLAS_LIBS+set}" ]; then BLAS_LIBS="$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)"; fi
MARCH=""
if [ "${GENLAB_MARCH_NATIVE:-0}" = 1 ]; then MARCH=-march=native; fi
mkdir -p build
# shellcheck disable=SC2086 # the flag variables hold several words
${CC:-cc} -O3 $MARCH -fno-math-errno -fno-trapping-math -ffp-contract=off -fPIC -shared -std=c11 \
  -Wall -Wextra -Wno-unused-parameter -DNODE_GYP_MODULE_NAME=genlab_native -I"$NODE_INCLUDE" \
  $BLAS_CFLAGS genlab_native.c genlab_conv.c -o build/genlab_native.node $BLAS_LIBS
echo "built $(pwd)/build/genlab_native.node"
