"""The examples run, and ``op_tests`` cells land in the results JSONL, inside this repository and in a throwaway
project outside it where the package is installed (its ``pytest11`` entry point loads the plugin) with the
user's own baseline file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_conformance import OpCheckError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _results(folder: Path) -> dict[str, dict]:
    lines = [json.loads(line) for path in folder.glob("*.jsonl") for line in path.read_text().splitlines()]
    return {r["cell"]: r for r in lines if r.get("kind") == "result"}


def test_the_check_script_passes_the_right_ops_and_catches_the_wrong_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))  # as `python examples/check_my_ops.py` runs it
    from check_my_ops import main

    results = main(max_examples=10)
    log_cosh = results["LogCosh"]
    assert {p: log_cosh[p] for p in PASSING} == dict.fromkeys(PASSING, "pass")
    assert log_cosh["second_fwd_fwd"].startswith("known torch bug pytorch/pytorch#197867")
    assert log_cosh["func.vmap"].startswith("not run: torch.func.vmap")  # LogCosh has no vmap rule
    assert results["softplus"]["vjp"] == "pass" and results["softplus"]["jvp"].startswith("not run")
    assert results["gradcheck(LogCoshFastPath)"] is True  # gradcheck at a typical input misses the region
    failure = results["LogCoshFastPath"]
    assert isinstance(failure, OpCheckError) and failure.property == "vjp"
    assert "from my_ops import LogCoshFastPath" in failure.repro
    assert max(abs(float(x)) for x in _repro_inputs(failure.repro)) > 2  # shrunk into the wrong region


def _repro_inputs(repro: str) -> list[float]:
    line = next(line for line in repro.splitlines() if line.startswith("x0 = torch.tensor("))
    return json.loads(line.removeprefix("x0 = torch.tensor(").split("], dtype")[0] + "]")


# What a right Function with a jvp (LogCosh) passes: every property but the known torch bug's and vmap's.
PASSING = ("vjp", "jvp", "second_order", "second_fwd_rev", "second_rev_fwd", "third_rev", "float32", "layout",
           "compile.vjp")  # fmt: skip


def test_the_users_test_file_writes_one_cell_per_property(tmp_path: Path) -> None:
    run = _run(
        ["-m", "pytest", str(EXAMPLES / "test_my_ops.py"), "-p", "no:cacheprovider", "-q",
         "--results-dir", str(tmp_path), "--results-label", "user"],
        ROOT,
        {"CONFORMANCE_PROFILE": "fast"},  # 10 examples a cell
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    cells = _results(tmp_path)
    verdicts = {c.split("/")[0]: r["verdict"] for c, r in cells.items() if c.endswith("LogCosh/float64")}
    assert {p: verdicts[p] for p in PASSING if p != "float32"} == dict.fromkeys(set(PASSING) - {"float32"}, "pass")
    assert verdicts["second_fwd_fwd"] == verdicts["third_fwd"] == "fail"  # pytorch#197867: an expected failure
    assert verdicts["func.vmap"] == "not_run"
    assert cells["float32/LogCosh/float32"]["verdict"] == "pass"
    assert cells["jvp/examples.softplus/float64"]["verdict"] == "not_run"  # no forward-mode rule: said, not failed
    assert cells["vjp/examples.softplus/float64"]["family"] == "user"


@pytest.mark.slow
def test_the_plugin_works_in_a_project_outside_the_repository(tmp_path: Path) -> None:
    """``pip install`` the package (no dependencies: this interpreter has them) into a folder, and run a user's
    project with it on the path: the entry point, not a conftest, loads the plugin."""
    site, source = tmp_path / "site", tmp_path / "source"
    # Built from a copy: building in the repository leaves autograd_conformance.egg-info in its root, where
    # every later `python -m pytest` there finds the pytest11 entry point and loads the plugin, so another
    # test's broken-jax run died on the plugin's import instead of the suite's message (exit 3, not 4).
    skip = shutil.ignore_patterns(".git", ".nox", ".cache", ".hypothesis", "results", "build", "*.egg-info", "html")
    shutil.copytree(ROOT, source, ignore=skip)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    # One import namespace: the package and its dist-info, nothing else at the top level.
    top = sorted(p.name for p in site.iterdir())
    assert [n for n in top if not n.endswith(".dist-info")] == ["autograd_conformance"], top
    assert [n for n in top if n.endswith(".dist-info")] == ["autograd_conformance-0.1.0.dist-info"], top
    assert (site / "autograd_conformance" / "reports" / "schema.json").is_file()
    assert (site / "autograd_conformance" / "reports" / "templates" / "report.html.j2").is_file()
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLES / "my_ops.py", project)
    (project / "test_ops.py").write_text(
        "from my_ops import LogCosh, LogCoshFastPath\n"
        "from autograd_conformance import op_tests\n"
        "test_log_cosh = op_tests(LogCosh.apply, inputs=[(3,)], domain=(-4.0, 4.0), properties=['vjp'])\n"
        "test_fast = op_tests(LogCoshFastPath.apply, inputs=[(3,)], domain=(-4.0, 4.0), properties=['vjp'])\n"
    )
    (project / "known.txt").write_text(
        "vjp/LogCoshFastPath/float64 where max_abs(x0) > 2 | our fast path's tanh is 1 above 2 | https://example.org/1\n"
    )
    env = {"PYTHONPATH": str(site), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": ""}
    args = ["-m", "pytest", "-p", "no:cacheprovider", "-q", "--results-dir", "out", "--hypothesis-seed", "0"]
    failing = _run(args, project, env)
    assert failing.returncode == 1, failing.stdout[-3000:]
    assert "new conformance failures" in failing.stdout and "FAIL vjp/LogCoshFastPath/float64" in failing.stdout
    known = _run([*args, "--baseline", "known.txt"], project, env)
    assert known.returncode == 0, known.stdout[-3000:]
    cells = _results(project / "out")
    assert cells["vjp/LogCosh/float64"]["verdict"] == "pass"
    assert cells["vjp/LogCoshFastPath/float64"]["known"] is True
