"""The blind-cell health check (issue 20): a cell whose examples were mostly undecided fails as BLIND."""

from __future__ import annotations

import pytest

from autograd_conformance.reports.recorder import BLIND_BELOW, Recorder
from autograd_conformance.verdict import Outcome, Verdict
from tests.test_results_plugin import make_suite, results_of, run

pytest_plugins = ["pytester"]

BLIND_SUITE = """

@pytest.mark.conformance(property="vjp")
@pytest.mark.parametrize("case", [Case("inv", "linalg", "float64"), Case("det", "linalg", "float64")], ids=lambda c: c.op)
@given(x=st.integers(0, 100))
def test_mostly_undecided(record, case, x):
    decided = x % 20 == 7 if case.op == "inv" else x % 20 != 7  # inv: about 5% decided; det: about 95%
    verdict = Verdict.PASS if decided else Verdict.INCONCLUSIVE
    record.add(Outcome(verdict, "jax", message="" if decided else "an input of inv leaves its domain"))
"""


def test_the_recorder_counts_decided_examples_not_outcomes() -> None:
    record = Recorder()
    record.add(Outcome(Verdict.INCONCLUSIVE, "jax", message="at a kink"))  # outside Hypothesis: one example per add
    record.add(Outcome(Verdict.PASS, "fd"))
    assert (record.examples, record.decided) == (2, 1)
    assert record.blind() is None  # exactly half decided is not below half
    record.add(Outcome(Verdict.INCONCLUSIVE, "jax", message="at a kink"))
    assert record.decided < BLIND_BELOW * record.examples
    assert record.blind() == (
        "blind cell: 1 of 3 examples were decided by an oracle (at least 50% must be); most undecided because: at a kink"
    )
    assert record.summary()["decided"] == 1 and record.summary()["undecided_reason"] == "at a kink"


def test_a_mostly_undecided_cell_fails_as_blind_and_a_mostly_decided_one_passes(pytester: pytest.Pytester) -> None:
    make_suite(pytester, bad=set(), extra=BLIND_SUITE)
    outcome = run(pytester)
    assert outcome.ret == pytest.ExitCode.TESTS_FAILED
    cells = results_of(pytester)
    inv, det = cells["vjp/inv/float64"], cells["vjp/det/float64"]
    assert inv["verdict"] == "blind" and inv["decided"] < inv["examples"] / 2
    assert "blind cell:" in inv["message"] and "leaves its domain" in inv["message"]
    assert det["verdict"] == "pass"
    outcome.stdout.fnmatch_lines(["*new conformance failures*", "BLIND vjp/inv/float64*"])


def test_a_blind_cell_baselined_with_a_reason_is_known(pytester: pytest.Pytester) -> None:
    baseline = "vjp/inv/float64 | the sampler cannot reach inv's domain yet | https://x.invalid/1\n"
    make_suite(pytester, bad=set(), extra=BLIND_SUITE, baseline=baseline)
    outcome = run(pytester)
    assert outcome.ret == pytest.ExitCode.OK
    inv = results_of(pytester)["vjp/inv/float64"]
    assert (inv["verdict"], inv["known"]) == ("blind", True)


def test_the_report_shows_the_decided_share_and_lists_weak_cells(pytester: pytest.Pytester) -> None:
    from pathlib import Path

    from autograd_conformance.reports import build, results

    make_suite(pytester, bad=set(), extra=BLIND_SUITE)
    run(pytester)
    runs = results.load(sorted(Path(pytester.path / "results").glob("*.jsonl")))
    html = build.build(runs, pytester.path / "report.html").read_text()
    assert "decided by an oracle:" in html
    assert "1 weak cells (at most half of their examples decided)" in html
    assert "<code>vjp/inv/float64</code>" in html and "leaves its domain" in html
