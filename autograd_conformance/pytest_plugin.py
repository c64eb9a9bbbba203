"""The pytest plugin (entry point ``pytest11``: active wherever the package is installed) and ``op_tests``.

In a user's test file::

    from autograd_conformance import op_tests
    test_my_square = op_tests(MySquare.apply, inputs=[(3,)], jax_ref=jnp.square)

makes one conformance cell per property (``vjp/MySquare/float64``, ...), judged by the suite's
failure path into the suite's results plugin (``autograd_conformance.reports.pytest_plugin``, loaded here): each cell is one
line of ``<results-dir>/<label>-cpu-eager.jsonl``, ``python -m autograd_conformance.reports build`` makes the HTML report
from it, and ``--baseline my_baseline.txt`` lists the user's own known failures (format:
``autograd_conformance/reports/baseline.py``).  A property the op has no rule for (no ``jvp``) is a cell that is not run,
with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from autograd_conformance.case import Case
from autograd_conformance.declare import PROPERTIES, Conditioning, DomainLike, InputsLike, NearKink, declare_op
from autograd_conformance.known import known_bug
from autograd_conformance.registry.spec import REALS
from autograd_conformance.run_options import RunOptions

pytest_plugins = ["autograd_conformance.reports.pytest_plugin"]  # the record and run_options fixtures, results files, baselines

FAMILY = "user"  # the results' family of a user's op (the registry's are "unary", "linalg", ...)


def op_tests(
    fn: Callable[..., Any],
    *,
    inputs: InputsLike,
    domain: DomainLike | Sequence[DomainLike] = REALS,
    kinks: Sequence[float] = (),
    near_kink: NearKink | None = None,
    jax_ref: Callable[..., Any] | None = None,
    rtol: Mapping[str, float] | None = None,
    conditioning: Conditioning | None = None,
    properties: str | Sequence[str] = "all",
    max_examples: int | None = None,
    name: str | None = None,
) -> Callable[..., None]:
    """A pytest test, one cell per property, for ``fn`` declared as ``check_op`` takes it; assign it to a
    ``test_`` name.  ``max_examples``: per cell (default: the loaded Hypothesis profile's)."""
    # Imported here, not at the top: the plugin loads at pytest's start, before `--ops` adds user ops to the
    # registry, and the check imports the suite's strategies, which read the registry once.
    from autograd_conformance.check import DRAWS, run_property, selected

    op = declare_op(
        fn,
        inputs=inputs,
        domain=domain,
        kinks=kinks,
        near_kink=near_kink,
        jax_ref=jax_ref,
        rtol=rtol,
        conditioning=conditioning,
        name=name,
    )
    chosen = selected(op, properties)
    params = []
    for prop in PROPERTIES:
        if prop not in chosen and prop not in op.unsupported:
            continue
        case = Case(op.name, FAMILY, DRAWS[prop][0])
        marks = [pytest.mark.conformance(property=prop)]
        if prop not in chosen:
            marks.append(pytest.mark.skip(reason=f"{op.name} has no rule for it: {op.unsupported[prop]}"))
        elif bug := known_bug(fn, prop):
            marks.append(pytest.mark.xfail(reason=bug.reason, strict=False))
        params.append(pytest.param(case, prop, id=f"{prop}-{case.id}", marks=marks))

    @pytest.mark.parametrize(("case", "prop"), params)
    def test(case: Case, prop: str, record: Any, run_options: RunOptions) -> None:
        __tracebackhide__ = True
        run_property(op, prop, record, options=run_options, examples=max_examples)

    test.__name__ = test.__qualname__ = f"test_{op.name}"
    return test
