"""Check your own op: the conformance suite's properties, oracles and shrunk repros for a user's op.

    from autograd_conformance import check_op
    check_op(MySquare.apply, inputs=[(3,)], jax_ref=jnp.square)

``check_op`` runs one op through the suite's gradient properties and raises ``OpCheckError`` with a
shrunk, paste-and-run repro; ``op_tests`` makes the same checks pytest cells, written to the suite's
results files (``autograd_conformance.pytest_plugin``, active wherever the package is installed).
"""

from autograd_conformance.check import OpCheckError, check_op
from autograd_conformance.declare import PROPERTIES, DeclarationError, UserOp, declare_op
from autograd_conformance.pytest_plugin import op_tests

__all__ = ["PROPERTIES", "DeclarationError", "OpCheckError", "UserOp", "check_op", "declare_op", "op_tests"]
