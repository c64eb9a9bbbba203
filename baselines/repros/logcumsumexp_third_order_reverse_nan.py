# torch.logcumsumexp: the third derivative by reverse mode (autograd.grad with create_graph twice) is nan
# in some elements at every input tried (which ones depends on the seeds; here the last), while
# double backward is right: central differences of torch's own double backward give finite values.
import torch

f = lambda x: torch.logcumsumexp(x, 0)  # noqa: E731
x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
u = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
v = torch.tensor([0.5, 1.0, -1.0], dtype=torch.float64)
w = torch.tensor([-0.3, 0.8, 0.4], dtype=torch.float64)


def hessian_v(x, create_graph=False):
    g, = torch.autograd.grad(f(x), x, u, create_graph=True)
    return torch.autograd.grad((g * v).sum(), x, create_graph=create_graph)[0]


xg = x.clone().requires_grad_()
third = torch.autograd.grad((hessian_v(xg, create_graph=True) * w).sum(), xg)[0]
print("reverse mode, (u^T d3f)[v, w, .] =", third)
eps = 1e-5
fd = (hessian_v((x + eps * w).requires_grad_()) - hessian_v((x - eps * w).requires_grad_())) / (2 * eps)
print("central differences of double backward along w =", fd)
