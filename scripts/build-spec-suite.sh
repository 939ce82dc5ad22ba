#!/usr/bin/env bash
# Regenerates the vendored WebAssembly testsuite (test/spec-suite) from its
# .wast scripts with wast2json (Debian's wabt; the copy here was made with
# wabt 1.0.32, see test/spec-suite/README.md). With no argument it converts
# the .wast files already in test/spec-suite again; with a directory (e.g. a
# checkout of github.com/WebAssembly/testsuite) it takes the .wast files of
# its top level as core/ and of proposals/{tail-call,extended-const,multi-memory}.
# Each script becomes DIR/NAME/NAME.json plus its module files, NAME.wast beside.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo/test/spec-suite"
src="${1:-}"

if ! command -v wast2json >/dev/null; then
  echo "build-spec-suite: wast2json not found; install it with: apt-get install -y wabt" >&2
  exit 1
fi

# convert WAST DEST_DIR [wast2json flags...]
convert() {
  local wast="$1" dest="$2"; shift 2
  local name; name="$(basename "$wast" .wast)"
  local tmp; tmp="$(mktemp -d)"
  cp "$wast" "$tmp/$name.wast"
  (cd "$tmp" && wast2json "$@" "$name.wast" -o "$name.json")
  rm -rf "${dest:?}/$name"
  mkdir -p "$dest/$name"
  mv "$tmp"/* "$dest/$name/"
  rmdir "$tmp"
}

# The .wast scripts of one part: from the given checkout, or those vendored already.
scripts() {
  local part="$1" from="$2"
  if [ -n "$src" ]; then find "$from" -maxdepth 1 -name '*.wast' | sort
  else find "$out/$part" -mindepth 2 -maxdepth 2 -name '*.wast' | sort; fi
}

for w in $(scripts core "$src"); do convert "$w" "$out/core" --enable-all; done
for p in tail-call extended-const multi-memory; do
  for w in $(scripts "proposals/$p" "$src/proposals/$p"); do convert "$w" "$out/proposals/$p" --enable-all; done
done
echo "build-spec-suite: wrote $out"
