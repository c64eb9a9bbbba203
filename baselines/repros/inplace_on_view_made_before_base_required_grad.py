# A view made while its base required no grad, the base then given grad by an in-place op (on the base
# itself or through another view): an in-place op on the old view raises "a leaf Variable that requires
# grad is being used in an in-place operation", though the view is not a leaf (v.is_leaf is False) and
# requires grad through its base.  Reading v.grad_fn (or v.is_leaf) first makes the same op work and give
# the right gradient: the view's grad_fn is regenerated lazily, and the in-place check reads it before it
# has been.  Views made while the base already required grad are not affected.
import torch

z = torch.tensor([1.5, 2.0], dtype=torch.float64, requires_grad=True)
for touch in (False, True):
    b = torch.zeros(2, dtype=torch.float64)  # requires no grad
    v = b[:]  # a view of it
    b.sub_(z * 1)  # b now requires grad (SubBackward0); so does v
    if touch:
        v.grad_fn  # regenerates v's grad_fn
    try:
        v.neg_()
        b.sum().backward()
        print(torch.__version__, "grad_fn read first:", touch, "| v.neg_() works, z.grad =", z.grad.tolist())
    except RuntimeError as exc:
        print(torch.__version__, "grad_fn read first:", touch, "| v.neg_() raises:", exc)
