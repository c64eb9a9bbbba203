"""The ``record`` fixture's object: gathers one test's outcomes over all its Hypothesis examples."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from autograd_conformance.facts import FailureFacts
from autograd_conformance.verdict import Outcome, Verdict, cell_verdict

from .baseline import Entry
from .results import finite

# A cell fails as BLIND when fewer than this share of its examples were decided (pass,
# convention or a failure) by some oracle.  Below half, the cell spent most of its budget
# checking nothing: an inconclusive example is a blind spot, not a pass.  Half is the
# starting point the trust issue (20) proposes; the ci-profile runs measure what it flags.
BLIND_BELOW = 0.5


class BlindCellError(Exception):
    """Raised after a test whose examples were mostly undecided: the cell's verdict is BLIND."""


class CellId(NamedTuple):
    """A cell of the matrix: a property (the test's row) × the op, family and dtype of its ``autograd_conformance.case.Case``."""

    property: str
    op: str
    family: str
    dtype: str

    @property
    def cell(self) -> str:
        return f"{self.property}/{self.op}/{self.dtype}"


def cell_of(item: Any) -> CellId:
    """A test's cell: property from ``@pytest.mark.conformance(property=...)``, the rest from its ``case``."""
    marker = item.get_closest_marker("conformance")
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    prop = (marker.kwargs.get("property") if marker else None) or name.removeprefix("test_")
    params = getattr(getattr(item, "callspec", None), "params", {})
    case = params.get("case")
    return CellId(
        property=str(prop),
        op=str(getattr(case, "op", "-")),
        family=str(getattr(case, "family", "-")),
        dtype=str(getattr(case, "dtype", "-")),
    )


def _example_token() -> object | None:
    """Something that identifies the current Hypothesis example, or None outside one."""
    try:
        from hypothesis.control import current_build_context

        return current_build_context()
    except Exception:  # noqa: BLE001 - outside @given, or a Hypothesis without it
        return None


def _rank(outcome: Outcome) -> tuple[bool, float]:
    """Failing outcomes first, then the largest error/tolerance ratio."""
    return (Verdict(outcome.verdict).fails_test, outcome.ratio)


@dataclass(repr=False)
class Recorder:
    """``record.add(outcome, repro=...)`` once per comparison; one recorder spans all examples of a test.

    ``scoped``: the baseline entries that may explain a failing example of this cell
    (``autograd_conformance.reports.baseline``, ``where <scope>``).  An example one of them explains is a
    *known* failure: it is counted and kept (``known``, ``known_examples``), and the
    test goes on to look for failures the scope does not cover.
    """

    counts: dict[str, int] = field(default_factory=dict)
    examples: int = 0
    worst: Outcome | None = None
    failing: Outcome | None = None  # the last unexplained failing outcome: after shrinking, the minimal example's
    failing_facts: FailureFacts | None = None
    repro: str | None = None
    decided: int = 0  # examples at least one of whose outcomes some oracle decided
    undecided_reasons: Counter[str] = field(default_factory=Counter)
    scoped: tuple[Entry, ...] = ()
    known: Entry | None = None  # the scoped entry that explained the first known failing example
    known_outcome: Outcome | None = None
    known_facts: FailureFacts | None = None
    known_repro: str | None = None
    known_examples: int = 0
    _token: object | None = None
    _example_decided: bool = False

    def explain(self, failure: FailureFacts) -> Entry | None:
        """The scoped entry that makes this failing example known, or None (see ``Entry.explains``)."""
        return next((e for e in self.scoped if e.explains(failure.decisive, failure.others)), None)

    def add(
        self, outcome: Outcome, *, repro: str | None = None, facts: FailureFacts | None = None,
        known: Entry | None = None,
    ) -> None:
        """Record one comparison; a failing one carries its ``facts``, and ``known`` when a scoped entry explains it."""
        if not isinstance(outcome, Outcome):
            raise TypeError(f"record.add() takes an autograd_conformance.verdict.Outcome, not {type(outcome).__name__}")
        verdict = Verdict(outcome.verdict)
        self.counts[verdict.value] = self.counts.get(verdict.value, 0) + 1
        token = _example_token()
        if token is None or token is not self._token:
            self.examples += 1
            self._token = token
            self._example_decided = False
        if verdict.decided and not self._example_decided:
            self.decided += 1
            self._example_decided = True
        elif verdict is Verdict.INCONCLUSIVE:
            self.undecided_reasons[outcome.message.split("\n")[0][:160]] += 1
        if self.worst is None or _rank(outcome) > _rank(self.worst):
            self.worst = outcome
        if verdict.fails_test and known is not None:  # every failing outcome of a known example carries it
            if facts is not None:  # the example's decisive outcome: count the example once
                self.known_examples += 1
                if self.known is None:
                    self.known, self.known_outcome, self.known_facts, self.known_repro = known, outcome, facts, repro
        elif verdict.fails_test:
            self.failing = outcome
            if facts is not None:
                self.failing_facts = facts
            if repro is not None:
                self.repro = repro

    def __repr__(self) -> str:  # Hypothesis prints fixtures in its falsifying example: keep it short
        return f"<record: {self.examples} examples, outcomes {self.counts}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's pretty printer
        printer.text(repr(self))

    def verdict(self) -> str:
        """The cell verdict of a test that did not fail (``autograd_conformance.verdict.cell_verdict``)."""
        return cell_verdict({v: n for v, n in self.counts.items() if not Verdict(v).fails_test}).value

    def blind(self) -> str | None:
        """Why this cell checked next to nothing (fewer than BLIND_BELOW of its examples decided), or None."""
        if not self.examples or self.decided >= BLIND_BELOW * self.examples:
            return None
        reason = self.undecided_reasons.most_common(1)[0][0] if self.undecided_reasons else "no outcome recorded"
        return (
            f"blind cell: {self.decided} of {self.examples} examples were decided by an oracle "
            f"(at least {BLIND_BELOW:.0%} must be); most undecided because: {reason}"
        )

    def summary(self) -> dict[str, Any]:
        worst = self.worst
        return {
            "counts": dict(self.counts),
            "worst_ratio": finite(worst.ratio) if worst else None,
            "worst_error": finite(worst.error) if worst else None,
            "worst_tol": finite(worst.tol) if worst else None,
            "worst_oracle": worst.oracle if worst else None,
            "examples": self.examples,
            "decided": self.decided,
            "undecided_reason": self.undecided_reasons.most_common(1)[0][0] if self.undecided_reasons else None,
            "known_examples": self.known_examples,
        }
