"""The results plugin end to end, on a tiny fake suite run by pytester."""

from __future__ import annotations

import json

import jsonschema
import pytest

from autograd_conformance.reports import results
from tests.helpers import ROOT, run_reports

pytest_plugins = ["pytester"]

SCHEMA = json.loads((ROOT / "autograd_conformance" / "reports" / "schema.json").read_text())
LABEL = "torch-test"

CONFTEST = """
from autograd_conformance.profiles import load_default_profile
load_default_profile()
pytest_plugins = ["autograd_conformance.reports.pytest_plugin"]
"""

SUITE = """
import os
from typing import NamedTuple
import pytest
from hypothesis import given, strategies as st
from autograd_conformance.verdict import Outcome, Verdict

BAD = @BAD@

class Case(NamedTuple):
    op: str
    family: str
    dtype: str

CASES = [Case("sin", "unary", "float64"), Case("digamma", "special", "float64"), Case("tan", "unary", "float32")]

@pytest.mark.conformance(property="vjp")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.op)
@given(x=st.integers(0, 100))
def test_vjp(record, case, x):
    bad = case.op in BAD and x > 10
    verdict = Verdict.FAIL if bad else Verdict.PASS
    record.add(Outcome(verdict, "fd", error=x * (1e-8 if bad else 1e-10), tol=1e-7, message=f"{case.op} off at x={x}"),
               repro=f"print('repro {case.op} x={x}')")
    assert not bad, f"{case.op} off at x={x}"

@pytest.mark.conformance(property="jvp")
@pytest.mark.parametrize("case", [Case("abs", "unary", "float64")], ids=["abs"])
def test_convention(record, case):
    record.add(Outcome(Verdict.CONVENTION, "jax", message="subgradient at 0"))
    record.add(Outcome(Verdict.PASS, "fd"))

def test_cuda(record):
    pytest.skip("no CUDA device")

def test_plain():
    assert True
"""


def make_suite(pytester: pytest.Pytester, bad: set[str], baseline: str | None = None, extra: str = "") -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_fake=SUITE.replace("@BAD@", repr(bad)) + extra)
    if baseline is not None:
        (pytester.path / "baselines").mkdir(exist_ok=True)
        (pytester.path / "baselines" / f"{LABEL}.txt").write_text(baseline)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--results-label", LABEL, "-p", "no:cacheprovider", *args)


def results_of(pytester: pytest.Pytester) -> dict[str, dict]:
    (run_,) = results.load(sorted((pytester.path / "results").glob("*.jsonl")))
    return {r["cell"]: r for r in run_.results}


@pytest.fixture
def subprocess_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_results_file_follows_schema_and_cell_verdicts(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad={"digamma"})
    outcome = run(pytester)
    assert outcome.ret == pytest.ExitCode.TESTS_FAILED
    files = list((pytester.path / "results").glob("*.jsonl"))
    assert [f.name for f in files] == [f"{LABEL}-cpu-eager.jsonl"]
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMA)
    assert [line["kind"] for line in (lines[0], lines[-1])] == ["run", "run_end"]
    assert lines[0]["label"] == LABEL and lines[0]["status"] == "ran"
    cells = {r["cell"]: r for r in lines if r["kind"] == "result"}
    assert set(cells) == {"vjp/sin/float64", "vjp/digamma/float64", "vjp/tan/float32", "jvp/abs/float64", "cuda/-/-"}
    assert cells["vjp/sin/float64"]["verdict"] == "pass"
    assert cells["vjp/sin/float64"]["repro"] is None
    digamma = cells["vjp/digamma/float64"]
    assert (digamma["verdict"], digamma["known"], digamma["family"]) == ("fail", False, "special")
    assert digamma["repro"] == "print('repro digamma x=11')", "the repro is the shrunk, minimal example's"
    assert digamma["worst_ratio"] > 1 and digamma["examples"] >= 1
    assert cells["jvp/abs/float64"]["verdict"] == "convention"
    assert cells["jvp/abs/float64"]["counts"] == {"convention": 1, "pass": 1}
    assert cells["cuda/-/-"]["verdict"] == "not_run"
    assert cells["cuda/-/-"]["message"] == "no CUDA device"


def test_error_is_not_fail(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad=set(), extra="\ndef test_boom(record):\n    raise RuntimeError('kernel exploded')\n")
    assert run(pytester).ret == pytest.ExitCode.TESTS_FAILED
    boom = results_of(pytester)["boom/-/-"]
    assert boom["verdict"] == "error"
    assert "RuntimeError: kernel exploded" in boom["message"]


