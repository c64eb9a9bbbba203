# torch 2.3.1 to 2.13.0: not implemented in torch: double backward through
# scatter_reduce(reduce='prod') and index_reduce(reduce='prod') raises when two or more zeros of src reduce into one element
# ("Double backward is unsupported for src when >1 zeros in src are scattered to the same position
# in self"); the first derivative there is right (0: each zero's partial is the product of the others).
import torch

for op in (torch.scatter_reduce, torch.index_reduce):
    x = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    src = torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = op(x, 0, torch.tensor([0, 0, 0]), src, "prod")  # x0 * s0 * s1 * s2 = 0
    (gx, gs) = torch.autograd.grad(y, (x, src), torch.ones_like(y), create_graph=True)
    print(torch.__version__, "first derivatives:", gx.tolist(), gs.tolist())  # [0.0] [0.0, 0.0, 0.0]
    try:
        torch.autograd.grad(gs.sum(), (x, src))
        raise AssertionError("double backward worked")
    except RuntimeError as exc:
        print(torch.__version__, "double backward raises:", exc)
        assert "Double backward is unsupported" in str(exc)
