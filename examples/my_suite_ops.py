"""A user's ops for the whole suite: ``pytest suites --ops examples/my_suite_ops.py``.

Every op declared here (``declare_op`` at module level, with ``jax_ref``) runs in each of the suite's cells
whose rule it meets and joins its random trees beside the registry's ops (``autograd_conformance.suite_ops``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from my_ops import LogCosh, softplus

from autograd_conformance import declare_op

log_cosh = declare_op(LogCosh.apply, inputs=[(3,)], domain=(-4.0, 4.0), jax_ref=lambda x: jnp.log(jnp.cosh(x)))
library_softplus = declare_op(softplus, inputs=[(2, 3)], jax_ref=jax.nn.softplus)
