# torch 2.3.1 has no complex logsumexp: it raises "logsumexp(): Expected floating point type for result
# tensor, but got: ComplexDouble" (and ComplexFloat for complex64).  torch 2.6.0 and later compute it
# (and its gradient, which the complex cells check there).
import torch

z = torch.tensor([0.5 + 1j, -0.25 + 0.5j], dtype=torch.complex128, requires_grad=True)
try:
    torch.logsumexp(z, dim=0).abs().backward()
    print(torch.__version__, "complex logsumexp: gradient", z.grad)
except RuntimeError as exc:
    print(torch.__version__, "complex logsumexp raises:", exc)
