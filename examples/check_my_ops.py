"""Check the ops of ``my_ops.py`` with ``check_op``: ``python examples/check_my_ops.py``.

``LogCosh`` and the ``softplus`` custom op pass.  ``LogCoshFastPath``'s backward is wrong only where
|x| > 2: ``torch.autograd.gradcheck`` at a typical input passes, ``check_op`` finds the region and
shrinks the failure to a minimal repro.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import torch
from my_ops import LogCosh, LogCoshFastPath, softplus

from autograd_conformance import OpCheckError, check_op

DOMAIN = (-4.0, 4.0)  # log(cosh(x)) and its derivatives are tame here; the fast path's region is inside


def log_cosh_reference(x):
    return jnp.log(jnp.cosh(x))


def main(max_examples: int = 25) -> dict[str, object]:
    results: dict[str, object] = {
        "LogCosh": check_op(
            LogCosh.apply, inputs=[(3,)], domain=DOMAIN, jax_ref=log_cosh_reference, max_examples=max_examples
        ),
        "softplus": check_op(softplus, inputs=[(2, 3)], jax_ref=jax.nn.softplus, max_examples=max_examples),
    }
    typical = torch.tensor([-0.5, 0.3, 1.2], dtype=torch.float64, requires_grad=True)
    results["gradcheck(LogCoshFastPath)"] = torch.autograd.gradcheck(LogCoshFastPath.apply, (typical,))
    try:
        check_op(LogCoshFastPath.apply, inputs=[(3,)], domain=DOMAIN, max_examples=max_examples)
        results["LogCoshFastPath"] = "passed (the bug was not found)"
    except OpCheckError as failure:
        results["LogCoshFastPath"] = failure
    return results


if __name__ == "__main__":
    for name, result in main().items():
        print(f"{name}: {result}\n")
