"""The fft family: torch.fft's transforms with their ``norm``, ``n``/``s`` and ``dim`` parameters.

Every transform is linear, so its derivatives are exact matrices and the checks compare them
with JAX's ``jnp.fft`` (x64, CPU) and central differences; second and higher derivatives are 0.

**Real input** (``rfft``, ``ihfft`` and their 2-d and n-d forms, ``fftshift``, ``ifftshift``) are
real entries of ``OPS``: the real input is the leaf and the complex output is read in its real view
(``torch.view_as_real``, a trailing axis of 2), so they get every real cell (vjp, jvp, second
order, float32, layout).  **Complex input** (``fft``, ``ifft``, ``irfft``, ``hfft`` and their 2-d
and n-d forms) are declared here in complex terms (``ON_COMPLEX``) and put on complex tensors by
``autograd_conformance.registry.complex.complexified``: complex128/complex64 cells, in the real view.

The Hermitian-input convention of ``irfft``/``hfft`` (c2r): both torch and JAX read the input as
the first n//2 + 1 entries of a Hermitian spectrum (trimmed or zero-padded to that length).  The
imaginary parts of the zero-frequency entry, and of the Nyquist entry when n is even, cannot
reach a real output and are ignored.  As a real function of the real view of its input, the
transform is therefore linear with those columns 0, and its gradient is what central differences
of that function give: 0 for the ignored parts, and the doubled weight 2/n of each interior
frequency (which appears twice in the full spectrum).  That is the convention checked here, by
all three oracles; torch's backward (``rfft`` of the cotangent with the interior terms doubled)
and JAX's transpose rule both follow it.  The converse ops (``rfft``, ``ihfft``) take a real input
and have no convention to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
from hypothesis import strategies as st

from autograd_conformance.registry.shapes import MAX_SIDE, Draw, ShapeRule
from autograd_conformance.registry.spec import Call, OpSpec, Shape, declare_family, make_call

ft = declare_family("fft")
NORM = {"norm": st.sampled_from((None, "forward", "ortho"))}


@dataclass(frozen=True)
class Spectral(ShapeRule):
    """An FFT's shapes: ``kind`` is "c2c" (every transformed side keeps its length, or becomes n),
    "r2c" (the last transformed side becomes n//2 + 1) or "c2r" (the last becomes n, by default
    2(m - 1) for an input side m); ``axes`` is "1" (``n``, ``dim``), "2" (``s``, the last two dims)
    or "n" (``s``, ``dim``: None for every dim, or an increasing tuple of dims).

    ``pair_out``: the output is read in its real view (a trailing axis of 2 the rule strips).  The
    parameters are drawn from the output's shape backwards: with ``n``/``s`` given, an input side is
    any length (torch trims or zero-pads it); without, it is the one the output's length implies."""

    kind: str = "c2c"
    axes: str = "1"
    pair_out: bool = False
    min_rank: int = 1

    def _core(self, out: Shape) -> Shape | None:
        if self.pair_out:
            return out[:-1] if len(out) >= 1 and out[-1] == 2 else None
        return out

    def produces(self, out: Shape) -> bool:
        core = self._core(out)
        if core is None:
            return False
        need = 2 if self.axes == "2" else 1
        return need <= len(core) <= (2 if self.axes == "1" else 3) and all(1 <= s <= 2 * MAX_SIDE for s in core)

    def out_shapes(self) -> st.SearchStrategy[Shape]:
        low = 2 if self.axes == "2" else 1
        high = 2 if self.axes == "1" else 3
        base = st.lists(st.integers(1, MAX_SIDE), min_size=low, max_size=high).map(tuple)
        return base.map(lambda s: (*s, 2)) if self.pair_out else base

    def draw(self, draw: Draw, out: Shape) -> Call:
        core = self._core(out)
        assert core is not None
        rank = len(core)
        if self.axes == "1":
            d = draw(st.integers(0, rank - 1), "fft dim")
            dims: tuple[int, ...] = (d,)
        elif self.axes == "2":
            dims = (rank - 2, rank - 1)
        else:
            every = draw(st.booleans(), "fftn over every dim")
            if every:
                dims = tuple(range(rank))
            else:
                chosen = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True), "fftn dims")
                dims = tuple(sorted(chosen))
        # Without n/s, each transformed side's input length follows from the output's; c2r's default
        # output side 2(m - 1) is even and at least 2, r2c's input side n must stay small.
        last = core[dims[-1]]
        implied_ok = {"c2c": True, "r2c": 2 * last - 2 <= MAX_SIDE, "c2r": last >= 2 and last % 2 == 0}[self.kind]
        given = not implied_ok or draw(st.booleans(), "n/s given")
        shape = list(core)
        sizes = []
        for k, d in enumerate(dims):
            o = core[d]
            halved = k == len(dims) - 1 and self.kind != "c2c"
            if self.kind == "r2c" and halved:
                choices = [n for n in (2 * o - 2, 2 * o - 1) if n >= 1 and (given or n <= MAX_SIDE)]
                size = draw(st.sampled_from(choices), "transform length")
            else:
                size = o
            if given:
                shape[d] = draw(st.integers(1, MAX_SIDE), f"input side {d}")
            elif self.kind == "c2r" and halved:
                shape[d] = o // 2 + 1
            else:
                shape[d] = size
            sizes.append(size)
        if self.axes == "1":
            dim = draw(st.sampled_from([dims[0], dims[0] - rank]), "dim sign")
            return make_call([tuple(shape)], n=sizes[0] if given else None, dim=dim)
        s = tuple(sizes) if given else None
        if self.axes == "2":
            return make_call([tuple(shape)], s=s)
        dim = None if every and not given else dims
        return make_call([tuple(shape)], s=s, dim=dim)


