# torch 2.3.1 and 2.6.0: complex asin loses about 2e-11 relative in its VALUE near z = 0 (mpmath as
# the reference); 2.9.1 and 2.13.0 are exact there.  Its derivative is right (JAX agrees), but
# central differences of the value (the suite's fd oracle) inherit the error, divided by the step:
# for |z| below ~1e-2 the fd estimate in the complex jvp/vjp cells is off by ~1e-11.
import mpmath
import torch

mpmath.mp.dps = 40
for z in (1e-6 + 1e-6j, 6e-6j):
    t = complex(torch.asin(torch.tensor(z, dtype=torch.complex128)))
    m = complex(mpmath.asin(mpmath.mpc(z.real, z.imag)))
    print(torch.__version__, "asin", z, "relative error of the value:", abs(t - m) / abs(m))
