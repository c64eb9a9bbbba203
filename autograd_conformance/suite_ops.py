"""``pytest suites --ops my_ops.py``: a user's ops join the suite, in its per-op cells and its random trees.

The file declares ops with ``declare_op`` at module level (any name; ``examples/my_suite_ops.py``)::

    from autograd_conformance import declare_op
    log_cosh = declare_op(LogCosh.apply, inputs=[(3,)], domain=(-4.0, 4.0), jax_ref=lambda x: jnp.log(jnp.cosh(x)))

Each op needs ``jax_ref``: the suite's cells and trees hold every op to JAX as well as to finite
differences (an op without one is checked alone, by ``check_op``).  The ops are added to the registry
before the suite's strategies read it, so every cell whose rule an op meets runs it, under the family
"user", and random trees draw it beside the registry's ops; a tree's repro imports it.  A per-op cell that
meets a known torch bug of the op's kind (``autograd_conformance.known``) is an expected failure, and random
trees of that property leave the op out (``autograd_conformance.registry.KNOWN_BROKEN``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from autograd_conformance.declare import UserOp
from autograd_conformance.known import KNOWN

MODULE_NAME = "conformance_user_ops"  # the name the file is imported under (its repros import from its path)


class OpsFileError(ValueError):
    """The ``--ops`` file cannot give the suite its ops."""


def load(path: str | Path) -> list[UserOp]:
    """The ops ``path`` declares, in the order it declares them."""
    path = Path(path)
    if not path.is_file():
        raise OpsFileError(f"--ops {path}: no such file")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # its own imports (``from my_ops import LogCosh``) resolve
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise OpsFileError(f"--ops {path}: importing it raised {type(exc).__name__}: {exc}") from exc
    ops = [value for value in vars(module).values() if isinstance(value, UserOp)]
    if not ops:
        raise OpsFileError(f"--ops {path} declares no ops: assign declare_op(fn, inputs=..., jax_ref=...) to a name")
    without = [op.name for op in ops if not op.spec.jax_is_reference]
    if without:
        raise OpsFileError(
            f"--ops {path}: {without} have no jax_ref; the suite holds every op to JAX (check them with check_op)"
        )
    return ops


def join_suite(path: str | Path) -> list[UserOp]:
    """Load ``path``'s ops and add them to the registry; raises if the suite's strategies already read it."""
    from autograd_conformance import registry

    read = [name for name in ("autograd_conformance.strategies.trees", "suites.cases") if name in sys.modules]
    if read:
        raise OpsFileError(f"--ops came too late: {read} already read the registry (load it before collection)")
    ops = load(path)
    broken: dict[str, set[str]] = {}
    for name, prop in known_bugs(ops):
        broken.setdefault(prop, set()).add(name)
    try:
        registry.add_user_ops([op.spec for op in ops], {prop: frozenset(names) for prop, names in broken.items()})
    except ValueError as exc:
        raise OpsFileError(f"--ops {path}: {exc}") from None
    return ops


def known_bugs(ops: list[UserOp]) -> dict[tuple[str, str], str]:
    """(op name, property) → the known torch bug (``autograd_conformance.known``) a cell of these ops meets."""
    return {
        (op.name, prop): bug.reason
        for op in ops
        for bug in KNOWN
        if bug.applies(op.function)
        for prop in bug.properties
    }
