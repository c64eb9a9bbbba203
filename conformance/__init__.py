"""The engine of the autograd conformance suite.

* ``conformance.registry`` – the declarative table of differentiable ops.
* ``conformance.tree``     – expression trees over registry ops (torch and JAX evaluation, code rendering).
* ``conformance.oracles``  – finite differences, JAX, and torch's own forward mode.
* ``conformance.verdict``  – verdicts.
* ``conformance.tolerances`` – every tolerance and margin, named for what it compares, with its reason.
* ``conformance.singularities`` – poles, domain exits and kinks of a tree at an input point.
"""
