# torch 2.13.0: matrix_exp's backward loses up to ~2e-8 relative when the cotangent is small
# next to the matrix (torch evaluates the Frechet derivative as the exponential of the block
# matrix [[A^T, G], [0, A^T]], whose scaling follows the block's norm).  scipy's expm_frechet
# (and JAX) give the exact value; with a cotangent of 1 torch is exact too.
import numpy as np
import scipy.linalg
import torch

a = np.array([[0.015625]])
for g in (1.0, 1e-3):
    x = torch.tensor(a, requires_grad=True)
    torch.linalg.matrix_exp(x).backward(torch.tensor([[g]], dtype=torch.float64))
    exact = scipy.linalg.expm_frechet(a.T, np.array([[g]]), compute_expm=False)
    rel = abs(x.grad.item() - exact.item()) / abs(exact.item())
    print(f"cotangent {g:g}: torch {x.grad.item()!r}, exact {exact.item()!r}, relative error {rel:.2g}")
assert rel > 1e-11
