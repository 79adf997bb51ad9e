#!/usr/bin/env bash
# Builds nncore with AddressSanitizer + UndefinedBehaviorSanitizer into its own virtual
# environment and runs the test suite against that build. Any sanitizer report fails the run.
#
#   tools/sanitize.sh                 # the default test selection
#   tools/sanitize.sh tests/test_gemm.py -k transpose   # any pytest arguments
#
# The interpreter itself is not instrumented, so the ASan runtime is preloaded and leak
# detection is off (CPython keeps objects alive until exit by design).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=${NNCORE_SANITIZE_VENV:-$root/.venv-sanitize}
build=${NNCORE_SANITIZE_BUILD:-$root/build-sanitize}

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "-Cbuild-dir=$build" \
    -Ccmake.define.NNCORE_SANITIZE=address,undefined -Ccmake.build-type=RelWithDebInfo '.[test]'

asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
for lib in "$asan" "$ubsan"; do
    [ -f "$lib" ] || { echo "sanitize.sh: $lib not found (install gcc's sanitizer runtimes)" >&2; exit 2; }
done

log_dir=$(mktemp -d)
export LD_PRELOAD="$asan $ubsan"
# Tests ask for absurd allocations on purpose and expect MemoryError, not an ASan abort.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:log_path=$log_dir/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$log_dir/ubsan"
status=0
(cd /tmp && "$venv/bin/python" -m pytest -q -p no:cacheprovider "${@:-$root/tests}") || status=$?
unset LD_PRELOAD
if compgen -G "$log_dir/*" > /dev/null; then
    echo "sanitize.sh: sanitizer reports:" >&2
    cat "$log_dir"/* >&2
    status=1
fi
rm -rf "$log_dir"
exit $status
