# torch 2.3.1 to 2.13.0: scatter_reduce and index_reduce(..., 'amax' or 'amin', include_self=False) halve the
# gradient of the source where the original value of `self` at the target happens to equal the
# result.  With include_self=False that value takes no part in the reduction (y = max(src) here,
# one source element, no tie), so dy/dsrc = 1, as finite differences give; torch's backward counts
# `self == result` among the maxima it splits the gradient between, and gives 0.5.
import torch

for op in (torch.scatter_reduce, torch.index_reduce):
  for reduce in ("amax", "amin"):
    for x_value in (2.0, 1.0):  # equal to the result, then not
        x = torch.tensor([x_value], dtype=torch.float64, requires_grad=True)
        src = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
        y = op(x, 0, torch.tensor([0]), src, reduce, include_self=False)  # y = src
        y.backward(torch.ones_like(y))
        print(op.__name__, reduce, "self =", x_value, "y =", y.item(), "src.grad =", src.grad.item(), "x.grad =", x.grad.item(),
              "expected src.grad 1, x.grad 0")
        assert src.grad.item() == (0.5 if x_value == 2.0 else 1.0)
