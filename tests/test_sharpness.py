"""The fast CI subset of ``python -m tests.sharpness``: a few gradient faults are killed by the right property.

Each fault runs in its own pytest process exactly as the full measurement runs it
(``tests.sharpness.run_fault``: the patched op's cells and the tree cells, ``-x``), under
the ``fast`` profile with a fixed seed.  The full catalogue, the detection cost and
the false-alarm runs are ``nox -s sharpness``.
"""

from __future__ import annotations

import pytest
import torch

from tests.faults import FAULTS, FAULTS_BY_NAME, ISSUE_KINDS, GradientFault, issue_kind
from tests.sharpness import run_fault

FAST_SUBSET = (
    "exp_tiny_relative",
    "sin_sign_flip_above_1",
    "tanh_float32_only",
    "sinh_second_derivative",
    "sigmoid_forward_mode",
    "div_quotient_denominator",
    "sigmoid_nan_in_the_tails",
    "conv2d_weight_strided",
)


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST_SUBSET)
def test_gradient_fault_is_killed_by_its_property(name: str, tmp_path) -> None:
    run = run_fault(FAULTS_BY_NAME[name], seed=0, profile="fast", workdir=tmp_path)
    assert run["killed"], f"{name} survived the fast profile: {run['verdict']} {run['message']}\n{run['output_tail']}"
    assert run["attributed"], f"{name} was caught by {run['failing_property']}, expected one of {run['allowed']}"
    assert run["examples"] and run["examples"] > 0


def test_catalogue_covers_every_kind_of_issue_6() -> None:
    assert len(FAULTS) >= 25
    assert len({f.name for f in FAULTS}) == len(FAULTS)
    covered = {issue_kind(f) for f in FAULTS}
    assert set(ISSUE_KINDS) <= covered, f"kinds without a fault: {set(ISSUE_KINDS) - covered}"


@pytest.mark.parametrize("fault", [f for f in FAULTS if isinstance(f, GradientFault)], ids=lambda f: f.name)
def test_gradient_fault_patches_public_api_and_restores_it(fault: GradientFault) -> None:
    assert fault.prop in fault.allowed and fault.ops
    targets = [t.strip() for t in fault.target.split(",")]
    parts = [p for t in targets for p in t.split(".")[1:]]
    assert all(t.startswith("torch.") and ".ops." not in t for t in targets), fault.target
    assert all(not p.startswith("_") or (p.startswith("__") and p.endswith("__")) for p in parts), fault.target

    def resolve(path: str):
        obj = torch
        for part in path.split(".")[1:]:
            obj = getattr(obj, part)
        return obj

    before = [resolve(t) for t in targets]
    with fault.patch():
        during = [resolve(t) for t in targets]
    after = [resolve(t) for t in targets]
    assert all(d is not b for d, b in zip(during, before)), f"{fault.name} does not patch {fault.target}"
    assert all(a is b for a, b in zip(after, before)), f"{fault.name} leaves {fault.target} patched"
