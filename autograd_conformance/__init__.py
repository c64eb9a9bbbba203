"""Check your own op: the conformance suite's properties, oracles and shrunk repros for a user's op.

    from autograd_conformance import check_op
    check_op(MySquare.apply, inputs=[(3,)], jax_ref=jnp.square)

``check_op`` runs one op through the suite's gradient properties and raises ``OpCheckError`` with a
shrunk, paste-and-run repro; ``op_tests`` makes the same checks pytest cells, written to the suite's
results files (``autograd_conformance.pytest_plugin``, active wherever the package is installed);
``declare_op`` in a file passed to the suite (``pytest suites --ops my_ops.py``) adds the op to the
suite's cells and random trees (``autograd_conformance.suite_ops``).

The names are imported when first used (PEP 562), so that declaring an op does not import the suite's
strategies: ``--ops`` must add its ops to the registry before they read it.

The suite's engine lives in the same package:

* ``autograd_conformance.registry`` – the declarative table of differentiable ops.
* ``autograd_conformance.tree``     – expression trees over registry ops (torch and JAX evaluation, code rendering).
* ``autograd_conformance.oracles``  – finite differences, JAX, and torch's own forward mode.
* ``autograd_conformance.verdict``  – verdicts.
* ``autograd_conformance.tolerances`` – every tolerance and margin, named for what it compares, with its reason.
* ``autograd_conformance.singularities`` – poles, domain exits and kinks of a tree at an input point.
* ``autograd_conformance.strategies`` – the Hypothesis strategies that draw trees and examples.
* ``autograd_conformance.harness``, ``autograd_conformance.transforms`` – what the suites' tests share.
* ``autograd_conformance.reports``  – results, the HTML report, baselines and the gate.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "OpCheckError": "autograd_conformance.check",
    "check_op": "autograd_conformance.check",
    "PROPERTIES": "autograd_conformance.declare",
    "DeclarationError": "autograd_conformance.declare",
    "Domain": "autograd_conformance.registry.spec",
    "UserOp": "autograd_conformance.declare",
    "declare_op": "autograd_conformance.declare",
    "op_tests": "autograd_conformance.pytest_plugin",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'autograd_conformance' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
