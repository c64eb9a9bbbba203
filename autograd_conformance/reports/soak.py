"""``python -m autograd_conformance.reports soak --minutes N``: the suite again and again under fresh random seeds, for a time budget.

Each round is the README's first command in small: ``pytest suites -m "not slow"`` at the
``default`` Hypothesis profile with a new ``--hypothesis-seed``, its results in
``<out>/seed-<S>/``.  Every failure its label's baseline does not explain
(``autograd_conformance.reports.baseline``) is unexplained; they go to ``<out>/findings.jsonl``, one line per
distinct signature (cell, verdict, the comparison that failed, and the order of magnitude
of the input where it failed), with the seeds that hit it, its message, its facts and
the minimal repro Hypothesis shrank to.  ``python -m autograd_conformance.reports build --findings`` shows them.
The round running when the budget ends is interrupted (its finished cells count).

This is how the false-alarm rate is measured beyond the derandomized ``ci`` draw, and how
a user hunts for new bugs.  The last line printed is

    soak: S seeds, C cell-runs, E examples in M min: U unexplained failures (K distinct)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import baseline as baselines
from .results import FAILING, default_label, load

ROOT = Path(__file__).resolve().parents[2]
GRACE_S = 60  # after the budget: how long an interrupted round may take to write its last results


@dataclass
class Finding:
    signature: str
    cell: str
    verdict: str
    message: str
    facts: dict[str, Any] | None
    repro: str | None
    test_id: str
    seeds: list[int] = field(default_factory=list)

    def line(self) -> dict[str, Any]:
        return {"kind": "finding", **self.__dict__, "hits": len(self.seeds)}


def signature(result: dict[str, Any]) -> str:
    """What makes two failures the same finding: cell, column, verdict, comparison, and where (|x| to a decade)."""
    facts = result.get("facts") or {}
    where = facts.get("abs(at)")
    region = f" at |x| ~ 1e{math.floor(math.log10(where))}" if isinstance(where, float) and where > 0 else ""
    region = " at x = 0" if where == 0 else region
    oracle = facts.get("oracle") or result.get("worst_oracle") or "?"
    return f"{result['cell']}@{result['device']}/{result['path']} {result['verdict']} vs {oracle}{region}"


@dataclass
class Soak:
    out: Path
    label: str
    baseline_dir: Path
    seeds: list[int] = field(default_factory=list)
    minutes: float = 0.0  # spent by earlier sessions of this soak (--resume)
    cell_runs: int = 0
    examples: int = 0
    unexplained: int = 0
    broken: list[str] = field(default_factory=list)  # rounds that ended other than pass, fail or our interrupt
    findings: dict[str, Finding] = field(default_factory=dict)
    _baseline: baselines.Baseline | None = None

    def absorb(self, seed: int, folder: Path) -> None:
        """Count one round's results and keep its unexplained failures."""
        files = sorted(folder.glob("*.jsonl"))
        if not files:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an interrupted round's torn last line is expected
            runs = load(files)
        base = self.baseline()
        for run in runs:
            for result in run.results:
                if result["verdict"] == "not_run":
                    continue
                self.cell_runs += 1
                self.examples += int(result.get("examples") or 0)
                if result["verdict"] in FAILING and base.explain(result) is None:
                    self.unexplained += 1
                    self._keep(seed, result)

    def baseline(self) -> baselines.Baseline:
        """The label's baseline as first read: an edit during a long soak (triage) cannot break it;
        ``--rejudge`` applies the edited one afterwards."""
        if self._baseline is None:
            self._baseline = baselines.load_for(self.baseline_dir, self.label)
        return self._baseline

    def _keep(self, seed: int, result: dict[str, Any]) -> None:
        key = signature(result)
        finding = self.findings.get(key)
        if finding is None:
            finding = self.findings[key] = Finding(
                key, result["cell"], result["verdict"], result.get("message", ""), result.get("facts"),
                result.get("repro"), result["test_id"],
            )  # fmt: skip
        finding.seeds.append(seed)

    def write(self, minutes: float) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        with (self.out / "findings.jsonl").open("w", encoding="utf-8") as f:
            for finding in self.findings.values():
                f.write(json.dumps(finding.line()) + "\n")
        summary = {
            "label": self.label, "seeds": self.seeds, "cell_runs": self.cell_runs, "examples": self.examples,
            "minutes": round(minutes, 1), "unexplained": self.unexplained, "distinct": len(self.findings),
            "broken_rounds": self.broken,
        }  # fmt: skip
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    def last_line(self, minutes: float) -> str:
        return (
            f"soak: {len(self.seeds)} seeds, {self.cell_runs} cell-runs, {self.examples} examples in {minutes:.0f} min: "
            f"{self.unexplained} unexplained failures ({len(self.findings)} distinct)"
        )


