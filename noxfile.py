"""nox sessions for the autograd conformance suite.

    python -m nox -l                                    # list the sessions
    python -m nox -s tests                              # the project's own tests
    python -m nox -s conformance                        # the suite on torch 2.13.0, then the HTML report
    python -m nox -s conformance-2.9.1 conformance      # two versions; the report shows them side by side
    python -m nox -s conformance -- -k sin              # anything after `--` goes to pytest
    python -m nox -s conformance -- --shard 2/4         # one shard of four (autograd_conformance/reports/sharding.py)
    python -m nox -s coverage                           # how many of torch's OpInfos the registry reaches
    CONFORMANCE_PROFILE=ci python -m nox -s conformance # Hypothesis profile: default, ci, fast, thorough

Sessions install with pip into plain venvs: uv does not see the local torch 2.13.0 wheel.
Every torch version other than 2.13.0 is a CUDA build from PyPI: several GB (about 6.7 GB
installed, about 2 minutes), run on the CPU here. Session environments are reused, so that
cost is paid once per version; `nox -s <session> --reuse-venv=never` starts over.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"  # pip, not uv (see above)
nox.options.sessions = ["tests", "conformance"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
DEPS = [d for d in PYPROJECT["project"]["dependencies"] if not d.startswith("torch")]
TEST_DEPS = PYPROJECT["project"]["optional-dependencies"]["test"]
REPORT_DEPS = ["jinja2", "fastjsonschema"]  # what `python -m autograd_conformance.reports build|gate` imports (no torch)
COVERAGE_DEPS = ["expecttest"]  # importing torch's OpInfo database needs it (autograd_conformance/coverage.py)

DEFAULT_TORCH = "2.13.0"
# The version matrix: torch release -> its PyPI release date (the matrix spans two years or
# more). Each version has constraints/torch-<version>.txt pinning a numpy and JAX that work
# with it: torch before ~2.4 was built against numpy 1.x, and JAX 0.10 needs numpy >= 2.
# To add a version, add it here and add its constraints file (see README.md).
TORCH_VERSIONS = {
    "2.3.1": "2024-06-05",  # numpy 1.26 + JAX 0.7
    "2.6.0": "2025-01-29",
    "2.9.1": "2025-11-12",
    "2.13.0": "2026-07-08",  # the default: a local CPU build, installed from disk
}

PROFILE_ENV = "CONFORMANCE_PROFILE"
RESULTS = "results/*.jsonl"
REPORT = "reports/html/index.html"
BASELINES = "baselines"

# Prints torch's version and what the suite needs from torch that this build lacks.
PROBE = """
import importlib, torch
missing = []
for module, name in [("torch.func", "jvp"), ("torch.func", "vjp"), ("torch.autograd.forward_ad", "dual_level")]:
    try:
        getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        missing.append(f"{module}.{name}")
print(f"torch={torch.__version__}")
print(f"missing={', '.join(missing)}")
"""


def constraints(version: str) -> str:
    return str(ROOT / "constraints" / f"torch-{version}.txt")


def install_project(session: nox.Session, torch: str, *extra: str) -> None:
    """torch==<torch> and the project's dependencies, with numpy and JAX pinned for that torch."""
    session.install("-c", constraints(torch), *DEPS, *extra)
    session.install("-c", constraints(torch), f"torch=={torch}")


def results_files() -> list[str]:
    return sorted(glob.glob(str(ROOT / RESULTS)))


def build_report(session: nox.Session) -> None:
    files = results_files()
    if not files:
        session.error(f"no results in {RESULTS}: run `nox -s conformance` first")
    session.run("python", "-m", "autograd_conformance.reports", "build", *files, "-o", REPORT, "--baseline-dir", BASELINES)
    session.log(f"report: {(ROOT / REPORT).resolve()}")


def not_run(session: nox.Session, version: str, reason: str) -> None:
    """Record a column that could not run, so the report shows it, then fail the session.

    "Not run" is honest in the report, but a session asked to test torch <version>
    that tested nothing must not succeed: CI would go green having checked nothing.
    """
    session.warn(f"torch {version} not run: {reason}")
    try:
        session.run("python", "-m", "autograd_conformance.reports", "not-run", "--label", f"torch-{version}", "--reason", reason)
    except CommandFailed:
        session.warn(f"could not record torch {version} as not run")
    session.error(f"torch {version} was not tested: {reason}")


