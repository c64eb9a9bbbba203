"""Scoped known failures (issue 20): a baseline entry explains only the failing examples its scope holds on.

The unit tests pin the format, the matching rule and the gate; the suite tests plant a
fault inside a baselined cell and check that the scope keeps the rest of the cell sharp.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autograd_conformance.reports import baseline, gate
from autograd_conformance.reports.results import Run
from tests.helpers import ROOT, result_records, run_pytest, run_reports

TWO_CELLS = (
    "vjp/sinc/float64, scalar_backward/sinc/float64 where abs(at) < 1e-4 and oracle == jax "
    "| sinc cancels near 0 | https://x.invalid/1\n"
)


def test_one_entry_names_several_cells_and_a_scope() -> None:
    (entry,) = baseline.parse(TWO_CELLS, file="b.txt").entries
    assert entry.ids == ("vjp/sinc/float64", "scalar_backward/sinc/float64")
    assert str(entry.scope) == "abs(at) < 1e-4 and oracle == jax"
    assert entry.describe() == "b.txt:1: sinc cancels near 0 [https://x.invalid/1] (only where abs(at) < 1e-4 and oracle == jax)"
    whole = baseline.parse("vjp/sin/float64 | r | https://x.invalid/2\n", file="b.txt").entries[0]
    assert whole.describe().endswith("(whole cell)")


@pytest.mark.parametrize(
    ("scope", "complaint"),
    [
        ("abs(x) < 1", "unknown fact 'abs(x)'"),
        ("oracle < jax", "oracle is a name; compare it with == or !="),
        ("rel <= small", "'small' in 'rel <= small' is not a number"),
        ("rel <= nan", "nan in 'rel <= nan' never compares equal"),
        ("rel <= 1 or at > 2", "cannot read the condition 'rel <= 1 or at > 2'"),
        ("spread(y) > 2", "unknown fact 'spread(y)'"),
    ],
)
def test_a_malformed_scope_names_file_line_and_the_bad_part(scope: str, complaint: str) -> None:
    with pytest.raises(baseline.BaselineError) as info:
        baseline.parse(f"# header\nvjp/sin/float64 where {scope} | r | https://x.invalid\n", file="baselines/t.txt")
    assert str(info.value).startswith("baselines/t.txt:2: ")
    assert complaint in str(info.value)


def test_a_reason_may_contain_the_separator() -> None:
    (entry,) = baseline.parse("vjp/sinc/float64 where abs(at) < 1e-4 | wrong for |x| < 1e-4 | https://x.invalid\n", file="b.txt").entries
    assert (entry.reason, entry.ref, str(entry.scope)) == ("wrong for |x| < 1e-4", "https://x.invalid", "abs(at) < 1e-4")


def test_one_cell_may_carry_several_scopes_but_not_the_same_one_twice() -> None:
    two = "vjp/sin/float64 where at == 0 | a | https://x.invalid\nvjp/sin/float64 where rel < 1e-9 | b | https://x.invalid\n"
    assert len(baseline.parse(two, file="b.txt")) == 2
    with pytest.raises(baseline.BaselineError, match=r"b.txt:2: 'vjp/sin/float64' is already listed with the same scope at line 1"):
        baseline.parse("vjp/sin/float64 where at == 0 | a | https://x\nvjp/sin/float64 where at == 0 | b | https://x\n", file="b.txt")


def test_the_decisive_comparison_must_match_and_no_other_may_contradict() -> None:
    (entry,) = baseline.parse(TWO_CELLS, file="b.txt").entries
    near_zero = {"abs(at)": 1e-6, "oracle": "jax"}
    assert entry.explains(near_zero)
    assert not entry.explains({"abs(at)": 2.0, "oracle": "jax"})  # outside the input region
    assert not entry.explains({"oracle": "jax"})  # a fact the scope needs is absent: fail closed
    assert entry.explains(near_zero, [{"oracle": "jax", "abs(at)": 5e-5}, {"ratio": 3.0}])  # fd has no `at`: no contradiction
    assert not entry.explains(near_zero, [{"oracle": "jax", "abs(at)": 3.0}])  # another element fails far from 0


def _result(cell: str, verdict: str, facts: dict | None) -> dict:
    return {"cell": cell, "device": "cpu", "path": "eager", "test_id": f"t::{cell}", "verdict": verdict, "facts": facts}


def test_the_gate_reapplies_scopes_to_the_recorded_facts(tmp_path: Path) -> None:
    (tmp_path / "torch-test.txt").write_text(TWO_CELLS + "vjp/exp/float64 | whole | https://x.invalid/3\n")
    results = [
        _result("vjp/sinc/float64", "fail", {"abs(at)": 1e-6, "oracle": "jax"}),  # inside the scope: known
        _result("scalar_backward/sinc/float64", "fail", {"abs(at)": 2.0, "oracle": "jax"}),  # outside: new
        _result("vjp/exp/float64", "fail", None),  # a whole-cell entry needs no facts
    ]
    run = Run(info={"label": "torch-test", "device": "cpu", "path": "eager", "status": "ran"}, results=results)
    report = gate.check([run], tmp_path)
    assert [r["cell"] for _, r in report.new] == ["scalar_backward/sinc/float64"]
    assert sorted(r["cell"] for _, r, _ in report.known) == ["vjp/exp/float64", "vjp/sinc/float64"]
    assert report.stale == []
    # The same entry with the known failure gone from the run: it explained nothing, so it is stale.
    run.results = [_result("vjp/sinc/float64", "pass", None), results[2]]
    assert [e.line for _, e in gate.check([run], tmp_path).stale] == [1]


# -- the real suite, with a planted fault inside a baselined cell --------------------------------


def _suite(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, dict]]:
    options = ["suites/test_gradients.py", "-q", "-rxX", "--results-dir", str(tmp_path / "results"),
               "--results-label", "torch-2.13.0", *args]  # fmt: skip
    done = run_pytest(options, ROOT, timeout=600, env={"CONFORMANCE_PROFILE": "ci"})
    return done, {r["cell"]: r for r in result_records(tmp_path / "results")}


def _baseline(tmp_path: Path, text: str) -> str:
    path = tmp_path / "known.txt"
    path.write_text(text)
    return str(path)


@pytest.mark.slow
def test_a_failure_inside_the_error_band_is_known_and_one_beyond_it_is_new(tmp_path: Path) -> None:
    """exp's planted gradient is 1e-5 relative off: `rel <= 1e-4` explains it, `rel <= 1e-6` does not."""
    fault = ["-p", "tests.faults.plugin", "--plant-fault", "exp_tiny_relative", "-k", "test_vjp and [exp-float64]"]
    wide = _baseline(tmp_path, "vjp/exp/float64 where rel <= 1e-4 | planted | https://x.invalid\n")
    done, cells = _suite(tmp_path / "wide", *fault, "--baseline", wide)
    assert done.returncode == 0, done.stdout[-3000:]
    exp = cells["vjp/exp/float64"]
    assert (exp["verdict"], exp["known"]) == ("fail", True)
    assert exp["known_examples"] >= 1 and 1e-6 < exp["facts"]["rel"] <= 1e-4  # rel: 1e-5 over |e| + scale, here 2|e|
    assert "XFAIL" in done.stdout and "(only where rel <= 1e-4)" in done.stdout

    narrow = _baseline(tmp_path, "vjp/exp/float64 where rel <= 1e-6 | planted | https://x.invalid\n")
    done, cells = _suite(tmp_path / "narrow", *fault, "--baseline", narrow)
    assert done.returncode == 1, done.stdout[-3000:]
    exp = cells["vjp/exp/float64"]
    assert (exp["verdict"], exp["known"], exp["known_examples"]) == ("fail", False, 0)
    assert "not explained by the scoped known failures of this cell" in done.stdout


