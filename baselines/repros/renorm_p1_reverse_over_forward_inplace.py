# torch 2.13.0 and 2.9.1: reverse over forward through torch.renorm with p = 1 raises "one of the variables
# needed for gradient computation has been modified by an inplace operation ... output 0 of Sgn", as
# vector_norm(ord=1) does (softmax_reverse_over_forward_inplace.py): the forward-mode formula of the 1-norm
# overwrites the sign its backward saved.  p = 2 and p = 3 work; so does double backward with p = 1.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([[2.0, -0.5]], dtype=torch.float64, requires_grad=True)
v = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
for p in (1.0, 2.0, 3.0):
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(torch.renorm(fwAD.make_dual(x, v), p=p, dim=0, maxnorm=1.0)).tangent
    try:
        print(f"p = {p}: reverse over forward", torch.autograd.grad(jv.sum(), x)[0].tolist())
    except RuntimeError as exc:
        print(f"p = {p}: reverse over forward raises {str(exc)[:110]}")
        assert p == 1.0 and "modified by an inplace operation" in str(exc)
