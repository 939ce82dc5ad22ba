#!/usr/bin/env bash
# Rebuilds the committed C guests (examples/c-counter/counter.wasm,
# examples/services/visitor-c.wasm and the test guest guest/c/echo.wasm) from their sources with clang, freestanding
# (no libc), with the flags in guest/c/clang-flags (`wasmhive build x.c`
# uses the same). Installs clang and lld with apt-get when they are missing
# (needs root; wasi-libc is not needed). Deterministic: the same clang gives
# the same bytes from any cwd (no debug info, names stripped). The committed
# files were built with Debian's clang 14.0.6.
#
#   scripts/build-c-guests.sh           rebuild
#   scripts/build-c-guests.sh --check   exit 1 if a committed .wasm differs from its source's build
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
guests=(examples/c-counter/counter.c examples/services/visitor-c.c guest/c/echo.c)
check=0
[ "${1:-}" = "--check" ] && check=1

if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "build-c-guests: clang and lld are needed (Debian/Ubuntu: apt-get install clang lld)" >&2
    exit 1
  fi
  echo "build-c-guests: installing clang and lld with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang lld >&2
fi

# shellcheck disable=SC2207 # the flags are words
compile=($(sed -n 's/^compile://p' "$repo/guest/c/clang-flags"))
# shellcheck disable=SC2207
link=($(sed -n 's/^link://p' "$repo/guest/c/clang-flags"))
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
stale=0
cd "$repo"
for src in "${guests[@]}"; do
  out="${src%.c}.wasm"
  clang "${compile[@]}" -I guest/c -c -o "$tmp/out.o" "$src"
  clang "${link[@]}" -o "$tmp/out.wasm" "$tmp/out.o"
  if cmp -s "$tmp/out.wasm" "$out"; then
    echo "same   $out"
  elif [ "$check" = 1 ]; then
    echo "STALE  $out"
    stale=1
  else
    install -m 644 "$tmp/out.wasm" "$out"
    echo "wrote  $out ($(wc -c < "$out") bytes)"
  fi
done
if [ "$stale" = 1 ]; then
  echo "build-c-guests: stale (built with $(clang --version | head -1)); run scripts/build-c-guests.sh" >&2
  exit 1
fi
