# torch 2.13.0 (and 2.9.1): the deprecated torch.cholesky has no forward-mode derivative
# (NotImplementedError "Trying to use forward AD with cholesky that does not support it"), while
# torch.linalg.cholesky and torch.linalg.cholesky_ex, the same function, have one.  Reverse mode works.
import torch

A = torch.tensor([[2.0, 0.5], [0.5, 3.0]], dtype=torch.float64)
T = torch.tensor([[0.1, 0.2], [0.2, 0.3]], dtype=torch.float64)
print("linalg.cholesky J v:", torch.func.jvp(torch.linalg.cholesky, (A,), (T,))[1].tolist())
try:
    print("torch.cholesky J v:", torch.func.jvp(torch.cholesky, (A,), (T,))[1].tolist())
except NotImplementedError as exc:
    print("torch.cholesky J v raised:", str(exc).splitlines()[0])
else:
    raise SystemExit("fixed: torch.cholesky has forward mode")
