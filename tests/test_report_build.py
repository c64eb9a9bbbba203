"""The HTML report: self-contained, fast with 20,000 rows, cross-version flags, diff, not-run columns."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from autograd_conformance.reports import build, model, results
from autograd_conformance.reports.synthetic import result, write_synthetic
from tests.helpers import ROOT, run_reports


def _data(html: str) -> dict:
    blob = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    assert blob, "the report inlines its data"
    return json.loads(blob.group(1))


def _write(path: Path, label: str, cells: dict[str, str]) -> Path:
    """A results file with the given {op: verdict} cells of property vjp, float64."""
    import random

    rng = random.Random(0)
    run_id = results.new_run_id()
    writer = results.ResultsWriter(path, results.run_record(run_id=run_id, label=label))
    for op, verdict in cells.items():
        writer.write(result(run_id, "unary", "vjp", op, "float64", verdict, rng))
    writer.close()
    return path


def test_report_is_self_contained_and_escapes_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", "torch-2.13.0", {"sin": "pass", "cos": "fail"})
    text = path.read_text().replace("differs from the oracle", "</script><script>alert(1)</script>")
    path.write_text(text)
    html = build.render(results.load([path]))
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html), "no network: nothing loads from a URL"
    assert "<link" not in html and "@import" not in html
    assert "alert(1)</script>" not in html, "data cannot close the script element"
    data = _data(html)
    assert "</script><script>alert(1)" in json.dumps(data)
    assert [c["label"] for c in data["columns"]] == ["torch-2.13.0"]
    assert data["columns"][0]["score"] == 50.0


def test_versions_are_columns_and_changed_rows_stand_out(tmp_path: Path) -> None:
    old = _write(tmp_path / "old.jsonl", "torch-2.9.1", {"sin": "pass", "cos": "fail", "tan": "pass"})
    new = _write(tmp_path / "new.jsonl", "torch-2.13.0", {"sin": "pass", "cos": "pass", "tan": "pass"})
    data = _data(build.render(results.load([new, old])))
    assert [c["label"] for c in data["columns"]] == ["torch-2.9.1", "torch-2.13.0"], "versions sort numerically"
    changed = {row[2]: row[4] for row in data["rows"]}
    assert changed == {"cos": 1, "sin": 0, "tan": 0}


def test_only_changes_that_matter_count_as_changed_across_versions(tmp_path: Path) -> None:
    """pass <-> fail and convention <-> fail matter; an inconclusive <-> pass flip is two draws, not a change."""
    old = {"a": "pass", "b": "convention", "c": "inconclusive", "d": "pass", "e": "not_run", "f": "error"}
    new = {"a": "fail", "b": "fail", "c": "pass", "d": "inconclusive", "e": "pass", "f": "fail"}
    html = build.render(results.load([_write(tmp_path / "o.jsonl", "torch-2.9.1", old),
                                      _write(tmp_path / "n.jsonl", "torch-2.13.0", new)]))  # fmt: skip
    changed = {row[2]: row[4] for row in _data(html)["rows"]}
    assert changed == {"a": 1, "b": 1, "c": 0, "d": 0, "e": 0, "f": 1}


def test_not_run_column_carries_its_reason(tmp_path: Path) -> None:
    ran = _write(tmp_path / "ran.jsonl", "torch-2.13.0", {"sin": "pass"})
    skipped = results.write_not_run(tmp_path / "nr.jsonl", label="torch-2.4.1", reason="torch 2.4.1 failed to install")
    html = build.render(results.load([ran, skipped]))
    columns = {c["label"]: c for c in _data(html)["columns"]}
    assert columns["torch-2.4.1"]["status"] == "not_run"
    assert "torch 2.4.1 failed to install" in html


def test_diff_sorts_cells_into_regressed_fixed_new_gone(tmp_path: Path) -> None:
    old = _write(tmp_path / "old.jsonl", "torch-2.13.0", {"a": "pass", "b": "fail", "c": "pass", "gone": "pass"})
    new = _write(tmp_path / "new.jsonl", "torch-2.13.0", {"a": "fail", "b": "pass", "c": "convention", "fresh": "pass"})
    diff = model.diff(results.load([old]), results.load([new]))
    cells = {name: [i["cell"] for i in group["items"]] for name, group in diff.items()}
    assert cells == {
        "regressed": ["vjp/a/float64"],
        "fixed": ["vjp/b/float64"],
        "new": ["vjp/fresh/float64"],
        "gone": ["vjp/gone/float64"],
        "changed": ["vjp/c/float64"],
    }


def test_latest_run_of_a_column_wins(tmp_path: Path) -> None:
    _write(tmp_path / "first.jsonl", "torch-2.13.0", {"a": "fail"})
    time.sleep(0.01)
    _write(tmp_path / "second.jsonl", "torch-2.13.0", {"a": "pass"})
    (run,) = results.load(sorted(tmp_path.glob("*.jsonl")))
    assert [r["verdict"] for r in run.results] == ["pass"]


def test_torn_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", "torch-2.13.0", {"a": "pass", "b": "pass"})
    lines = path.read_text().splitlines()[:-1]  # drop run_end: the run was killed
    path.write_text("\n".join(lines) + '\n{"kind":"result","run_id":')
    with pytest.warns(UserWarning, match="torn last line"):
        (run,) = results.load([path])
    assert not run.complete and len(run.results) == 2


def test_20000_rows_page_lazily(tmp_path: Path) -> None:
    """The build's speed is measured by `nox -s bench` (autograd_conformance.bench.report_build_seconds), not here."""
    paths = [
        write_synthetic(tmp_path, rows=20_000),
        write_synthetic(tmp_path, rows=20_000, label="torch-2.9.1", seed=1),
    ]
    out = build.build(results.load(paths), tmp_path / "index.html")
    html = out.read_text()
    assert len(_data(html)["rows"]) == 20_000
    assert html.count("<tr") < 200, "rows are rendered by JS a page at a time, not as 20,000 <tr> elements"