def run_conformance(session: nox.Session, version: str) -> None:
    """Install torch==<version>, run the suite on it, then build the report from every results file."""
    try:
        install_project(session, version, *COVERAGE_DEPS)
    except CommandFailed:
        not_run(session, version, f"torch=={version} (with constraints/torch-{version}.txt) failed to install")
        return

    try:
        output = session.run("python", "-c", PROBE, silent=True)
    except CommandFailed:
        not_run(session, version, f"torch {version} installed but does not import")
        return
    if output is None:  # `nox --install-only` skips the run
        return
    probe = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    # The requested version, not whatever pip or a reused environment left behind.
    if probe["torch"].split("+")[0] != version:
        session.error(f"installed torch is {probe['torch']}, requested {version}")
    if probe["missing"]:
        not_run(session, version, f"torch {version} lacks what the suite uses: {probe['missing']}")
        return

    profile = os.environ.get(PROFILE_ENV, "default")
    session.log(f"torch {version}, Hypothesis profile {profile!r} (set {PROFILE_ENV} to change)")
    suite_failed = False
    try:
        session.run(
            "pytest", "suites", "-m", "not slow", "-n", "auto", "--dist", "loadgroup",
            "--results-label", f"torch-{version}", *session.posargs,
            env={PROFILE_ENV: profile},
        )  # fmt: skip
    except CommandFailed:
        suite_failed = True  # the report is still built; then the session fails: the suite is the gate
    coverage_failed = False
    try:  # this version's OpInfo coverage, for the report's column (results/coverage-torch-<version>.json)
        session.run("python", "-m", "autograd_conformance.coverage", "--quiet")
    except CommandFailed:
        coverage_failed = True
    build_report(session)
    if suite_failed:
        session.error(f"torch {version}: new FAIL/ERROR (or a broken run); see the report and the pytest output")
    if coverage_failed:
        session.error(f"torch {version}: the suite passed, but measuring its OpInfo coverage failed (above)")


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests (the browser test needs /usr/bin/chromium)."""
    install_project(session, DEFAULT_TORCH, *TEST_DEPS)
    session.run("python", "-c", "from autograd_conformance.registry import OPS; print(f'registry: {len(OPS)} ops')")
    session.run("pytest", "tests", "-n", "auto", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """The suite on the default torch (2.13.0), then the HTML report of every results file present."""
    run_conformance(session, DEFAULT_TORCH)


def _version_session(version: str) -> None:
    where = "local CPU build" if version == DEFAULT_TORCH else "multi-GB CUDA build from PyPI, run on the CPU"
    name = f"conformance-{version}"

    def session_fn(session: nox.Session) -> None:
        run_conformance(session, version)

    session_fn.__doc__ = f"The suite on torch {version} ({where}), then the combined report."
    session_fn.__name__ = name
    nox.session(name=name)(session_fn)


for _version in TORCH_VERSIONS:
    _version_session(_version)


FUNCTION_PATH_OPS = ("sin", "exp", "mul", "matmul", "sum_dim")


@nox.session
def paths(session: nox.Session) -> None:
    """The compile, torch.func and custom-Function execution paths on the default torch: their own report columns.

    torch.compile is slow (Inductor compiles each tree structure: seconds each), so its
    cells are marked slow, capped, and run here rather than in `conformance`.
    """
    install_project(session, DEFAULT_TORCH)
    profile = os.environ.get(PROFILE_ENV, "default")
    label = ["--results-label", f"torch-{DEFAULT_TORCH}"]
    failed = False
    # The function path (autograd_conformance.execution: a custom autograd.Function around each op): every
    # per-op property, slow ones too, of a unary, a binary with broadcasting, a matrix product and a
    # reduction along a dim, each in every dtype it has (complex too).
    function_ops = ["-m", "slow or not slow", "-k", " or ".join(f"[{op}-" for op in FUNCTION_PATH_OPS)]
    runs = [
        ("compile", "suites/test_exec_paths.py", []),
        ("func", "suites/test_func_transforms.py", []),
        ("function", "suites/test_gradients.py", function_ops),
    ]
    for path, suite, select in runs:
        try:
            session.run("pytest", suite, "--exec-path", path, *select, *label, *session.posargs, env={PROFILE_ENV: profile})
        except CommandFailed:
            failed = True
    build_report(session)
    if failed:
        session.error("a new FAIL/ERROR on the compile or func path; see the report")


@nox.session
def coverage(session: nox.Session) -> None:
    """How many of torch's differentiable OpInfos the registry reaches, and which it does not (autograd_conformance/coverage.py)."""
    install_project(session, DEFAULT_TORCH, *COVERAGE_DEPS)
    session.run("python", "-m", "autograd_conformance.coverage", *session.posargs)


@nox.session
def agreement(session: nox.Session) -> None:
    """check_op on every registry op, declared as a user would, against the suite's verdicts (autograd_conformance/agreement.py)."""
    install_project(session, DEFAULT_TORCH)
    out = f"results/agreement-torch-{DEFAULT_TORCH}.json"
    session.run("python", "-m", "autograd_conformance.agreement", "--out", out, *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Combine every results file present into one report (a column per torch version)."""
    session.install(*REPORT_DEPS)
    build_report(session)


@nox.session
def gate(session: nox.Session) -> None:
    """Fail on any FAIL/ERROR cell not listed in its version's baseline, or any run that did not finish.

    `nox -s gate -- --expect torch-2.9.1 --expect torch-2.13.0` also fails when one of those columns did not run."""
    session.install(*REPORT_DEPS)
    files = results_files()
    if not files:
        session.error(f"no results in {RESULTS}: run `nox -s conformance` first")
    session.run("python", "-m", "autograd_conformance.reports", "gate", *files, "--baseline-dir", BASELINES, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The throughput benchmark on the default torch: the ci-profile suite as CI runs it, then the tree benchmark.

    `nox -s bench -- --trees 50` (any arguments) skips the suite run; `-- --suite --cold` times it cold."""
    install_project(session, DEFAULT_TORCH)
    session.run("python", "-m", "autograd_conformance.bench", *(session.posargs or ["--suite"]))


@nox.session
def soak(session: nox.Session) -> None:
    """The suite again and again under fresh random seeds (default profile) for a time budget, then the report.

    `nox -s soak -- --minutes 60`; unexplained failures go to results/soak/findings.jsonl (autograd_conformance/reports/soak.py)."""
    install_project(session, DEFAULT_TORCH)
    try:
        session.run("python", "-m", "autograd_conformance.reports", "soak", *(session.posargs or ["--minutes", "60"]))
    finally:
        if results_files():
            build_report(session)


@nox.session
def sharpness(session: nox.Session) -> None:
    """Planted-fault runs: every check must fail on a wrong gradient."""
    install_project(session, DEFAULT_TORCH)
    session.run("python", "-m", "tests.sharpness", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check (configuration in pyproject.toml)."""
    session.install("ruff")
    session.run("ruff", "check", ".", *session.posargs)
