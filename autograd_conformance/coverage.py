"""How much of torch's own OpInfo database the registry reaches: measured, not claimed.

    python -m autograd_conformance.coverage [--out FILE] [--quiet]

**The denominator** is torch's OpInfo database (``op_db`` in
``torch.testing._internal.common_methods_invocations``; importing it needs ``expecttest``): every
OpInfo, one per op and variant (``max.binary``, ``max.reduction_with_dim``), that supports
autograd.  Those without a float64 or complex128 backward on the CPU are *excluded*, each listed
with that reason: the oracles run in float64 and complex128 on the CPU.

**The numerator** is the OpInfos the registry's templates call.  Every registry template, its
``variants`` and its complex forms are parsed (``ast``), and every call on the gradient path
counts: ``F.nll_loss(F.log_softmax(x))`` checks both ops, because the gradient flows through
both.  A name reaches an OpInfo by its name (``torch.linalg.det`` → ``linalg.det``,
``F.relu`` → ``nn.functional.relu``, ``x.cos()`` → ``cos``, ``x @ y`` → ``matmul``) or, when it
is no OpInfo's name, by an OpInfo's declared aliases (``torch.det`` → ``linalg.det``).  An OpInfo
with a variant counts only where ``VARIANTS`` says which calls exercise that variant; a variant
without a rule there is uncovered, never guessed.

The last lines printed are ``coverage: N/M differentiable OpInfos (P%)``, the table by
namespace, the uncovered list and the exclusions.  ``--out`` writes them as JSON
(``results/coverage-torch-<version>.json`` by default), which the report shows per version.
"""

from __future__ import annotations

import argparse
import ast
import json
import string
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_conformance.registry.spec import TENSOR_NAMES, OpSpec

NAMESPACES = ("nn.functional", "linalg", "fft", "masked", "special", "sparse", "torch.ops")
TENSOR_METHODS = "Tensor methods and dunders"
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul",
           ast.Mod: "remainder"}  # fmt: skip
_REFLECTED = {ast.Add: "__radd__", ast.Sub: "__rsub__", ast.Mult: "__rmul__", ast.Div: "__rdiv__",
              ast.Pow: "__rpow__", ast.MatMult: "__rmatmul__", ast.Mod: "__rmod__"}  # fmt: skip


@dataclass(frozen=True)
class Use:
    """One call in a template: the callee's name as OpInfo spells it, and how it was called."""

    name: str
    tensor_args: int = 0  # positional arguments that involve an input tensor, a method's receiver included
    constants: tuple[Any, ...] = ()  # positional arguments that are literals, in order
    keywords: frozenset[str] = field(default_factory=frozenset)
    # Every argument as source text, ``name=value`` for keywords (``decimals=3``, ``(p_dim,)``; a parameter
    # reads ``p_<name>``): what a variant's rule reads when the call's form decides it (round.decimals_3).
    args: tuple[str, ...] = field(default=(), compare=False)


def _involves_tensor(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in TENSOR_NAMES for n in ast.walk(node))


def _dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _callee(func: ast.AST) -> str | None:
    """``torch.linalg.det`` → ``linalg.det``; ``F.relu`` → ``nn.functional.relu``; ``x.cos`` → ``cos``."""
    if not isinstance(func, ast.Attribute):
        return None
    dotted = _dotted(func)
    if dotted and dotted[:2] == ["torch", "ops"]:  # an aten overload: OpInfo names it in full, or by its op
        return ".".join(dotted)
    if dotted and dotted[0] == "torch":
        return ".".join(dotted[1:])
    if dotted and dotted[0] == "F":
        return "nn.functional." + ".".join(dotted[1:])
    return func.attr  # a method of a tensor expression


