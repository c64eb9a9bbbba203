"""The gate over results files: any FAIL or ERROR cell not in its label's baseline fails it.

``python -m autograd_conformance.reports gate results/*.jsonl --baseline-dir baselines`` re-applies
the current baseline files (so a baseline edit needs no re-run), prints each new
failure with its repro, lists stale baseline entries, and exits 1 on a new
failure, on a run that did not finish (killed, interrupted, or missing some of the
tests it collected), on a results file it cannot read, and on a column it was asked
about (``--expect torch-2.9.1``) that has no run, or when no column ran at all: it
fails closed, never passing what it could not check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import baseline as baselines
from . import catalog
from .results import FAILING, Run


@dataclass
class GateReport:
    new: list[tuple[Run, dict[str, Any]]] = field(default_factory=list)
    known: list[tuple[Run, dict[str, Any], baselines.Entry]] = field(default_factory=list)
    stale: list[tuple[Run, baselines.Entry]] = field(default_factory=list)
    not_run: list[Run] = field(default_factory=list)
    incomplete: list[Run] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # expected labels with no column that ran
    ran: int = 0  # columns that ran
    allow_incomplete: bool = False

    def ok(self) -> bool:
        return not self.new and not self.missing and self.ran > 0 and (self.allow_incomplete or not self.incomplete)


def check(runs: list[Run], baseline_dir: Path, *, expect: Sequence[str] = (), allow_incomplete: bool = False) -> GateReport:
    """Apply each label's baseline; ``expect`` lists labels that must have a column that ran."""
    report = GateReport(allow_incomplete=allow_incomplete)
    known_cells = catalog.load() if catalog.CATALOG_FILE.is_file() else None
    ran_labels = {run.info["label"] for run in runs if run.info.get("status") != "not_run"}
    report.missing = [label for label in expect if label not in ran_labels]
    report.ran = sum(run.info.get("status") != "not_run" for run in runs)
    for run in runs:
        if run.info.get("status") == "not_run":
            report.not_run.append(run)
            continue
        if not run.complete:
            report.incomplete.append(run)
        base = baselines.load_for(baseline_dir, run.info["label"], catalog=known_cells)
        ran: set[baselines.Entry] = set()  # entries with a cell that ran
        used: set[baselines.Entry] = set()  # entries that explained a failure
        for result in run.results:
            if result["verdict"] != "not_run":
                where = {k: result[k] for k in ("cell", "device", "path", "test_id")}
                ran.update(e for e in base.entries if e.matches(**where))
            if result["verdict"] not in FAILING:
                continue
            entry = base.explain(result)
            if entry is None:
                report.new.append((run, result))
            else:
                report.known.append((run, result, entry))
                used.add(entry)
        report.stale.extend((run, entry) for entry in base.entries if entry in ran and entry not in used)
    return report


def print_report(report: GateReport, out: TextIO) -> None:
    for run in report.not_run:
        print(f"not run: {run.key}: {run.info.get('reason')}", file=out)
    for run in report.incomplete:
        print(f"INCOMPLETE: {run.key}: {'; '.join(run.problems)}; rerun it", file=out)
    for label in report.missing:
        print(f"MISSING: no column of {label} ran (it was expected: --expect {label}); see `not run` above", file=out)
    if report.ran == 0:
        print("NOTHING RAN: every column is `not run`; the gate cannot pass what was never checked", file=out)
    for run, result, entry in report.known:
        print(f"known {result['verdict']}: {run.key} {result['cell']} ({entry.describe()})", file=out)
    for run, entry in report.stale:
        if entry.whole_cell:
            advice = f"passed on {run.key}; remove it once it passes reliably"
        else:
            advice = f"no failing example in its scope ({entry.scope}) on {run.key}; remove it once its repro passes"
        print(f"stale baseline entry: {entry.where}: {entry.id} {advice}", file=out)
    for run, result in report.new:
        print(f"NEW {result['verdict'].upper()}: {run.key} {result['cell']} ({result['test_id']})", file=out)
        if result.get("message"):
            print(f"  {result['message'].splitlines()[0]}", file=out)
        if result.get("facts"):
            print(f"  facts: {', '.join(f'{k}={v}' for k, v in result['facts'].items())}", file=out)
        if result.get("repro"):
            print("  repro:", file=out)
            for line in result["repro"].splitlines():
                print(f"    {line}", file=out)
    verdict = "passed" if report.ok() else "FAILED"
    print(
        f"gate {verdict}: {len(report.new)} new failures, {len(report.known)} known, "
        f"{len(report.stale)} stale baseline entries, {len(report.not_run)} columns not run, "
        f"{len(report.incomplete)} incomplete{' (allowed)' if report.allow_incomplete and report.incomplete else ''}, "
        f"{len(report.missing)} expected columns missing",
        file=out,
    )
    if report.new:
        print(
            "Fix the new failures, or add them to baselines/<label>.txt as `cell [where <scope>] | reason | link` "
            "(autograd_conformance/reports/baseline.py: a scope on the facts above keeps the rest of the cell checked).",
            file=out,
        )
