"""Verdict logic: one verdict per comparison, failures win, the oracle's own error decides INCONCLUSIVE."""

from __future__ import annotations

import numpy as np

from autograd_conformance.compare import arrays_match, scalars_match
from autograd_conformance.verdict import Outcome, Verdict, worst


def _arrays(actual, expected, **kw) -> Outcome:
    return arrays_match([np.asarray(actual, float)], [np.asarray(expected, float)], oracle="jax", what="test", **kw)


def test_equal_arrays_pass() -> None:
    assert _arrays([1.0, 2.0], [1.0, 2.0], rtol=1e-12).verdict is Verdict.PASS


def test_a_relative_error_of_1e_5_fails_at_float64_tolerance() -> None:
    out = _arrays([1.0, 2.0 * (1 + 1e-5)], [1.0, 2.0], rtol=1e-11)
    assert out.verdict is Verdict.FAIL
    assert "index (1,)" in out.message and out.ratio > 1


def test_tolerance_scales_with_the_largest_element() -> None:
    """A tiny element beside large ones is judged at the gradient's scale, not its own."""
    assert _arrays([1e-20, 1.0], [0.0, 1.0], rtol=1e-12).verdict is Verdict.PASS
    assert _arrays([1e-6, 1.0], [0.0, 1.0], rtol=1e-12).verdict is Verdict.FAIL


def test_oracle_error_widens_the_tolerance_elementwise() -> None:
    assert _arrays([1.001], [1.0], rtol=1e-12, oracle_error=[np.array([0.01])]).verdict is Verdict.PASS


def test_an_oracle_error_function_is_called_only_when_torch_fails_without_it() -> None:
    """The JAX oracle's error costs a second evaluation: computed lazily, with the verdicts of computing it always."""
    calls: list[int] = []

    def error(width: float):
        def compute() -> list[np.ndarray]:
            calls.append(1)
            return [np.array([width])]

        return compute

    assert _arrays([1.0], [1.0], rtol=1e-12, oracle_error=error(0.01)).verdict is Verdict.PASS
    assert not calls, "the oracle error was computed for a comparison that passes without it"
    assert _arrays([1.001], [1.0], rtol=1e-12, oracle_error=error(0.01)).verdict is Verdict.PASS
    assert _arrays([1.1], [1.0], rtol=1e-12, oracle_error=error(0.01)).verdict is Verdict.FAIL
    assert len(calls) == 2
    for actual in ([1.0], [1.001], [1.1], [np.nan]):
        eager = _arrays(actual, [1.0], rtol=1e-12, oracle_error=[np.array([0.01])])
        lazy = _arrays(actual, [1.0], rtol=1e-12, oracle_error=error(0.01))
        assert lazy.verdict is eager.verdict, f"at {actual}: lazy {lazy}, eager {eager}"


def test_nan_where_the_oracle_is_finite_fails_and_oracle_nan_is_inconclusive() -> None:
    assert _arrays([np.nan], [1.0], rtol=1e-12).verdict is Verdict.FAIL
    assert _arrays([1.0], [np.nan], rtol=1e-12).verdict is Verdict.INCONCLUSIVE
    assert _arrays([np.nan], [np.nan], rtol=1e-12).verdict is Verdict.PASS


def test_shape_mismatch_fails() -> None:
    out = arrays_match([np.zeros(3)], [np.zeros(2)], rtol=1e-12, oracle="jax", what="test")
    assert out.verdict is Verdict.FAIL and "shape" in out.message


def test_scalar_inconclusive_when_the_oracle_cannot_tell() -> None:
    out = scalars_match(1.0, 1.5, scale=1.0, rtol=1e-11, oracle_error=0.1, useful=1e-6, oracle="fd", what="t")
    assert out.verdict is Verdict.INCONCLUSIVE


def test_scalar_fail_beyond_the_oracle_error() -> None:
    out = scalars_match(1.0, 1.0 + 1e-5, scale=1.0, rtol=1e-11, oracle_error=1e-10, useful=1e-6, oracle="fd", what="t")
    assert out.verdict is Verdict.FAIL and out.ratio > 1


def test_scalar_pass_within_the_oracle_error() -> None:
    out = scalars_match(1.0, 1.0 + 1e-11, scale=1.0, rtol=1e-11, oracle_error=1e-11, useful=1e-6, oracle="fd", what="t")
    assert out.verdict is Verdict.PASS


def test_worst_prefers_errors_then_failures_then_the_largest_ratio() -> None:
    p1 = Outcome(Verdict.PASS, "jax", 1.0, 4.0)
    p2 = Outcome(Verdict.PASS, "fd", 3.0, 4.0)
    f = Outcome(Verdict.FAIL, "fd", 5.0, 1.0)
    e = Outcome(Verdict.ERROR, "torch")
    assert worst([p1, p2]) is p2
    assert worst([p1, f, p2]) is f
    assert worst([f, e]) is e
    assert Verdict.FAIL.fails_test and Verdict.ERROR.fails_test
    assert not any(v.fails_test for v in (Verdict.PASS, Verdict.INCONCLUSIVE, Verdict.CONVENTION))


def test_one_verdict_vocabulary_the_schema_and_the_results_format_agree() -> None:
    """autograd_conformance.verdict is the one definition: the JSON Schema and autograd_conformance.reports.results derive from it."""
    import json

    from autograd_conformance.reports import results
    from tests.helpers import ROOT

    schema = json.loads((ROOT / "autograd_conformance" / "reports" / "schema.json").read_text())
    assert schema["$defs"]["verdict"]["enum"] == [v.value for v in Verdict]
    assert results.VERDICTS == tuple(v.value for v in Verdict)
    assert set(results.FAILING) == {"fail", "error", "blind"}


def test_one_ranking_decides_examples_cells_and_report_slots() -> None:
    from autograd_conformance.verdict import SEVERITY, cell_verdict, severity

    assert set(SEVERITY) == set(Verdict)
    conv, inc = Outcome(Verdict.CONVENTION, "jax"), Outcome(Verdict.INCONCLUSIVE, "fd", error=5.0, tol=1.0)
    assert worst([inc, conv]) is conv  # a decided difference outranks an undecided example
    assert severity("error") < severity("fail") < severity("convention") < severity("inconclusive") < severity("pass")
    assert cell_verdict({"pass": 3, "inconclusive": 9}) is Verdict.PASS
    assert cell_verdict({"pass": 3, "convention": 1}) is Verdict.CONVENTION
    assert cell_verdict({"inconclusive": 2}) is Verdict.INCONCLUSIVE
    assert cell_verdict({}) is Verdict.INCONCLUSIVE


def test_only_decided_outcomes_steer_the_search(monkeypatch) -> None:
    """An undecided outcome's error/tolerance measures the oracle's noise, not torch: targeting it would steer
    Hypothesis into the region where the oracle cannot tell (a user's LogCosh cell went blind that way)."""
    import autograd_conformance.failure as failure

    class Record:
        def add(self, *args, **kwargs) -> None:
            pass

    steered: dict[str, float] = {}
    monkeypatch.setattr(failure, "target", lambda value, label: steered.__setitem__(label, value))
    undecided = Outcome(Verdict.INCONCLUSIVE, "fd", error=5e-9, tol=1e-8)
    passed = Outcome(Verdict.PASS, "jax", error=1e-13, tol=1e-11)
    failure.conclude(Record(), "vjp", [undecided, passed], repro=lambda o: "")
    assert steered == {"error/tolerance vs jax": passed.ratio}
