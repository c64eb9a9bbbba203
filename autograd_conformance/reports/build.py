"""Render results into one self-contained HTML file (Jinja2; CSS, JS, SVG and data inlined; no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from . import model, plots
from .results import VERDICTS, Run, now

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def script_json(data: Any) -> str:
    """JSON that is safe inside <script>: no ``<``, so no ``</script>`` or ``<!--`` can end it early."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def measured(paths: list[Path]) -> list[dict[str, str]]:
    """The suite's own measured figures (bench, sharpness, soak, OpInfo coverage: ``results/*.json``) as report lines."""
    lines = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a figures file ({exc}); rerun `nox -s bench` or `nox -s sharpness`") from None
        if "suite_ex_per_s" in data:
            text = (
                f"trees: suite {data['suite_ex_per_s']:.0f} ex/s, gradcheck {data['gradcheck_ex_per_s']:.0f} ex/s, "
                f"fast gradcheck {data['fast_gradcheck_ex_per_s']:.0f} ex/s, ratio {data['ratio_vs_gradcheck']:.2f}, "
                f"peak RSS {data['peak_rss_mb']:.0f} MB"
            )
            if "second_order_ex_per_s" in data:
                text += (
                    f"; second order {data['second_order_ex_per_s']:.0f} ex/s, gradgradcheck "
                    f"{data['gradgradcheck_ex_per_s']:.0f} ex/s, ratio {data['ratio_second_order_vs_gradgradcheck']:.2f}"
                )
            if "suite_run_examples" in data:
                text += (
                    f"; ci-profile suite: {data['suite_run_examples']} examples in "
                    f"{data['suite_run_wall_s'] / 60:.1f} min on {data['suite_run_workers']} workers"
                )
            lines.append({"what": "speed (nox -s bench)", "text": text, "where": f"torch {data.get('torch', '?')}"})
        elif "summary" in data:
            s = data["summary"]
            text = (
                f"killed {s['killed']}/{s['faults']} planted faults ({s['attributed']} by the property they target), "
                f"median {s['median_examples']} examples to detect, false alarms {s['false_alarms']} "
                f"in {s['seeded_runs']} seeded runs"
            )
            lines.append({"what": "sharpness (nox -s sharpness)", "text": text, "where": f"torch {data.get('torch', '?')}"})
        elif "coverage" in data:
            c = data["coverage"]
            uncovered = sum(len(keys) for keys in data["uncovered"].values())
            text = (
                f"{c['covered']}/{c['total']} differentiable OpInfos ({c['percent']:.1f}%); "
                f"{uncovered} uncovered, {len(data['excluded'])} excluded with a reason"
            )
            lines.append({"what": "OpInfo coverage (nox -s coverage)", "text": text, "where": f"torch {data['torch']}"})
        elif "cell_runs" in data:
            text = (
                f"{len(data['seeds'])} seeds, {data['cell_runs']} cell-runs, {data['examples']} examples in "
                f"{data['minutes']:.0f} min: {data['unexplained']} unexplained failures ({data['distinct']} distinct)"
            )
            lines.append({"what": "soak (nox -s soak)", "text": text, "where": data["label"]})
        else:
            raise ValueError(f"{path}: neither bench, sharpness, soak nor coverage figures")
    return lines


def soak_findings(paths: list[Path]) -> list[dict[str, Any]]:
    """The unexplained failures a soak found (``findings.jsonl`` beside its ``summary.json``), for the report."""
    found: list[dict[str, Any]] = []
    for path in paths:
        findings = path.parent / "findings.jsonl"
        if path.name != "summary.json" or not findings.is_file():
            continue
        for number, line in enumerate(findings.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                found.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{findings}:{number}: not a findings line ({exc}); rerun `nox -s soak`") from None
    return found


def context(
    runs: list[Run], *, compare: list[Run] | None = None, title: str = "Autograd conformance",
    figures: list[Path] | None = None,
) -> dict[str, Any]:
    columns = [model.column(run) for run in runs]
    rows, cells = model.matrix(runs)
    data = {"columns": columns, "rows": rows, "cells": cells, "verdicts": list(VERDICTS)}
    return {
        "title": title,
        "generated": now(),
        "columns": columns,
        "verdicts": VERDICTS,
        "families": sorted({row[0] for row in rows}),
        "properties": sorted({row[1] for row in rows}),
        "row_count": len(rows),
        "changed_count": sum(row[4] for row in rows),
        "plots": plots.family_plots(columns, rows, cells),
        "diff": model.diff(compare, runs) if compare is not None else None,
        "measured": measured(figures or []),
        "findings": soak_findings(figures or []),
        "data_json": script_json(data),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "js": (TEMPLATES / "report.js").read_text(encoding="utf-8"),
    }


def render(
    runs: list[Run], *, compare: list[Run] | None = None, baseline_dir: Path | None = None,
    figures: list[Path] | None = None,
) -> str:
    model.apply_baselines(runs, baseline_dir)
    if compare is not None:
        model.apply_baselines(compare, baseline_dir)
    env = _environment()
    return env.get_template("report.html.j2").render(**context(runs, compare=compare, figures=figures))


def build(
    runs: list[Run], out: Path, *, compare: list[Run] | None = None, baseline_dir: Path | None = None,
    figures: list[Path] | None = None,
) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(runs, compare=compare, baseline_dir=baseline_dir, figures=figures), encoding="utf-8")
    return out
