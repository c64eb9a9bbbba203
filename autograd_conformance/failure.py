"""The one failure path every property takes: record, steer, explain against known failures, or fail with a repro.

A property hands its example's outcomes to :func:`conclude` with two functions of an
outcome: its repro (each property replays what it checked) and its facts
(``autograd_conformance.facts``, what a scoped baseline entry is matched on).  ``conclude``

* records every outcome (``record.add``), the failing one with its facts and repro;
* steers Hypothesis toward large error/tolerance ratios (``target``) of decided outcomes, except from known
  failures: an undecided outcome's ratio measures the oracle's noise, and steering toward it fills a cell
  with undecided examples (a user's LogCosh cell went blind: 61 of 100 near x = 0, where fd cannot tell);
* counts a failing example that a scoped baseline entry explains as known and lets the test go on;
* otherwise raises one AssertionError in one format, the repro attached as an exception note
  (``add_note``, as array-api-tests does), with the harness frames hidden from the traceback.

``record`` is the ``record`` fixture (``autograd_conformance.reports.recorder.Recorder``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import note, target

from autograd_conformance.facts import Facts, FailureFacts
from autograd_conformance.verdict import Outcome, worst

MAX_TARGET = 1e6  # error/tolerance ratios above this steer Hypothesis no further (an inf or nan would stop it)


def conclude(
    record: Any,
    prop: str,
    outcomes: list[Outcome],
    *,
    repro: Callable[[Outcome], str],
    facts: Callable[[Outcome], Facts] | None = None,
    context: str = "",
) -> None:
    """Record one example's outcomes; raise on a FAIL or ERROR that no scoped baseline entry explains."""
    __tracebackhide__ = True
    decisive = worst(outcomes)
    fails = decisive.verdict.fails_test
    script = repro(decisive) if fails else None
    failure, known = None, None
    if fails and facts is not None:
        others = [facts(o) for o in outcomes if o.verdict.fails_test and o is not decisive]
        failure = FailureFacts(facts(decisive), others)
        known = record.explain(failure)
    ratios: dict[str, float] = {}
    for o in outcomes:
        is_decisive = o is decisive
        record.add(o, repro=script if is_decisive else None, facts=failure if is_decisive else None, known=known)
        if o.verdict.decided and math.isfinite(o.ratio):
            ratios[o.oracle] = max(ratios.get(o.oracle, 0.0), min(o.ratio, MAX_TARGET))
    if known is None:  # a known failure's large ratios would steer the search into its scope, away from new bugs
        for oracle, ratio in ratios.items():
            target(ratio, label=f"error/tolerance vs {oracle}")
    if known is not None:
        note(f"known failure, explained by {known.describe()}")
        return
    if fails:
        error = AssertionError(
            f"{prop}: {decisive.verdict.value.upper()} against {decisive.oracle}\n"
            f"  {decisive.message}\n" + (f"  {context}\n" if context else "") + _unexplained(record, failure)
        )
        error.add_note(f"Repro (paste and run):\n{script}")
        raise error


def _unexplained(record: Any, failure: FailureFacts | None) -> str:
    """Why the cell's scoped known failures do not cover this example: their scopes, and its facts."""
    if not getattr(record, "scoped", ()) or failure is None:
        return ""
    shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in failure.decisive.items())
    scopes = "; ".join(f"{e.where}: where {e.scope}" for e in record.scoped)
    return f"  not explained by the scoped known failures of this cell ({scopes})\n  facts: {shown}\n"
