"""``python -m autograd_conformance.reports gate``: new failures fail it, known ones do not, stale entries are listed."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from autograd_conformance.reports import results
from autograd_conformance.reports.synthetic import result
from tests.helpers import run_reports


def _results(path: Path, label: str, cells: dict[str, str], *, finished: bool = True) -> Path:
    rng = random.Random(0)
    run_id = results.new_run_id()
    writer = results.ResultsWriter(path, results.run_record(run_id=run_id, label=label))
    for op, verdict in cells.items():
        writer.write(result(run_id, "unary", "vjp", op, "float64", verdict, rng))
    if finished:
        writer.close()
    return path


def _gate(*args: str) -> subprocess.CompletedProcess[str]:
    return run_reports("gate", *args)


def test_known_failures_pass_the_gate_and_stale_entries_are_listed(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "torch-2.13.0.txt").write_text(
        "vjp/cos/float64 | known | https://x.invalid/1\nvjp/sin/float64 | fixed now? | https://x.invalid/2\n"
    )
    path = _results(tmp_path / "r.jsonl", "torch-2.13.0", {"sin": "pass", "cos": "fail"})
    gate = _gate(str(path), "--baseline-dir", str(tmp_path / "b"))
    assert gate.returncode == 0, gate.stdout
    assert "known fail: torch-2.13.0 cpu eager vjp/cos/float64" in gate.stdout
    assert "stale baseline entry:" in gate.stdout and "torch-2.13.0.txt:2: vjp/sin/float64 passed" in gate.stdout
    assert "gate passed: 0 new failures, 1 known, 1 stale" in gate.stdout


def test_new_failure_fails_the_gate_and_prints_its_repro(tmp_path: Path) -> None:
    path = _results(tmp_path / "r.jsonl", "torch-2.13.0", {"sin": "pass", "tan": "error"})
    gate = _gate(str(path), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert "NEW ERROR: torch-2.13.0 cpu eager vjp/tan/float64" in gate.stdout
    assert "torch.tan(x).sum().backward()" in gate.stdout
    assert "add them to baselines/<label>.txt" in gate.stdout


def test_each_label_uses_its_own_baseline(tmp_path: Path) -> None:
    (tmp_path / "torch-2.9.1.txt").write_text("vjp/cos/float64 | old bug | https://x.invalid/1\n")
    old = _results(tmp_path / "old.jsonl", "torch-2.9.1", {"cos": "fail"})
    new = _results(tmp_path / "new.jsonl", "torch-2.13.0", {"cos": "fail"})
    gate = _gate(str(old), str(new), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert "NEW FAIL: torch-2.13.0 cpu eager vjp/cos/float64" in gate.stdout
    assert "NEW FAIL: torch-2.9.1" not in gate.stdout


def test_not_run_columns_are_reported_not_failed(tmp_path: Path) -> None:
    out = tmp_path / "torch-2.4.1.jsonl"
    cli = run_reports("not-run", "--label", "torch-2.4.1", "--reason", "no wheel", "-o", str(out))
    assert cli.returncode == 0, cli.stderr
    run = results.read(out).run
    assert (run["status"], run["reason"], run["label"]) == ("not_run", "no wheel", "torch-2.4.1")
    ran = _results(tmp_path / "r.jsonl", "torch-2.13.0", {"sin": "pass"})
    gate = _gate(str(out), str(ran), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 0, gate.stdout
    assert "not run: torch-2.4.1 cpu eager: no wheel" in gate.stdout


def test_a_gate_where_nothing_ran_fails(tmp_path: Path) -> None:
    out = results.write_not_run(tmp_path / "torch-2.4.1.jsonl", label="torch-2.4.1", reason="no wheel")
    gate = _gate(str(out), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert "NOTHING RAN" in gate.stdout and "gate FAILED" in gate.stdout


def test_an_expected_column_that_did_not_run_fails_the_gate(tmp_path: Path) -> None:
    out = results.write_not_run(tmp_path / "torch-2.4.1.jsonl", label="torch-2.4.1", reason="failed to install")
    ran = _results(tmp_path / "r.jsonl", "torch-2.13.0", {"sin": "pass"})
    args = [str(out), str(ran), "--baseline-dir", str(tmp_path), "--expect", "torch-2.13.0"]
    assert _gate(*args).returncode == 0
    gate = _gate(*args, "--expect", "torch-2.4.1")
    assert gate.returncode == 1
    assert "MISSING: no column of torch-2.4.1 ran" in gate.stdout and "gate FAILED" in gate.stdout


def test_a_run_that_never_finished_fails_unless_allowed(tmp_path: Path) -> None:
    path = _results(tmp_path / "r.jsonl", "torch-2.13.0", {"sin": "pass"}, finished=False)
    gate = _gate(str(path), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert f"INCOMPLETE: torch-2.13.0 cpu eager: {path} has no run_end" in gate.stdout
    assert gate.stdout.splitlines()[-1].startswith("gate FAILED")
    assert _gate(str(path), "--baseline-dir", str(tmp_path), "--allow-incomplete").returncode == 0


def test_malformed_baseline_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "torch-2.13.0.txt").write_text("\n\nnot a line\n")
    path = _results(tmp_path / "r.jsonl", "torch-2.13.0", {"sin": "pass"})
    gate = _gate(str(path), "--baseline-dir", str(tmp_path))
    assert gate.returncode != 0
    assert f"{tmp_path.name}/torch-2.13.0.txt:3: malformed baseline line" in gate.stderr
