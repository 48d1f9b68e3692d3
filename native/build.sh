#!/bin/sh
# Builds native/build/genlab_native.node: GEMM (OpenBLAS) and fused dense/Adam kernels that genlab registers
# on the TensorFlow.js wasm backend. Needs a C compiler, Node's headers (/usr/include/node, or
# NODE_INCLUDE=...) and OpenBLAS (Debian: apt-get install libopenblas-dev). Without this build genlab
# runs its pure-wasm kernels.
set -eu
cd "$(dirname "$0")"
NODE_INCLUDE="${NODE_INCLUDE:-$(dirname "$(dirname "$(command -v node)")")/include/node}"
[ -f "$NODE_INCLUDE/node_api.h" ] || NODE_INCLUDE=/usr/include/node
BLAS_CFLAGS="$(pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread)"
BLAS_LIBS="$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)"
mkdir -p build
${CC:-cc} -O3 -march=native -fno-math-errno -fno-trapping-math -ffp-contract=off -fPIC -shared -std=c11 -Wall -Wextra -Wno-unused-parameter \
  -DNODE_GYP_MODULE_NAME=genlab_native -I"$NODE_INCLUDE" $BLAS_CFLAGS \
  genlab_native.c -o build/genlab_native.node $BLAS_LIBS
echo "built $(pwd)/build/genlab_native.node"
