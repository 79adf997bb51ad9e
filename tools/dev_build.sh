#!/usr/bin/env bash
# Developer build: compiles the extension with CMake into build/dev (or $NNCORE_DEV_BUILD) and
# links it into python/nncore/, so that the checkout runs without being installed:
#
#   tools/dev_build.sh                          # then: PYTHONPATH=python python -m pytest
#   NNCORE_DEV_BUILD=build/portable tools/dev_build.sh -DNNCORE_X86_KERNELS=OFF
#
# Arguments go to CMake's configure step. Rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NNCORE_DEV_BUILD:-build/dev}
py=${PYTHON:-python3}
version=$("$py" -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")
gen=()
command -v ninja > /dev/null && gen=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DSKBUILD_PROJECT_VERSION="$version" \
    -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$(command -v "$py")" "$@" > /dev/null
fi
cmake --build "$build" --parallel
so=$(ls "$build"/_core*.so)
rm -f python/nncore/_core*.so
ln -s "$(realpath "$so")" python/nncore/
echo "dev_build: $(realpath "$so") -> python/nncore/"
