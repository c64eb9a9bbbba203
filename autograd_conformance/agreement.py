"""Does ``check_op`` judge the registry's ops the way the suite does?  Measured, op by op.

    python -m autograd_conformance.agreement [--ops sin,matmul] [--examples N] [--seed S] [--jobs J] [--out FILE]

Each registry op is declared the way a user declares theirs: its template at one fixed call (the
simplest shapes and parameters its rule draws, with at least two elements per input where it has
such) becomes a plain function, its JAX function at those parameters the ``jax_ref``, its domains,
kinks, tie test (``near_kink``) and calibrated tolerances (``rtol``) the declaration.  ``check_op``
then checks, one at a time, the properties the suite has per-op cells for (``COMPARED``), and each
answer is set beside the suite's own for that cell on the installed torch:

* the suite's cell exists (``suites/catalog.txt``, and the op has the mode on this torch) and its
  baseline (``baselines/torch-<version>.txt``) names no known failure in it: the suite says it
  passes (the gate holds every cell to that on CI's draw).  check_op must pass too (``pass`` or
  ``inconclusive``); a raised ``OpCheckError`` is a disagreement;
* the baseline names a known failure in the whole cell: check_op must fail it;
* the baseline names a known failure only where a scope holds: check_op must pass, or fail on an
  example the scope holds on (its shrunk example's facts, ``OpCheckError.facts``, as the suite's
  scoped entries are matched);
* the suite has no such cell: check_op must not find a failure the suite has no cell to find
  (a property it runs and passes there, or one it does not run, agrees).

A disagreement is either check_op's (its declaration cannot say what the registry says, or its
driver differs) or the suite's (check_op's draw found what the suite's missed): each one is
triaged, never silenced.  The last line printed is ``agreement: N/M (op, property) pairs agree``;
the exit status is 1 when any disagrees.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from autograd_conformance.check import OpCheckError, check_op
from autograd_conformance.declare import DeclarationError, declare_op
from autograd_conformance.facts import FailureFacts, of_inputs
from autograd_conformance.known_failing import BASELINE_DIR
from autograd_conformance.registry import OPS, OPS_BY_NAME
from autograd_conformance.registry.spec import Call, OpSpec
from autograd_conformance.reports.baseline import Baseline, Entry, load_for
from autograd_conformance.reports.catalog import CATALOG_FILE
from autograd_conformance.reports.catalog import load as load_catalog
from autograd_conformance.strategies.trees import draw_op_tree

# The properties that are both check_op's and the suite's per-op cells (suites/test_gradients.py), with the dtype
# of the cell: those of the suite's default run, and the opt-in ones (`-m slow`: the other second-order
# compositions and third order; ``--properties all``).  func.vmap and compile.vjp are check_op's, but the suite
# runs them on random trees only.
COMPARED = {"vjp": "float64", "jvp": "float64", "second_order": "float64", "float32": "float32", "layout": "float64"}
OPT_IN = dict.fromkeys(("second_fwd_rev", "second_rev_fwd", "second_fwd_fwd", "third_rev", "third_fwd"), "float64")
CELL_DTYPE = {**COMPARED, **OPT_IN}
# The torch modes a cell needs, by the registry's declaration for the installed torch (as suites/test_gradients.py
# selects its cases: OpSpec.forward_ad, ...).
MODE: dict[str, Callable[[OpSpec], bool]] = {
    "jvp": lambda op: op.forward_ad,
    "second_order": lambda op: op.double_backward,
    **dict.fromkeys(("second_fwd_rev", "second_rev_fwd", "second_fwd_fwd"), lambda op: op.double_backward and op.forward_ad),
    "third_rev": lambda op: op.third_order,
    "third_fwd": lambda op: op.third_order and op.forward_ad,
}
DEFAULT_EXAMPLES = 10  # per property: the ci profile's examples per cell (autograd_conformance.profiles)


@dataclass(frozen=True)
class SuiteVerdict:
    """The suite's verdict on one cell: ``kind`` is "pass", "no cell", "known" (the whole cell) or "scoped"."""

    kind: str
    text: str
    scoped: tuple[Entry, ...] = ()  # the cell's scoped known failures (kind "scoped")


@dataclass(frozen=True)
class Answer:
    """check_op's answer for one property: its text, and the shrunk failing example's facts where it failed."""

    text: str  # its verdict ("pass", "inconclusive"), "not run: ...", or "fails: <first lines>"
    facts: FailureFacts | None = None

    @property
    def failed(self) -> bool:
        return self.text.startswith("fails:")


