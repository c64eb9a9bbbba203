"""The real-view machinery of complex ops (``autograd_conformance.registry.complex``): shapes, templates,
the finite-difference split of a direction into real and imaginary parts, complex matrix leaves."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_conformance.jaxsetup  # noqa: F401
from autograd_conformance.registry import complex
from autograd_conformance.registry.spec import matrix_inside
from autograd_conformance.strategies.tensors import arrays
from autograd_conformance.strategies.trees import draw_op_tree
from autograd_conformance.tree import Leaf, Node, Tree

# torch's complex logaddexp and logcumsumexp return a logarithm off the principal branch, a known finding
# (baselines/repros/complex_logcumsumexp_logaddexp_branch.py): logaddexp(4j, 0) has imaginary part 5.14 for -1.14.
OFF_PRINCIPAL_BRANCH = ("logaddexp", "logcumsumexp")


def test_templates_wrap_complex_inputs_and_outputs() -> None:
    assert complex.OPS_BY_NAME["sin"].torch == "torch.view_as_real(torch.sin(torch.view_as_complex({x})))"
    assert complex.OPS_BY_NAME["abs"].torch == "torch.abs(torch.view_as_complex({x}))"  # a real output
    assert complex.OPS_BY_NAME["polar"].torch == "torch.view_as_real(torch.polar({x}, {y}))"  # real inputs


@settings(max_examples=30, deadline=None, database=None)
@given(data=st.data(), op=st.sampled_from(complex.OPS))
def test_drawn_shapes_are_real_views_torch_and_jax_agree_on(data, op) -> None:
    """Each complex input has a trailing axis of 2, so does a complex output, a real output never:
    torch's template runs on the drawn shapes and gives JAX's value."""
    tree = draw_op_tree(lambda s, label: data.draw(s, label=label), op)
    rule = op.rule
    for shape, is_complex in zip(tree.leaf_shapes, rule.complex_inputs):
        assert (shape[-1:] == (2,)) if is_complex else True
    xs = [data.draw(arrays(s, d), label=f"x{i}") for i, (s, d) in enumerate(zip(tree.leaf_shapes, tree.leaf_domains))]
    out = tree.torch_fn()(*[torch.tensor(x) for x in xs])
    assert out.dtype == torch.float64
    assert (out.shape[-1:] == (2,)) == rule.complex_output
    got, want = out.numpy(), np.asarray(tree.jax_fn()(*xs))
    if op.name in OFF_PRINCIPAL_BRANCH:  # the imaginary part (a phase) agrees modulo 2π
        got, want = got.copy(), want.copy()
        got[..., 1] = want[..., 1] + np.angle(np.exp(1j * (got[..., 1] - want[..., 1])))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_split_direction_is_v_in_two_parts() -> None:
    polar, sin = complex.OPS_BY_NAME["polar"], complex.OPS_BY_NAME["sin"]
    # sin(x0) + polar(x1, x2): x0 complex, x1 and x2 real
    tree = Tree(Node(complex.OPS_BY_NAME["add"], None, (Node(sin, None, (Leaf(0),)), Node(polar, None, (Leaf(1), Leaf(2))))),
                ((3, 2), (3,), (3,)), ())  # fmt: skip
    assert complex.complex_leaves(tree) == {0}
    v = [np.arange(6.0).reshape(3, 2) + 1, np.ones(3), -np.ones(3)]
    (real_label, real), (imag_label, imag) = complex.split_direction(tree, v)
    assert "real" in real_label and "imaginary" in imag_label
    for a, b, whole in zip(real, imag, v):
        np.testing.assert_array_equal(a + b, whole)
    assert not real[0][..., 1].any() and not imag[0][..., 0].any()  # each part of z alone
    assert not imag[1].any() and not imag[2].any()  # real leaves go with the real parts
    real_tree = Tree(Leaf(0), ((3,),), ())
    ((label, same),) = complex.split_direction(real_tree, [np.ones(3)])
    assert label == "" and np.array_equal(same[0], np.ones(3))


@settings(max_examples=20, deadline=None, database=None)
@given(data=st.data())
def test_complex_matrix_leaves_are_well_conditioned(data) -> None:
    domain = complex.OPS_BY_NAME["inv"].domain_of(0)
    assert domain.matrix == "complex well_conditioned"
    n = data.draw(st.integers(1, 4))
    x = data.draw(arrays((n, n, 2), domain))
    assert matrix_inside(x, domain.matrix, 1e-3)
    assert not matrix_inside(np.zeros((n, n, 2)), domain.matrix, 1e-3)
