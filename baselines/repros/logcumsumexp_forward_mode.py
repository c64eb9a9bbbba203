# torch 2.9.1 and 2.13.0: logcumsumexp's forward-mode derivative loses precision as the
# values along `dim` spread apart; reverse mode is exact.  y[0] = x[0], so dy[0]/dx[0] = 1.
import torch

x = torch.tensor([-30.0, 0.0], dtype=torch.float64)
v = torch.tensor([1.0, 0.0], dtype=torch.float64)
_, jv = torch.func.jvp(lambda t: torch.logcumsumexp(t, dim=0), (x,), (v,))
print(jv[0].item(), "expected 1.0")  # 0.4834076468946147 expected 1.0 (spread 11: 0.99999999401)
assert abs(jv[0].item() - 1.0) > 1e-3
