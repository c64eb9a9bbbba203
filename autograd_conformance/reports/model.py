"""The report's data: columns with scores, matrix rows, the cross-version flag and the diff of two result sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograd_conformance.verdict import Verdict, severity

from . import baseline as baselines
from .results import FAILING, VERDICTS, Run

PASSING = tuple(v.value for v in Verdict if v.decided and not v.fails_test)  # pass, convention


def _short(value: str | None, limit: int) -> str:
    value = value or ""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def apply_baselines(runs: list[Run], baseline_dir: Path | None) -> None:
    """Re-mark known failures from the current baseline files (a baseline edit then needs no re-run)."""
    if baseline_dir is None:
        return
    for run in runs:
        base = baselines.load_for(baseline_dir, run.info["label"])
        for result in run.results:
            entry = base.explain(result)
            result["known"] = entry is not None
            result["baseline"] = entry.describe() if entry else None


def column(run: Run) -> dict[str, Any]:
    info = run.info
    totals = {v: 0 for v in VERDICTS}
    known = 0
    for result in run.results:
        totals[result["verdict"]] += 1
        known += bool(result["verdict"] in FAILING and result.get("known"))
    decided = sum(totals[v] for v in (*PASSING, *FAILING))
    score = round(100.0 * sum(totals[v] for v in PASSING) / decided, 1) if decided else None
    failing = sum(totals[v] for v in FAILING)
    examples = sum(r.get("examples") or 0 for r in run.results if "decided" in r)
    decided_examples = sum(r.get("decided") or 0 for r in run.results)
    return {
        "key": run.key,
        "label": info["label"],
        "device": info.get("device", "cpu"),
        "path": info.get("path", "eager"),
        "status": info.get("status", "ran"),
        "reason": info.get("reason"),
        "complete": run.complete,
        "problems": list(run.problems),
        "versions": {k: info.get(k) for k in ("torch", "jax", "hypothesis", "python")},
        "profile": info.get("profile"),
        "seed": info.get("seed"),
        "started": info.get("started"),
        "ended": run.ended,
        "totals": totals,
        "score": score,
        "known": known,
        "new": failing - known,
        "decided_share": round(100.0 * decided_examples / examples, 1) if examples else None,
        "weak": weak_cells(run),
    }


def weak_cells(run: Run) -> list[dict[str, Any]]:
    """Cells at least half of whose examples no oracle decided (the BLIND ones among them), worst first."""
    weak = []
    for r in run.results:
        if r.get("examples") and "decided" in r and r["decided"] <= r["examples"] / 2:
            weak.append({"cell": r["cell"], "decided": r["decided"], "examples": r["examples"],
                         "verdict": r["verdict"], "reason": r.get("undecided_reason") or ""})  # fmt: skip
    return sorted(weak, key=lambda w: (w["decided"] / w["examples"], w["cell"]))


def _cell(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "v": result["verdict"],
        "k": bool(result.get("known")),
        "n": result.get("counts") or {},
        "r": result.get("worst_ratio"),
        "e": result.get("worst_error"),
        "t": result.get("worst_tol"),
        "o": result.get("worst_oracle"),
        "x": result.get("examples", 0),
        "s": result.get("duration_s", 0),
        "m": _short(result.get("message"), 2000),
        "p": result.get("repro"),
        "id": result.get("test_id"),
        "b": result.get("baseline"),
        "f": result.get("facts"),  # the failing example's facts, what a scoped baseline entry matches
        "ke": result.get("known_examples", 0),
    }


def _worse(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return a if severity(a["verdict"]) <= severity(b["verdict"]) else b


def matrix(runs: list[Run]) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """Rows ``[family, property, op, dtype, changed, [cell index or -1 per column]]`` and the cells."""
    index: dict[tuple[str, str, str, str], dict[int, dict[str, Any]]] = {}
    for col, run in enumerate(runs):
        for result in run.results:
            key = (result["family"], result["property"], result["op"], result["dtype"])
            slot = index.setdefault(key, {})
            slot[col] = _worse(slot[col], result) if col in slot else result
    rows: list[list[Any]] = []
    cells: list[dict[str, Any]] = []
    axes = [(run.info.get("device"), run.info.get("path")) for run in runs]
    for key in sorted(index):
        slot = index[key]
        refs = []
        for col in range(len(runs)):
            if col in slot:
                refs.append(len(cells))
                cells.append(_cell(slot[col]))
            else:
                refs.append(-1)
        rows.append([*key, int(_changed(slot, axes)), refs])
    return rows, cells


def _changed(slot: dict[int, dict[str, Any]], axes: list[tuple[Any, Any]]) -> bool:
    """Whether the verdict changes in a way that matters between columns of the same device and path
    (across versions): pass, convention, fail, error and blind.  An inconclusive cell decided nothing
    and a not-run cell ran nothing, so an inconclusive <-> pass flip (two draws) is not a change."""
    seen: dict[tuple[Any, Any], set[str]] = {}
    for col, result in slot.items():
        verdict = Verdict(result["verdict"])
        if verdict.decided or verdict.fails_test:
            seen.setdefault(axes[col], set()).add(verdict.value)
    return any(len(verdicts) > 1 for verdicts in seen.values())


def _by_axes(runs: list[Run]) -> dict[tuple[Any, Any], list[Run]]:
    grouped: dict[tuple[Any, Any], list[Run]] = {}
    for run in runs:
        grouped.setdefault((run.info.get("device"), run.info.get("path")), []).append(run)
    return grouped


def diff(old: list[Run], new: list[Run], limit: int = 500) -> dict[str, Any]:
    """Regressed, fixed, new, gone and otherwise changed cells between two result sets.

    Columns pair up by label, device and path.  Where exactly one column of a
    device and path is left unpaired on each side (two torch versions, say), those
    two are compared.
    """

    def by_key(runs: list[Run]) -> dict[str, dict[str, dict[str, Any]]]:
        return {run.key: {r["cell"]: r for r in run.results} for run in runs if run.info.get("status") != "not_run"}

    old_cols, new_cols = by_key(old), by_key(new)
    partners = {key: key for key in new_cols if key in old_cols}
    spare_old = _by_axes([r for r in old if r.key in old_cols and r.key not in partners])
    spare_new = _by_axes([r for r in new if r.key in new_cols and r.key not in partners])
    for axes, news in spare_new.items():
        olds = spare_old.get(axes, [])
        if len(news) == 1 and len(olds) == 1:
            partners[news[0].key] = olds[0].key
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in ("regressed", "fixed", "new", "gone", "changed")}
    for run in new:
        if run.key not in new_cols:
            continue
        partner = partners.get(run.key)
        before, after = old_cols.get(partner, {}) if partner else {}, new_cols[run.key]
        for cell in sorted(set(before) | set(after)):
            a, b = before.get(cell), after.get(cell)
            item = {
                "column": run.key,
                "against": partner,
                "cell": cell,
                "old": a["verdict"] if a else None,
                "new": b["verdict"] if b else None,
                "message": _short((b or a or {}).get("message"), 300),
                "repro": (b or {}).get("repro"),
            }
            if a is None:
                groups["new"].append(item)
            elif b is None:
                groups["gone"].append(item)
            elif b["verdict"] in FAILING and a["verdict"] not in FAILING:
                groups["regressed"].append(item)
            elif a["verdict"] in FAILING and b["verdict"] not in FAILING:
                groups["fixed"].append(item)
            elif a["verdict"] != b["verdict"]:
                groups["changed"].append(item)
    return {name: {"count": len(items), "items": items[:limit]} for name, items in groups.items()}
