#!/usr/bin/env bash
# build.sh: rebuild the benchmark kernels bench/kernels/*.c into *.wasm.
#
# Each kernel is freestanding C compiled for wasm32 with no libc and no
# imports (the settings in ../wasm-flags.sh, shared with CoreMark); the
# module exports `run` and its memory.
#
# Usage: bench/kernels/build.sh [kernel...]   (default: every *.c here)
# Installs clang and lld with apt-get when clang or wasm-ld is missing.
set -euo pipefail

cd "$(dirname "$0")"

# shellcheck source=../wasm-flags.sh
. ../wasm-flags.sh

if [ "$#" -gt 0 ]; then
  sources=()
  for k in "$@"; do sources+=("${k%.c}.c"); done
else
  sources=(*.c)
fi

for src in "${sources[@]}"; do
  out="${src%.c}.wasm"
  clang "${WASM_CFLAGS[@]}" "${WASM_LDFLAGS[@]}" -Wl,--export=run -o "$out" "$src"
  echo "built $out ($(wc -c <"$out") bytes)"
done
