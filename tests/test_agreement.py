"""``autograd_conformance.agreement``: check_op on registry ops, declared as a user would, agrees with the suite.

The whole registry is compared by ``nox -s agreement`` (about 10 minutes); here a sample of ops that
exercise each part of a declaration (matrix domains, ties, point kinks, calibrated tolerances, parameters,
scoped known failures), the rules, and a planted fault the comparison must report.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from autograd_conformance import Domain, OpCheckError, agreement, check_op
from autograd_conformance.declare import DeclarationError, declare_op
from autograd_conformance.facts import FailureFacts
from autograd_conformance.known_failing import BASELINE_DIR
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.reports.baseline import load_for, parse
from autograd_conformance.reports.catalog import CATALOG_FILE
from autograd_conformance.reports.catalog import load as load_catalog
from autograd_conformance.versions import NO_VERSION
from tests.faults.user_ops import Cube, CubeNoJvp

VERSION = torch.__version__.split("+")[0]
CELLS = load_catalog(CATALOG_FILE).cells

# One op for each thing a declaration must carry over from the registry: a matrix structure (cholesky: SPD;
# inv: well conditioned), ties (amax, sort, median), point kinks (abs, relu), calibrated tolerances (cdist_mm,
# layer_norm), drawn parameters (sum_dim, scatter_add, conv1d), no forward mode or a zero gradient (floor), scoped
# known failures (hardsigmoid, sinc, logcumsumexp), and a few plain ones.
SAMPLE = (
    "sin", "mul", "abs", "relu", "floor", "amax", "sort", "median", "sum_dim", "cumprod", "logcumsumexp",
    "hardsigmoid", "sinc", "matmul", "inv", "cholesky", "det", "cdist_mm", "layer_norm", "scatter_add", "conv1d",
    "masked_softmax", "cross_entropy",
)  # fmt: skip


@pytest.mark.parametrize("name", SAMPLE)
def test_check_op_agrees_with_the_suite_on_a_registry_op(name: str) -> None:
    baseline = load_for(BASELINE_DIR, f"torch-{VERSION}")
    pairs = agreement.compare([OPS_BY_NAME[name]], examples=5, seed=0, baseline=baseline, cells=CELLS)
    assert [p.property for p in pairs] == list(agreement.COMPARED)
    assert [p.line for p in pairs if not p.agrees] == []


def test_a_wrong_gradient_behind_a_passing_cell_is_a_disagreement() -> None:
    """sin's value with a gradient 1e-3 too large: the suite's vjp cell passes, check_op must fail, and the
    comparison must say they disagree."""
    wrong = replace(OPS_BY_NAME["sin"], torch="torch.sin({x}.detach() + ({x} - {x}.detach()) * 1.001)")
    baseline = load_for(BASELINE_DIR, f"torch-{VERSION}")
    (vjp, *_) = agreement.compare([wrong], examples=5, seed=0, baseline=baseline, cells=CELLS)
    assert vjp.suite == "pass"
    assert vjp.check_op.startswith("fails:")
    assert not vjp.agrees


PLANTED = parse(
    "vjp/sin/float64 | planted | https://example.org/1\n"
    "jvp/sin/float64 where abs(at) < 1e-3 | planted | https://example.org/2\n",
    file="planted.txt",
)


def test_the_suite_verdict_of_a_cell_comes_from_its_catalog_modes_and_baseline() -> None:
    sin = OPS_BY_NAME["sin"]

    def says(prop: str, cells: frozenset[str] = CELLS, spec=sin) -> agreement.SuiteVerdict:
        return agreement.suite_says(spec, prop, cells=cells, baseline=PLANTED)

    assert says("vjp").kind == "known" and says("vjp").text.startswith("known failure (whole cell): planted.txt:1")
    assert says("jvp").kind == "scoped" and says("jvp").text.startswith("known failure (where abs(at) < 1e-3)")
    assert says("second_order") == agreement.SuiteVerdict("pass", "pass")
    assert says("layout", frozenset()).text == "no cell: not in the suite's catalog"
    no_forward = replace(sin, forward_ad_in=NO_VERSION)
    assert says("jvp", spec=no_forward).text.startswith("no cell: the registry declares the mode absent")


def facts(at: float) -> FailureFacts:
    return FailureFacts({"at": at, "abs(at)": abs(at), "rel": 0.1, "oracle": "jax", "verdict": "fail"}, [])


PASS = agreement.SuiteVerdict("pass", "pass")
KNOWN = agreement.SuiteVerdict("known", "known failure (whole cell): x")
SCOPED = agreement.suite_says(OPS_BY_NAME["sin"], "jvp", cells=CELLS, baseline=PLANTED)
NO_CELL = agreement.SuiteVerdict("no cell", "no cell: not in the suite's catalog")


@pytest.mark.parametrize(
    ("suite", "answer", "expected"),
    [
        (PASS, agreement.Answer("pass"), True),
        (PASS, agreement.Answer("inconclusive"), True),
        (PASS, agreement.Answer("fails: vjp off", facts(0.5)), False),
        (PASS, agreement.Answer("not run: forward mode raised"), False),
        (KNOWN, agreement.Answer("fails: off", facts(0.5)), True),
        (KNOWN, agreement.Answer("pass"), False),
        (SCOPED, agreement.Answer("pass"), True),
        (SCOPED, agreement.Answer("fails: off", facts(1e-4)), True),  # inside the scope abs(at) < 1e-3
        (SCOPED, agreement.Answer("fails: off", facts(0.5)), False),  # outside it: not the known failure
        (SCOPED, agreement.Answer("fails: blind"), False),
        (NO_CELL, agreement.Answer("pass"), True),
        (NO_CELL, agreement.Answer("not run: no rule"), True),
        (NO_CELL, agreement.Answer("fails: off", facts(0.5)), False),
    ],
)
def test_the_agreement_rules(suite: agreement.SuiteVerdict, answer: agreement.Answer, expected: bool) -> None:
    assert agreement.agrees(suite, answer) is expected


def test_a_failure_carries_the_facts_a_baseline_scope_is_matched_on() -> None:
    """check_op's OpCheckError has its shrunk example's facts: the wrong sin fails at some |x|, named in them."""
    wrong = agreement.declaration(
        replace(OPS_BY_NAME["sin"], torch="torch.sin({x}.detach() + ({x} - {x}.detach()) * 1.001)"),
        agreement.fixed_call(OPS_BY_NAME["sin"]),
    )
    with pytest.raises(OpCheckError) as caught:
        check_op(**wrong, properties=["vjp"], max_examples=5, seed=0)
    assert caught.value.facts is not None
    assert caught.value.facts.decisive["verdict"] == "fail" and "min_abs(x0)" in caught.value.facts.decisive


class NumpyBackward(Cube):
    """x³ with a backward through NumPy: right once, but its gradient has no graph (not twice differentiable)."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return torch.from_numpy(3 * np.square(x.detach().numpy()) * grad.detach().numpy())


