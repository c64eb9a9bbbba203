"""The results format: JSON Lines, one run record, one line per test, a closing run_end.

A results file is written as the run goes and flushed after every line, so a
crash or a kill loses nothing already finished.  ``load`` reads any number of
files, tolerates a torn last line, and merges pytest-xdist workers' files (they
share a ``run_id``).  For each column (label + device + execution path) the
most recently started run wins, so stale files of an earlier run are ignored.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import math
import os
import platform
import uuid
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from autograd_conformance.verdict import Verdict

SCHEMA_VERSION = 1
VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)  # autograd_conformance.verdict is the one definition
FAILING: tuple[str, ...] = tuple(v.value for v in Verdict if v.fails_test)
EXEC_PATHS = ("eager", "compile", "func", "function")  # autograd_conformance.execution.PATHS, without importing torch


class ResultsError(ValueError):
    """A results file this package cannot read; the message names the file (and line) and what is wrong."""


class UnreadableResultsError(ResultsError):
    """An empty file, or one whose only line is torn: skipped with a warning, its column marked incomplete."""


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


def results_filename(label: str, device: str, path: str, worker: str | None = None, shard: str | None = None) -> str:
    """``<label>-<device>-<path>[.<shard>][.<worker>].jsonl`` (shard: ``shard2of4``, autograd_conformance.reports.sharding)."""
    stem = f"{label}-{device}-{path}" + (f".{shard}" if shard else "")
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
    collected: int | None = None,
    workers: int | None = None,
    shard: dict[str, Any] | None = None,
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
        **({"collected": collected} if collected is not None else {}),
        **({"workers": workers} if workers is not None else {}),
        **({"shard": shard} if shard is not None else {}),
        "started": now(),
        "status": status,
        "reason": reason,
    }


class ResultsWriter:
    """Appends records to one JSONL file, flushing after each line.

    One writer per file: the writer holds an exclusive lock on it (released when it
    closes or its process dies), and a second writer, say a second run with the same
    label into the same folder, is refused with ResultsError before it truncates anything.
    """

    def __init__(self, path: Path, run: dict[str, Any]) -> None:
        self.path = path
        self.run = run
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResultsError(
                f"{path}: another run is writing this results file; wait for it, or give this run its own "
                "--results-label or --results-dir"
            ) from None
        os.ftruncate(fd, 0)
        self._fh: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
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


# pytest's exit statuses (pytest.ExitCode) that mean the run went through every test it collected.
FINISHED_EXIT_STATUSES = {0: "all passed", 1: "some tests failed"}
EXIT_STATUS_NAMES = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


@dataclass
class Run:
    """One column of the matrix: a run, possibly spread over several worker files."""

    info: dict[str, Any]
    results: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    ended: str | None = None
    problems: list[str] = field(default_factory=list)  # why the run is incomplete; empty when it finished

    @property
    def key(self) -> str:
        return column_key(self.info["label"], self.info.get("device", "cpu"), self.info.get("path", "eager"))

    @property
    def complete(self) -> bool:
        return not self.problems


@dataclass
class ResultsFile:
    path: Path
    run: dict[str, Any]
    results: list[dict[str, Any]]
    end: dict[str, Any] | None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (the writer writes non-finite numbers as null)")


def _parse(line: str) -> Any:
    return json.loads(line, parse_constant=_reject_constant)


def read_file(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]], dict[str, Any] | None]:
    """(run record, result records, run_end record) of one file; see ``read``."""
    contents = read(path)
    return contents.run, contents.results, contents.end


def read(path: Path) -> ResultsFile:
    """One results file, every record checked against ``autograd_conformance/reports/schema.json``.

    A torn last line (a kill mid-write) is skipped with a warning.  Anything else this
    package does not understand raises ResultsError naming ``file:line``: a gate must
    never pass what it cannot read.  An empty file, or one whose only line is torn,
    raises UnreadableResultsError.
    """
    from .schema import validate

    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(
            f"{path}: not UTF-8 text (byte {exc.start}): is this a results file written by reports?"
        ) from None
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise UnreadableResultsError(f"{path}: empty results file (the run was killed before its first record)")
    run: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    results: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = _parse(line)
        except ValueError as exc:
            if number == len(lines) and isinstance(exc, json.JSONDecodeError):
                warnings.warn(f"{where}: skipping a torn last line (the run was killed mid-write)", stacklevel=2)
                continue
            raise ResultsError(
                f"{where}: not a valid results line ({exc}); is this a results file written by reports?"
            ) from None
        if number == 1 and isinstance(record, dict) and record.get("kind") == "run":
            if record.get("schema") != SCHEMA_VERSION:
                raise ResultsError(
                    f"{where}: results schema {record.get('schema')!r}, this reports package reads "
                    f"schema {SCHEMA_VERSION}; regenerate the results with this checkout"
                )
        validate(record, where=where)
        kind = record["kind"]
        if kind == "run":
            if run is not None:
                raise ResultsError(f"{where}: a second run record (the first is on line 1): two runs wrote this file")
            run = record
        elif run is None:
            raise ResultsError(
                f"{where}: a {kind} record before the run record; is this a results file written by reports?"
            )
        elif record["run_id"] != run["run_id"]:
            raise ResultsError(
                f"{where}: run_id {record['run_id']!r} differs from the file's run {run['run_id']!r}: two runs wrote this file"
            )
        elif kind == "result":
            results.append(record)
        else:
            end = record
    if run is None:
        raise UnreadableResultsError(f"{path}: its only line is torn (the run was killed during its first write)")
    return ResultsFile(path=path, run=run, results=results, end=end)


def column_of_filename(path: Path) -> dict[str, str] | None:
    """label, device and path from ``<label>-<device>-<path>[.<worker>].jsonl``, or None if it is not such a name."""
    stem = path.name.removesuffix(".jsonl")
    head, _, worker = stem.rpartition(".")
    if head and worker.startswith("gw") and worker[2:].isdigit():
        stem = head
    head, _, shard = stem.rpartition(".")
    if head and shard.startswith("shard"):
        stem = head
    parts = stem.rsplit("-", 2)
    return dict(zip(("label", "device", "path"), parts, strict=True)) if len(parts) == 3 else None


def _problems(files: list[ResultsFile], results: list[dict[str, Any]]) -> list[str]:
    """Why a run did not finish, or [] when it did.

    The run's lead file (a single-process run's only file, or the xdist controller's)
    must end with a run_end whose pytest exit status says every test ran (0 or 1).
    Where a run has no lead file, every worker file must.  And every conformance test
    the run collected must have a result: a worker that died takes its test with it.
    """
    if files[0].run.get("status") == "not_run":
        return []
    leads = [f for f in files if f.run.get("worker") is None] or files
    problems = []
    for lead in leads:
        if lead.end is None:
            problems.append(f"{lead.path} has no run_end: the run crashed or was killed")
            continue
        status = lead.end.get("exitstatus")
        empty_shard = status == 5 and "shard" in lead.run and not lead.run.get("collected")  # nothing of it selected
        if status is not None and status not in FINISHED_EXIT_STATUSES and not empty_shard:
            name = EXIT_STATUS_NAMES.get(status, "unknown")
            problems.append(f"{lead.path}: pytest ended with exit status {status} ({name})")
    collected = max((f.run.get("collected") or 0 for f in files), default=0)
    arrived = len({r["test_id"] for r in results})
    if arrived < collected:
        problems.append(f"{collected - arrived} of the {collected} collected conformance tests have no result")
    return problems


def load(paths: list[Path]) -> list[Run]:
    """Merge results files into runs, one per column; the latest started run of each column wins.

    An empty file, or one torn on its first line, is skipped with a warning, and its
    column (from the file name) is marked incomplete.
    """
    by_id: dict[str, list[ResultsFile]] = {}
    unreadable: list[tuple[Path, str]] = []
    for path in sorted(paths):
        try:
            contents = read(path)
        except UnreadableResultsError as exc:
            warnings.warn(f"{exc}; skipping it and marking its column incomplete", stacklevel=2)
            unreadable.append((path, str(exc)))
            continue
        by_id.setdefault(contents.run["run_id"], []).append(contents)
    runs = []
    for files in by_id.values():
        shards = [f.run["shard"] for f in files if "shard" in f.run]
        info = {**files[0].run, "shard": max(shards, key=len)} if shards else files[0].run  # a worker's has the plan
        run = Run(info=info, files=[str(f.path) for f in files])
        for contents in files:
            run.results.extend(contents.results)
        run.problems = _problems(files, run.results)
        ends = [f.end["ended"] for f in files if f.end is not None]
        run.ended = max(ends) if ends else None
        runs.append(run)
    latest: dict[str, Run] = {}
    for run in merge_shards(runs):
        current = latest.get(run.key)
        if current is None or run.info["started"] > current.info["started"]:
            latest[run.key] = run
    for path, why in unreadable:
        column = column_of_filename(path) or {"label": path.name, "device": "cpu", "path": "eager"}
        run = latest.get(column_key(column["label"], column["device"], column["path"]))
        if run is None:
            info = {**column, "run_id": "", "started": "", "status": "ran", "reason": None}
            run = latest[column_key(column["label"], column["device"], column["path"])] = Run(info=info)
        run.files.append(str(path))
        run.problems.append(why)
    return sorted(latest.values(), key=lambda r: _column_sort_key(r.info))


def merge_shards(runs: list[Run]) -> list[Run]:
    """The shards of one plan (``--shard K/N``, autograd_conformance.reports.sharding) as one run; other runs as they are.

    Where a shard ran more than once, its latest run counts.  A shard with no run leaves its
    cells ``not_run`` and the merged run incomplete, so a missing shard is never a pass.
    """
    out: list[Run] = []
    plans: dict[tuple[str, str], dict[int, Run]] = {}
    for run in runs:
        shard = run.info.get("shard")
        if not shard or "plan" not in shard:
            out.append(run)
            continue
        parts = plans.setdefault((run.key, shard["plan"]), {})
        if shard["index"] not in parts or run.info["started"] > parts[shard["index"]].info["started"]:
            parts[shard["index"]] = run
    for parts in plans.values():
        first = min(parts.values(), key=lambda r: r.info["started"])
        shard = first.info["shard"]
        info = {**first.info, "shard": {"count": shard["count"], "plan": shard["plan"], "ran": sorted(parts)}}
        merged = Run(info=info)
        for index in range(1, shard["count"] + 1):
            part = parts.get(index)
            if part is None:
                cells = shard["cells"].get(str(index), [])
                merged.problems.append(f"shard {index}/{shard['count']} has no results ({len(cells)} tests not run)")
                merged.results.extend(
                    _not_run(first, cell, family, test_id, index, shard["count"]) for cell, family, test_id in cells
                )
                continue
            merged.files.extend(part.files)
            merged.results.extend(part.results)
            merged.problems.extend(f"shard {index}/{shard['count']}: {p}" for p in part.problems)
        ends = [part.ended for part in parts.values() if part.ended]
        merged.ended = max(ends) if len(ends) == len(parts) else None
        out.append(merged)
    return out


def _not_run(run: Run, cell: str, family: str, test_id: str, index: int, count: int) -> dict[str, Any]:
    prop, op, dtype = cell.split("/")
    return {
        "kind": "result", "run_id": run.info["run_id"], "cell": cell, "test_id": test_id, "property": prop,
        "op": op, "family": family, "dtype": dtype, "device": run.info.get("device", "cpu"),
        "path": run.info.get("path", "eager"), "verdict": "not_run", "known": False, "baseline": None,
        "counts": {}, "worst_ratio": None, "worst_error": None, "worst_tol": None, "examples": 0, "duration_s": 0.0,
        "message": f"shard {index}/{count} did not run: none of its results files was among those merged",
        "repro": None,
    }  # fmt: skip


def _version_key(label: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for chunk in label.replace("-", ".").split("."):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return tuple(parts)


def _column_sort_key(info: dict[str, Any]) -> tuple[Any, ...]:
    return (_version_key(info["label"]), info.get("device", ""), info.get("path", ""))