@pytest.mark.slow
def test_the_repository_baseline_does_not_hide_a_sinc_fault_away_from_0(tmp_path: Path) -> None:
    """sinc's cells are baselined near x = 0 (torch's cancellation); a fault at |x| > 1 still fails the gate."""
    fault = ["-p", "tests.faults.plugin", "--plant-fault", "sinc_wrong_beyond_1", "-k", "test_vjp and [sinc-float64]"]
    done, cells = _suite(tmp_path, *fault)
    assert done.returncode == 1, done.stdout[-3000:]
    sinc = cells["vjp/sinc/float64"]
    assert (sinc["verdict"], sinc["known"]) == ("fail", False)
    assert sinc["facts"]["abs(at)"] > 1
    checked = run_reports("gate", *map(str, (tmp_path / "results").glob("*.jsonl")), "--baseline-dir", str(ROOT / "baselines"))
    assert checked.returncode == 1
    assert "NEW FAIL: torch-2.13.0" in checked.stdout and "vjp/sinc/float64" in checked.stdout


def test_a_tree_cell_scopes_a_finding_to_the_op_it_uses() -> None:
    """``uses.NAME``: a finding in one op, seen by a tree cell, is known only in trees containing that op."""
    import numpy as np

    from autograd_conformance import facts as fact_sets
    from autograd_conformance.reports import catalog
    from autograd_conformance.verdict import Outcome, Verdict

    line = "jvp/tree/float64 where uses.minimum == 1 and oracle == jax | minimum's jvp cancels | https://x.invalid\n"
    (entry,) = baseline.parse(line, file="b.txt", catalog=catalog.load()).entries
    outcome = Outcome(Verdict.FAIL, "jax", 2.0, 1.0, "m")
    with_minimum = fact_sets.at_point([np.zeros(2)], {}, ["minimum", "exp"])(outcome)
    without = fact_sets.at_point([np.zeros(2)], {}, ["maximum", "exp"])(outcome)
    assert with_minimum["uses.minimum"] == 1.0 and "uses.minimum" not in without
    assert entry.explains(with_minimum) and not entry.explains(without)
    with pytest.raises(baseline.BaselineError, match=r"b.txt:1: 'uses.minimun': unknown op 'minimun'; did you mean minimum"):
        baseline.parse(line.replace("uses.minimum", "uses.minimun"), file="b.txt", catalog=catalog.load())


def test_row_spread_names_the_wrong_row_not_the_whole_input() -> None:
    """``row_spread(at)``: the spread of the last-axis row holding the worst element, so a narrow row in a
    wide input is in scope and a wide row beside a narrow one is not."""
    import numpy as np

    from autograd_conformance import facts as fact_sets
    from autograd_conformance.verdict import Outcome, Verdict

    (entry,) = baseline.parse("bfloat16/layer_norm/bfloat16 where row_spread(at) < 2 | r | https://x.invalid\n", file="b.txt").entries
    x = np.array([[2.285, 2.342], [-3.0, 3.0]])
    def worst_at(row: int) -> dict:
        outcome = Outcome(Verdict.FAIL, "float64", 2.0, 1.0, "m", {"array": 0, "index": (row, 1)})
        return fact_sets.at_point([x], {})(outcome)

    narrow, wide = worst_at(0), worst_at(1)
    assert narrow["spread(x0)"] == 6.0
    assert narrow["row_spread(at)"] == pytest.approx(0.057) and wide["row_spread(at)"] == 6.0
    assert entry.explains(narrow) and not entry.explains(wide)
