"""Known-failure baselines: ``baselines/<label>.txt``, one known failure per line.

    # comment
    <ids> [where <scope>] | <reason> | <link or repro:path>

``<ids>`` is one id, or several separated by commas (one finding that shows in several
cells is one entry).  An id is one of

* a cell id ``property/op/dtype``, which matches that cell on every device and path;
* ``property/op/dtype@device`` or ``property/op/dtype@device/path`` (e.g. ``vjp/mm/float32@cuda/compile``);
* a pytest node id (anything containing ``::``; alone on its line), which matches that one test.

``where <scope>`` says where in the cell the failure lives; without it the entry
covers the whole cell, and any failure of the cell is known.  A scope is conditions
joined by ``and``, each ``<fact> <op> <value>`` with op one of < <= > >= == !=:

    vjp/sinc/float64, scalar_backward/sinc/float64 where abs(at) < 1e-3 and oracle == jax | ... | ...

The facts (``autograd_conformance.facts``: the input region, the op's parameters, the error
band, the comparison that failed) are computed for every failing example.  A failing
example is known only when the scope holds on it; any other failure in the same
cell still fails, and the test shows which entry matched.

The reference is an ``http(s)://`` link (usually the upstream issue) or
``repro:<path>`` to a committed repro script (relative to the repository root; it must exist).

An entry that could never match is an error, not a silent no-op: its cells must be
cells of the suite (``autograd_conformance.reports.catalog``), its device cpu, cuda or cuda:N, its path an
execution path, a node id one the suite has, and its scope's facts ones the run computes.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograd_conformance.facts import VOCABULARY_HELP, is_fact

from .catalog import Catalog
from .results import EXEC_PATHS

FORMAT_HELP = (
    "expected `<cell ids> [where <scope>] | <reason> | <link or repro:path>`, e.g. "
    "`vjp/digamma/float64 where abs(at) < 1e-3 | wrong near poles | https://github.com/pytorch/pytorch/issues/12345`; "
    "a cell id is property/op/dtype, optionally @device or @device/path, several separated by commas, "
    "or a pytest node id"
)
SCOPE_HELP = (
    "a scope is `<fact> <op> <value>` conditions joined by `and`, op one of < <= > >= == !=, "
    "e.g. `abs(at) < 1e-4 and rel <= 1e-6`; " + VOCABULARY_HELP
)
_PART = r"[^/\s|@,]+"
_CELL_ID = re.compile(rf"^{_PART}/{_PART}/{_PART}(@{_PART}(/{_PART})?)?$")
_DEVICE = re.compile(r"^(cpu|cuda|cuda:\d+)$")
_WHERE = re.compile(r"\s+where\s+")
_CONDITION = re.compile(r"^(?P<fact>[^\s<>=!]+)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<value>\S+)$")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
_TEXT_FACTS = ("oracle", "verdict")


class BaselineError(ValueError):
    """A malformed baseline file; the message names the file and line."""


@dataclass(frozen=True)
class Condition:
    fact: str
    op: str
    value: float | str

    def holds(self, facts: Mapping[str, Any]) -> bool | None:
        """Whether the condition holds on ``facts``; None when the fact is absent (not computed, or null)."""
        have = facts.get(self.fact)
        if have is None:
            return None
        if isinstance(self.value, str) != isinstance(have, str):
            return False
        return bool(_COMPARE[self.op](have, self.value))


@dataclass(frozen=True)
class Scope:
    """Where in a cell a known failure lives: every condition must hold."""

    conditions: tuple[Condition, ...]
    text: str  # as written in the baseline

    def holds(self, facts: Mapping[str, Any], *, absent_holds: bool = False) -> bool:
        """Whether every condition holds; a condition on an absent fact holds only with ``absent_holds``."""
        for condition in self.conditions:
            result = condition.holds(facts)
            if result is False or (result is None and not absent_holds):
                return False
        return True

    def __str__(self) -> str:
        return self.text


def parse_scope(text: str, *, where: str) -> Scope:
    """``abs(at) < 1e-4 and rel <= 1e-6`` as a Scope; BaselineError naming ``where`` and the bad part."""
    conditions = []
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _CONDITION.match(part.strip())
        if not match:
            raise BaselineError(f"{where}: cannot read the condition {part!r}: {SCOPE_HELP}")
        fact, op, raw = match["fact"], match["op"], match["value"]
        if not is_fact(fact):
            raise BaselineError(f"{where}: unknown fact {fact!r} in {part!r}: {SCOPE_HELP}")
        if fact in _TEXT_FACTS:
            if op not in ("==", "!="):
                raise BaselineError(f"{where}: {fact} is a name; compare it with == or !=, not {op!r}")
            value: float | str = raw
        else:
            try:
                value = float(raw)
            except ValueError:
                raise BaselineError(f"{where}: {raw!r} in {part!r} is not a number: {SCOPE_HELP}") from None
            if math.isnan(value):
                raise BaselineError(f"{where}: nan in {part!r} never compares equal; use a bound instead")
        conditions.append(Condition(fact, op, value))
    return Scope(tuple(conditions), " ".join(text.split()))


def _id_matches(ident: str, *, cell: str, device: str, path: str, test_id: str) -> bool:
    if "::" in ident:
        return ident == test_id
    cell_id, _, scope = ident.partition("@")
    if cell_id != cell:
        return False
    if not scope:
        return True
    want_device, _, want_path = scope.partition("/")
    return want_device == device and (not want_path or want_path == path)


@dataclass(frozen=True)
class Entry:
    id: str  # the ids as written
    reason: str
    ref: str
    file: str
    line: int
    ids: tuple[str, ...] = ()  # each cell (or node) id the entry names
    scope: Scope | None = None  # None: the whole cell

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def whole_cell(self) -> bool:
        return self.scope is None

    def describe(self) -> str:
        """The entry as the test output, the gate and the report show it."""
        extent = "whole cell" if self.scope is None else f"only where {self.scope}"
        return f"{self.where}: {self.reason} [{self.ref}] ({extent})"

    def matches(self, *, cell: str, device: str, path: str, test_id: str) -> bool:
        """Whether the entry names this cell (on this device and path) or this test."""
        return any(_id_matches(i, cell=cell, device=device, path=path, test_id=test_id) for i in self.ids)

    def explains(self, decisive: Mapping[str, Any], others: list[Mapping[str, Any]] = ()) -> bool:
        """Whether a failing example is this known failure.

        ``decisive``: the facts of the example's decisive failing comparison; every condition
        must hold on them.  ``others``: the facts of its other failing comparisons; none may
        contradict the scope (a fact they lack, such as ``at`` of a dot product, does not).
        """
        if self.scope is None:
            return True
        return self.scope.holds(decisive) and all(self.scope.holds(o, absent_holds=True) for o in others)


@dataclass(frozen=True)
class Baseline:
    file: str
    entries: tuple[Entry, ...]

    def find(self, *, cell: str, device: str, path: str, test_id: str) -> Entry | None:
        """The whole-cell entry for this cell or test, if any (scoped entries are matched per example)."""
        for entry in self.entries:
            if entry.whole_cell and entry.matches(cell=cell, device=device, path=path, test_id=test_id):
                return entry
        return None

    def scoped(self, *, cell: str, device: str, path: str, test_id: str) -> tuple[Entry, ...]:
        """The scoped entries for this cell or test, in file order."""
        return tuple(
            e for e in self.entries if not e.whole_cell and e.matches(cell=cell, device=device, path=path, test_id=test_id)
        )

    def explain(self, result: Mapping[str, Any]) -> Entry | None:
        """The entry that makes a result record's failure known: a whole-cell entry, or a scoped one
        whose scope holds on the failing example's facts (a result without facts matches no scope)."""
        where = dict(cell=result["cell"], device=result["device"], path=result["path"], test_id=result["test_id"])
        entry = self.find(**where)
        if entry is not None:
            return entry
        facts = result.get("facts")
        if not facts:
            return None
        others = result.get("other_facts") or []
        return next((e for e in self.scoped(**where) if e.explains(facts, others)), None)

    def __len__(self) -> int:
        return len(self.entries)


