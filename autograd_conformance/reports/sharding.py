"""Shards: one run of the suite spread over machines, merged back into one column.

    pytest suites --shard 2/4                 # the second of four shards
    python -m nox -s conformance -- --shard 2/4

Every shard collects the whole selection and computes the same plan, so shards need no
coordinator: the tests of one ``xdist_group`` (one op: its JAX programs compile on one worker
only) stay together, and groups go to shards by longest first, each to the lightest shard so
far (``plan``), weighed by the durations a results file measured (``suites/durations.json``,
written by ``python -m autograd_conformance.reports durations results/*.jsonl``).  A test without a measured duration
weighs the median.

Each shard writes ``<label>-<device>-<path>.shard<K>of<N>[.<worker>].jsonl``; its run record
carries the shard and the whole plan, so ``autograd_conformance.reports.results.load`` merges the shards of a plan
into one column, and lists the cells of a shard that is missing as ``not_run`` (an incomplete
run: the gate fails it), never as a silent gap.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DURATIONS = Path(__file__).resolve().parents[2] / "suites" / "durations.json"


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, sep, count = text.partition("/")
        if not (sep and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
            raise ValueError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. --shard 2/4")
        return cls(int(index), int(count))

    @property
    def suffix(self) -> str:
        return f"shard{self.index}of{self.count}"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def plan(weights: dict[str, float], count: int) -> dict[str, int]:
    """Each group's shard (1-based): heaviest group first, each to the lightest shard so far (ties: lowest)."""
    loads = [0.0] * count
    out: dict[str, int] = {}
    for group, weight in sorted(weights.items(), key=lambda gw: (-gw[1], gw[0])):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        loads[lightest] += weight
        out[group] = lightest + 1
    return out


def load_durations(path: Path = DURATIONS) -> dict[str, float]:
    """test id -> seconds; an absent file weighs every test alike."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(
            f"{path}: not a durations file ({exc}); rewrite it with `python -m autograd_conformance.reports durations`"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        raise ValueError(
            f"{path}: expected a JSON object of test id -> seconds; rewrite it with `python -m autograd_conformance.reports durations`"
        )
    return {str(k): float(v) for k, v in data.items()}


def durations_from_results(results: list[dict[str, Any]]) -> dict[str, float]:
    """test id -> its measured seconds (the longest, where a test ran more than once)."""
    out: dict[str, float] = {}
    for result in results:
        out[result["test_id"]] = max(out.get(result["test_id"], 0.0), round(float(result["duration_s"]), 3))
    return dict(sorted(out.items()))


def group_of(item: Any) -> str:
    marker = item.get_closest_marker("xdist_group")
    if marker is not None and marker.args:
        return f"group:{marker.args[0]}"
    return item.nodeid


def assign(items: list[Any], shard: Shard, durations: dict[str, float]) -> tuple[list[Any], list[Any], dict[str, int]]:
    """(this shard's items, the others, the plan: group -> shard)."""
    fallback = statistics.median(durations.values()) if durations else 1.0
    weights: dict[str, float] = {}
    for item in items:
        group = group_of(item)
        weights[group] = weights.get(group, 0.0) + durations.get(item.nodeid, fallback)
    groups = plan(weights, shard.count)
    mine = [item for item in items if groups[group_of(item)] == shard.index]
    others = [item for item in items if groups[group_of(item)] != shard.index]
    return mine, others, groups


def record(shard: Shard, cells_by_shard: dict[int, list[list[str]]]) -> dict[str, Any]:
    """The run record's ``shard``: which one this is, and every shard's cells ([cell, family, test id])."""
    cells = {str(k): sorted(v, key=lambda c: c[2]) for k, v in sorted(cells_by_shard.items())}
    digest = hashlib.sha256(json.dumps([shard.count, cells], separators=(",", ":")).encode()).hexdigest()[:16]
    return {"index": shard.index, "count": shard.count, "plan": digest, "cells": cells}
