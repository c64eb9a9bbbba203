"""How sharp is the suite?  Planted faults must be killed, unpatched torch must raise no false alarm.

    python -m tests.sharpness [--faults a,b] [--seeds 20] [--jobs 2] [--fault-seed 0] [--profile default]

**Kill rate and attribution.**  Each fault of ``tests/faults`` runs in its own pytest
process (``-p tests.faults.plugin --plant-fault NAME``: installed for the whole
session), ``-x``, ``--no-baseline``, with a fixed ``--hypothesis-seed`` so the
figures reproduce.  A gradient fault runs a selection of the gradient suites: the
cells of the registry ops whose template calls the patched API (every property,
both dtypes: ``-k "[sin- or tree"``) followed by every random-tree cell.  Running
the whole suite once per fault would take hours on two cores; the selection is
where the fault can show, and everything else is the unpatched suite measured by
the false-alarm runs.  A semantics fault runs its own target tests.  A fault is
*killed* when the run stops on a FAIL verdict; it is *attributed* when that FAIL
comes from one of the fault's allowed properties (an ERROR, a crash of the suite,
is neither).

**Detection cost.**  Hypothesis examples and seconds from the first test's start to
the first failing example, over the whole selection in run order (cells that
passed before count), without the shrinking that follows (``--fault-stats``).

**False alarms.**  Unpatched torch, default profile, ``--hypothesis-seed=N`` for
N = 1..S, each in a fresh directory (no example database carried between runs).
Running the whole suite S times does not fit on two cores, so each seeded run
takes a rotating share: every S-th cell of the per-op and semantics suites
(over S seeds each cell runs exactly once) plus one of the random-tree tests in
turn.  A false alarm is a FAIL or ERROR that the baseline
(``baselines/torch-<version>.txt``, ``autograd_conformance.reports.baseline``) does not list.

Figures go to ``results/sharpness.json``; the last line printed is
``sharpness: killed K/N, median examples to detect M, false alarms F in S seeded runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from autograd_conformance.reports.results import FAILING
from autograd_conformance.verdict import Verdict
from tests.helpers import ROOT, result_records, run_pytest

FAULT_TIMEOUT_S = 1800
ALARM_TIMEOUT_S = 3600
GRADIENT_SUITES = ("suites/test_gradients.py", "suites/test_trees.py")
TREE_SUITE = "suites/test_trees.py"


def fault_args(fault: Any) -> list[str]:
    """The pytest selection of one fault: its op cells and the tree cells, or its semantics tests."""
    from tests.faults import GradientFault

    if isinstance(fault, GradientFault):
        return [*(str(ROOT / t) for t in fault.tests), "-k", fault.keyword]
    return [str(ROOT / t) for t in fault.tests]


def run_fault(fault: Any, *, seed: int = 0, profile: str | None = None, workdir: Path | None = None) -> dict[str, Any]:
    """Run the suite's selection under ``fault``; return what killed it and at what cost."""
    from tests.faults import allowed_properties, issue_kind

    with tempfile.TemporaryDirectory(prefix=f"sharpness-{fault.name}-", dir=workdir) as tmp:
        tmp_path = Path(tmp)
        args = [
            *fault_args(fault),
            "-p", "tests.faults.plugin", "--plant-fault", fault.name, "--fault-stats", str(tmp_path / "stats.json"),
            "--results-dir", str(tmp_path / "results"), "--results-label", "sharpness", "--no-baseline",
            "-x", "-q", f"--hypothesis-seed={seed}",
            *([f"--hypothesis-profile={profile}"] if profile else []),
        ]  # fmt: skip
        started = time.perf_counter()
        proc = run_pytest(args, tmp_path, timeout=FAULT_TIMEOUT_S)
        wall = time.perf_counter() - started
        results = result_records(tmp_path / "results")
        stats_file = tmp_path / "stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.is_file() else {}
    failing = [r for r in results if r["verdict"] in FAILING]
    first = failing[0] if failing else None
    allowed = allowed_properties(fault)
    detected = stats.get("first_failure") or {}
    killed = first is not None and first["verdict"] == Verdict.FAIL
    return {
        "name": fault.name,
        "kind": fault.kind,
        "issue_kind": issue_kind(fault),
        "target": getattr(fault, "target", "") or "(semantics)",
        "property": fault.prop,
        "allowed": list(allowed),
        "seed": seed,
        "killed": killed,
        "attributed": killed and first["property"] in allowed,
        "verdict": first["verdict"] if first else None,
        "failing_cell": first["test_id"] if first else None,
        "failing_property": first["property"] if first else None,
        "failing_oracle": first.get("worst_oracle") if first else None,
        "message": (first["message"].splitlines() or [""])[0][:300] if first else None,
        "examples": detected.get("examples", first["examples"] if first else None),
        "examples_in_cell": detected.get("examples_in_test"),
        "seconds": detected.get("seconds", first["duration_s"] if first else None),
        "cells_run": len(results),
        "wall_s": round(wall, 1),
        "exit_status": proc.returncode,
        "output_tail": None if killed else (proc.stdout + proc.stderr)[-3000:],
    }