def parse_line(text: str, *, file: str, line: int) -> Entry | None:
    """One line's entry, None for blank and comment lines; BaselineError if malformed."""
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    parts = stripped.split("|")  # the reason may itself contain `|` (|x|): the first and last fields may not
    head, reason, ref = (parts[0].strip(), "|".join(parts[1:-1]).strip(), parts[-1].strip()) if len(parts) >= 3 else ("", "", "")
    if not (head and reason and ref):
        raise BaselineError(f"{file}:{line}: malformed baseline line {stripped!r}: {FORMAT_HELP}")
    ident, *scope_text = _WHERE.split(head, maxsplit=1)
    scope = parse_scope(scope_text[0], where=f"{file}:{line}") if scope_text else None
    ids = (ident,) if "::" in ident else tuple(i.strip() for i in ident.split(","))
    for one in ids:
        if "::" not in one and not _CELL_ID.match(one):
            raise BaselineError(f"{file}:{line}: {one!r} is neither a cell id nor a pytest node id: {FORMAT_HELP}")
    if not (ref.startswith(("http://", "https://")) or (ref.startswith("repro:") and len(ref) > len("repro:"))):
        raise BaselineError(
            f"{file}:{line}: reference {ref!r} must be an http(s):// link or repro:<path to a repro script>: "
            f"{FORMAT_HELP}"
        )
    return Entry(id=ident, reason=reason, ref=ref, file=file, line=line, ids=ids, scope=scope)


