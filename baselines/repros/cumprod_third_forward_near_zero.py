# torch.cumprod's third derivative by forward mode (torch.func.jvp three deep) loses precision when an
# element is small: the forward-mode formula divides by the input.  For one element cumprod is the
# identity, whose third derivative is exactly 0; at x = 1.69e-4 torch gives -7.3e-12 (a relative error of
# 4e-9 against the tangents' scale), and at x = [0.5, 1e-4, 2] the last element is off by 1.4e-9 relative.
# At exactly 0 the result is wrong outright (baselines/repros/cumprod_second_order_compositions_at_zeros.py).
import torch

torch.set_default_dtype(torch.float64)
f = lambda a: torch.cumprod(a, dim=0)
for xs in ([0.000169], [0.5, 1e-4, 2.0], [0.5, 0.25, 2.0]):
    x = torch.tensor(xs)
    v, t = torch.full_like(x, 0.27), torch.full_like(x, 0.024)
    jv = lambda a: torch.func.jvp(f, (a,), (v,))[1]
    jwv = lambda a: torch.func.jvp(jv, (a,), (v,))[1]
    exact = [0.0] * (len(xs) - 1) + ([6 * 0.27 * 0.27 * 0.024] if len(xs) == 3 else [0.0])
    print(torch.__version__, xs, "forward mode three deep:", torch.func.jvp(jwv, (x,), (t,))[1].tolist(), " exact:", exact)