def test_family_plots_are_inline_svg(tmp_path: Path) -> None:
    html = build.render(results.load([write_synthetic(tmp_path, rows=200)]))
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="plot"') == 6
    assert 'class="edge"' in html, "the plots mark where error reaches tolerance"


def test_build_cli_writes_the_report_and_prints_its_path(tmp_path: Path) -> None:
    path = write_synthetic(tmp_path, rows=100)
    old = write_synthetic(tmp_path / "old", rows=100, seed=2, flip=0.2)
    out = tmp_path / "html" / "index.html"
    cli = run_reports(
        "build", str(path), "-o", str(out), "--compare", str(old), "--baseline-dir", str(ROOT / "baselines")
    )
    assert cli.returncode == 0, cli.stderr
    assert f"report: {out.resolve()}" in cli.stdout
    assert 'id="diff"' in out.read_text()


def test_build_cli_explains_missing_results(tmp_path: Path) -> None:
    cli = run_reports("build", str(tmp_path / "nope.jsonl"))
    assert cli.returncode != 0
    assert "results files not found" in cli.stderr and "nox -s conformance" in cli.stderr


def test_measured_speed_and_sharpness_figures_are_shown(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", "torch-2.13.0", {"sin": "pass"})
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({
        "suite_ex_per_s": 412.0, "gradcheck_ex_per_s": 300.0, "fast_gradcheck_ex_per_s": 420.0,
        "ratio_vs_gradcheck": 1.37, "peak_rss_mb": 700.0, "torch": "2.13.0",
        "suite_run_examples": 21142, "suite_run_wall_s": 231.0, "suite_run_workers": 2,
        "second_order_ex_per_s": 180.0, "gradgradcheck_ex_per_s": 45.0, "ratio_second_order_vs_gradgradcheck": 4.0,
    }))  # fmt: skip
    sharp = tmp_path / "sharpness.json"
    sharp.write_text(json.dumps({"torch": "2.13.0", "summary": {
        "faults": 31, "killed": 31, "attributed": 31, "median_examples": 3, "false_alarms": 0, "seeded_runs": 20,
    }}))  # fmt: skip
    html = build.render(results.load([path]), figures=[bench, sharp, tmp_path / "absent.json"])
    assert "suite 412 ex/s, gradcheck 300 ex/s" in html and "21142 examples in 3.9 min on 2 workers" in html
    assert "second order 180 ex/s, gradgradcheck 45 ex/s, ratio 4.00" in html
    assert "killed 31/31 planted faults" in html and "false alarms 0 in 20 seeded runs" in html
    soak = tmp_path / "soak" / "summary.json"
    soak.parent.mkdir()
    soak.write_text(json.dumps({"label": "torch-2.13.0", "seeds": [7, 8], "cell_runs": 3000, "examples": 70000,
                                "minutes": 60.2, "unexplained": 1, "distinct": 1, "broken_rounds": []}))  # fmt: skip
    finding = {"kind": "finding", "signature": "vjp/sinc/float64@cpu/eager fail vs jax at |x| ~ 1e-7", "seeds": [8],
               "message": "torch gives 1, jax gives 2", "repro": "print('<b>repro</b>')", "hits": 1}  # fmt: skip
    (soak.parent / "findings.jsonl").write_text(json.dumps(finding) + "\n")
    html = build.render(results.load([path]), figures=[soak])
    assert "2 seeds, 3000 cell-runs, 70000 examples in 60 min: 1 unexplained failures (1 distinct)" in html
    assert "1 unexplained soak findings" in html and "vjp/sinc/float64@cpu/eager fail vs jax at |x| ~ 1e-7" in html
    assert "&lt;b&gt;repro&lt;/b&gt;" in html, "a repro is escaped"
    coverage = tmp_path / "coverage-torch-2.13.0.json"
    coverage.write_text(json.dumps({"torch": "2.13.0", "coverage": {"covered": 1, "total": 3, "percent": 33.3},
                                    "uncovered": {"torch": ["cos"], "fft": ["fft.fft"]}, "excluded": {}}))  # fmt: skip
    html = build.render(results.load([path]), figures=[coverage])
    assert "OpInfo coverage" in html and "1/3 differentiable OpInfos (33.3%); 2 uncovered, 0 excluded" in html
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a figures file"):
        build.render(results.load([path]), figures=[bad])
