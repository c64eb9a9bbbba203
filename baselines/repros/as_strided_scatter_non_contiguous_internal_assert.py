# torch 2.3.1 to 2.13.0: as_strided_scatter on a non-contiguous input that requires grad fails an
# INTERNAL ASSERT ("!self.requires_grad() || self.is_contiguous() ... please report a bug to PyTorch.
# as_strided_scatter is currently only supported for contiguous inputs"); the same values
# contiguous work.
import torch

base = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
x = base.t()  # non-contiguous
src = torch.tensor([5.0], dtype=torch.float64, requires_grad=True)
torch.as_strided_scatter(x.contiguous(), src, (1,), (1,), 0).sum().backward()  # fine
try:
    torch.as_strided_scatter(x, src, (1,), (1,), 0).sum().backward()
    raise AssertionError("worked")
except RuntimeError as exc:
    print(torch.__version__, "raises:", str(exc).splitlines()[0][:160])
    assert "only supported for contiguous inputs" in str(exc)