def uses(template: str) -> list[Use]:
    """Every call, operator, indexing and tensor attribute in one registry template."""
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    source = template.format(**{name: name if name in TENSOR_NAMES else f"p_{name}" for name in fields})
    tree = ast.parse(source, mode="eval")
    found: list[Use] = []
    calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (name := _callee(node.func)):
            calls.add(id(node.func))
            receiver = isinstance(node.func, ast.Attribute) and _involves_tensor(node.func.value)  # x.max(): x counts
            found.append(Use(
                name,
                tensor_args=receiver + sum(_involves_tensor(a) for a in node.args),
                constants=tuple(a.value for a in node.args if isinstance(a, ast.Constant)),
                keywords=frozenset(k.arg for k in node.keywords if k.arg),
                args=(*(ast.unparse(a) for a in node.args), *(f"{k.arg}={ast.unparse(k.value)}" for k in node.keywords)),
            ))  # fmt: skip
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            reflected = not _involves_tensor(node.left) and _involves_tensor(node.right)
            found.append(Use((_REFLECTED if reflected else _BINARY)[type(node.op)], tensor_args=2))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _involves_tensor(node.operand):
            found.append(Use("neg", tensor_args=1))
        elif isinstance(node, ast.Subscript) and _involves_tensor(node.value):
            found.append(Use("__getitem__", tensor_args=1))
    for node in ast.walk(tree):  # tensor attributes that are ops: x.T, x.mT, x.mH
        if isinstance(node, ast.Attribute) and _involves_tensor(node.value) and id(node) not in calls:
            found.append(Use(node.attr, tensor_args=1))
    return found


def _by_dim(kind: str) -> Callable[[Use], bool]:
    """max/min: ``binary`` takes two tensors; ``reduction_with_dim`` a dim; ``reduction_no_dim`` neither."""

    def rule(use: Use) -> bool:
        with_dim = "dim" in use.keywords or len(use.constants) > 0
        if kind == "binary":
            return use.tensor_args >= 2
        return use.tensor_args == 1 and with_dim == (kind == "reduction_with_dim")

    return rule


def _is_sequence(arg: str) -> bool:
    """An argument written as a tuple or list literal (``(p_dim,)``, ``dim=[0, 1]``)."""
    name, _, value = arg.partition("=")
    return (value if name.isidentifier() and value else arg).startswith(("(", "["))


# Which calls exercise an OpInfo's variant.  A variant not listed is uncovered.
def _training(use: Use) -> bool:
    """Whether a dropout call runs in training mode (``training=True``, or True as its third argument)."""
    return "training=True" in use.args or use.constants[1:2] == (True,)


