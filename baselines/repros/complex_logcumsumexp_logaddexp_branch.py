# torch.logcumsumexp and torch.logaddexp on complex input return a logarithm off the principal branch: the imaginary part
# can leave (-pi, pi] (it adds the imaginary parts of a stabilised log-add-exp without wrapping them),
# where torch.log(torch.cumsum(torch.exp(z), 0)) and JAX give the principal value.  Both are logarithms
# (exp of either gives the same sum), so logcumsumexp's own gradient is the same on every branch; but a
# non-holomorphic op after it (abs, angle, real, imag) sees another value, and another gradient.
# Found by the soak (seed 2213661711 at 14840c4) in abs(logcumsumexp(z)) at z = [-1j, 3j, 0], and by the
# sharpness run's seed 7 (at e3bf4bd) in abs(sin(logaddexp(sin(x0), x1))).  torch.logsumexp is principal.
import torch

z = torch.tensor([0.1 - 1j, 0.2 + 3j], dtype=torch.complex128)
last = complex(torch.logcumsumexp(z, 0)[-1])
principal = complex(torch.log(torch.cumsum(torch.exp(z), 0))[-1])
print(torch.__version__, "logcumsumexp:", last, " log(cumsum(exp)):", principal)

x = torch.view_as_real(z).clone().requires_grad_()
torch.abs(torch.logcumsumexp(torch.view_as_complex(x), 0))[-1].backward()
y = torch.view_as_real(z).clone().requires_grad_()
torch.abs(torch.log(torch.cumsum(torch.exp(torch.view_as_complex(y)), 0)))[-1].backward()
print("d|logcumsumexp|/dx:", x.grad.tolist(), " d|log(cumsum(exp))|/dx:", y.grad.tolist())
added = complex(torch.logaddexp(z[1:], z[:1])[0])
print("logaddexp:", added, " log(exp(a) + exp(b)):", complex(torch.log(torch.exp(z[1]) + torch.exp(z[0]))))
assert abs(last.imag - principal.imag) > 6 and abs(added.imag - principal.imag) > 6, "the imaginary parts differ by 2*pi"
