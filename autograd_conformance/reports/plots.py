"""Inline SVG plots: per op family, the distribution of worst error/tolerance of its cells, one lane per column.

The x axis is log10(error / tolerance) from 1e-8 to 1e2; the red line is 1,
where a comparison stops passing.  A family whose mass sits close to the line
runs near the edge of its tolerances.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

LO, HI = -8.0, 2.0
BINS = 40
WIDTH, LANE, LEFT, TOP, BOTTOM = 560, 26, 170, 8, 22


def _x(value: float) -> float:
    return LEFT + (value - LO) / (HI - LO) * (WIDTH - LEFT - 10)


def histogram(ratios: list[float]) -> list[int]:
    counts = [0] * BINS
    for ratio in ratios:
        exponent = math.log10(ratio) if ratio > 0 else LO
        clamped = min(max(exponent, LO), HI - 1e-9)
        counts[int((clamped - LO) / (HI - LO) * BINS)] += 1
    return counts


def family_svg(family: str, lanes: list[tuple[str, list[float]]]) -> str:
    """One family's plot: ``lanes`` is ``[(column label, [worst ratios])]``."""
    height = TOP + LANE * len(lanes) + BOTTOM
    bar_w = (WIDTH - LEFT - 10) / BINS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="error over tolerance, family {escape(family)}">'
    ]
    for lane, (label, ratios) in enumerate(lanes):
        y0 = TOP + lane * LANE
        counts = histogram(ratios)
        peak = max(counts) or 1
        parts.append(
            f'<text x="{LEFT - 6}" y="{y0 + LANE / 2 + 4:.1f}" text-anchor="end" class="lane">'
            f"{escape(label)} ({len(ratios)})</text>"
        )
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y0 + LANE - 2}" y2="{y0 + LANE - 2}" class="base"/>')
        for i, count in enumerate(counts):
            if count:
                h = (LANE - 4) * count / peak
                over = LO + (i + 0.5) * (HI - LO) / BINS >= 0
                parts.append(
                    f'<rect x="{LEFT + i * bar_w:.1f}" y="{y0 + LANE - 2 - h:.1f}" width="{bar_w - 1:.1f}" '
                    f'height="{h:.1f}" class="{"over" if over else "under"}"><title>{count} cells</title></rect>'
                )
    axis_y = TOP + LANE * len(lanes)
    for exponent in range(int(LO), int(HI) + 1, 2):
        x = _x(exponent)
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 15}" text-anchor="middle" class="tick">1e{exponent}</text>')
    parts.append(f'<line x1="{_x(0):.1f}" x2="{_x(0):.1f}" y1="{TOP}" y2="{axis_y}" class="edge"/>')
    parts.append("</svg>")
    return "".join(parts)


def family_plots(
    columns: list[dict[str, Any]], rows: list[list[Any]], cells: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """``[{"family": name, "svg": markup}]`` for every family with at least one measured ratio."""
    by_family: dict[str, list[list[float]]] = {}
    for family, _prop, _op, _dtype, _changed, refs in rows:
        lanes = by_family.setdefault(family, [[] for _ in columns])
        for col, ref in enumerate(refs):
            if ref >= 0 and cells[ref]["r"] is not None:
                lanes[col].append(cells[ref]["r"])
    plots = []
    for family in sorted(by_family):
        lanes = [(columns[i]["key"], ratios) for i, ratios in enumerate(by_family[family]) if ratios]
        if lanes:
            plots.append({"family": family, "svg": family_svg(family, lanes)})
    return plots