def _collect(paths: list[str], cwd: Path) -> list[str]:
    proc = run_pytest([*paths, "--collect-only", "-q"], cwd, timeout=600)
    ids = [line.strip() for line in proc.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    if not ids:
        raise SystemExit(f"collection found no tests:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return ids


def alarm_shares(node_ids: list[str], seeds: int) -> list[list[str]]:
    """Per seed: every seeds-th non-tree cell (each runs once over all seeds) and one tree test in turn."""
    trees = [n for n in node_ids if n.startswith(TREE_SUITE)]
    others = [n for n in node_ids if not n.startswith(TREE_SUITE)]
    return [others[i::seeds] + ([trees[i % len(trees)]] if trees else []) for i in range(seeds)]


def run_seed(seed: int, node_ids: list[str], workdir: Path | None = None) -> dict[str, Any]:
    from autograd_conformance.reports import baseline as baselines
    from autograd_conformance.reports.results import default_label

    label = default_label()
    known = baselines.load_for(ROOT / "baselines", label)
    with tempfile.TemporaryDirectory(prefix=f"sharpness-seed{seed}-", dir=workdir) as tmp:
        tmp_path = Path(tmp)
        args = [
            *(str(ROOT / n) for n in node_ids),
            "--results-dir",
            str(tmp_path / "results"),
            "-q",
            f"--hypothesis-seed={seed}",
        ]
        started = time.perf_counter()
        proc = run_pytest(args, tmp_path, timeout=ALARM_TIMEOUT_S)
        wall = time.perf_counter() - started
        results = result_records(tmp_path / "results")
    alarms = [
        {
            "seed": seed,
            "test_id": r["test_id"],
            "cell": r["cell"],
            "verdict": r["verdict"],
            "message": (r["message"].splitlines() or [""])[0][:500],
            "repro": r.get("repro"),
            "rerun": f"pytest '{r['test_id']}' --hypothesis-seed={seed}",
        }
        for r in results
        if r["verdict"] in FAILING
        and known.explain(r) is None
    ]
    complete = len(results) >= len(node_ids)
    return {
        "seed": seed,
        "cells": len(node_ids),
        "cells_recorded": len(results),
        "complete": complete,
        "alarms": alarms,
        "wall_s": round(wall, 1),
        "exit_status": proc.returncode,
        "output_tail": None if complete else (proc.stdout + proc.stderr)[-3000:],
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sharpness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default="", help="comma-separated fault names (default: the whole catalogue)")
    parser.add_argument("--seeds", type=int, default=20, help="seeded runs of unpatched torch (0: skip; default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="pytest processes at a time (default 2)")
    parser.add_argument("--fault-seed", type=int, default=0, help="--hypothesis-seed of the planted-fault runs")
    parser.add_argument("--out", default=str(ROOT / "results" / "sharpness.json"))
    opts = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from tests.faults import FAULTS, FAULTS_BY_NAME

    names = [n.strip() for n in opts.faults.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAULTS_BY_NAME]
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {', '.join(FAULTS_BY_NAME)}")
    faults = [FAULTS_BY_NAME[n] for n in names] if names else FAULTS
    started = time.perf_counter()

    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        fault_runs = list(pool.map(lambda f: run_fault(f, seed=opts.fault_seed), faults))
    for r in fault_runs:
        if r["killed"]:
            blame = "attributed" if r["attributed"] else f"NOT ATTRIBUTED (allowed: {', '.join(r['allowed'])})"
            print(
                f"{r['name']:28s} killed, {blame}: {r['failing_property']} [{r['failing_oracle']}] "
                f"{r['failing_cell']}, {r['examples']} examples, {r['seconds']} s"
            )
        elif r["verdict"] is None:  # say whether the run itself broke (a timeout, a crash) or every cell passed
            last = (r["output_tail"] or "").strip().splitlines()[-1:] or [""]
            print(f"{r['name']:28s} SURVIVED: no cell failed ({r['cells_run']} cells run, pytest exit "
                  f"{r['exit_status']}): {last[0][:200]}")  # fmt: skip
        else:
            print(f"{r['name']:28s} SURVIVED: first failure {r['verdict']} in {r['failing_cell']}: {r['message']}")

    seed_runs: list[dict[str, Any]] = []
    if opts.seeds > 0:
        with tempfile.TemporaryDirectory(prefix="sharpness-collect-") as tmp:
            # Not the modes issue 14 added: untriaged, they are out of the default run too (suites/test_gradients.py,
            # NEW_MODES), and their findings are not false alarms.
            new_modes = "not second_fwd and not second_rev and not third and not bfloat16 and not float16 and not autocast"
            node_ids = _collect([str(ROOT / "suites"), "-k", new_modes], Path(tmp))
        shares = alarm_shares(node_ids, opts.seeds)
        with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
            seed_runs = list(pool.map(lambda i: run_seed(i + 1, shares[i]), range(opts.seeds)))
        for s in seed_runs:
            print(
                f"seed {s['seed']:3d}: {s['cells_recorded']}/{s['cells']} cells, {len(s['alarms'])} alarms, {s['wall_s']} s"
            )
            for a in s["alarms"]:
                print(f"  FALSE ALARM {a['verdict'].upper()} {a['test_id']}: {a['message']}\n  rerun: {a['rerun']}")

    killed = [r for r in fault_runs if r["killed"]]
    examples = [r["examples"] for r in killed if r["examples"] is not None]
    seconds = [r["seconds"] for r in killed if r["seconds"] is not None]
    alarms = [a for s in seed_runs for a in s["alarms"]]
    summary = {
        "faults": len(fault_runs),
        "killed": len(killed),
        "attributed": sum(r["attributed"] for r in fault_runs),
        "survived": [r["name"] for r in fault_runs if not r["killed"]],
        "misattributed": [r["name"] for r in killed if not r["attributed"]],
        "median_examples": _median(examples),
        "worst_examples": max(examples, default=None),
        "median_seconds": _median(seconds),
        "worst_seconds": max(seconds, default=None),
        "seeded_runs": len(seed_runs),
        "incomplete_seeded_runs": [s["seed"] for s in seed_runs if not s["complete"]],
        "false_alarms": len(alarms),
        "false_alarm_fails": sum(a["verdict"] == Verdict.FAIL for a in alarms),
        "false_alarm_errors": sum(a["verdict"] == Verdict.ERROR for a in alarms),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    import torch

    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "torch": torch.__version__,
        "fault_seed": opts.fault_seed,
        "summary": summary,
        "faults": fault_runs,
        "seeded_runs": seed_runs,
    }
    out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

    print(
        f"attributed {summary['attributed']}/{summary['faults']}; examples to detect: median {summary['median_examples']}, "
        f"worst {summary['worst_examples']}; seconds: median {summary['median_seconds']}, worst {summary['worst_seconds']}; "
        f"false alarms: {summary['false_alarm_fails']} FAIL, {summary['false_alarm_errors']} ERROR; figures in {out}"
    )
    median = summary["median_examples"]
    print(
        f"sharpness: killed {summary['killed']}/{summary['faults']}, median examples to detect "
        f"{'n/a' if median is None else f'{median:g}'}, false alarms {summary['false_alarms']} in {len(seed_runs)} seeded runs"
    )
    ok = summary["killed"] == summary["faults"] and summary["attributed"] == summary["faults"] and not alarms
    return 0 if ok and not summary["incomplete_seeded_runs"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
