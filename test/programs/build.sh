#!/bin/sh
# Rebuilds every test program (NAME.c -> NAME.wasm) for wasm32-wasi with
# clang, wasm-ld (lld) and wasi-libc. The built .wasm files are committed,
# so running the tests never needs a compiler; run this after changing a
# program. Missing tools are installed with apt-get (Debian/Ubuntu).
set -eu
cd "$(dirname "$0")"

have_toolchain() {
    command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1 &&
        [ -f /usr/lib/wasm32-wasi/libc.a ] &&
        ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1
}

if ! have_toolchain; then
    echo "build.sh: installing clang, lld, wasi-libc and libclang-rt-dev-wasm32 with apt-get" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update
    $sudo apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32
fi

# Plain WebAssembly 2.0 code (no SIMD: the engine does not run it). The
# DWARF that comes with Debian's libc.a is dropped (--strip-debug): it would
# quadruple the files. (This wasm-ld writes no `name` section either way, so
# stack traces show func[N].)
CFLAGS="--target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,--strip-debug"

for src in *.c; do
    name=${src%.c}
    extra=""
    case $name in
        # 150,000 frames deep, each with a little shadow stack: the default 64 KiB stack is far too small.
        recurse) extra="-Wl,-z,stack-size=16777216" ;;
    esac
    # shellcheck disable=SC2086
    clang $CFLAGS $extra -o "$name.wasm" "$src"
    echo "built $name.wasm ($(wc -c < "$name.wasm") bytes)"
done
