# torch 2.9.1 and 2.13.0: logcumsumexp's bfloat16 gradient loses precision as the values along dim
# spread, far beyond bfloat16's rounding (2^-8 = 0.4%): worst |error| / max(|gradient|, |u|) over 300
# random rows of 4, against the float64 gradient at the same bfloat16 inputs: 1.6% at spreads up to 1,
# 8.5% up to 8, 14% up to 17, 20% up to 30.  (Its float64 forward mode loses precision with the spread
# too: see logcumsumexp_forward_mode.py.)  Found by the modes soak at x = [0, 17]: -0.676 for -0.508.
import torch
torch.manual_seed(0)
for s in (1.0, 4.0, 8.0, 12.0, 17.0, 24.0, 30.0):
    worst = 0.0
    for _ in range(300):
        x = (torch.rand(4, dtype=torch.float64) * s).to(torch.bfloat16).to(torch.float64)
        u = (torch.rand(4, dtype=torch.float64) * 2 - 1).to(torch.bfloat16).to(torch.float64)
        g = []
        for dt in (torch.bfloat16, torch.float64):
            t = x.to(dt).requires_grad_()
            torch.logcumsumexp(t, 0).backward(u.to(dt))
            g.append(t.grad.to(torch.float64))
        worst = max(worst, ((g[0] - g[1]).abs().max() / max(g[1].abs().max(), u.abs().max())).item())
    print(f"spread up to {s}: worst |err| / max(|g|, |u|) = {worst:.3f}")
