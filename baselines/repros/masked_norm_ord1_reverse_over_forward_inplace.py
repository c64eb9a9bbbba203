# torch 2.13.0 and 2.9.1: reverse over forward through torch.masked.norm with ord = 1 raises "one of the
# variables needed for gradient computation has been modified by an inplace operation ... output 0 of Sgn",
# as vector_norm(ord=1) and renorm(p=1) do (renorm_p1_reverse_over_forward_inplace.py): the forward-mode
# formula of the 1-norm overwrites the sign its backward saved.  ord = 2 and 3 work.  Found by the soak
# (seed 2561099462) in the random-tree cell: masked_amax(masked_norm(x0)).
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([[0.3, -0.7], [1.1, 0.4]], dtype=torch.float64, requires_grad=True)
mask = torch.tensor([[True, True], [False, True]])
for ord in (1.0, 2.0, 3.0):
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(torch.masked.norm(fwAD.make_dual(x, torch.ones_like(x)), ord, 0, mask=mask)).tangent
        try:
            print(f"ord = {ord}: reverse over forward", torch.autograd.grad(jv.sum(), x)[0].tolist())
        except RuntimeError as exc:
            print(f"ord = {ord}: reverse over forward raises {str(exc)[:110]}")
            assert ord == 1.0 and "modified by an inplace operation" in str(exc)
