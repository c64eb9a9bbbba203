"""Throughput benchmark: the suite's full check against torch.autograd.gradcheck on the same trees.

    python -m autograd_conformance.bench [--trees 200] [--suite] [--workers 2] [--out results/bench.json]

A fixed, seeded set of expression trees (1 to 8 ops, inputs up to 64 elements)
is drawn once.  On each tree we time:

* the suite's full check -- torch reverse mode and forward mode, against JAX and
  finite differences, plus the dot-product identity (``vjp_matches_oracles`` and
  ``jvp_matches_oracles``);
* ``torch.autograd.gradcheck`` in slow mode and in ``fast_mode=True``.

Second order gets the same comparison on its own fixed trees (ops with double backward):
the suite's double-backward check against JAX (``second_order_matches_jax``) against
``torch.autograd.gradgradcheck``, slow and fast.

The suite is timed twice: cold (first sight of each op and shape: JAX traces and
compiles) and warm (the steady state a long run lives in).  The ratio uses warm.

``--suite`` first runs the whole suite as CI does (``pytest suites -m "not slow"``,
``ci`` profile, ``--workers`` xdist workers) and counts the examples it checked
from its results file; the JAX compilation cache is whatever ``.cache/jax`` holds
(``--cold`` empties it first).

The report build is timed too: two synthetic versions of 20,000 cells each (``autograd_conformance.reports.synthetic``), target
under 20 seconds (it was a timed project test, which a loaded CI machine failed at 29.5 s).

The last two lines printed are the summaries: first order against gradcheck, second order
against gradgradcheck (``bench: second order X ex/s, gradgradcheck Y ex/s, ratio R2``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance import checks
from autograd_conformance.example import Example
from autograd_conformance.jaxsetup import CACHE_DIR, JAX_VERSION
from autograd_conformance.reports import build, results
from autograd_conformance.reports.results import read_file
from autograd_conformance.reports.synthetic import write_synthetic
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_example
from autograd_conformance.strategies.trees import draw_tree


def fixed_trees(n: int, *, second: bool = False) -> list[Example]:
    """``n`` trees, the same ones on every run (derandomized Hypothesis generation); ``second``: trees of ops
    with double backward, each example given second-order seeds w (seeded, so fixed too)."""
    out: list[Example] = []
    ops = [
        op
        for op in __import__("autograd_conformance.strategies.trees", fromlist=["TREE_OPS"]).TREE_OPS
        if (op.double_backward if second else op.forward_ad)
    ]

    @settings(
        max_examples=n * 2,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        draw = labelled(data)
        size = draw(st.integers(1, 8), "tree size")
        tree = draw_tree(draw, min_ops=size, max_ops=size, ops=ops)
        if sum(math.prod(s) for s in tree.leaf_shapes) > 64:
            return
        out.append(draw_example(draw, tree, "float64", options=RunOptions()))

    collect()  # derandomized from this function's source: keep it as it is, or the trees change
    if second:
        rng = np.random.default_rng(0)
        out = [replace(ex, second=[rng.uniform(-1.0, 1.0, x.shape) for x in ex.inputs]) for ex in out]
    return out[:n]


def suite_check(ex: Example) -> None:
    ex.memo.clear()  # a check memoises JAX's answer and torch's gradient on the example: time them every pass
    checks.vjp_matches_oracles(ex)
    checks.jvp_matches_oracles(ex)


def gradcheck(ex: Example, *, fast: bool) -> None:
    xs = tuple(torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in ex.inputs)
    try:
        torch.autograd.gradcheck(ex.tree.torch_fn(), xs, fast_mode=fast, raise_exception=False)
    except Exception:  # noqa: BLE001 - a forward that raises at a perturbed point (eigh at e3bf4bd) ends its work
        pass


def second_order_check(ex: Example) -> None:
    ex.memo.clear()
    checks.second_order_matches_jax(ex)


def gradgradcheck(ex: Example, *, fast: bool) -> None:
    xs = tuple(torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in ex.inputs)
    try:
        torch.autograd.gradgradcheck(ex.tree.torch_fn(), xs, fast_mode=fast, raise_exception=False)
    except Exception:  # noqa: BLE001 - likewise
        pass


def rate(fn, examples: list[Example]) -> float:
    start = time.perf_counter()
    for ex in examples:
        fn(ex)
    return len(examples) / (time.perf_counter() - start)


def suite_throughput(workers: int, *, cold: bool) -> dict:
    """Run the ci-profile suite like CI does; count the Hypothesis examples it checked."""
    if cold and CACHE_DIR:
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        cmd = [
            sys.executable, "-m", "pytest", "suites", "-m", "not slow", "-q", "-p", "no:cacheprovider",
            "-n", str(workers), "--dist", "loadgroup", "--hypothesis-profile", "ci", "--results-dir", tmp,
        ]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        results = [r for f in Path(tmp).glob("*.jsonl") for r in read_file(f)[1]]
    if not results:
        raise SystemExit(
            f"the suite wrote no results (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    examples = sum(r["examples"] for r in results)
    figures = {
        "suite_run_cells": len(results),
        "suite_run_examples": examples,
        "suite_run_wall_s": wall,
        "suite_run_workers": workers,
        "suite_run_jax_cache": "emptied first" if cold else "as found",
        "suite_run_exit_status": proc.returncode,
    }
    print(
        f"bench: ci-profile suite checked {examples} examples in {len(results)} cells in {wall / 60:.1f} min "
        f"on {workers} workers ({examples / wall:.0f} ex/s; JAX cache {figures['suite_run_jax_cache']}; "
        f"pytest exit {proc.returncode})"
    )
    return figures


REPORT_ROWS = 20_000  # per version: about what a four-version matrix with every mode and path will reach


def report_build_seconds(rows: int = REPORT_ROWS) -> float:
    """Seconds to build the HTML report from two synthetic versions of ``rows`` cells each."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = [write_synthetic(folder, rows=rows), write_synthetic(folder, rows=rows, label="torch-2.9.1", seed=1)]
        start = time.perf_counter()
        build.build(results.load(paths), folder / "index.html")
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", type=int, default=200, help="number of fixed trees (default 200)")
    parser.add_argument("--out", type=Path, default=Path("results/bench.json"), help="where to write the figures")
    parser.add_argument("--suite", action="store_true", help="also time the whole ci-profile suite, as CI runs it")
    parser.add_argument("--workers", type=int, default=2, help="xdist workers for --suite (default 2)")
    parser.add_argument("--cold", action="store_true", help="empty the JAX compilation cache before --suite")
    args = parser.parse_args(argv)

    suite = suite_throughput(args.workers, cold=args.cold) if args.suite else {}

    torch.set_num_threads(1)
    examples = fixed_trees(args.trees)
    cold = rate(suite_check, examples)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        cProfile.runctx("rate(suite_check, examples)", globals(), locals(), "/tmp/bench.prof")
        pstats.Stats("/tmp/bench.prof").sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(30)
    warm = rate(suite_check, examples)
    slow = rate(lambda ex: gradcheck(ex, fast=False), examples)
    fast = rate(lambda ex: gradcheck(ex, fast=True), examples)
    second = fixed_trees(args.trees, second=True)
    second_cold = rate(second_order_check, second)
    second_warm = rate(second_order_check, second)
    second_slow = rate(lambda ex: gradgradcheck(ex, fast=False), second)
    second_fast = rate(lambda ex: gradgradcheck(ex, fast=True), second)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report_s = report_build_seconds()
    figures = {
        "trees": len(examples),
        "ops_per_tree_mean": sum(ex.tree.size for ex in examples) / len(examples),
        "suite_cold_ex_per_s": cold,
        "suite_ex_per_s": warm,
        "gradcheck_ex_per_s": slow,
        "fast_gradcheck_ex_per_s": fast,
        "ratio_vs_gradcheck": warm / slow,
        "ratio_vs_fast_gradcheck": warm / fast,
        "second_order_trees": len(second),
        "second_order_cold_ex_per_s": second_cold,
        "second_order_ex_per_s": second_warm,
        "gradgradcheck_ex_per_s": second_slow,
        "fast_gradgradcheck_ex_per_s": second_fast,
        "ratio_second_order_vs_gradgradcheck": second_warm / second_slow,
        "ratio_second_order_vs_fast_gradgradcheck": second_warm / second_fast,
        "peak_rss_mb": peak_mb,
        "report_build_s": report_s,
        "torch": torch.__version__,
        "jax": JAX_VERSION,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), {os.cpu_count()} cores",
        **suite,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"bench: {len(examples)} trees, mean {figures['ops_per_tree_mean']:.1f} ops; suite cold {cold:.0f} ex/s; figures in {args.out}"
    )
    print(f"bench: the report of 2 x {REPORT_ROWS:,} cells built in {report_s:.1f} s (target < 20 s)")
    print(
        f"bench: suite {warm:.0f} ex/s, gradcheck {slow:.0f} ex/s, fast gradcheck {fast:.0f} ex/s, "
        f"ratio X/Y = {warm / slow:.2f}, peak RSS {peak_mb:.0f} MB"
    )
    print(
        f"bench: second order {second_warm:.0f} ex/s, gradgradcheck {second_slow:.0f} ex/s, ratio "
        f"{second_warm / second_slow:.2f}; fast gradgradcheck {second_fast:.0f} ex/s, ratio {second_warm / second_fast:.2f}"
    )
    return figures


if __name__ == "__main__":
    main()
