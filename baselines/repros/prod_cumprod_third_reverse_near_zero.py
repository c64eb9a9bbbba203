# The third derivative by reverse mode (autograd.grad with create_graph twice) of torch.prod along a dim and of
# torch.cumprod loses precision when an element is small (their backward formulas divide by the input).  Both
# cases below are the identity on the small element, whose third derivative is exactly 0: prod over a dim of
# size 1 at x = 1e-5 gives -9.5e-7, cumprod's first element at x = 2.27e-4 gives -1.2e-10 (found by the soak).
import torch

torch.set_default_dtype(torch.float64)


def third_reverse(f, x, u, v, w):
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, u, create_graph=True)
    (h,) = torch.autograd.grad((g * v).sum(), x, create_graph=True)
    return torch.autograd.grad((h * w).sum(), x)[0]


s = torch.tensor([0.2739233672618866, -0.46042656898498535, -0.9180529713630676])
w = torch.tensor([0.0236432496458292, 0.9009273648262024, -0.7116807699203491])
x = torch.tensor([[1.0, 1.0, 1e-05]])
print(torch.__version__, "prod(dim=0):", third_reverse(lambda a: a.prod(dim=0), x, s, s[None], w[None]).tolist(), "(exact: 0)")
x = torch.tensor([0.000227, 1.0])
print("cumprod:", third_reverse(lambda a: torch.cumprod(a, 0), x, s[:2], s[:2], s[:2]).tolist(), "(exact: [0, 0])")
