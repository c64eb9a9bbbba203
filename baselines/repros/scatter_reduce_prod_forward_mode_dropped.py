# torch 2.9.1 and 2.13.0: forward mode through scatter_reduce(reduce='prod') silently drops the
# tangent: the output of dual inputs carries no tangent (None), so torch.func.jvp returns zeros,
# where it should compute J v or raise "not implemented" (as index_reduce does).  The other
# reductions (sum, mean, amax, amin) carry their tangents; reverse mode of 'prod' is right.
import torch
import torch.autograd.forward_ad as fwAD

x = torch.tensor([2.0, 5.0], dtype=torch.float64)
src = torch.tensor([3.0, 7.0], dtype=torch.float64)
index = torch.tensor([0, 1])
vx = torch.tensor([1.0, 0.0], dtype=torch.float64)
vs = torch.tensor([0.0, 10.0], dtype=torch.float64)
with fwAD.dual_level():
    out = torch.scatter_reduce(fwAD.make_dual(x, vx), 0, index, fwAD.make_dual(src, vs), "prod", include_self=True)
    tangent = fwAD.unpack_dual(out).tangent  # out = [x0 s0, x1 s1] = [6, 35]
    print("tangent:", tangent, "expected [3, 50] (vx0 s0, x1 vs1)")  # None

_, jv = torch.func.jvp(lambda a, b: torch.scatter_reduce(a, 0, index, b, "prod"), (x, src), (vx, vs))
print("torch.func.jvp:", jv.tolist(), "expected [3.0, 50.0]")  # [0.0, 0.0]
assert tangent is None and jv.abs().max() == 0