@dataclass(frozen=True)
class Pair:
    """One (op, property): what the suite says of its cell, what check_op said, and whether they agree."""

    op: str
    property: str
    suite: str
    check_op: str
    agrees: bool

    @property
    def line(self) -> str:
        mark = "agrees   " if self.agrees else "DISAGREES"
        return f"{mark} {self.property}/{self.op}: suite {self.suite!r}, check_op {self.check_op!r}"


def suite_says(spec: OpSpec, prop: str, *, cells: frozenset[str], baseline: Baseline) -> SuiteVerdict:
    """The suite's verdict on the cell ``prop/op/dtype`` on this torch: its catalog, modes and baseline."""
    cell = f"{prop}/{spec.name}/{CELL_DTYPE[prop]}"
    if cell not in cells:
        return SuiteVerdict("no cell", "no cell: not in the suite's catalog")
    if not MODE.get(prop, lambda op: True)(spec):
        return SuiteVerdict("no cell", "no cell: the registry declares the mode absent on this torch")
    where = dict(cell=cell, device="cpu", path="eager", test_id="")
    if whole := baseline.find(**where):
        return SuiteVerdict("known", f"known failure (whole cell): {whole.describe()}")
    if scoped := baseline.scoped(**where):
        scopes = "; ".join(str(e.scope) for e in scoped)
        return SuiteVerdict("scoped", f"known failure (where {scopes}): {scoped[0].describe()}", scoped)
    return SuiteVerdict("pass", "pass")


def agrees(suite: SuiteVerdict, answer: Answer) -> bool:
    """The rules of the module docstring."""
    if suite.kind == "pass":
        return not answer.failed and not answer.text.startswith("not run:")
    if suite.kind == "known":
        return answer.failed
    if suite.kind == "scoped":  # passing, or failing only where a known failure's scope holds
        facts = answer.facts
        return not answer.failed or (
            facts is not None and any(e.explains(facts.decisive, facts.others) for e in suite.scoped)
        )
    return not answer.failed  # no cell


@st.composite
def _calls(draw: Any, spec: OpSpec) -> Call:
    tree = draw_op_tree(lambda strategy, label: draw(strategy), spec)
    return tree.nodes[0].call


def fixed_call(spec: OpSpec) -> Call:
    """The simplest call the op's rule draws in which every input has two elements or more, else the simplest."""
    quiet = settings(database=None, max_examples=2000, suppress_health_check=list(HealthCheck))
    try:
        return find(_calls(spec), lambda c: all(math.prod(s) >= 2 for s in c.input_shapes), settings=quiet)
    except NoSuchExample:
        return find(_calls(spec), lambda c: True, settings=quiet)


def declaration(spec: OpSpec, call: Call) -> dict[str, Any]:
    """``check_op``'s keyword arguments for the registry op ``spec`` at ``call``, as a user would write them."""
    params = call.kwargs
    run = spec.torch_fn(call)

    def user_fn(*tensors: Any) -> Any:
        return run(*tensors)

    user_fn.__name__ = user_fn.__qualname__ = spec.name
    user_fn.__module__ = "__main__"  # its repro says to define it, as for any function not importable
    near = spec.near_kink
    return dict(
        fn=user_fn,
        inputs=list(call.input_shapes),
        domain=[spec.domain_of(i) for i in range(spec.arity)],
        near_kink=None if near is None else (lambda inputs, margin: near(inputs, params, margin)),
        jax_ref=partial(spec.jax, **params),
        rtol=spec.rtol,
        conditioning=spec.conditioning,
        name=spec.name,
    )


def check_op_says(prop: str, declared: dict[str, Any], unsupported: dict[str, str], **run: Any) -> Answer:
    """check_op's answer for one property of the declared op."""
    if prop in unsupported:
        return Answer(f"not run: {unsupported[prop]}")
    try:
        verdicts = check_op(**declared, properties=[prop], **run)
    except OpCheckError as exc:
        return Answer("fails: " + " ".join(str(exc).split("\n")[1:3])[:300], exc.facts)
    return Answer(verdicts[prop])


def with_params(answer: Answer, call: Call) -> Answer:
    """The answer's facts with the fixed call's parameters (``param.n``), which the declared function hides inside
    it and the suite's facts name (scopes such as ``param.n >= 2``)."""
    if answer.facts is None:
        return answer
    params = of_inputs([], call.kwargs)
    decisive, others = answer.facts
    return replace(answer, facts=FailureFacts({**params, **decisive}, [{**params, **o} for o in others]))


