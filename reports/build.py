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


def context(
    runs: list[Run], *, compare: list[Run] | None = None, title: str = "Autograd conformance"
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
        "data_json": script_json(data),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "js": (TEMPLATES / "report.js").read_text(encoding="utf-8"),
    }


def render(runs: list[Run], *, compare: list[Run] | None = None, baseline_dir: Path | None = None) -> str:
    model.apply_baselines(runs, baseline_dir)
    if compare is not None:
        model.apply_baselines(compare, baseline_dir)
    env = _environment()
    return env.get_template("report.html.j2").render(**context(runs, compare=compare))


def build(runs: list[Run], out: Path, *, compare: list[Run] | None = None, baseline_dir: Path | None = None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(runs, compare=compare, baseline_dir=baseline_dir), encoding="utf-8")
    return out
