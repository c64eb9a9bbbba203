# torch 2.9.1 and 2.13.0: the third derivative by reverse mode of scatter_reduce and index_reduce with
# reduce='prod' loses precision at a small element, as prod's does (the backward divides by the input):
# here self's second element is not even scattered into, so the function is linear there and every third
# derivative is exactly 0, but torch gives -2^-27 = -7.45e-9 (relative 8e-8 of the seeds' scale).
import torch

x0 = torch.tensor([0.0, 7.37e-05], dtype=torch.float64, requires_grad=True)
x1 = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
u = torch.tensor([0.2739233672618866, -0.46042656898498535], dtype=torch.float64)
v = w = (torch.tensor([0.2739233672618866, -0.46042656898498535], dtype=torch.float64), torch.tensor([0.2739233672618866], dtype=torch.float64))


def dot(gs, ss):
    return sum((g * s).sum() for g, s in zip(gs, ss) if g is not None and g.requires_grad)


f = lambda x0, x1: torch.scatter_reduce(x0, 0, torch.tensor([0]), x1, "prod", include_self=False)  # noqa: E731
g = torch.autograd.grad(f(x0, x1), (x0, x1), u, create_graph=True)
h = torch.autograd.grad(dot(g, v), (x0, x1), create_graph=True, allow_unused=True)
third = torch.autograd.grad(dot(h, w), (x0, x1), allow_unused=True)
print("(u^T d3f)[v, w, .] =", third, "expected zeros")
