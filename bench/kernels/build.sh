#!/usr/bin/env bash
# build.sh: rebuild the benchmark kernels bench/kernels/*.c into *.wasm.
#
# Each kernel is freestanding C compiled for wasm32 with no libc and no
# imports; the module exports `run` and its memory. Only WebAssembly 2.0
# features the engine supports are enabled (bulk memory for memcpy/memset,
# sign extension, non-trapping float-to-int); no SIMD.
#
# Usage: bench/kernels/build.sh [kernel...]   (default: every *.c here)
# Installs clang and lld with apt-get when clang or wasm-ld is missing.
set -euo pipefail

cd "$(dirname "$0")"

need_install=0
command -v clang >/dev/null 2>&1 || need_install=1
command -v wasm-ld >/dev/null 2>&1 || need_install=1
if [ "$need_install" = 1 ]; then
  echo "build.sh: installing clang and lld" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y clang lld
fi

CFLAGS=(
  --target=wasm32
  -O2
  -std=c11
  -Wall -Wextra -Werror
  -nostdlib
  -ffreestanding
  -fno-strict-aliasing
  -mbulk-memory
  -msign-ext
  -mnontrapping-fptoint
)
LDFLAGS=(
  -Wl,--no-entry
  -Wl,--export=run
  -Wl,--stack-first
  -Wl,-z,stack-size=65536
  -Wl,--strip-debug
)

if [ "$#" -gt 0 ]; then
  sources=()
  for k in "$@"; do sources+=("${k%.c}.c"); done
else
  sources=(*.c)
fi

for src in "${sources[@]}"; do
  out="${src%.c}.wasm"
  clang "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$out" "$src"
  echo "built $out ($(wc -c <"$out") bytes)"
done
