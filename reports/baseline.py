"""Known-failure baselines: ``baselines/<label>.txt``, one known failure per line.

    # comment
    <id> | <reason> | <link or repro:path>

``<id>`` is one of

* a cell id ``property/op/dtype``, which matches that cell on every device and path;
* ``property/op/dtype@device`` or ``property/op/dtype@device/path`` (e.g. ``vjp/mm/float32@cuda/compile``);
* a pytest node id (anything containing ``::``), which matches that one test.

The reference is an ``http(s)://`` link (usually the upstream issue) or
``repro:<path>`` to a committed repro script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FORMAT_HELP = (
    "expected `<cell id> | <reason> | <link or repro:path>`, e.g. "
    "`vjp/digamma/float64 | wrong sign near poles | https://github.com/pytorch/pytorch/issues/12345`; "
    "the cell id is property/op/dtype, optionally @device or @device/path, or a pytest node id"
)
_PART = r"[^/\s|@]+"
_CELL_ID = re.compile(rf"^{_PART}/{_PART}/{_PART}(@{_PART}(/{_PART})?)?$")


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


def parse(text: str, *, file: str) -> Baseline:
    entries: list[Entry] = []
    seen: dict[str, Entry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = parse_line(raw, file=file, line=number)
        if entry is None:
            continue
        if entry.id in seen:
            raise BaselineError(
                f"{file}:{number}: {entry.id!r} is already listed at line {seen[entry.id].line}; "
                "keep one line per known failure"
            )
        seen[entry.id] = entry
        entries.append(entry)
    return Baseline(file=file, entries=tuple(entries))


def load(path: Path, *, root: Path | None = None) -> Baseline:
    """Parse a baseline file; messages name it relative to ``root`` when it lies inside."""
    name = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
    if not path.is_file():
        raise BaselineError(f"{name}: baseline file not found; create it (it may be empty) or pass --no-baseline")
    return parse(path.read_text(encoding="utf-8"), file=name)


def path_for(baseline_dir: Path, label: str) -> Path:
    """Each results label (``torch-2.13.0``) has its own baseline file (``baselines/torch-2.13.0.txt``)."""
    return baseline_dir / f"{label}.txt"


def load_for(baseline_dir: Path, label: str) -> Baseline:
    """The label's baseline; an empty one when the label has no file yet."""
    path = path_for(baseline_dir, label)
    return load(path) if path.is_file() else Baseline(file=str(path), entries=())
