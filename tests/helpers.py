"""What the project's tests share: the repository root, one way to run the suites, one results reader.

A module rather than ``tests/conftest.py``: ``ROOT`` is used by module-level constants
(``README = (ROOT / "README.md").read_text()``) and by ``tests/sharpness.py``, which also
runs as a script (``python -m tests.sharpness``), where fixtures do not exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from autograd_conformance.reports import results

ROOT = Path(__file__).resolve().parents[1]


def suite_options(*args: str) -> list[str]:
    """pytest options that run the project's suites with its configuration from any directory, plus ``args``."""
    return [f"--rootdir={ROOT}", "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider", *args]


def run_pytest(
    args: list[str], cwd: Path, *, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` over the suites in its own process, from ``cwd`` (a fresh directory has its own
    Hypothesis database), the repository importable, Hypothesis's CI settings off.

    A run that outlives ``timeout`` is killed and returned with exit status -9 and what it printed.
    """
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), full_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    full_env.pop("CI", None)  # Hypothesis would switch to its own CI settings
    cmd = [sys.executable, "-m", "pytest", *suite_options(*args)]
    try:
        return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return subprocess.CompletedProcess(cmd, -9, out + f"\n[timed out after {timeout}s]", "")


def run_reports(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m autograd_conformance.reports ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "autograd_conformance.reports", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def results_files(folder: Path) -> list[results.ResultsFile]:
    """The results files of ``folder`` in name order, each read by ``autograd_conformance.reports.results.read``.

    A torn last line (a killed run) is skipped with reports' warning; a file with no
    readable record (killed before its first write) is left out.
    """
    files = []
    for path in sorted(folder.glob("*.jsonl")):
        try:
            files.append(results.read(path))
        except results.UnreadableResultsError:
            continue
    return files


def result_records(folder: Path) -> list[dict[str, Any]]:
    """Every result record of the results files in ``folder``, in file order then run order."""
    return [record for contents in results_files(folder) for record in contents.results]


def sin_times_y(x_shape: tuple[int, ...] = (3,)):
    """The tree sin(x0)·x1 (an autograd_conformance.tree.Tree), whose derivatives of every order are known in closed form."""
    from autograd_conformance.registry import OPS_BY_NAME
    from autograd_conformance.registry.spec import make_call
    from autograd_conformance.tree import Leaf, Node, Tree

    sin, mul = OPS_BY_NAME["sin"], OPS_BY_NAME["mul"]
    return Tree(
        Node(mul, make_call([x_shape, x_shape]), (Node(sin, make_call([x_shape]), (Leaf(0),)), Leaf(1))),
        (x_shape, x_shape),
        (sin.domain_of(0), mul.domain_of(1)),
    )
