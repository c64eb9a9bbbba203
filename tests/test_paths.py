"""The execution paths (CUDA, torch.compile, torch.func): wired, reported, and sharp.

* Without a GPU a ``--device cuda`` selection writes its cells as ``not_run`` with the reason
  "not run: no CUDA device" (never fail, never dropped), and the prepared GPU command
  (``scripts/cuda-conformance.sh``) parses and runs to the same effect here.
* Each path's planted fault (``tests/faults/paths.py``) is caught by that path's property and
  attributed to it, and is dormant on the other paths.  Each run is its own pytest process with
  the fault installed for the session (``-p tests.faults.plugin --plant-fault NAME``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_conformance.reports.results import ResultsFile
from tests.faults import FAULTS_BY_NAME, allowed_properties
from tests.helpers import ROOT, results_files, run_pytest


def _pytest(
    args: list[str], tmp: Path, env: dict[str, str] | None = None, timeout: int = 900
) -> tuple[int, list[ResultsFile]]:
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "results"
    options = ["--no-baseline", "-q", f"--results-dir={out}", "--results-label=paths", "--hypothesis-seed=0"]
    proc = run_pytest([*options, *args], tmp, timeout=timeout, env=env)
    return proc.returncode, results_files(out)


def _results(files: list[ResultsFile]) -> list[dict]:
    return [record for contents in files for record in contents.results]


# -- CUDA on a machine without one ---------------------------------------------------------------


def test_cuda_cells_are_not_run_without_a_gpu(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the cells run")
    ret, files = _pytest(
        [
            str(ROOT / "suites/test_trees.py"),
            str(ROOT / "suites/test_func_transforms.py"),
            "-k",
            "vjp",
            "--device",
            "cuda",
        ],
        tmp_path,
    )
    results = _results(files)
    assert ret == 0 and results
    assert {r["verdict"] for r in results} == {"not_run"}
    assert {r["message"] for r in results} == {"not run: no CUDA device"}
    assert {r["device"] for r in results} == {"cuda"}
    run = files[0].run
    assert run["tf32"]["cuda_matmul_allow_tf32"] is False and "cuda_device_name" in run


def test_cuda_script_parses_and_runs_as_not_run_here(tmp_path: Path) -> None:
    script = ROOT / "scripts/cuda-conformance.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    env = {**os.environ, "PYTHON": sys.executable, "RESULTS_DIR": str(tmp_path / "results"), "CUDA_LABEL": "cuda-dry"}
    dry = subprocess.run([str(script), "--dry-run"], env=env, capture_output=True, text=True, check=False)
    assert dry.returncode == 0, dry.stderr
    assert "--device cuda" in dry.stdout and "--results-label cuda-dry" in dry.stdout
    assert not (tmp_path / "results").exists()


# -- the checks judge the gradients a path hands them ---------------------------------------------


def test_injected_gradients_are_what_the_checks_judge() -> None:
    """A check's ``torch_vjp`` argument (the compile and func suites pass theirs) really replaces torch's own backward."""
    from autograd_conformance import checks
    from autograd_conformance.example import Example
    from autograd_conformance.registry import OPS_BY_NAME
    from autograd_conformance.registry.spec import make_call
    from autograd_conformance.transforms import plain_backward
    from autograd_conformance.tree import single_op_tree
    from autograd_conformance.verdict import Verdict

    tree = single_op_tree(OPS_BY_NAME["sin"], make_call([(3,)]))
    ex = Example(tree, [np.array([0.3, -0.7, 1.1])], cotangent=np.array([1.0, 0.5, -2.0]), direction=[np.ones(3)])
    good = plain_backward(ex)
    assert {o.verdict for o in checks.vjp_matches_oracles(ex, torch_vjp=good)} == {Verdict.PASS}
    bad = [g * (1 + 1e-6) for g in good]
    verdicts = {o.oracle: o.verdict for o in checks.vjp_matches_oracles(ex, torch_vjp=bad)}
    assert verdicts["jax"] is Verdict.FAIL


def test_tf32_is_a_convention_within_its_rounding_and_a_fail_beyond(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_conformance import checks, execution
    from autograd_conformance.example import Example
    from autograd_conformance.registry import OPS_BY_NAME
    from autograd_conformance.registry.spec import make_call
    from autograd_conformance.tree import single_op_tree
    from autograd_conformance.verdict import Verdict

    monkeypatch.setattr(checks, "tf32_applies", lambda device, dtype, families: True)  # as on CUDA with TF32 on
    tree = single_op_tree(OPS_BY_NAME["matmul"], make_call([(3, 3), (3, 3)]))
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((3, 3)).astype(np.float32).astype(np.float64) for _ in range(2)]
    ex = Example(tree, xs, dtype="float32", cotangent=np.ones((3, 3)), direction=[np.ones((3, 3))] * 2)
    exact = checks.reference(ex).vjp
    tf32_like = [g * (1 + 1.7e-4) for g in exact]  # what an H100 measured with TF32 on
    (o,) = checks.reduced_precision_matches_float64(ex, torch_vjp=tf32_like)
    assert o.verdict is Verdict.CONVENTION and "TF32" in o.message
    (o,) = checks.reduced_precision_matches_float64(ex, torch_vjp=[g * 1.01 for g in exact])
    assert o.verdict is Verdict.FAIL and "TF32" in o.message
    assert execution.TF32_RTOL_PER_OP > 1.7e-4


# -- planted faults, one per path ------------------------------------------------------------------


def _caught(name: str, args: list[str], tmp: Path, env: dict[str, str] | None = None) -> list[dict]:
    fault = FAULTS_BY_NAME[name]
    ret, files = _pytest([*args, "-x", "-p", "tests.faults.plugin", "--plant-fault", name], tmp, env)
    results = _results(files)
    failing = [r for r in results if r["verdict"] in ("fail", "error")]
    assert ret != 0 and failing, f"{name} was not caught: {[(r['cell'], r['verdict']) for r in results]}"
    first = failing[0]
    assert first["verdict"] == "fail", f"{name}: ERROR instead of FAIL: {first['message'][:500]}"
    assert first["property"] in allowed_properties(fault), f"{name} caught by {first['property']}"
    return results


def _dormant(name: str, args: list[str], tmp: Path, env: dict[str, str] | None = None) -> None:
    ret, files = _pytest([*args, "-p", "tests.faults.plugin", "--plant-fault", name], tmp, env)
    bad = [(r["cell"], r["verdict"], r["message"][:200]) for r in _results(files) if r["verdict"] in ("fail", "error")]
    assert ret == 0 and not bad, f"{name} shows off its path: {bad}"


@pytest.mark.slow
def test_cuda_fault_is_caught_where_its_device_runs(tmp_path: Path) -> None:
    """Simulated: the trigger device is the CPU (no GPU here), so the CPU vjp cells stand in for CUDA ones."""
    args = [str(ROOT / "suites/test_trees.py"), "-k", "test_vjp_tree", "--hypothesis-profile=fast"]
    results = _caught("cuda_only_output_grad", args, tmp_path / "sim", {"CONFORMANCE_FAULT_DEVICE": "cpu"})
    assert results[0]["property"] == "vjp"
    _dormant("cuda_only_output_grad", args, tmp_path / "real", {"CONFORMANCE_FAULT_DEVICE": "cuda"})


@pytest.mark.slow
def test_func_fault_is_caught_by_the_func_suite_only(tmp_path: Path) -> None:
    results = _caught("func_only_output_grad", [str(ROOT / "suites/test_func_transforms.py"), "--hypothesis-profile=fast"],
                      tmp_path / "a")  # fmt: skip
    assert results[0]["property"].startswith("func.")
    _dormant("func_only_output_grad", [str(ROOT / "suites/test_trees.py"), "-k", "test_vjp_tree", "--hypothesis-profile=fast"],
             tmp_path / "b")  # fmt: skip


@pytest.mark.slow
def test_compile_fault_is_caught_by_the_compile_suite_only(tmp_path: Path) -> None:
    results = _caught("compile_only_output_grad",
                      [str(ROOT / "suites/test_exec_paths.py"), "-k", "compile_vjp and float64"], tmp_path / "a")  # fmt: skip
    assert results[0]["property"] == "compile.vjp"
    _dormant("compile_only_output_grad", [str(ROOT / "suites/test_func_transforms.py"), "--hypothesis-profile=fast"],
             tmp_path / "b")  # fmt: skip
