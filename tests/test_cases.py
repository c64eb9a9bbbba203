"""The one case type, the ``cell`` decorator, run options and the immutable example."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis.internal.reflection import get_pretty_function_description

from autograd_conformance.case import Case
from autograd_conformance.example import Example
from autograd_conformance.registry import OPS_BY_NAME
from autograd_conformance.registry.spec import make_call
from autograd_conformance.run_options import RunOptions
from autograd_conformance.tree import single_op_tree
from suites.cases import cell, op_cases, sem_cases, tree_cases


def test_cell_makes_a_conformance_test_of_each_case() -> None:
    cases = op_cases("float64", lambda op: op.name in ("sin", "cos"))

    @cell("my_property", cases)
    def test_x(case: Case, data, record) -> None:
        pass

    marks = {m.name: m for m in test_x.pytestmark}
    assert marks["conformance"].kwargs == {"property": "my_property"}
    assert marks["parametrize"].args == ("case", cases)
    assert getattr(test_x, "is_hypothesis_test", False), get_pretty_function_description(test_x)


def test_every_case_kind_is_one_case_type_with_readable_ids() -> None:
    (op,) = op_cases("float32", lambda op: op.name == "sin")
    (tree,) = tree_cases("float64", max_ops=4, name="tree:broadcasting")
    scenarios = sem_cases("Module", "Optimizer")
    assert (op.values[0], op.id) == (Case("sin", OPS_BY_NAME["sin"].family, "float32"), "sin-float32")
    assert op.values[0].spec is OPS_BY_NAME["sin"]
    assert (tree.values[0], tree.id) == (Case("tree:broadcasting", "trees", "float64", 4), "tree:broadcasting-float64")
    assert [p.id for p in scenarios] == ["Module-float64", "Optimizer-float64"]
    assert all(type(p.values[0]) is Case for p in [op, tree, *scenarios])


def test_run_options_reject_an_unknown_path() -> None:
    assert RunOptions().device == "cpu" and RunOptions().path == "eager"
    with pytest.raises(ValueError, match="unknown execution path 'jit'"):
        RunOptions(path="jit")


def test_an_example_cannot_be_changed_after_it_is_drawn() -> None:
    tree = single_op_tree(OPS_BY_NAME["sin"], make_call([(3,)]))
    ex = Example(tree, [np.zeros(3)], options=RunOptions(path="func"))
    assert (ex.device, ex.path) == ("cpu", "func")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ex.dtype = "float32"  # type: ignore[misc]
    assert dataclasses.replace(ex, options=RunOptions(path="compile")).path == "compile"


def test_version_ranges() -> None:
    from autograd_conformance.versions import EVERY_VERSION, NO_VERSION, Versions, version_tuple

    assert version_tuple("2.9.1+cu128") == (2, 9)
    assert Versions(until=(2, 9)).holds((2, 6)) and not Versions(until=(2, 9)).holds((2, 9))
    assert Versions(since=(2, 9)).holds((2, 13)) and not Versions(since=(2, 9)).holds((2, 3))
    assert EVERY_VERSION.holds((2, 3)) and not NO_VERSION.holds((2, 13))
    assert str(Versions((2, 4), (2, 9))) == "torch >= 2.4, torch < 2.9"
    hardsigmoid = OPS_BY_NAME["hardsigmoid"]
    assert hardsigmoid.double_backward_in == NO_VERSION and not hardsigmoid.double_backward
