# wasm-flags.sh: what bench/kernels/build.sh and bench/coremark/build.sh share
# (sourced, not run): clang and lld installed when missing, and the compiler
# and linker settings of every benchmark program: freestanding C for wasm32,
# no libc, no imports, only the WebAssembly 2.0 features the engine supports
# (bulk memory, sign extension, non-trapping float-to-int); no SIMD.
#
# Defines WASM_OPT (-O2), WASM_FEATURES, WASM_CFLAGS and WASM_LDFLAGS (the
# module exports its memory; each script adds its own exports).

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

WASM_OPT=-O2
WASM_FEATURES=(-mbulk-memory -msign-ext -mnontrapping-fptoint)
WASM_CFLAGS=(
  --target=wasm32
  "$WASM_OPT"
  -std=c11
  -Wall -Wextra -Werror
  -nostdlib
  -ffreestanding
  -fno-strict-aliasing
  "${WASM_FEATURES[@]}"
)
WASM_LDFLAGS=(
  -Wl,--no-entry
  -Wl,--stack-first
  -Wl,-z,stack-size=65536
  -Wl,--strip-debug
)
