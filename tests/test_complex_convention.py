"""The complex gradient convention (``autograd_conformance.conventions.COMPLEX_GRADIENT``), measured.

For a real loss L of complex z = x + iy, torch's ``z.grad`` is ∂L/∂x + i·∂L/∂y and ``jax.grad``
returns its conjugate.  The complex properties rely on the first half: through ``view_as_real``, torch's
complex gradient becomes the real gradient (∂L/∂x, ∂L/∂y) that the oracles compute.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autograd_conformance.jaxsetup  # noqa: F401 - x64
from autograd_conformance.conventions import COMPLEX_GRADIENT

Z = np.array([0.7 - 1.2j, -0.4 + 0.3j, 1.5 + 0.25j])
W = np.array([0.2 + 0.9j, -1.1 - 0.5j, 0.6 + 0.1j])

# Real losses of z, in torch and JAX: holomorphic inside, non-holomorphic inside, and |.|.
LOSSES = {
    "abs(sin z) summed": (lambda z: torch.sin(z).abs().sum(), lambda z: jnp.abs(jnp.sin(z)).sum()),
    "Re(z^2 conj w)": (lambda z: (z**2 * torch.tensor(W).conj()).real.sum(), lambda z: jnp.real(z**2 * jnp.conj(W)).sum()),
    "|z|^2 + Im(exp z)": (lambda z: (z.abs() ** 2 + torch.exp(z).imag).sum(), lambda z: (jnp.abs(z) ** 2 + jnp.imag(jnp.exp(z))).sum()),
}


def _central(loss, z: np.ndarray) -> np.ndarray:
    """∂L/∂x + i·∂L/∂y by central differences of torch's loss, element by element."""
    h = 1e-6
    grad = np.zeros_like(z)
    for k in range(z.size):
        for unit, part in ((1.0, 1.0), (1j, 1j)):
            e = np.zeros_like(z)
            e[k] = unit * h
            plus, minus = (float(loss(torch.tensor(z + s * e))) for s in (1, -1))
            grad[k] += part * (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize("name", list(LOSSES))
def test_torch_gives_dl_dx_plus_i_dl_dy_and_jax_its_conjugate(name: str) -> None:
    torch_loss, jax_loss = LOSSES[name]
    z = torch.tensor(Z, requires_grad=True)
    torch_loss(z).backward()
    expected = _central(torch_loss, Z)
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-7, atol=1e-8, err_msg=COMPLEX_GRADIENT.torch)
    np.testing.assert_allclose(np.asarray(jax.grad(jax_loss)(jnp.asarray(Z))), np.conj(expected), rtol=1e-7, atol=1e-8,
                               err_msg=COMPLEX_GRADIENT.jax)  # fmt: skip


def test_real_view_gradient_is_torchs_complex_gradient() -> None:
    """The suite's premise: the leaf x = view_as_real(z) gets (Re z.grad, Im z.grad)."""
    torch_loss, _ = LOSSES["abs(sin z) summed"]
    pairs = torch.view_as_real(torch.tensor(Z)).clone().requires_grad_()
    torch_loss(torch.view_as_complex(pairs)).backward()
    z = torch.tensor(Z, requires_grad=True)
    torch_loss(z).backward()
    np.testing.assert_array_equal(pairs.grad.numpy(), torch.view_as_real(z.grad).numpy())
