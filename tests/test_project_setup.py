"""The project's set-up agrees with itself: README, noxfile, constraints, CI script, pyproject."""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = ROOT / ".ci" / "run"
NOXFILE = ROOT / "noxfile.py"
CONSTRAINTS = ROOT / "constraints"

# Sessions issue 5 (and the README) promise.
REQUIRED_SESSIONS = {"tests", "conformance", "report", "gate", "bench", "sharpness", "lint"}


def noxfile_constant(name: str):
    """A literal assigned at the top of noxfile.py, read without importing nox."""
    for node in ast.parse(NOXFILE.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"noxfile.py assigns no {name}")


TORCH_VERSIONS: dict[str, str] = noxfile_constant("TORCH_VERSIONS")
DEFAULT_TORCH: str = noxfile_constant("DEFAULT_TORCH")


def readme_commands() -> list[str]:
    """The indented code block the README opens with (before any other paragraph)."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    "))
    assert all(not line.strip() or line.startswith("#") for line in lines[:start]), "the README must open with them"
    block = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


def ci_commands() -> str:
    """.ci/run without its comment lines."""
    return "\n".join(
        line for line in CI_RUN.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
    )


def nox_sessions() -> list[str]:
    """Every session `nox -l` lists, selected by default (*) or not (-)."""
    out = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "-f", str(NOXFILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, f"nox --list failed:\n{out.stderr}"
    return re.findall(r"^[*-] (\S+)", out.stdout, flags=re.MULTILINE)


def constraint_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)", line)
            assert match, f"{path.name}: not an exact pin: {line!r}"
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_readme_opens_with_the_two_commands_ci_runs() -> None:
    commands = readme_commands()
    assert len(commands) == 2, f"the README opens with exactly two commands, not {commands}"
    suite, tests = commands
    assert re.search(r"nox -s conformance$", suite), suite
    assert re.search(r"nox -s tests$", tests), tests
    for command in commands:
        assert command.startswith("python -m pip install nox && "), f"{command!r} must install what it needs"
        ends = r"""(?=["']|[ \t]*(?:$|\|\||;))"""  # the whole command, not a prefix of a longer one
        assert re.search(re.escape(command) + ends, ci_commands(), re.MULTILINE), f".ci/run does not run {command!r}"


def test_ci_script_runs_tests_both_versions_report_and_gate() -> None:
    assert os.access(CI_RUN, os.X_OK), ".ci/run must be executable"
    text = CI_RUN.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    code = ci_commands()
    for needed in ["apt-get install -y chromium", "CONFORMANCE_REQUIRE_BROWSER=1", "CONFORMANCE_PROFILE=ci"]:
        assert needed in code, f".ci/run lacks {needed!r}"
    for session in ["tests", "conformance-2.9.1", "conformance", "agreement", "report", "gate"]:
        assert re.search(rf"nox -s {re.escape(session)}\b(?![-.\w])", code), f".ci/run does not run nox -s {session}"


def test_every_named_session_exists() -> None:
    sessions = set(nox_sessions())
    named = set(REQUIRED_SESSIONS)
    named |= {f"conformance-{v}" for v in TORCH_VERSIONS}
    for text in (README, ci_commands()):
        named |= set(re.findall(r"nox -s ([\w.\-]+)", text))
    named = {name for name in named if not name.endswith("-")}  # `conformance-<version>` in prose
    assert not named - sessions, f"sessions named but not defined: {sorted(named - sessions)}"


def test_version_matrix() -> None:
    assert DEFAULT_TORCH == "2.13.0"
    assert {"2.13.0", "2.9.1"} <= set(TORCH_VERSIONS), TORCH_VERSIONS
    assert len(TORCH_VERSIONS) >= 4
    dates = [dt.date.fromisoformat(d) for d in TORCH_VERSIONS.values()]
    assert max(dates) - min(dates) >= dt.timedelta(days=730), "the matrix must span two years of releases"
    released = [TORCH_VERSIONS[v] for v in sorted(TORCH_VERSIONS, key=lambda v: tuple(map(int, v.split("."))))]
    assert released == sorted(released), "release dates must grow with the version"


def test_every_version_has_constraints_pinning_numpy_and_jax() -> None:
    files = {p.name for p in CONSTRAINTS.glob("*.txt")}
    assert files == {f"torch-{v}.txt" for v in TORCH_VERSIONS}, "one constraints file per version, no strays"
    for version in TORCH_VERSIONS:
        pins = constraint_pins(CONSTRAINTS / f"torch-{version}.txt")
        for package in ("numpy", "jax", "jaxlib"):
            assert package in pins, f"torch-{version}.txt does not pin {package}"
        assert pins["jax"] == pins["jaxlib"], f"torch-{version}.txt: jax and jaxlib must match"
        if pins["jax"].startswith("0.10."):
            assert int(pins["numpy"].split(".")[0]) >= 2, f"torch-{version}.txt: JAX 0.10 needs numpy >= 2"


def test_readme_matrix_agrees_with_noxfile_and_constraints() -> None:
    rows = {}
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"\d+\.\d+\.\d+", cells[1]):
            rows[cells[1]] = cells
    assert set(rows) == set(TORCH_VERSIONS), "the README's version table lists the noxfile's versions"
    for version, (_, _, released, pins, _) in rows.items():
        assert released == TORCH_VERSIONS[version], f"README: release date of {version}"
        numpy, jax = (p.strip() for p in pins.split("(")[0].split("/"))
        actual = constraint_pins(CONSTRAINTS / f"torch-{version}.txt")
        assert (numpy, jax) == (actual["numpy"], actual["jax"]), f"README: numpy / JAX of torch {version}"


def test_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {re.split(r"[\[<>=!~ ;]", d)[0].lower() for d in project["project"]["dependencies"]}
    assert {"torch", "jax", "numpy", "hypothesis", "pytest", "pytest-xdist", "jinja2", "fastjsonschema"} <= names
    assert project["project"]["requires-python"] == ">=3.11"
    test_extra = {re.split(r"[\[<>=!~ ;]", d)[0].lower() for d in project["project"]["optional-dependencies"]["test"]}
    assert {"jsonschema", "playwright", "nox", "ruff"} <= test_extra
    markers = {m.split(":")[0].split("(")[0] for m in project["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"conformance", "slow"} <= markers
    assert project["tool"]["ruff"]["line-length"] == 120
    # One import namespace: only autograd_conformance is installed (the suites and tests are not).
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["autograd_conformance*"]
    package_data = project["tool"]["setuptools"]["package-data"]
    assert package_data == {"autograd_conformance.reports": ["schema.json", "templates/*"]}
    assert project["project"]["entry-points"]["pytest11"] == {"autograd_conformance": "autograd_conformance.pytest_plugin"}


def test_the_repository_root_holds_one_import_package_and_the_suites() -> None:
    """Every library module lives under autograd_conformance; the root's only other package is suites/ (tests/ is
    a namespace package)."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages == {"autograd_conformance", "suites"}


@pytest.mark.parametrize(
    "package", ["autograd_conformance", "autograd_conformance.strategies", "autograd_conformance.reports", "suites"]
)
def test_packages_import_from_the_repository_root(package: str) -> None:
    out = subprocess.run([sys.executable, "-c", f"import {package}"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_report_and_gate_need_only_the_report_sessions_dependencies() -> None:
    """`nox -s report` and `nox -s gate` install only REPORT_DEPS: the CLI must import without the numeric stack.

    (CI failed on exactly this: the baseline parser imported autograd_conformance.facts, which imported numpy.)"""
    blocked = ["numpy", "torch", "jax", "jaxlib", "hypothesis", "pytest", "scipy"]
    probe = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None  # import of a blocked package raises ImportError\n"
        "import autograd_conformance.reports.__main__, autograd_conformance.reports.build, autograd_conformance.reports.gate, autograd_conformance.reports.baseline, autograd_conformance.reports.model\n"
    )
    assert "numpy" not in noxfile_constant("REPORT_DEPS")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_only_the_ci_profile_is_derandomized_even_on_a_ci_machine() -> None:
    """Under CI=true Hypothesis derandomizes every profile that does not say otherwise; ours must say, or
    --hypothesis-seed, soak seeds and the planted-fault runs' fixed seed would be ignored on CI machines."""
    code = (
        "from hypothesis import settings; import autograd_conformance.profiles as p; "
        "print({n: settings.get_profile(n).derandomize for n in p.PROFILES})"
    )
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert ast.literal_eval(out.strip()) == {"default": False, "ci": True, "fast": False, "thorough": False}


def test_the_readme_names_every_registry_family_module() -> None:
    from autograd_conformance.registry import _FAMILY_MODULES

    section = README.split("### Adding an op", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"`(\w+)\.py`", section))
    modules = {m.__name__.rsplit(".", 1)[1] for m in _FAMILY_MODULES}
    assert modules <= named, f"README's 'Adding an op' misses {sorted(modules - named)}"
