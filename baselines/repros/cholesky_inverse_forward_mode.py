# torch.cholesky_inverse's forward-mode derivative is wrong for every matrix larger than 1x1, real
# or complex, while its reverse mode is right.  cholesky_inverse(L) = (L L^H)^-1, so along a
# tangent T of L the derivative is -B^-1 (T L^H + L T^H) B^-1 with B = L L^H.
import torch
import torch.autograd.forward_ad as fwAD

for dtype in (torch.float64, torch.complex128):
    L = torch.tensor([[2.0, 0.0], [0.5, 1.5]], dtype=dtype)
    T = torch.tensor([[0.3, 0.0], [0.1, 0.4]], dtype=dtype)
    if dtype.is_complex:
        L[1, 0] += 0.5j
        T[1, 0] -= 0.2j
    B_inv = torch.linalg.inv(L @ L.mH)
    expected = -B_inv @ (T @ L.mH + L @ T.mH) @ B_inv
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(torch.cholesky_inverse(fwAD.make_dual(L, T))).tangent
    h = 1e-6
    central = (torch.cholesky_inverse(L + h * T) - torch.cholesky_inverse(L - h * T)) / (2 * h)
    print(dtype, "forward mode off by", (jv - expected).abs().max().item(),
          "; central differences off by", (central - expected).abs().max().item())
    assert (central - expected).abs().max() < 1e-8 and (jv - expected).abs().max() > 1e-3

    # reverse mode is right: <grad, T> = <U, expected> for a seed U
    x = L.clone().requires_grad_()
    U = torch.tensor([[0.2, 0.1], [0.1, -0.5]], dtype=dtype)
    torch.cholesky_inverse(x).backward(U)
    assert torch.isclose((x.grad.conj() * T).sum().real, (U.conj() * expected).sum().real)
