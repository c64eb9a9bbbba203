# torch 2.13.0: torch.ldexp(x, e) with an integer exponent tensor e < 0 gives the right value x * 2**e,
# but its gradient with respect to x is 0 where it should be 2**e (0.25 here); a positive exponent is
# right (e = 3: 8).  torch 2.9.1 gives 0.25.  The backward computes 2**e in the integer dtype of e, where
# 2**-2 truncates to 0.
import torch

x = torch.tensor([1.5, -0.75], dtype=torch.float64, requires_grad=True)
e = torch.tensor(-2)
y = torch.ldexp(x, e)
print(torch.__version__, "value", y.tolist())  # [0.375, -0.1875] on both
(grad,) = torch.autograd.grad(y.sum(), x)
print(torch.__version__, "grad", grad.tolist())  # expected [0.25, 0.25]; 2.13.0: [0.0, 0.0]
assert torch.equal(grad, torch.full_like(x, 0.25)), grad
