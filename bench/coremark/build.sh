#!/usr/bin/env bash
# build.sh: build CoreMark (EEMBC's sources, vendored unchanged here, plus our
# freestanding port core_portme.c/.h) into bench/coremark/coremark.wasm.
#
# The module imports nothing and exports `run(n)` (CoreMark with n
# iterations, performance-run seeds 0x0 0x0 0x66, TOTAL_DATA_SIZE 2000;
# returns crcfinal | failures << 16), `report(i)` and its memory. The
# compiler settings of every benchmark program (../wasm-flags.sh: clang
# --target=wasm32 -O2, no libc, WebAssembly 2.0 features, no SIMD), plus
# CoreMark's own defines. core_main.c's main()
# is renamed coremark_main with -D (the sources stay as upstream has them).
#
# Usage: bench/coremark/build.sh
# Installs clang and lld with apt-get when clang or wasm-ld is missing.
set -euo pipefail

cd "$(dirname "$0")"

# shellcheck source=../wasm-flags.sh
. ../wasm-flags.sh

CFLAGS=(
  "${WASM_CFLAGS[@]}"
  -I.
  -DTOTAL_DATA_SIZE=2000
  -Dmain=coremark_main
  "-DCOMPILER_FLAGS=\"--target=wasm32 $WASM_OPT ${WASM_FEATURES[*]} -nostdlib -ffreestanding\""
)
LDFLAGS=(
  "${WASM_LDFLAGS[@]}"
  -Wl,--export=run
  -Wl,--export=report
)

SOURCES=(core_list_join.c core_main.c core_matrix.c core_state.c core_util.c core_portme.c)
out=coremark.wasm
clang "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$out" "${SOURCES[@]}"
echo "built $out ($(wc -c <"$out") bytes)"
