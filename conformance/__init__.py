"""The engine of the autograd conformance suite.

* ``conformance.registry`` – the declarative table of differentiable ops.
* ``conformance.tree``     – expression trees over registry ops (torch and JAX evaluation, code rendering).
* ``conformance.oracles``  – finite differences, JAX, and torch's own forward mode.
* ``conformance.verdict``  – verdicts and calibrated tolerances.
"""