def test_known_failure_is_xfail_and_exits_0(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad={"digamma"}, baseline="# known\n\nvjp/digamma/float64 | bad poles | https://x.invalid/1\n")
    outcome = run(pytester)
    outcome.assert_outcomes(passed=4, xfailed=1, skipped=1)
    assert outcome.ret == pytest.ExitCode.OK
    digamma = results_of(pytester)["vjp/digamma/float64"]
    assert (digamma["verdict"], digamma["known"]) == ("fail", True)
    assert digamma["baseline"].startswith(f"baselines/{LABEL}.txt:3: bad poles")


def test_new_failure_exits_1_and_prints_its_repro(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad={"digamma", "tan"}, baseline="vjp/digamma/float64 | bad poles | https://x.invalid/1\n")
    outcome = run(pytester)
    assert outcome.ret == pytest.ExitCode.TESTS_FAILED
    outcome.assert_outcomes(passed=3, failed=1, xfailed=1, skipped=1)
    text = outcome.stdout.str()
    assert "new conformance failures" in text
    assert "FAIL vjp/tan/float32" in text
    assert "print('repro tan x=11')" in text
    assert "FAIL vjp/digamma" not in text, "a known failure is not a new one"


def test_stale_baseline_entry_is_listed_without_failing(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad=set(), baseline="vjp/digamma/float64 | bad poles | https://x.invalid/1\n")
    outcome = run(pytester)
    assert outcome.ret == pytest.ExitCode.OK
    outcome.assert_outcomes(passed=4, xpassed=1, skipped=1)
    outcome.stdout.fnmatch_lines(
        ["*stale baseline entries*", f"baselines/{LABEL}.txt:1: bad poles*vjp/digamma/float64: pass*"]
    )


def test_malformed_baseline_is_a_usage_error_naming_file_and_line(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad=set(), baseline="# ok\nvjp/sin | no reference\n")
    outcome = run(pytester)
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines([f"*baselines/{LABEL}.txt:2: malformed baseline line*expected `<cell ids> *| <reason>*"])


def test_device_and_exec_path_name_the_column(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad=set())
    run(pytester, "--device", "cuda", "--exec-path", "compile", "--results-dir", "out")
    (path,) = (pytester.path / "out").glob("*.jsonl")
    assert path.name == f"{LABEL}-cuda-compile.jsonl"
    (run_,) = results.load([path])
    assert run_.key == f"{LABEL} cuda compile"
    assert {(r["device"], r["path"]) for r in run_.results} == {("cuda", "compile")}


def test_plain_tests_write_no_results(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    assert run(pytester).ret == pytest.ExitCode.OK
    assert not (pytester.path / "results").exists()


def test_killed_run_leaves_a_readable_file_and_the_report_renders(
    pytester: pytest.Pytester, subprocess_env: None
) -> None:
    make_suite(pytester, bad=set(), extra="\ndef test_zz_killed(record):\n    import os\n    os._exit(3)\n")
    outcome = pytester.runpytest_subprocess("--results-label", LABEL, "-p", "no:randomly", "test_fake.py")
    assert outcome.ret == 3
    (path,) = (pytester.path / "results").glob("*.jsonl")
    (run_,) = results.load([path])
    assert not run_.complete
    assert {r["cell"] for r in run_.results} >= {"vjp/sin/float64", "jvp/abs/float64"}
    out = pytester.path / "report.html"
    build = run_reports("build", str(path), "-o", str(out))
    assert build.returncode == 0, build.stderr
    assert "has no run_end: the run crashed or was killed" in out.read_text()


def test_xdist_workers_write_files_that_merge_into_one_run(pytester: pytest.Pytester, subprocess_env: None) -> None:
    pytest.importorskip("xdist")
    make_suite(pytester, bad={"tan"})
    outcome = pytester.runpytest_subprocess("--results-label", LABEL, "-n", "2")
    assert outcome.ret == pytest.ExitCode.TESTS_FAILED
    outcome.stdout.fnmatch_lines(["*new conformance failures*", "FAIL vjp/tan/float32*", "*print('repro tan x=11')*"])
    files = sorted((pytester.path / "results").glob("*.jsonl"))
    assert [f.name for f in files] == [
        f"{LABEL}-cpu-eager.gw0.jsonl",
        f"{LABEL}-cpu-eager.gw1.jsonl",
        f"{LABEL}-cpu-eager.jsonl",  # the controller's lead file: it closes the run with pytest's exit status
    ]
    run_ids = {results.read(f).run["run_id"] for f in files}
    assert len(run_ids) == 1, "workers share the controller's run id"
    lead = results.read(files[-1])
    assert not lead.results and lead.end is not None and lead.end["exitstatus"] == 1
    (run_,) = results.load(files)
    assert run_.complete
    assert len(run_.results) == 5
