"""Measure every registry op's bfloat16 and float16 gradient error, and write the table the checks use.

    python -m autograd_conformance.calibration.low_precision [--examples 30] [--ops a,b] [--write]

For each op and dtype it draws ``--examples`` examples as the suite does (``draw_op_example``), runs the
suite's check (``checks.reduced_precision_matches_float64``) to skip the points it would not judge (poles,
kinks, overflow), and measures the worst relative error of torch's gradient against the float64 oracle.
``--write`` rewrites ``MEASURED`` in ``autograd_conformance/registry/low_precision.py``; errors above the rounding
ceiling are printed as findings to triage, not calibrated away.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_conformance import checks, torch_runs
from autograd_conformance.compare import arrays_match, max_abs
from autograd_conformance.example import LOW_PRECISION
from autograd_conformance.oracles.orchestration import reference
from autograd_conformance.registry import OPS
from autograd_conformance.registry import low_precision as table
from autograd_conformance.run_options import RunOptions
from autograd_conformance.strategies import labelled
from autograd_conformance.strategies.examples import draw_op_example
from autograd_conformance.verdict import Verdict

TABLE = Path(table.__file__)


def measure(op, dtype: str, examples: int) -> tuple[int, float] | str:
    """(examples judged, worst relative error), or why the op cannot be checked in ``dtype``."""
    worst: list[float] = []
    raised: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=st.data())
    def run(data) -> None:
        ex = draw_op_example(labelled(data), op, dtype, options=RunOptions())
        (outcome,) = checks.reduced_precision_matches_float64(ex)
        if outcome.verdict is Verdict.ERROR:
            raised.append(outcome.message)
            return
        if outcome.verdict is Verdict.INCONCLUSIVE:
            return
        grads = torch_runs.torch_vjp(ex, seeded=True)
        strict = arrays_match(grads, reference(ex).vjp, rtol=1.0, oracle="float64", what="",
                              seed_scale=max_abs(ex.cotangent))  # fmt: skip
        worst.append(strict.ratio)  # with rtol 1: the relative error itself

    run()
    if raised and not worst:
        return raised[0]
    return len(worst), max(worst, default=0.0)


AUTOCAST_EXAMPLES = 20  # one example missed tensordot, which autocast lowers only where dims > 0 (an mm, not a mul)


def lowered_by_autocast(op) -> bool:
    """Whether ``torch.autocast("cpu", dtype=torch.bfloat16)`` runs ``op`` in bfloat16 in any of
    ``AUTOCAST_EXAMPLES`` drawn examples."""
    lowered: list[bool] = []

    @settings(max_examples=AUTOCAST_EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data) -> None:
        ex = draw_op_example(labelled(data), op, "bfloat16", options=RunOptions())
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = ex.tree.torch_fn()(*ex.leaves(dtype="float32"))
        lowered.append(out.dtype == torch.bfloat16)

    run()
    return any(lowered)


def _entries(entries: dict[str, tuple[int, float]]) -> str:
    """``{'bfloat16': (25, 0.0039), ...}`` as source; a non-finite worst error (a nan or inf gradient) as math.inf."""
    return "{" + ", ".join(f"{d!r}: ({n}, {rel!r})" if rel < float("inf") else f"{d!r}: ({n}, math.inf)"
                           for d, (n, rel) in entries.items()) + "}"  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd_conformance.calibration.low_precision", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--ops", default=None, help="comma-separated op names (default: every op)")
    parser.add_argument("--write", action="store_true", help="rewrite MEASURED in autograd_conformance/registry/low_precision.py")
    parser.add_argument("--autocast", action="store_true", help="find the ops autocast runs in bfloat16 instead (with --write: AUTOCAST_BFLOAT16)")
    args = parser.parse_args(argv)
    names = set(args.ops.split(",")) if args.ops else None
    if args.autocast:
        lowered = tuple(op.name for op in OPS if (names is None or op.name in names) and lowered_by_autocast(op))
        print(f"autocast runs {len(lowered)} ops in bfloat16: {' '.join(lowered)}")
        if args.write:
            text = re.sub(r"AUTOCAST_BFLOAT16: tuple\[str, \.\.\.\] = \(.*?\)\n", f"AUTOCAST_BFLOAT16: tuple[str, ...] = {lowered!r}\n",
                          TABLE.read_text(), count=1, flags=re.S)  # fmt: skip
            TABLE.write_text(text)
        return 0
    measured: dict[str, dict[str, tuple[int, float]]] = {}
    for op in OPS:
        if names is not None and op.name not in names:
            continue
        for dtype in LOW_PRECISION:
            result = measure(op, dtype, args.examples)
            if isinstance(result, str):
                print(f"{op.name:24} {dtype:9} not checked: {result[:120]}", flush=True)
                continue
            n, rel = result
            flag = "  FINDING? beyond the rounding ceiling" if rel > table.ROUNDING_CEILING[dtype] else ""
            print(f"{op.name:24} {dtype:9} {n:3} examples, worst relative error {rel:.3g}{flag}", flush=True)
            if n:
                measured.setdefault(op.name, {})[dtype] = (n, float(f"{rel:.3g}"))
    if args.write:
        body = "".join(f"    {name!r}: {_entries(entries)},\n" for name, entries in measured.items())
        text = TABLE.read_text()
        text = re.sub(r"MEASURED: .*?\n}\n|MEASURED: .*? = \{\}\n", "MEASURED: dict[str, dict[str, tuple[int, float]]] = {\n" + body + "}\n", text, count=1, flags=re.S)
        TABLE.write_text(text)
        print(f"wrote {len(measured)} ops to {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
