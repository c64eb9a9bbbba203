# torch.special.log_ndtr's derivative loses accuracy in the far left tail, more the farther out:
# d/dx log Phi(x) = phi(x) / Phi(x) ~ -x - 1/x; against mpmath (60 digits) torch is off by 3.4e-11 relative at
# x = -1000, 4.3e-9 at -7619, 7.4e-7 at -1e5 and 94% at -1e8 (193552909 for 1e8). Seen on 2.9.1 and 2.13.0.
# Found by the extremes property (inputs drawn over the whole float64 domain).
import mpmath
import torch

mpmath.mp.dps = 60
for x in [-1000.0, -7619.0, -1e5, -1e8]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.special.log_ndtr(t).backward()
    true = mpmath.npdf(x) / mpmath.ncdf(x)
    print(f"x = {x:g}: torch {t.grad.item()!r}, mpmath {float(true)!r}, relative error {float(abs(t.grad.item() / true - 1)):.2g}")
