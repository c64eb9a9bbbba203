# F.layer_norm's third derivative by reverse mode (autograd.grad with create_graph twice) is wrong at every
# input tried, while its second derivative is right: central differences of torch's own double backward
# (u^T d2f)[v, .] along w, which agree with JAX, give 0.00608 at x = [0.3, -0.2], and reverse mode three
# deep gives 14.17; its result does not even sum to 0 over the row, as a derivative of a normalized row must.
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
f = lambda x: F.layer_norm(x, x.shape[-1:])
u = torch.tensor([0.2739233672618866, -0.46042656898498535])
v = w = u


def second(x):  # (u^T d2f)[v, .] by double backward
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, u, create_graph=True)
    return torch.autograd.grad((g * v).sum(), x)[0]


def third(x):  # (u^T d3f)[v, w, .] by reverse mode three times
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(f(x), x, u, create_graph=True)
    (h,) = torch.autograd.grad((g * v).sum(), x, create_graph=True)
    return torch.autograd.grad((h * w).sum(), x)[0]


x = torch.tensor([0.3, -0.2])
step = 1e-6
fd = (second(x + step * w) - second(x - step * w)) / (2 * step)
print(torch.__version__, "reverse mode three deep:", third(x).tolist(), " central differences of double backward:", fd.tolist())
assert not torch.allclose(third(x), fd, rtol=1e-3, atol=1e-6)
