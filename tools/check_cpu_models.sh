#!/usr/bin/env bash
# Checks nncore on CPUs this machine is not: QEMU user-mode emulation runs the installed package
# under CPU models that lack the wider instruction sets (QEMU's TCG implements AVX2 but no AVX-512,
# so a single zmm instruction dies there with SIGILL, exactly as on an AVX2-only CPU):
#   Haswell   AVX2 + FMA, no AVX-512   -> nncore must pick the avx2 path
#   Nehalem   SSE4.2, no AVX at all    -> nncore must pick the generic path
# For each model: import, `nncore info` names the expected path, the kernel tests pass against
# their NumPy references, and a short seeded fit (tools/short_fit.py) gives bit for bit what the
# same path gives natively. Then, natively, the kernel tests run with NNCORE_ISA forced to every
# path this CPU has.
#
#   tools/check_cpu_models.sh [PYTHON]   # PYTHON: an interpreter with nncore and its test extra
#
# Needs qemu-x86_64 (Debian/Ubuntu: apt-get install qemu-user) on an x86-64 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(command -v "${1:-python3}")
qemu=$(command -v qemu-x86_64 || true)
if [ -z "$qemu" ]; then
  echo "check_cpu_models: qemu-x86_64 not found (apt-get install qemu-user)" >&2
  exit 2
fi
kernel_tests=()
for f in tests/test_isa_dispatch.py tests/test_gemm*.py tests/test_conv2d*.py tests/test_depthwise_conv2d.py \
         tests/test_pool2d*.py tests/test_activations.py \
         tests/test_softmax.py tests/test_batchnorm.py tests/test_bias.py tests/test_losses.py \
         tests/test_dropout.py tests/test_optimizer_steps.py \
         tests/test_layer_norm_op.py tests/test_group_norm_op.py tests/test_upsample2d_op.py \
         tests/test_add_act_op.py; do
  [ -f "$f" ] && kernel_tests+=("$f")
done
# Both sides of the fit comparison run the same thread count.
export OMP_NUM_THREADS=2
# QEMU warns on stderr about host CPUID bits its TCG engine does not model; they are not errors.
quiet() { grep -v "TCG doesn't support requested feature" || true; }
status=0
fail() { echo "check_cpu_models: FAIL: $*" >&2; status=1; }

for pair in Haswell:avx2 Nehalem:generic; do
  model=${pair%%:*}
  want=${pair##*:}
  echo "== emulated $model (expects the $want path)"
  info=$("$qemu" -cpu "$model" "$py" -m nncore info 2> >(quiet >&2)) || { fail "$model: nncore info exited with $?"; continue; }
  got=$(awk '$1 == "isa" {print $2}' <<< "$info")
  [ "$got" = "$want" ] || fail "$model: nncore info says isa $got, expected $want"
  echo "$info" | grep -E '^isa'
  if ! NNCORE_TEST_LAUNCHER="$qemu -cpu $model" "$qemu" -cpu "$model" "$py" -m pytest -q -p no:cacheprovider "${kernel_tests[@]}" 2> >(quiet >&2) | tail -n 3; then
    fail "$model: kernel tests"
  fi
  emulated=$("$qemu" -cpu "$model" "$py" tools/short_fit.py 2> >(quiet >&2)) || fail "$model: short fit exited with $?"
  echo "emulated: $emulated"
  if "$py" -c "import nncore, sys; sys.exit('$want' not in nncore.ops.available_isas())"; then
    native=$(NNCORE_ISA=$want "$py" tools/short_fit.py) || fail "native $want short fit"
    echo "native:   $native"
    [ "$emulated" = "$native" ] || fail "$model: the short fit differs from the native $want path"
  fi
done

for isa in $("$py" -c "import nncore; print(' '.join(nncore.ops.available_isas()))"); do
  echo "== native, NNCORE_ISA=$isa"
  NNCORE_ISA=$isa "$py" -m pytest -q -p no:cacheprovider "${kernel_tests[@]}" | tail -n 3 || fail "NNCORE_ISA=$isa kernel tests"
done
[ $status -eq 0 ] && echo "check_cpu_models: all passed"
exit $status