def run_round(seed: int, folder: Path, *, label: str, jobs: str, deadline: float, pytest_args: list[str]) -> int | None:
    """One round; interrupted (SIGINT, then SIGKILL after GRACE_S) at ``deadline``. Its exit status, None if cut."""
    command = [
        sys.executable, "-m", "pytest", "suites", "-m", "not slow", "-n", jobs, "--dist", "loadgroup",
        "-p", "no:cacheprovider", "-q", "--no-header", f"--hypothesis-seed={seed}",
        "--results-dir", str(folder), "--results-label", label, *pytest_args,
    ]  # fmt: skip
    env = {**os.environ, "CONFORMANCE_PROFILE": os.environ.get("CONFORMANCE_PROFILE", "default")}
    log = (folder / "pytest.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=hear_sigint,
    )  # fmt: skip
    try:
        return process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return None
    except BaseException:  # the soak itself interrupted (Ctrl-C): take the round's workers with it
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    finally:
        log.close()


def hear_sigint() -> None:
    """In a child, before it starts: let SIGINT interrupt it even when the soak was started in the
    background (``nohup soak &``), which ignores SIGINT and passes that on; the round's pytest would
    then run past the budget until the SIGKILL, and lose the results it was writing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def report(soak: Soak, minutes: float) -> int:
    soak.write(minutes)
    for finding in soak.findings.values():
        first = finding.message.splitlines()[0] if finding.message else ""
        print(f"UNEXPLAINED {finding.signature} (seeds {', '.join(map(str, finding.seeds))}): {first}")
    for problem in soak.broken:
        print(f"BROKEN ROUND {problem}")
    print(f"findings: {soak.out / 'findings.jsonl'}")
    print(soak.last_line(minutes))
    return 1 if soak.unexplained or soak.broken else 0


def rejudge(out: Path, *, label: str, baseline_dir: Path) -> int:
    """The soak in ``out`` judged again: its rounds' recorded facts against the baselines as they are now."""
    summary_file = out / "summary.json"
    if not summary_file.is_file():
        raise SystemExit(f"error: {summary_file} not found: --rejudge needs the folder of an earlier soak (--out)")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    try:
        soak = resumed(out, summary, label=label, baseline_dir=baseline_dir)
    except baselines.BaselineError as exc:
        raise SystemExit(f"error: {exc}") from None
    return report(soak, soak.minutes)


def resumed(out: Path, summary: dict[str, Any], *, label: str, baseline_dir: Path) -> Soak:
    """The soak recorded in ``out`` (its ``summary.json``), its rounds judged against the current baselines."""
    soak = Soak(out=out, label=summary.get("label", label), baseline_dir=baseline_dir, broken=summary["broken_rounds"],
                minutes=summary["minutes"])  # fmt: skip
    for seed in summary["seeds"]:
        soak.seeds.append(seed)
        soak.absorb(seed, out / f"seed-{seed}")
    return soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd_conformance.reports soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=None, help="time budget; the round running at its end is cut")
    parser.add_argument("--out", default="results/soak", help="folder for the rounds, findings.jsonl and summary.json")
    parser.add_argument("--label", default=None, help="results label (default: torch-<installed version>)")
    parser.add_argument("--baseline-dir", default="baselines", help="known failures (default: baselines)")
    parser.add_argument("--jobs", default="auto", help="pytest-xdist workers per round (default: auto)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds to run first (default: fresh random ones)")
    parser.add_argument(
        "--rejudge", action="store_true",
        help="run nothing: judge the rounds already in --out again against the current baselines (after triage)",
    )  # fmt: skip
    parser.add_argument("--resume", action="store_true", help="add rounds to the soak already in --out")
    args, pytest_args = parser.parse_known_args(argv)
    label = args.label or default_label()
    out = Path(args.out)
    if args.rejudge:
        return rejudge(out, label=label, baseline_dir=Path(args.baseline_dir))
    if args.minutes is None:
        parser.error("--minutes is required (or --rejudge)")
    try:
        if args.resume and (out / "summary.json").is_file():
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            soak = resumed(out, summary, label=label, baseline_dir=Path(args.baseline_dir))
        elif out.exists() and any(out.glob("seed-*")):
            raise SystemExit(f"error: {out} holds an earlier soak; pass --resume to add rounds, or another --out")
        else:
            soak = Soak(out=out, label=label, baseline_dir=Path(args.baseline_dir))
        soak.baseline()  # a malformed baseline fails now, not after an hour
    except baselines.BaselineError as exc:
        raise SystemExit(f"error: {exc}") from None
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the running round too (see run_round)
    queued = [int(s) for s in args.seeds.split(",")] if args.seeds else []
    start = time.monotonic()
    deadline = start + args.minutes * 60
    while time.monotonic() < deadline - 5:
        seed = queued.pop(0) if queued else secrets.randbits(32)
        folder = out / f"seed-{seed}"
        folder.mkdir(parents=True)
        print(f"soak: seed {seed} ({(deadline - time.monotonic()) / 60:.1f} min left)", flush=True)
        status = run_round(seed, folder, label=soak.label, jobs=args.jobs, deadline=deadline, pytest_args=pytest_args)
        soak.seeds.append(seed)
        if status not in (0, 1, None):
            soak.broken.append(f"seed {seed}: pytest exited {status} (see {folder / 'pytest.log'})")
        soak.absorb(seed, folder)
        soak.write(soak.minutes + (time.monotonic() - start) / 60)
    return report(soak, soak.minutes + (time.monotonic() - start) / 60)
