"""Verdicts: every comparison ends in exactly one of them.  The one definition of the vocabulary.

Only FAIL and ERROR fail a test.  INCONCLUSIVE means the oracle could not tell
(its own error estimate is too large, or the input sits on a kink); CONVENTION
means torch and the oracle differ in a documented, deliberate way
(see ``autograd_conformance.conventions``).  Two verdicts belong to cells, never to one
comparison: NOT_RUN, a cell that never ran (skipped, or its column could not run),
and BLIND, a cell too few of whose examples were decided by any oracle
(``autograd_conformance.reports.recorder.BLIND_BELOW``): it checked next to nothing, so it fails like a
FAIL until its inputs are fixed or it is baselined with a reason.

Everything else derives from this module: the results format's list of verdicts
(``autograd_conformance.reports.results.VERDICTS``), its JSON Schema (``autograd_conformance/reports/schema.json``, checked
by ``tests/test_verdicts.py``), the report's ranking and the gate's notion of failing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Verdict(str, enum.Enum):  # noqa: UP042 - StrEnum would change how verdicts format
    # Declaration order is the report's display order.
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    CONVENTION = "convention"
    INCONCLUSIVE = "inconclusive"
    BLIND = "blind"
    NOT_RUN = "not_run"

    @property
    def fails_test(self) -> bool:
        return self in FAILING

    @property
    def decided(self) -> bool:
        """Whether an oracle decided the example either way (pass, convention or a failure)."""
        return self not in (Verdict.INCONCLUSIVE, Verdict.BLIND, Verdict.NOT_RUN)


FAILING: frozenset[Verdict] = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.BLIND})

# The one ranking, most severe first: it picks the outcome that decides an example
# (``worst``), a cell's verdict from its examples (``cell_verdict``) and which of two
# results the report shows where they share a slot.  A documented convention outranks
# an undecided example: it is a decided difference from the oracle.
SEVERITY: tuple[Verdict, ...] = (
    Verdict.ERROR,
    Verdict.FAIL,
    Verdict.BLIND,
    Verdict.CONVENTION,
    Verdict.INCONCLUSIVE,
    Verdict.PASS,
    Verdict.NOT_RUN,
)
_RANK = {verdict: rank for rank, verdict in enumerate(SEVERITY)}


def severity(verdict: Verdict | str) -> int:
    """0 for the most severe verdict; raises ValueError for a string that is not a verdict."""
    return _RANK[Verdict(verdict)]


@dataclass(frozen=True)
class Outcome:
    """The verdict of one comparison between torch and one oracle."""

    verdict: Verdict
    oracle: str  # "fd", "jax", "forward", "float64", "contiguous", "semantics", ...
    error: float = 0.0  # |torch - oracle|
    tol: float = 0.0  # what the error was allowed to be
    message: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """error / tolerance: below 1 passes; the report plots its distribution."""
        if self.tol > 0:
            return self.error / self.tol
        return 0.0 if self.error == 0 else float("inf")


def worst(outcomes: list[Outcome]) -> Outcome:
    """The outcome that decides an example: the most severe verdict, then the largest ratio."""
    return min(outcomes, key=lambda o: (severity(o.verdict), -o.ratio))


def cell_verdict(counts: Mapping[str, int] | Iterable[Verdict]) -> Verdict:
    """A cell's verdict from its examples' verdicts: the most severe decided one, else INCONCLUSIVE.

    One decided example is enough for PASS: the inconclusive ones checked nothing,
    they did not disagree.  (Whether too few were decided is a separate question.)
    """
    present = [Verdict(v) for v, n in counts.items() if n] if isinstance(counts, Mapping) else list(counts)
    decided = [v for v in present if v.decided]
    return min(decided, key=severity) if decided else Verdict.INCONCLUSIVE
