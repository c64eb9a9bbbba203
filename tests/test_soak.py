"""``python -m autograd_conformance.reports soak``: rounds under fresh seeds, unexplained failures deduplicated by signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograd_conformance.reports import results, soak
from autograd_conformance.reports.synthetic import result
from tests.helpers import run_reports


def _failure(cell_op: str, verdict: str = "fail", facts: dict | None = None) -> dict:
    import random

    record = result("r", "unary", "vjp", cell_op, "float64", verdict, random.Random(0))
    record["facts"] = facts
    return record


def test_a_signature_names_cell_column_verdict_comparison_and_decade() -> None:
    near = _failure("sinc", facts={"abs(at)": 3.2e-7, "oracle": "jax"})
    assert soak.signature(near) == "vjp/sinc/float64@cpu/eager fail vs jax at |x| ~ 1e-7"
    same_decade = _failure("sinc", facts={"abs(at)": 7.9e-7, "oracle": "jax"})
    assert soak.signature(same_decade) == soak.signature(near)
    assert soak.signature(_failure("sinc", facts={"abs(at)": 0.0, "oracle": "jax"})).endswith("at x = 0")
    assert soak.signature(_failure("sinc", facts={"oracle": "fd"})) == "vjp/sinc/float64@cpu/eager fail vs fd"


def test_rounds_are_counted_and_only_unexplained_failures_kept(tmp_path: Path) -> None:
    (tmp_path / "baselines").mkdir()
    (tmp_path / "baselines" / "torch-test.txt").write_text(
        "vjp/sinc/float64 where abs(at) < 1e-4 | cancels near 0 | https://x.invalid\n"
    )
    state = soak.Soak(out=tmp_path / "soak", label="torch-test", baseline_dir=tmp_path / "baselines")
    for seed, at in ((11, 1e-6), (12, 2.5), (13, 3.0)):
        folder = tmp_path / f"seed-{seed}"
        writer = results.ResultsWriter(folder / "torch-test-cpu-eager.jsonl", results.run_record(run_id="r", label="torch-test"))
        writer.write({**_failure("sinc", facts={"abs(at)": at, "oracle": "jax"}), "examples": 5})
        writer.write({**_failure("cos", verdict="pass"), "examples": 7})
        writer.close(exitstatus=1)
        state.seeds.append(seed)
        state.absorb(seed, folder)
    assert (state.cell_runs, state.examples, state.unexplained) == (6, 36, 2)
    (finding,) = state.findings.values()
    assert finding.signature == "vjp/sinc/float64@cpu/eager fail vs jax at |x| ~ 1e0" and finding.seeds == [12, 13]
    state.write(1.0)
    lines = [json.loads(line) for line in (tmp_path / "soak" / "findings.jsonl").read_text().splitlines()]
    assert [(f["signature"], f["hits"]) for f in lines] == [(finding.signature, 2)]
    assert state.last_line(1.0) == "soak: 3 seeds, 6 cell-runs, 36 examples in 1 min: 2 unexplained failures (1 distinct)"
    for seed in (11, 12, 13):  # rounds live in the soak's folder
        (tmp_path / f"seed-{seed}").rename(tmp_path / "soak" / f"seed-{seed}")
    # After triage (a wider scope), --rejudge judges the recorded facts again without running anything.
    (tmp_path / "baselines" / "torch-test.txt").write_text(
        "vjp/sinc/float64 where abs(at) < 10 | cancels near 0 | https://x.invalid\n"
    )
    assert soak.rejudge(tmp_path / "soak", label="torch-test", baseline_dir=tmp_path / "baselines") == 0
    summary = json.loads((tmp_path / "soak" / "summary.json").read_text())
    assert (summary["unexplained"], summary["cell_runs"]) == (0, 6)
    assert (tmp_path / "soak" / "findings.jsonl").read_text() == ""
    resumed = soak.resumed(tmp_path / "soak", summary, label="torch-test", baseline_dir=tmp_path / "baselines")
    assert (resumed.seeds, resumed.minutes, resumed.cell_runs) == ([11, 12, 13], 1.0, 6), "--resume carries the rounds on"


@pytest.mark.slow
def test_a_short_soak_finds_a_planted_fault_and_says_so_last(tmp_path: Path) -> None:
    # A minute: collecting the suite's 6,700 tests takes about 10 s alone, more on a busy machine.
    done = run_reports("soak", "--minutes", "1", "--out", str(tmp_path / "soak"), "--jobs", "0",
                       "--label", "torch-2.13.0", "-k", "test_vjp and [exp-float64]", "-p", "tests.faults.plugin",
                       "--plant-fault", "exp_tiny_relative")  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("soak: ") and " unexplained failures (1 distinct)" in last, done.stdout
    findings = [json.loads(line) for line in (tmp_path / "soak" / "findings.jsonl").read_text().splitlines()]
    assert findings[0]["signature"].startswith("vjp/exp/float64@cpu/eager fail vs jax")
    assert findings[0]["repro"] and "torch.exp" in findings[0]["repro"]
    summary = json.loads((tmp_path / "soak" / "summary.json").read_text())
    assert 1 <= summary["unexplained"] <= len(summary["seeds"])  # the round cut by the budget may not reach the cell
