#!/usr/bin/env bash
# The CUDA paths on a machine with an NVIDIA GPU: one command, a few minutes, rerunnable, no network.
#
#   scripts/cuda-conformance.sh            # run; results/<label>-cuda-eager.jsonl (+ -cuda-func)
#   scripts/cuda-conformance.sh --dry-run  # print the commands, check the imports; run nothing on a GPU
#
# Needs only what such a machine has: python with torch (+cu), jax, hypothesis, pytest (pytest-xdist
# optional).  The oracles (JAX, finite differences) run on the CPU in float64 whatever the device.
# Environment:
#   CUDA_LABEL=torch-2.11.0-cuda   results label (default: torch-<installed version>-cuda); the report's column
#   CONFORMANCE_PROFILE=fast       Hypothesis profile (fast: 10 examples per cell, 80 per tree cell)
#   CONFORMANCE_TF32=1             also run the float32 cells with TF32 matmuls allowed (label suffix -tf32):
#                                  TF32 is a setting the run record shows, never a hidden error
#   RESULTS_DIR=results            where the results files go
#   PYTHON=python                  the interpreter
# Each run overwrites its own results files (same label), so a rerun replaces the last one.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; fi
export CONFORMANCE_PROFILE=${CONFORMANCE_PROFILE:-fast}
version=$("$PYTHON" -c "import torch; print(torch.__version__.split('+')[0])")
LABEL=${CUDA_LABEL:-torch-${version}-cuda}
# The gradient and tree cells (per-op and random trees), and the torch.func transforms; the semantics
# suites build their own CPU tensors, and torch.compile on CUDA is left to `pytest suites/test_exec_paths.py`.
SELECTION=(suites/test_gradients.py suites/test_trees.py)
RESULTS_DIR=${RESULTS_DIR:-results}
COMMON=(--device cuda --require-device --no-baseline -p no:cacheprovider -q --results-dir "$RESULTS_DIR")
# The JAX and FD oracles run on the CPU: spread the cells over the CPU cores when pytest-xdist is there.
if "$PYTHON" -c "import xdist" 2>/dev/null; then COMMON+=(-n "${JOBS:-8}"); fi

run() { # run <command...>: print it; run it unless --dry-run
    echo "+ $*"
    if [ "$DRY" -eq 0 ]; then "$@"; fi
}

"$PYTHON" - <<'EOF'
import jax, torch, hypothesis, pytest  # noqa: F401  (everything the suite needs imports)
from autograd_conformance.execution import tf32_setting
print(f"torch {torch.__version__}, jax {jax.__version__}, cuda available: {torch.cuda.is_available()}",
      f"({torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA device: cells are not run'})")
print(f"TF32: {tf32_setting()}")
EOF

status=0
run "$PYTHON" -m pytest "${SELECTION[@]}" "${COMMON[@]}" --results-label "$LABEL" || status=$?
run "$PYTHON" -m pytest suites/test_func_transforms.py "${COMMON[@]}" --results-label "$LABEL" --exec-path func || status=$?
if [ "${CONFORMANCE_TF32:-0}" = "1" ]; then
    run "$PYTHON" -c "import sys, torch, pytest; torch.backends.cuda.matmul.allow_tf32 = True; \
sys.exit(pytest.main(['suites/test_gradients.py', 'suites/test_trees.py', '-k', 'float32', \
'--device', 'cuda', '--no-baseline', '-p', 'no:cacheprovider', '-q', '--results-dir', '$RESULTS_DIR', \
'--results-label', '$LABEL-tf32']))" || status=$?
fi
echo "results: ${RESULTS_DIR}/${LABEL}-cuda-*.jsonl; report: python -m autograd_conformance.reports build results/*.jsonl -o reports/html/index.html"
exit "$status"
