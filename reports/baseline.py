"""Known-failure baselines: ``baselines/<label>.txt``, one known failure per line.

    # comment
    <id> | <reason> | <link or repro:path>

``<id>`` is one of

* a cell id ``property/op/dtype``, which matches that cell on every device and path;
* ``property/op/dtype@device`` or ``property/op/dtype@device/path`` (e.g. ``vjp/mm/float32@cuda/compile``);
* a pytest node id (anything containing ``::``), which matches that one test.

The reference is an ``http(s)://`` link (usually the upstream issue) or
``repro:<path>`` to a committed repro script (relative to the repository root; it must exist).

An entry that could never match is an error, not a silent no-op: its cell must be a
cell of the suite (``reports.catalog``), its device cpu, cuda or cuda:N, its path an
execution path, and a node id one the suite has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .results import EXEC_PATHS

FORMAT_HELP = (
    "expected `<cell id> | <reason> | <link or repro:path>`, e.g. "
    "`vjp/digamma/float64 | wrong sign near poles | https://github.com/pytorch/pytorch/issues/12345`; "
    "the cell id is property/op/dtype, optionally @device or @device/path, or a pytest node id"
)
_PART = r"[^/\s|@]+"
_CELL_ID = re.compile(rf"^{_PART}/{_PART}/{_PART}(@{_PART}(/{_PART})?)?$")
_DEVICE = re.compile(r"^(cpu|cuda|cuda:\d+)$")


class BaselineError(ValueError):
    """A malformed baseline file; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    id: str
    reason: str
    ref: str
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def matches(self, *, cell: str, device: str, path: str, test_id: str) -> bool:
        if "::" in self.id:
            return self.id == test_id
        cell_id, _, scope = self.id.partition("@")
        if cell_id != cell:
            return False
        if not scope:
            return True
        want_device, _, want_path = scope.partition("/")
        return want_device == device and (not want_path or want_path == path)


@dataclass(frozen=True)
class Baseline:
    file: str
    entries: tuple[Entry, ...]

    def find(self, *, cell: str, device: str, path: str, test_id: str) -> Entry | None:
        for entry in self.entries:
            if entry.matches(cell=cell, device=device, path=path, test_id=test_id):
                return entry
        return None

    def __len__(self) -> int:
        return len(self.entries)


def parse_line(text: str, *, file: str, line: int) -> Entry | None:
    """One line's entry, None for blank and comment lines; BaselineError if malformed."""
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    parts = [part.strip() for part in stripped.split("|")]
    if len(parts) != 3 or not all(parts):
        raise BaselineError(f"{file}:{line}: malformed baseline line {stripped!r}: {FORMAT_HELP}")
    ident, reason, ref = parts
    if "::" not in ident and not _CELL_ID.match(ident):
        raise BaselineError(f"{file}:{line}: {ident!r} is neither a cell id nor a pytest node id: {FORMAT_HELP}")
    if not (ref.startswith(("http://", "https://")) or (ref.startswith("repro:") and len(ref) > len("repro:"))):
        raise BaselineError(
            f"{file}:{line}: reference {ref!r} must be an http(s):// link or repro:<path to a repro script>: "
            f"{FORMAT_HELP}"
        )
    return Entry(id=ident, reason=reason, ref=ref, file=file, line=line)


def check_entry(entry: Entry, *, catalog: Catalog | None, root: Path | None) -> None:
    """BaselineError naming file:line unless the entry can match something and its repro exists."""
    where = f"{entry.where}: {entry.id!r}"
    if "::" in entry.id:
        if catalog is not None and entry.id not in catalog.test_ids:
            raise BaselineError(f"{where} is not a test of the suite ({catalog.file}); copy the node id from pytest's output")
    else:
        cell, _, scope = entry.id.partition("@")
        problem = catalog.problem(cell) if catalog is not None else None
        if problem:
            raise BaselineError(f"{where}: {problem} (cells: {catalog.file}): {FORMAT_HELP}")
        device, _, path = scope.partition("/")
        if device and not _DEVICE.match(device):
            raise BaselineError(f"{where}: unknown device {device!r}; use cpu, cuda or cuda:N")
        if path and path not in EXEC_PATHS:
            raise BaselineError(f"{where}: unknown execution path {path!r}; use one of {', '.join(EXEC_PATHS)}")
    if root is not None and entry.ref.startswith("repro:"):
        script = root / entry.ref.removeprefix("repro:")
        if not script.is_file():
            raise BaselineError(f"{entry.where}: repro script {script} does not exist (repro paths are relative to {root})")


def parse(text: str, *, file: str, catalog: Catalog | None = None, root: Path | None = None) -> Baseline:
    """The file's entries; with ``catalog`` and ``root``, also check that each can match and its repro exists."""
    entries: list[Entry] = []
    seen: dict[str, Entry] = {}
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        entry = parse_line(raw, file=file, line=number)
        if entry is None:
            continue
        check_entry(entry, catalog=catalog, root=root)
        if entry.id in seen:
            raise BaselineError(
                f"{file}:{number}: {entry.id!r} is already listed at line {seen[entry.id].line}; "
                "keep one line per known failure"
            )
        seen[entry.id] = entry
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
