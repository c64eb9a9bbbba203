# torch 2.3.1 to 2.13.0: as_strided_scatter's backward gives the input `self` the output's gradient
# exactly where src overwrites it (where it must be 0: y there is src, whatever self is) and 0 where
# self shows through (where it must be the output's gradient): the mask is inverted.  src's gradient
# is right.  torch's own OpInfo marks as_strided_scatter's test_fn_grad an expected failure.
import torch

x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
src = torch.tensor([5.0, 6.0], dtype=torch.float64, requires_grad=True)
y = torch.as_strided_scatter(x, src, (2,), (1,), 1)  # [1, 5, 6]
y.backward(torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64))
print(torch.__version__, "x.grad =", x.grad.tolist(), "expected [1.0, 0.0, 0.0]")
print(torch.__version__, "src.grad =", src.grad.tolist(), "expected [10.0, 100.0]")
assert x.grad.tolist() != [1.0, 0.0, 0.0]
