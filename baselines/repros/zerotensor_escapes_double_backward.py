# The second derivative of torch.abs (and of what is built on it: vector_norm with ord=1 or inf,
# l1_loss) is returned to the caller of torch.autograd.grad as an "efficient zero tensor"
# (h._is_zerotensor() is True): h.tolist() and h.numpy() raise "tolist() shouldn't be called on a
# tensor with unallocated storage", though h prints as zeros and h + 1 works.  sgn's backward returns
# at::_efficientzerotensor for real inputs, and autograd hands it out without materializing it.
import torch

x = torch.tensor([0.5, -2.0], dtype=torch.float64, requires_grad=True)
for name, f in (("abs", torch.abs), ("vector_norm(ord=inf)", lambda x: torch.linalg.vector_norm(x, ord=float("inf")))):
    (g,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    try:
        values = h.tolist()
    except RuntimeError as exc:
        values = f"raises: {exc}"
    print(torch.__version__, name, "second derivative: zero tensor", h._is_zerotensor(), "| tolist():", values)
