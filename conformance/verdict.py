"""Verdicts: every comparison ends in exactly one of them.

Only FAIL and ERROR fail a test.  INCONCLUSIVE means the oracle could not tell
(its own error estimate is too large, or the input sits on a kink); CONVENTION
means torch and the oracle differ in a documented, deliberate way
(see ``conformance.conventions``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verdict(str, enum.Enum):  # noqa: UP042 - StrEnum would change how verdicts format
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    CONVENTION = "convention"
    ERROR = "error"

    @property
    def fails_test(self) -> bool:
        return self in (Verdict.FAIL, Verdict.ERROR)


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
    """The outcome that decides an example: failures first, then the largest ratio."""
    rank = {Verdict.ERROR: 0, Verdict.FAIL: 1, Verdict.CONVENTION: 2, Verdict.INCONCLUSIVE: 3, Verdict.PASS: 4}
    return min(outcomes, key=lambda o: (rank[o.verdict], -o.ratio))