class InPlaceBackward(CubeNoJvp):
    """x³ whose backward scales its incoming gradient in place: twice differentiable all the same."""

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad.mul_(3) * x * x


class NumpyJvp(Cube):
    """x³ with a jvp through NumPy: right once, but its tangent has no graph (reverse over forward cannot run)."""

    @staticmethod
    def jvp(ctx, tangent: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return torch.from_numpy(3 * np.square(x.detach().numpy()) * tangent.detach().numpy())


HIGHER = ("second_order", "second_fwd_rev", "second_rev_fwd", "third_rev")
NOT_PROBED = ("needs jax_ref", "needs forward mode")  # the reasons that are not a probe's


def probed_out(fn) -> dict[str, str]:
    unsupported = declare_op(fn, inputs=[(3,)], domain=(0.1, 0.4)).unsupported
    return {p: why for p, why in unsupported.items() if p in HIGHER and not why.startswith(NOT_PROBED)}


def test_higher_order_modes_are_offered_where_the_derivative_has_a_graph_or_is_constant() -> None:
    """neg's gradient does not depend on x, amax's only through its jumps, floor's is 0: their higher derivatives
    are 0, and every mode is offered (as the registry declares); so is a backward that scales its gradient in
    place.  A backward or a jvp through NumPy has no graph to differentiate: those modes are not offered."""
    for fn in (torch.neg, torch.amax, torch.floor, InPlaceBackward.apply):
        assert probed_out(fn) == {}
    no_graph = "its backward is not differentiable (no gradient requires grad)"
    assert probed_out(NumpyBackward.apply) == {
        "second_order": no_graph, "second_fwd_rev": "the gradient carries no tangent", "third_rev": no_graph,
    }  # fmt: skip
    assert list(probed_out(NumpyJvp.apply)) == ["second_rev_fwd"]


def cholesky_of_symmetric_part(a: torch.Tensor) -> torch.Tensor:
    return torch.linalg.cholesky((a + a.mT) / 2)


def test_a_matrix_domain_keeps_its_structure() -> None:
    """A declared SPD domain is drawn as SPD matrices (and probed at one): cholesky is declarable and passes
    (of the symmetric part, as the registry's template takes it: cholesky reads one triangle only)."""
    spd = Domain(-1.0, 1.0, matrix="spd")
    assert spd == OPS_BY_NAME["cholesky"].domain_of(0)
    assert declare_op(cholesky_of_symmetric_part, inputs=[(3, 3)], domain=spd).spec.domain_of(0).matrix == "spd"
    verdicts = check_op(
        cholesky_of_symmetric_part, inputs=[(3, 3)], domain=spd, properties=["vjp"], max_examples=3, seed=0
    )
    assert verdicts == {"vjp": "pass"}


def test_a_user_function_named_like_a_builtin_does_not_shadow_it() -> None:
    """Templates run with Python's builtins in scope (unbind's calls sum()): a user's ``sum`` is bound as sum_2."""

    def sum(x: torch.Tensor) -> torch.Tensor:  # noqa: A001 - the point of the test
        return x.sum(-1)

    assert declare_op(sum, inputs=[(3,)]).spec.torch == "sum_2({x})"
    unbind = OPS_BY_NAME["unbind"]
    call = agreement.fixed_call(unbind)
    ones = [np.ones(s) for s in call.input_shapes]
    value = unbind.torch_fn(call)(*(torch.from_numpy(a) for a in ones))  # raised TypeError with sum shadowed
    np.testing.assert_allclose(value.numpy(), unbind.jax(*ones, **call.kwargs))


def scatter_prod(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros(2, dtype=x.dtype).scatter_reduce(0, torch.tensor([0, 0, 1]), x, "prod", include_self=False)


def test_a_tangent_torch_drops_is_checked_as_zero_not_skipped() -> None:
    """Forward mode through scatter_reduce(prod) gives no tangent (None) where the derivative is not 0 (a torch
    bug the suite baselines): for a function of torch ops None is torch's zero tangent, so the jvp property runs
    and fails; only a torch.library op without a forward rule is "not run" for it."""
    assert "jvp" not in declare_op(scatter_prod, inputs=[(3,)]).unsupported
    with pytest.raises(OpCheckError, match="torch gives 0.0"):
        check_op(scatter_prod, inputs=[(3,)], domain=(0.5, 2.0), properties=["jvp"], max_examples=5, seed=0)


def test_a_tolerance_is_per_dtype_and_a_bad_one_is_a_clear_error() -> None:
    assert declare_op(torch.sin, inputs=[(3,)], rtol={"float32": 1e-4}).spec.rtol == {"float32": 1e-4}
    with pytest.raises(DeclarationError, match=r"rtol= maps a dtype .* got \{'float23': 0.1\}"):
        declare_op(torch.sin, inputs=[(3,)], rtol={"float23": 0.1})
    with pytest.raises(DeclarationError, match=r"got \{'float64': 2.0\}"):
        declare_op(torch.sin, inputs=[(3,)], rtol={"float64": 2.0})


def test_the_command_line_names_what_it_cannot_compare() -> None:
    with pytest.raises(SystemExit, match=r"--ops names ops the registry does not have: \['no_such_op'\]"):
        agreement.main(["--ops", "sin,no_such_op"])
    with pytest.raises(SystemExit, match=r"--properties \['func.vmap'\]: the compared ones are vjp, jvp"):
        agreement.main(["--ops", "sin", "--properties", "vjp,func.vmap"])


def test_the_opt_in_modes_are_compared_where_the_suite_has_their_cells(tmp_path) -> None:
    out = tmp_path / "pairs.json"
    assert agreement.main(["--ops", "sin", "--properties", "all", "--examples", "3", "--jobs", "1", "--out", str(out)]) == 0
    pairs = json.loads(out.read_text(encoding="utf-8"))
    assert [p["property"] for p in pairs] == list(agreement.CELL_DTYPE)
    assert all(p["agrees"] and p["suite"] == "pass" for p in pairs)
