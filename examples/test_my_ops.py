"""A user's test file: ``pytest examples/test_my_ops.py`` (the plugin is active once the package is installed).

``op_tests`` makes one conformance cell per property (vjp, jvp, second_order, float32, layout), written
to the suite's results file (``--results-dir``, default ``results/``); ``--baseline my_known.txt`` lists
known failures.  ``check_op`` is the same check as a plain call.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from my_ops import LogCosh, LogCoshFastPath, softplus

from autograd_conformance import OpCheckError, check_op, op_tests

test_log_cosh = op_tests(LogCosh.apply, inputs=[(3,)], domain=(-4.0, 4.0), jax_ref=lambda x: jnp.log(jnp.cosh(x)))
test_softplus = op_tests(softplus, inputs=[(2, 3)], jax_ref=jax.nn.softplus)


def test_fast_path_is_wrong_above_2() -> None:
    with pytest.raises(OpCheckError, match="property 'vjp' fails") as failure:
        check_op(LogCoshFastPath.apply, inputs=[(3,)], domain=(-4.0, 4.0), max_examples=25)
    assert "from my_ops import LogCoshFastPath" in failure.value.repro