def compare(
    specs: Sequence[OpSpec], *, examples: int, seed: int, baseline: Baseline, cells: frozenset[str], log: Any = None,
    properties: Sequence[str] = tuple(COMPARED),
) -> list[Pair]:
    """Each of ``properties`` of every op in ``specs``."""
    pairs = []
    for spec in specs:
        start = time.perf_counter()
        try:
            call = fixed_call(spec)
            declared = declaration(spec, call)
            unsupported = declare_op(**declared).unsupported
        except DeclarationError as exc:  # the op cannot be declared as a user's: every cell it has disagrees
            declared, unsupported = None, {prop: f"declaration failed: {exc}" for prop in properties}
        for prop in properties:
            suite = suite_says(spec, prop, cells=cells, baseline=baseline)
            if declared is None:
                answer = Answer(f"fails: {unsupported[prop]}")
            else:
                answer = with_params(check_op_says(prop, declared, unsupported, max_examples=examples, seed=seed), call)
            pairs.append(Pair(spec.name, prop, suite.text, answer.text, agrees(suite, answer)))
            if log and not pairs[-1].agrees:
                print(pairs[-1].line, file=log, flush=True)
        if log:
            print(f"  {spec.name}: {time.perf_counter() - start:.1f} s", file=log, flush=True)
    return pairs


def compare_names(names: list[str], examples: int, seed: int, properties: Sequence[str]) -> list[Pair]:
    """``compare`` on the named ops against the installed torch's baseline and the suite's catalog (one worker)."""
    import torch

    baseline = load_for(BASELINE_DIR, f"torch-{torch.__version__.split('+')[0]}")
    cells = load_catalog(CATALOG_FILE).cells
    specs = [OPS_BY_NAME[n] for n in names]
    return compare(
        specs, examples=examples, seed=seed, baseline=baseline, cells=cells, log=sys.stderr, properties=properties
    )


def compare_in_parallel(
    names: list[str], examples: int, seed: int, jobs: int, properties: Sequence[str] = tuple(COMPARED)
) -> list[Pair]:
    """``compare_names`` split over ``jobs`` processes (each op's check is independent), in ``names``' order."""
    if jobs <= 1:
        return compare_names(names, examples, seed, properties)
    shares = [names[k::jobs] for k in range(jobs)]
    # spawn, not fork: JAX's runtime is multithreaded once imported
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = pool.map(compare_names, shares, [examples] * jobs, [seed] * jobs, [properties] * jobs)
        done = [pair for share in runs for pair in share]
    order = {name: i for i, name in enumerate(names)}
    return sorted(done, key=lambda p: order[p.op])  # stable: each op's properties keep their order


def summary(pairs: list[Pair]) -> str:
    n = sum(p.agrees for p in pairs)
    return f"agreement: {n}/{len(pairs)} (op, property) pairs agree ({len({p.op for p in pairs})} ops)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd_conformance.agreement", description=__doc__.split("\n")[0])
    parser.add_argument("--ops", help="comma-separated registry op names (default: every op)")
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, help="examples per property")
    parser.add_argument("--seed", type=int, default=0, help="check_op's Hypothesis seed")
    parser.add_argument(
        "--properties", default="default",
        help=f"default ({', '.join(COMPARED)}), all (also {', '.join(OPT_IN)}), or comma-separated names",
    )  # fmt: skip
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per CPU)")
    parser.add_argument("--out", help="write every pair as JSON here")
    args = parser.parse_args(argv)
    names = args.ops.split(",") if args.ops else [op.name for op in OPS]
    unknown = [n for n in names if n not in OPS_BY_NAME]
    if unknown:
        raise SystemExit(f"error: --ops names ops the registry does not have: {unknown}")
    chosen = {"default": list(COMPARED), "all": list(CELL_DTYPE)}.get(args.properties, args.properties.split(","))
    if unknown := [p for p in chosen if p not in CELL_DTYPE]:
        raise SystemExit(f"error: --properties {unknown}: the compared ones are {', '.join(CELL_DTYPE)}")
    pairs = compare_in_parallel(names, args.examples, args.seed, args.jobs, chosen)
    for pair in pairs:
        if not pair.agrees:
            print(pair.line)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps([asdict(p) for p in pairs], indent=1), encoding="utf-8")
    print(summary(pairs))
    return 0 if all(p.agrees for p in pairs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