@dataclass(frozen=True)
class Shift(ShapeRule):
    """``fftshift(x, dim)``: the shape unchanged; ``dim`` None (every dim) or one dim."""

    min_rank: int = 1

    def draw(self, draw: Draw, out: Shape) -> Call:
        dim = draw(st.sampled_from([None, *range(len(out)), -1]), "shift dim")
        return make_call([out], dim=dim)


def _jax1(fn):
    def run(x, n, dim, norm):
        return fn(x, n=n, axis=dim, norm=norm)

    run.__name__ = fn.__name__
    return run


def _jax2(fn):
    def run(x, s, norm):
        return fn(x, s=s, norm=norm)

    run.__name__ = fn.__name__
    return run


def _jaxn(fn):
    def run(x, s, dim, norm):
        return fn(x, s=s, axes=dim, norm=norm)

    run.__name__ = fn.__name__
    return run


def _pairs(fn):
    """A complex-valued JAX function of real input, in the real view of its output."""

    def run(*args, **kwargs):
        z = fn(*args, **kwargs)
        return jnp.stack([jnp.real(z), jnp.imag(z)], axis=-1)

    run.__name__ = f"real_view_of_{fn.__name__}"
    return run


# JAX has hfft and ihfft but not their 2-d and n-d forms: hfftn(y) = irfftn(conj y) and ihfftn(x) =
# conj(rfftn(x)), each with the opposite normalization ("backward" ↔ "forward"; checked against torch
# at every norm, s and dim to 2e-15 when written).
_SWAP = {None: "forward", "forward": "backward", "ortho": "ortho"}


def _hfft2(x, s=None, norm=None):
    return jnp.fft.irfft2(jnp.conj(x), s=s, norm=_SWAP[norm])


def _hfftn(x, s=None, axes=None, norm=None):
    return jnp.fft.irfftn(jnp.conj(x), s=s, axes=axes, norm=_SWAP[norm])


def _ihfft2(x, s=None, norm=None):
    return jnp.conj(jnp.fft.rfft2(x, s=s, norm=_SWAP[norm]))


def _ihfftn(x, s=None, axes=None, norm=None):
    return jnp.conj(jnp.fft.rfftn(x, s=s, axes=axes, norm=_SWAP[norm]))


_JAX_FN = {
    **{name: getattr(jnp.fft, name) for name in dir(jnp.fft) if not name.startswith("_")},
    "hfft2": _hfft2, "hfftn": _hfftn, "ihfft2": _ihfft2, "ihfftn": _ihfftn,
}  # fmt: skip

_TEMPLATE = {
    "1": "torch.fft.{name}({{x}}, n={{n}}, dim={{dim}}, norm={{norm}})",
    "2": "torch.fft.{name}({{x}}, s={{s}}, norm={{norm}})",
    "n": "torch.fft.{name}({{x}}, s={{s}}, dim={{dim}}, norm={{norm}})",
}
_JAX = {"1": _jax1, "2": _jax2, "n": _jaxn}
_SUFFIX = {"1": "", "2": "2", "n": "n"}


def _real_input(base: str, kind: str) -> list[OpSpec]:
    """rfft/ihfft and their 2-d, n-d forms: real in, complex out in its real view.  ihfft returns a
    conjugate view, which view_as_real refuses: resolved first, as a user must."""
    resolve = ".resolve_conj()" if base == "ihfft" else ""
    out = []
    for axes in ("1", "2", "n"):
        name = base + _SUFFIX[axes]
        out.append(
            ft(
                f"fft_{name}",
                "torch.view_as_real(" + _TEMPLATE[axes].format(name=name) + resolve + ")",
                _pairs(_JAX[axes](_JAX_FN[name])),
                rule=Spectral(kind=kind, axes=axes, pair_out=True),
                params=NORM,
                notes=f"torch.fft.{name} of a real input, its complex output in the real view",
            )
        )
    return out


def _complex_input(base: str, kind: str) -> list[OpSpec]:
    """fft/ifft/irfft/hfft and their 2-d, n-d forms, declared in complex terms for ``complexified``."""
    out = []
    for axes in ("1", "2", "n"):
        name = base + _SUFFIX[axes]
        out.append(
            ft(
                f"fft_{name}",
                _TEMPLATE[axes].format(name=name),
                _JAX[axes](_JAX_FN[name]),
                rule=Spectral(kind=kind, axes=axes),
                params=NORM,
            )
        )
    return out


OPS = [
    *_real_input("rfft", "r2c"),
    *_real_input("ihfft", "r2c"),
    ft("fft_fftshift", "torch.fft.fftshift({x}, dim={dim})", lambda x, dim: jnp.fft.fftshift(x, axes=dim), rule=Shift()),
    ft("fft_ifftshift", "torch.fft.ifftshift({x}, dim={dim})", lambda x, dim: jnp.fft.ifftshift(x, axes=dim), rule=Shift()),
]

# Complex-input transforms: (base spec in complex terms, complexified's keyword arguments).
# irfft and hfft (c2r) return a real tensor; see the module docstring for their input convention.
ON_COMPLEX: list[tuple[OpSpec, dict]] = [
    *((op, {}) for op in _complex_input("fft", "c2c")),
    *((op, {}) for op in _complex_input("ifft", "c2c")),
    *((op, {"complex_output": False}) for op in _complex_input("irfft", "c2r")),
    *((op, {"complex_output": False}) for op in _complex_input("hfft", "c2r")),
]
