# torch 2.3.1 to 2.13.0: forward mode of torch.minimum, maximum, fmin and fmax loses the selected
# operand's tangent when the other operand's tangent is large: the formula mixes the two tangents
# arithmetically (other_t + (self_t - other_t) * mask), so 1e17 + (1 - 1e17) rounds to 0.
# The README's command found it in a tree, minimum(x0, exp(exp(exp2(x1)))), whose inner tangent is
# 7e25 (seed 2708711223); reverse mode is right.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([0.0], dtype=torch.float64)  # the selected operand, tangent 1
y = torch.tensor([1e6], dtype=torch.float64)  # the other operand, tangent 1e17
for name in ("minimum", "maximum", "fmin", "fmax"):
    other = y if name in ("minimum", "fmin") else -y
    with fwAD.dual_level():
        out = getattr(torch, name)(
            fwAD.make_dual(x, torch.ones(1, dtype=torch.float64)), fwAD.make_dual(other, torch.full((1,), 1e17, dtype=torch.float64))
        )
        tangent = fwAD.unpack_dual(out).tangent.item()
    print(f"{name}: d out = {tangent!r}, expected 1.0")
    assert tangent != 1.0
