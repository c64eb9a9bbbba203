"""The OpInfo coverage measure (autograd_conformance/coverage.py): what a template calls, and what that reaches."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from autograd_conformance import coverage
from autograd_conformance.coverage import VARIANTS, Use, measure, uses
from tests.helpers import ROOT


def names(template: str) -> list[str]:
    return sorted(use.name for use in uses(template))


def test_a_template_names_every_op_on_its_gradient_path() -> None:
    assert names("torch.sin({x})") == ["sin"]
    assert names("{x}.cos()") == ["cos"]
    assert names("F.nll_loss(F.log_softmax({x}, dim=1), torch.tensor({target}))") == [
        "nn.functional.log_softmax", "nn.functional.nll_loss", "tensor",
    ]  # fmt: skip
    assert names("torch.linalg.slogdet({x}).logabsdet") == ["linalg.slogdet", "logabsdet"]
    assert names("torch.logdet(({x} + {x}.mT) / 2)") == ["add", "div", "logdet", "mT"]
    assert names("-{x}") == ["neg"]
    assert names("{x}[{index}]") == ["__getitem__"]
    assert names("2.0 - {x}") == ["__rsub__"], "a constant on the left is the reflected operator"
    assert names("{x} @ {y}") == ["matmul"]


def test_a_use_records_how_the_op_was_called() -> None:
    (use,) = uses("torch.polygamma(1, {x})")
    assert use == Use("polygamma", tensor_args=1, constants=(1,), keywords=frozenset())
    (use,) = [u for u in uses("torch.max({x}, dim={dim}, keepdim={keepdim}).values") if u.name == "max"]
    assert use.tensor_args == 1 and use.keywords == {"dim", "keepdim"}
    (use,) = uses("{x}.min()")
    assert use.tensor_args == 1, "a method's receiver is one of its tensors"
    (use,) = [u for u in uses("torch.linalg.pinv({x} @ {y}, rtol=1e-05)") if u.name == "linalg.pinv"]
    assert use.args == ("x @ y", "rtol=1e-05"), "each argument's source, keywords as name=value (pinv.singular)"
    assert VARIANTS["linalg.pinv.singular"](use) and not VARIANTS["linalg.pinv.hermitian"](use)


@dataclass
class FakeAlias:
    name: str


@dataclass
class FakeOpInfo:
    """The part of torch's OpInfo that coverage reads."""

    name: str
    variant_test_name: str = ""
    supports_autograd: bool = True
    aliases: tuple[FakeAlias, ...] = ()
    backward: tuple[torch.dtype, ...] = (torch.float64, torch.float32)
    extra: dict = field(default_factory=dict)

    def supported_backward_dtypes(self, device: str) -> set[torch.dtype]:
        assert device == "cpu"
        return set(self.backward)


def test_measure_counts_names_aliases_and_only_ruled_variants() -> None:
    op_db = [
        FakeOpInfo("sin"),
        FakeOpInfo("linalg.det", aliases=(FakeAlias("det"),)),
        FakeOpInfo("max", "binary"),
        FakeOpInfo("max", "reduction_no_dim"),
        FakeOpInfo("max", "reduction_with_dim"),
        FakeOpInfo("round", "decimals_7"),  # no rule in VARIANTS: never guessed
        FakeOpInfo("fft.fft", backward=(torch.complex128,)),
        FakeOpInfo("one_hot", backward=(torch.float32,)),
        FakeOpInfo("argmax", supports_autograd=False),
    ]
    templates = {
        "sin": ["torch.sin({x})"],
        "det": ["torch.det({x})"],  # an alias, not an OpInfo name
        "max": ["torch.max({x})"],
        "round": ["torch.round({x}, decimals=3)"],
    }
    result = measure(op_db, templates, torch)
    assert result.covered == {"sin": ["sin"], "linalg.det": ["det"], "max.reduction_no_dim": ["max"]}
    assert result.uncovered == {
        "torch": ["max.binary", "max.reduction_with_dim", "round.decimals_7"],
        "fft": ["fft.fft"],
    }
    assert result.by_namespace == {"torch": (2, 5), "linalg": (1, 1), "fft": (0, 1)}
    assert list(result.excluded) == ["one_hot"], "no float64/complex128 backward on the CPU: excluded with a reason"
    assert result.total == 7 and result.line() == "coverage: 3/7 differentiable OpInfos (42.9%)"


def test_a_variant_rule_reads_the_form_of_the_call() -> None:
    op_db = [
        FakeOpInfo("round", "decimals_3"),
        FakeOpInfo("round", "decimals_neg_3"),
        FakeOpInfo("squeeze"),
        FakeOpInfo("squeeze", "multiple"),
        FakeOpInfo("norm", "inf"),
    ]
    templates = {
        "round": ["torch.round({x}, decimals=-3)"],
        "squeeze": ["{x}.squeeze({dim})", "{x}.squeeze(({dim},))"],
        "norm": ["torch.norm({x})"],
    }
    result = measure(op_db, templates, torch)
    assert sorted(result.covered) == ["round.decimals_neg_3", "squeeze", "squeeze.multiple"]
    assert uses("{x}.squeeze(({dim},))")[0].args == ("(p_dim,)",), "arguments as source, parameters as p_<name>"


def test_an_aten_overload_reaches_the_opinfo_of_its_op() -> None:
    op_db = [FakeOpInfo("slice", extra={}), FakeOpInfo("torch.ops.aten._safe_softmax.default")]
    op_db[0].op = torch.ops.aten.slice.Tensor  # OpInfo "slice" tests aten.slice.Tensor
    templates = {"slice": ["torch.ops.aten.slice.Tensor({x}, {dim}, {start}, {stop}, {step})"],
                 "softmax": ["torch.ops.aten._safe_softmax.default({x}, {dim})"]}  # fmt: skip
    assert measure(op_db, templates, torch).covered == {
        "slice": ["slice"], "torch.ops.aten._safe_softmax.default": ["softmax"]
    }


def test_an_opinfo_name_wins_over_an_alias_of_another() -> None:
    # torch's OpInfo lists "maximum" as an alias of max.binary, and also as an OpInfo of its own.
    op_db = [FakeOpInfo("max", "binary", aliases=(FakeAlias("maximum"),)), FakeOpInfo("maximum")]
    result = measure(op_db, {"maximum": ["torch.maximum({x}, {y})"]}, torch)
    assert list(result.covered) == ["maximum"]


@pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import expecttest"], capture_output=True).returncode != 0,
    reason="expecttest is not installed (pip install expecttest)",
)
def test_the_command_on_the_installed_torch_is_consistent(tmp_path: Path) -> None:
    out = tmp_path / "coverage.json"
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_conformance.coverage", "--out", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    c = data["coverage"]
    assert (
        proc.stdout.splitlines()[-1]
        == f"coverage: {c['covered']}/{c['total']} differentiable OpInfos ({c['percent']:.1f}%)"
    )
    uncovered = [k for keys in data["uncovered"].values() for k in keys]
    assert c["covered"] + len(uncovered) == c["total"] == sum(t for _, t in data["by_namespace"].values())
    registry = set(coverage.registry_templates())
    assert all(set(ops) <= registry for ops in data["covered"].values()), "credited to ops the registry has"
    assert "sin" in data["covered"] and "sin" in data["covered"]["sin"]