def check_entry(entry: Entry, *, catalog: Catalog | None, root: Path | None) -> None:
    """BaselineError naming file:line unless each of the entry's ids can match something and its repro exists."""
    for ident in entry.ids:
        _check_id(ident, where=f"{entry.where}: {ident!r}", catalog=catalog)
    for condition in entry.scope.conditions if entry.scope and catalog else ():
        op = condition.fact.removeprefix("uses.")
        if op != condition.fact and (problem := catalog.problem_with_op(op)):
            raise BaselineError(f"{entry.where}: {condition.fact!r}: {problem} (cells: {catalog.file})")
    if root is not None and entry.ref.startswith("repro:"):
        script = root / entry.ref.removeprefix("repro:")
        if not script.is_file():
            raise BaselineError(f"{entry.where}: repro script {script} does not exist (repro paths are relative to {root})")


def _check_id(ident: str, *, where: str, catalog: Catalog | None) -> None:
    if "::" in ident:
        if catalog is not None and ident not in catalog.test_ids:
            raise BaselineError(f"{where} is not a test of the suite ({catalog.file}); copy the node id from pytest's output")
        return
    cell, _, scope = ident.partition("@")
    problem = catalog.problem(cell) if catalog is not None else None
    if problem:
        raise BaselineError(f"{where}: {problem} (cells: {catalog.file}): {FORMAT_HELP}")
    device, _, path = scope.partition("/")
    if device and not _DEVICE.match(device):
        raise BaselineError(f"{where}: unknown device {device!r}; use cpu, cuda or cuda:N")
    if path and path not in EXEC_PATHS:
        raise BaselineError(f"{where}: unknown execution path {path!r}; use one of {', '.join(EXEC_PATHS)}")


def parse(text: str, *, file: str, catalog: Catalog | None = None, root: Path | None = None) -> Baseline:
    """The file's entries; with ``catalog`` and ``root``, also check that each can match and its repro exists."""
    entries: list[Entry] = []
    seen: dict[tuple[str, str], Entry] = {}
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        entry = parse_line(raw, file=file, line=number)
        if entry is None:
            continue
        check_entry(entry, catalog=catalog, root=root)
        for ident in entry.ids:
            key = (ident, str(entry.scope or ""))
            if key in seen:
                scoped = " with the same scope" if entry.scope else ""
                raise BaselineError(
                    f"{file}:{number}: {ident!r} is already listed{scoped} at line {seen[key].line}; "
                    "keep one line per known failure"
                )
            seen[key] = entry
        entries.append(entry)
    return Baseline(file=file, entries=tuple(entries))


def load(path: Path, *, root: Path | None = None, catalog: Catalog | None = None) -> Baseline:
    """Parse a baseline file; messages name it relative to ``root`` when it lies inside, repros resolve there."""
    name = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
    if not path.is_file():
        raise BaselineError(f"{name}: baseline file not found; create it (it may be empty) or pass --no-baseline")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{name}: not UTF-8 text (byte {exc.start}); save the baseline as UTF-8") from None
    return parse(text, file=name, catalog=catalog, root=root)


def path_for(baseline_dir: Path, label: str) -> Path:
    """Each results label (``torch-2.13.0``) has its own baseline file (``baselines/torch-2.13.0.txt``)."""
    return baseline_dir / f"{label}.txt"


def load_for(baseline_dir: Path, label: str, *, catalog: Catalog | None = None) -> Baseline:
    """The label's baseline (repros relative to the folder's parent); an empty one when the label has no file yet."""
    path = path_for(baseline_dir, label)
    if not path.is_file():
        return Baseline(file=str(path), entries=())
    return load(path, root=baseline_dir.resolve().parent, catalog=catalog)