VARIANTS: dict[str, Callable[[Use], bool]] = {
    "div.no_rounding_mode": lambda use: "rounding_mode" not in use.keywords,
    **{f"{op}.{kind}": _by_dim(kind) for op in ("max", "min") for kind in ("binary", "reduction_no_dim", "reduction_with_dim")},
    **{f"polygamma.polygamma_n_{n}": (lambda use, n=n: use.constants[:1] == (n,)) for n in range(5)},
    "std.unbiased": lambda use: "unbiased" in use.keywords,
    "var.unbiased": lambda use: "unbiased" in use.keywords,
    "std_mean.unbiased": lambda use: "unbiased" in use.keywords,
    "var_mean.unbiased": lambda use: "unbiased" in use.keywords,
    **{f"scatter_reduce.{r}": (lambda use, r=r: r in use.constants) for r in ("sum", "prod", "mean", "amax", "amin")},
    **{f"index_reduce.{r}": (lambda use, r=r: r in use.constants) for r in ("prod", "mean", "amax", "amin")},
    "softmax.with_dtype": lambda use: "dtype" in use.keywords,
    "log_softmax.with_dtype": lambda use: "dtype" in use.keywords,
    "nn.functional.softmin.with_dtype": lambda use: "dtype" in use.keywords,
    # decompositions (autograd_conformance/registry/decompositions.py): pinv's OpInfo variants are a Hermitian input
    # (hermitian=True) and a rank-deficient product (pinv(a @ b)); lstsq's grad_oriented differentiates the
    # solution and residuals for a given driver (plain linalg.lstsq's OpInfo skips its gradient tests).
    "linalg.pinv.hermitian": lambda use: "hermitian" in use.keywords,
    "linalg.pinv.singular": lambda use: bool(use.args) and " @ " in use.args[0],
    "linalg.lstsq.grad_oriented": lambda use: "driver" in use.keywords,
    # simple ops and other spellings (autograd_conformance/registry/simple.py): the call's form, read from its arguments
    **{f"round.decimals_{k}": (lambda use, d=d: f"decimals={d}" in use.args) for k, d in (("0", 0), ("3", 3), ("neg_3", -3))},
    **{f"mvlgamma.mvlgamma_p_{p}": (lambda use, p=p: use.constants[:1] == (p,) or f"p={p}" in use.args) for p in (1, 3, 5)},
    "special.polygamma.special_polygamma_n_0": lambda use: use.constants[:1] == (0,),
    **{f"div.{m}_rounding": (lambda use, m=m: f"rounding_mode='{m}'" in use.args) for m in ("floor", "trunc")},
    "squeeze.multiple": lambda use: any(_is_sequence(a) for a in use.args),  # squeeze((0, 2)): the dims overload
    # split(x, [2, 1]): a list of sizes; the registry's {sizes} parameters are such lists (literal() prints tuples as lists)
    "split.list_args": lambda use: any(_is_sequence(a) or a.endswith("p_sizes") for a in use.args[1:2]),
    "norm.fro": lambda use: "fro" in use.constants or "p='fro'" in use.args,
    # dropout family (autograd_conformance/registry/seeded.py): feature_alpha_dropout's OpInfo variants are training on
    # and off; training defaults to False, so a call without it is the without_train variant.
    "nn.functional.feature_alpha_dropout.with_train": lambda use: _training(use),
    "nn.functional.feature_alpha_dropout.without_train": lambda use: not _training(use),
    # strided family (autograd_conformance/registry/strided.py): as_strided of a slice, base.view(-1)[start:stop]
    "as_strided.partial_views": lambda use: bool(use.args) and use.args[0].endswith("]"),
    # unpooling (autograd_conformance/registry/unpooling.py): the grad variants unpool with distinct indices (a max_pool's);
    # linear_cross_entropy's chunked variants pass options=, chunked_none with reduction='none'
    **{f"nn.functional.max_unpool{n}d.grad": (lambda use: any("p_distinct_indices" in a for a in use.args)) for n in (1, 2, 3)},
    "nn.functional.linear_cross_entropy.chunked": lambda use: "options" in use.keywords and "reduction='none'" not in use.args,
    "nn.functional.linear_cross_entropy.chunked_none": lambda use: "options" in use.keywords and "reduction='none'" in use.args,
    "norm.nuc": lambda use: "nuc" in use.constants or "p='nuc'" in use.args,
    "norm.inf": lambda use: any(a.removeprefix("p=") in ("float('inf')", "torch.inf") for a in use.args),
    # structured (autograd_conformance/registry/structured.py): addmm with beta = alpha = 1 is the form TorchScript decomposes
    "addmm.decomposed": lambda use: not {"alpha", "beta"} & use.keywords,
    "meshgrid.list_of_tensors": lambda use: use.tensor_args == 1,
    "meshgrid.variadic_tensors": lambda use: use.tensor_args >= 2,
    # layers (autograd_conformance/registry/layers.py): the mode is a positional literal; pad_replicate's table has negative pads
    **{f"nn.functional.interpolate.{m}": (lambda use, m=m: m in use.constants)
       for m in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")},
    **{f"nn.functional.pad.{m}": (lambda use, m=m: m in use.constants) for m in ("constant", "reflect", "replicate", "circular")},
    "nn.functional.pad.replicate_negative": lambda use: "replicate" in use.constants,
}  # fmt: skip


def registry_templates() -> dict[str, list[str]]:
    """Every template the suite runs, by registry op: the op's own, its variants, its complex form."""
    from autograd_conformance.registry import OPS
    from autograd_conformance.registry import complex as complex_registry

    out: dict[str, list[str]] = {}
    specs: Iterable[tuple[str, OpSpec]] = [
        *((op.name, op) for op in OPS),
        *((f"{op.name} (complex)", op) for op in complex_registry.OPS),
    ]
    for name, op in specs:
        out[name] = [op.torch, *op.variants]
    return out


def namespace(name: str, torch_module: Any) -> str:
    for prefix in NAMESPACES:
        if name.startswith(prefix + "."):
            return prefix
    return "torch" if hasattr(torch_module, name) else TENSOR_METHODS


@dataclass
class Coverage:
    torch: str
    covered: dict[str, list[str]]  # OpInfo "name[.variant]" -> the registry ops that reach it
    uncovered: dict[str, list[str]]  # namespace -> the OpInfos no registry template reaches
    excluded: dict[str, str]  # OpInfo -> why it is not counted
    by_namespace: dict[str, tuple[int, int]]  # namespace -> (covered, differentiable)

    @property
    def total(self) -> int:
        return len(self.covered) + sum(len(keys) for keys in self.uncovered.values())

    @property
    def percent(self) -> float:
        return 100.0 * len(self.covered) / self.total if self.total else 0.0

    def line(self) -> str:
        return f"coverage: {len(self.covered)}/{self.total} differentiable OpInfos ({self.percent:.1f}%)"

    def as_json(self) -> dict[str, Any]:
        return {
            "coverage": {"covered": len(self.covered), "total": self.total, "percent": round(self.percent, 1)},
            "torch": self.torch, "by_namespace": self.by_namespace, "covered": self.covered,
            "uncovered": self.uncovered, "excluded": self.excluded,
        }  # fmt: skip


def measure(op_db: list[Any], templates: dict[str, list[str]], torch_module: Any) -> Coverage:
    """Map ``op_db`` (OpInfos) onto the registry's ``templates``."""
    float64, complex128 = torch_module.float64, torch_module.complex128
    counted, excluded = [], {}
    for info in op_db:
        key = f"{info.name}.{info.variant_test_name}" if info.variant_test_name else info.name
        if not info.supports_autograd:
            continue
        if not {float64, complex128} & set(info.supported_backward_dtypes("cpu")):
            excluded[key] = "supports autograd, but has no float64 or complex128 backward on the CPU"
            continue
        counted.append((key, info))
    names = {info.name for _, info in counted}
    aliases: dict[str, set[str]] = {}
    for _, info in counted:
        for alias in info.aliases:
            aliases.setdefault(alias.name, set()).add(info.name)
        if type(getattr(info, "op", None)).__name__ == "OpOverload":  # slice's op is aten.slice.Tensor
            aliases.setdefault(f"torch.ops.{info.op}", set()).add(info.name)

    reached: dict[str, list[tuple[str, Use]]] = {}  # OpInfo name -> (registry op, use)
    for op_name, sources in templates.items():
        for source in sources:
            for use in uses(source):
                for target in {use.name} if use.name in names else aliases.get(use.name, set()):
                    reached.setdefault(target, []).append((op_name, use))

    covered: dict[str, list[str]] = {}
    uncovered: dict[str, list[str]] = {}
    tally: dict[str, list[int]] = {}
    for key, info in counted:
        rule = VARIANTS.get(key) if info.variant_test_name else (lambda use: True)
        ops = sorted({op for op, use in reached.get(info.name, []) if rule and rule(use)})
        ns = namespace(info.name, torch_module)
        counts = tally.setdefault(ns, [0, 0])
        counts[1] += 1
        if ops:
            covered[key] = ops
            counts[0] += 1
        else:
            uncovered.setdefault(ns, []).append(key)
    by_namespace = {ns: (c, t) for ns, (c, t) in sorted(tally.items(), key=lambda kv: -kv[1][1])}
    uncovered = {ns: sorted(uncovered[ns]) for ns in by_namespace if ns in uncovered}
    return Coverage(torch_module.__version__, covered, uncovered, excluded, by_namespace)


def load_op_db() -> list[Any]:
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except ModuleNotFoundError as exc:
        raise SystemExit(
            f"coverage: importing torch's OpInfo database needs {exc.name!r}: pip install expecttest"
        ) from None
    return list(op_db)


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(prog="python -m autograd_conformance.coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="JSON file (default: results/coverage-torch-<version>.json)")
    parser.add_argument("--quiet", action="store_true", help="print only the coverage line")
    args = parser.parse_args(argv)

    result = measure(load_op_db(), registry_templates(), torch)
    out = Path(args.out or f"results/coverage-torch-{torch.__version__.split('+')[0]}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.as_json(), indent=1) + "\n", encoding="utf-8")
    if not args.quiet:
        print(f"torch {torch.__version__}: differentiable OpInfos (float64 or complex128 backward on the CPU)")
        for ns, (c, t) in result.by_namespace.items():
            print(f"  {ns:<28} {c:>4} / {t:<4} covered")
        print(f"uncovered ({result.total - len(result.covered)}):")
        for ns, keys in result.uncovered.items():
            print(f"  {ns}: {', '.join(keys)}")
        print(f"excluded ({len(result.excluded)}):")
        for key, why in result.excluded.items():
            print(f"  {key}: {why}")
        print(f"written: {out}")
    print(result.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
