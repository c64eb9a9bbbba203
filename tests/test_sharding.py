"""Sharding (autograd_conformance/reports/sharding.py): a run split with --shard K/N merges back into the same column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograd_conformance.reports import results, sharding
from autograd_conformance.reports.sharding import Shard, plan
from tests.helpers import ROOT, run_pytest, run_reports

# Four ops, two properties each: small enough to run five times, and every op its own xdist group.
SELECTION = [
    str(ROOT / "suites" / "test_gradients.py::test_vjp"), str(ROOT / "suites" / "test_gradients.py::test_jvp"),
    "-k", "[sin- or [exp- or [tanh- or [sigmoid-", "--hypothesis-profile=ci", "-q",
]  # fmt: skip


def test_shard_parses_k_of_n_and_names_the_bad_part() -> None:
    assert Shard.parse("2/4") == Shard(2, 4) and Shard.parse("2/4").suffix == "shard2of4"
    for bad in ("0/4", "5/4", "2", "a/4", "2/"):
        with pytest.raises(ValueError, match=rf"--shard '{bad}': expected K/N"):
            Shard.parse(bad)


def test_plan_keeps_groups_whole_and_balances_by_weight() -> None:
    weights = {"a": 10.0, "b": 6.0, "c": 5.0, "d": 4.0, "e": 1.0}
    groups = plan(weights, 2)
    loads = [sum(w for g, w in weights.items() if groups[g] == k) for k in (1, 2)]
    # longest first, each to the lightest shard: a=10 | b=6, c=5 -> 11 | d=4 to 1 -> 14 | e=1 to 2 -> 12
    assert sorted(loads) == [12.0, 14.0], "longest-processing-time first: within 4/3 of the best split (13, 13)"
    assert groups["a"] != groups["b"] == groups["c"]
    assert plan(dict(reversed(weights.items())), 2) == groups, "the plan does not depend on the collection order"
    assert set(plan(weights, 8).values()) == {1, 2, 3, 4, 5}, "more shards than groups: some stay empty"


def test_a_malformed_durations_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "durations.json"
    bad.write_text('{"a": "slow"}')
    with pytest.raises(ValueError, match="durations.json: expected a JSON object of test id -> seconds"):
        sharding.load_durations(bad)
    assert sharding.load_durations(tmp_path / "absent.json") == {}


def _cells(runs: list[results.Run]) -> dict[str, str]:
    (run,) = runs
    return {r["test_id"]: r["verdict"] for r in run.results}


def test_four_shards_merge_into_the_unsharded_verdicts_and_a_missing_shard_is_not_run(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    proc = run_pytest([*SELECTION, "--results-dir", str(whole), "--no-baseline"], tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    expected = _cells(results.load(sorted(whole.glob("*.jsonl"))))
    assert len(expected) >= 8

    for k in range(1, 5):  # four processes, as on four machines: each its own results folder
        shard = tmp_path / f"shard{k}"
        proc = run_pytest([*SELECTION, "--results-dir", str(shard), "--no-baseline", "--shard", f"{k}/4"], tmp_path,
                          timeout=900)  # fmt: skip
        assert proc.returncode in (0, 5), proc.stdout[-3000:]
    files = sorted(tmp_path.glob("shard*/*.jsonl"))
    assert [f.name.rsplit(".", 2)[1] for f in files] == [f"shard{k}of4" for k in range(1, 5)], "a file per shard"
    runs = results.load(files)
    assert _cells(runs) == expected, "the merged shards give the unsharded run's verdicts, test for test"
    assert runs[0].complete and runs[0].info["shard"]["ran"] == [1, 2, 3, 4]
    plans = [json.loads(f.read_text().splitlines()[0])["shard"] for f in files]
    assert len({p["plan"] for p in plans}) == 1, "every shard computed the same plan"

    missing = [f for f in files if ".shard3of4" not in f.name]
    (run,) = results.load(missing)
    lost = plans[0]["cells"]["3"]
    assert not run.complete and any("shard 3/4 has no results" in p for p in run.problems)
    assert {r["test_id"] for r in run.results if r["verdict"] == "not_run"} == {test_id for _, _, test_id in lost}
    assert len(run.results) == len(expected), "a missing shard's cells are listed, never a silent gap"
    gate = run_reports("gate", *map(str, missing), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1 and "shard 3/4 has no results" in gate.stdout, gate.stdout


def test_durations_are_written_from_results(tmp_path: Path) -> None:
    run_id = results.new_run_id()
    path = tmp_path / "torch-2.13.0-cpu-eager.jsonl"
    writer = results.ResultsWriter(path, results.run_record(run_id=run_id, label="torch-2.13.0"))
    base = {"kind": "result", "run_id": run_id, "property": "vjp", "op": "sin", "family": "unary", "dtype": "float64",
            "device": "cpu", "path": "eager", "known": False, "counts": {}, "worst_ratio": None, "worst_error": None,
            "worst_tol": None, "examples": 1, "message": "", "repro": None}  # fmt: skip
    writer.write({**base, "cell": "vjp/sin/float64", "test_id": "t::a", "verdict": "pass", "duration_s": 1.25})
    writer.write({**base, "cell": "jvp/sin/float64", "test_id": "t::b", "verdict": "not_run", "duration_s": 0.0})
    writer.close(exitstatus=0)
    out = tmp_path / "durations.json"
    proc = run_reports("durations", str(path), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == {"t::a": 1.25}, "skipped tests have no duration to learn from"
