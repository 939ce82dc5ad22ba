#!/usr/bin/env bash
# build.sh: build CoreMark (EEMBC's sources, vendored unchanged here, plus our
# freestanding port core_portme.c/.h) into bench/coremark/coremark.wasm.
#
# The module imports nothing and exports `run(n)` (CoreMark with n
# iterations, performance-run seeds 0x0 0x0 0x66, TOTAL_DATA_SIZE 2000;
# returns crcfinal | failures << 16), `report(i)` and its memory. Same
# compiler settings as bench/kernels/build.sh: clang --target=wasm32 -O2, no
# libc, only the WebAssembly 2.0 features the engine supports (bulk memory,
# sign extension, non-trapping float-to-int); no SIMD. core_main.c's main()
# is renamed coremark_main with -D (the sources stay as upstream has them).
#
# Usage: bench/coremark/build.sh
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

OPT=-O2
FEATURES=(-mbulk-memory -msign-ext -mnontrapping-fptoint)
CFLAGS=(
  --target=wasm32
  "$OPT"
  -std=c11
  -Wall -Wextra -Werror
  -nostdlib
  -ffreestanding
  -fno-strict-aliasing
  "${FEATURES[@]}"
  -I.
  -DTOTAL_DATA_SIZE=2000
  -Dmain=coremark_main
  "-DCOMPILER_FLAGS=\"--target=wasm32 $OPT ${FEATURES[*]} -nostdlib -ffreestanding\""
)
LDFLAGS=(
  -Wl,--no-entry
  -Wl,--export=run
  -Wl,--export=report
  -Wl,--stack-first
  -Wl,-z,stack-size=65536
  -Wl,--strip-debug
)

SOURCES=(core_list_join.c core_main.c core_matrix.c core_state.c core_util.c core_portme.c)
out=coremark.wasm
clang "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$out" "${SOURCES[@]}"
echo "built $out ($(wc -c <"$out") bytes)"
