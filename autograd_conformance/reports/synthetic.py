"""Synthetic results for the project's tests and for trying the report: ``write_synthetic(dir, rows=20000)``."""

from __future__ import annotations

import random
from pathlib import Path

from .results import FAILING, VERDICTS, ResultsWriter, new_run_id, results_filename, run_record

FAMILIES = ("unary", "binary", "reduction", "linalg", "special", "trees")
PROPERTIES = ("vjp", "jvp", "hvp", "fd", "jax")
DTYPES = ("float64", "float32")
_WEIGHTS = {"pass": 80, "convention": 4, "inconclusive": 6, "fail": 6, "error": 2, "blind": 1, "not_run": 2}
VERDICT_WEIGHTS = {verdict: _WEIGHTS[verdict] for verdict in VERDICTS}  # a KeyError if a verdict is added


def result(
    run_id: str,
    family: str,
    prop: str,
    op: str,
    dtype: str,
    verdict: str,
    rng: random.Random,
    *,
    device: str = "cpu",
    path: str = "eager",
) -> dict[str, object]:
    failing = verdict in FAILING
    ratio = rng.uniform(1.2, 50.0) if failing else 10 ** rng.uniform(-7, -0.05)
    tol = 1e-7 if dtype == "float64" else 1e-4
    examples = 0 if verdict == "not_run" else rng.randint(1, 25)
    return {
        "kind": "result",
        "run_id": run_id,
        "cell": f"{prop}/{op}/{dtype}",
        "test_id": f"suites/test_{prop}.py::test_{prop}[{op}-{dtype}]",
        "property": prop,
        "op": op,
        "family": family,
        "dtype": dtype,
        "device": device,
        "path": path,
        "verdict": verdict,
        "known": False,
        "baseline": None,
        "counts": {} if verdict == "not_run" else {verdict: examples},
        "worst_ratio": None if verdict == "not_run" else ratio,
        "worst_error": None if verdict == "not_run" else ratio * tol,
        "worst_tol": None if verdict == "not_run" else tol,
        "worst_oracle": "fd",
        "examples": examples,
        "duration_s": round(rng.uniform(0.01, 2.0), 3),
        "message": "skipped: no CUDA device"
        if verdict == "not_run"
        else (f"gradient of {op} differs from the oracle: error {ratio * tol:.3g} > tol {tol:.3g}" if failing else ""),
        "repro": (
            f"import torch\nx = torch.tensor([0.5], dtype=torch.{dtype}, requires_grad=True)\n"
            f"torch.{op}(x).sum().backward()\nprint(x.grad)  # {prop} expected differently\n"
        )
        if failing
        else None,
    }


def write_synthetic(
    directory: Path,
    *,
    rows: int = 200,
    label: str = "torch-2.13.0",
    seed: int = 0,
    device: str = "cpu",
    path: str = "eager",
    flip: float = 0.0,
) -> Path:
    """A finished results file with about ``rows`` cells; ``flip`` changes that share of verdicts (a 2nd version)."""
    rng = random.Random(seed)
    run_id = new_run_id()
    writer = ResultsWriter(
        directory / results_filename(label, device, path),
        run_record(run_id=run_id, label=label, device=device, path=path, profile="ci"),
    )
    verdicts, weights = zip(*VERDICT_WEIGHTS.items(), strict=True)
    per = max(1, rows // (len(PROPERTIES) * len(DTYPES)))
    count = 0
    for i in range(per):
        family = FAMILIES[i % len(FAMILIES)]
        op = f"op{i:05d}"
        for prop in PROPERTIES:
            for dtype in DTYPES:
                cell_rng = random.Random(f"{i}/{prop}/{dtype}")
                verdict = cell_rng.choices(verdicts, weights)[0]
                if flip and rng.random() < flip:
                    verdict = rng.choice(["pass", "fail"])
                writer.write(result(run_id, family, prop, op, dtype, verdict, rng, device=device, path=path))
                count += 1
    writer.close(exitstatus=0)
    return writer.path
