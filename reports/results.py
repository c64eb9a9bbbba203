"""The results format: JSON Lines, one run record, one line per test, a closing run_end.

A results file is written as the run goes and flushed after every line, so a
crash or a kill loses nothing already finished.  ``load`` reads any number of
files, tolerates a torn last line, and merges pytest-xdist workers' files (they
share a ``run_id``).  For each column (label + device + execution path) the
most recently started run wins, so stale files of an earlier run are ignored.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import uuid
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from conformance.verdict import Verdict

SCHEMA_VERSION = 1
VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)  # conformance.verdict is the one definition
FAILING: tuple[str, ...] = tuple(v.value for v in Verdict if v.fails_test)


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def default_label() -> str:
    """``torch-<version>`` without the local part (``2.13.0+cpu`` -> ``torch-2.13.0``)."""
    version = package_version("torch") or "absent"
    return f"torch-{version.split('+')[0]}"


def column_key(label: str, device: str, path: str) -> str:
    return f"{label} {device} {path}"


def results_filename(label: str, device: str, path: str, worker: str | None = None) -> str:
    stem = f"{label}-{device}-{path}"
    return f"{stem}.{worker}.jsonl" if worker else f"{stem}.jsonl"


def finite(value: float | None) -> float | None:
    """JSON has no inf or NaN: such numbers are written as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def run_record(
    *,
    run_id: str,
    label: str,
    device: str = "cpu",
    path: str = "eager",
    status: str = "ran",
    reason: str | None = None,
    profile: str | None = None,
    seed: str | None = None,
    worker: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "run",
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        "label": label,
        "device": device,
        "path": path,
        "torch": package_version("torch"),
        "jax": package_version("jax"),
        "hypothesis": package_version("hypothesis"),
        "python": platform.python_version(),
        "profile": profile,
        "seed": seed,
        "worker": worker,
        "started": now(),
        "status": status,
        "reason": reason,
    }


class ResultsWriter:
    """Appends records to one JSONL file, flushing after each line."""

    def __init__(self, path: Path, run: dict[str, Any]) -> None:
        self.path = path
        self.run = run
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = path.open("w", encoding="utf-8")
        self.write(run)

    def write(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            raise RuntimeError(f"results file {self.path} is already closed")
        self._fh.write(json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n")
        self._fh.flush()

    def close(self, **extra: Any) -> None:
        if self._fh is not None:
            self.write({"kind": "run_end", "run_id": self.run["run_id"], "ended": now(), **extra})
            self._fh.close()
            self._fh = None


def write_not_run(out: Path, *, label: str, reason: str, device: str = "cpu", path: str = "eager") -> Path:
    """A results file that says this column was not run, and why (e.g. torch failed to install)."""
    writer = ResultsWriter(
        out, run_record(run_id=new_run_id(), label=label, device=device, path=path, status="not_run", reason=reason)
    )
    writer.close()
    return out


@dataclass
class Run:
    """One column of the matrix: a run, possibly spread over several worker files."""

    info: dict[str, Any]
    results: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    ended: str | None = None
    complete: bool = True  # False when a file has no run_end (a crash or a kill)

    @property
    def key(self) -> str:
        return column_key(self.info["label"], self.info.get("device", "cpu"), self.info.get("path", "eager"))


def read_file(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None]:
    """(run record, result records, run_end record) of one file; a torn last line is skipped with a warning."""
    run: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                warnings.warn(
                    f"{path}:{number}: skipping a torn last line (the run was killed mid-write)", stacklevel=2
                )
                continue
            raise ValueError(f"{path}:{number}: not valid JSON; is this a results file written by reports?") from None
        kind = record.get("kind")
        if kind == "run":
            if record.get("schema") != SCHEMA_VERSION:
                raise ValueError(
                    f"{path}:{number}: results schema {record.get('schema')!r}, this reports package reads "
                    f"schema {SCHEMA_VERSION}; regenerate the results with this checkout"
                )
            run = record
        elif kind == "result":
            results.append(record)
        elif kind == "run_end":
            end = record
    if run is None:
        raise ValueError(f"{path}: no run record on its first line; is this a results file written by reports?")
    return run, results, end


def load(paths: list[Path]) -> list[Run]:
    """Merge results files into runs, one per column; the latest started run of each column wins."""
    by_id: dict[str, Run] = {}
    for path in sorted(paths):
        info, results, end = read_file(path)
        assert info is not None
        run = by_id.setdefault(info["run_id"], Run(info=info))
        run.results.extend(results)
        run.files.append(str(path))
        run.complete = run.complete and end is not None
        if end is not None:
            run.ended = max(run.ended or "", end["ended"])
    latest: dict[str, Run] = {}
    for run in by_id.values():
        current = latest.get(run.key)
        if current is None or run.info["started"] > current.info["started"]:
            latest[run.key] = run
    return sorted(latest.values(), key=lambda r: _column_sort_key(r.info))


def _version_key(label: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for chunk in label.replace("-", ".").split("."):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return tuple(parts)


def _column_sort_key(info: dict[str, Any]) -> tuple[Any, ...]:
    return (_version_key(info["label"]), info.get("device", ""), info.get("path", ""))
