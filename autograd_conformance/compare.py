"""Turn a torch value and an oracle value into one Outcome."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograd_conformance.verdict import Outcome, Verdict


def max_abs(*arrays: np.ndarray) -> float:
    """The largest |element| over the arrays, 0 where all are empty: the size of a seed (u, v, w) or of a gradient."""
    return max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)


def arrays_match(
    actual: list[np.ndarray],
    expected: list[np.ndarray],
    *,
    rtol: float,
    oracle: str,
    what: str,
    oracle_error: list[np.ndarray] | Callable[[], list[np.ndarray]] | None = None,
    seed_scale: float = 0.0,
) -> Outcome:
    """Elementwise: |a - e| ≤ rtol·(|e| + max(max|e|, seed_scale)) + oracle_error, over every array of the list.

    ``seed_scale`` (the size of the seed u or v) is an absolute floor: where a
    gradient cancels to ~0 (cosine_similarity of parallel vectors), rounding
    noise of ~eps·|seed| is not a wrong gradient.
    A non-finite oracle value that torch does not reproduce means the oracle cannot tell.

    ``oracle_error`` may be a function computing the arrays (the JAX oracle's
    costs a second evaluation): it is called only when torch fails without it.
    The term only widens the tolerance, so the verdict is the same either way.
    """
    if callable(oracle_error):
        kw = dict(rtol=rtol, oracle=oracle, what=what, seed_scale=seed_scale)
        strict = arrays_match(actual, expected, **kw)
        return (
            strict
            if strict.verdict is not Verdict.FAIL
            else arrays_match(actual, expected, oracle_error=oracle_error(), **kw)
        )
    scale = max(seed_scale, max_abs(*(np.where(np.isfinite(e), e, 0.0) for e in expected)))
    worst = Outcome(Verdict.PASS, oracle, 0.0, rtol * scale, f"{what}: torch matches {oracle}")
    worst_ratio = -1.0
    for i, (a, e) in enumerate(zip(actual, expected)):
        a = np.asarray(a, dtype=np.float64)
        if a.shape != e.shape:
            return Outcome(
                Verdict.FAIL,
                oracle,
                float("inf"),
                0.0,
                f"{what}: input {i} has gradient shape {a.shape}, {oracle} says {e.shape}",
            )
        both_nan = np.isnan(a) & np.isnan(e)
        if not np.all(np.isfinite(e) | both_nan | (a == e)):
            return Outcome(
                Verdict.INCONCLUSIVE,
                oracle,
                0.0,
                0.0,
                f"{what}: {oracle} gives a non-finite value torch does not; the oracle cannot tell",
            )
        tol = rtol * (np.abs(e) + scale)
        if oracle_error is not None:
            tol = tol + oracle_error[i]
        err = np.where(both_nan | (a == e), 0.0, np.abs(a - e))
        err = np.where(np.isnan(err), np.inf, err)
        ratio = np.where(tol > 0, err / np.where(tol > 0, tol, 1.0), np.where(err > 0, np.inf, 0.0))
        if ratio.size and float(ratio.max()) > worst_ratio:
            j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            worst_ratio = float(ratio.max())
            ok = worst_ratio <= 1.0
            message = (
                f"{what}: input x{i} at index {tuple(int(k) for k in j)}: torch gives {a[j]!r}, "
                f"{oracle} gives {e[j]!r} (|diff| {err[j]:.3g} > tolerance {tol[j]:.3g})"
                if not ok
                else f"{what}: torch matches {oracle}"
            )
            where = {"array": i, "index": tuple(int(k) for k in j), "rel": _relative(float(err[j]), float(abs(e[j]) + scale))}
            worst = Outcome(Verdict.PASS if ok else Verdict.FAIL, oracle, float(err[j]), float(tol[j]), message, where)
    return worst


def scalars_match(
    actual: float,
    expected: float,
    *,
    scale: float,
    rtol: float,
    oracle_error: float,
    useful: float | None,
    oracle: str,
    what: str,
    floor: float = 0.0,
) -> Outcome:
    """|a - e| ≤ rtol·max(scale, floor) + 2·oracle_error; INCONCLUSIVE when the oracle's error swamps the scale.

    ``floor`` (|u|·|v|, the seeds' size) keeps a dot product that cancels to ~0
    from being held to a tolerance below rounding noise.
    """
    err = abs(actual - expected)
    tol = rtol * max(scale, floor) + 2 * oracle_error
    if not np.isfinite(actual) and not np.isfinite(expected):
        return Outcome(Verdict.INCONCLUSIVE, oracle, 0.0, tol, f"{what}: both sides are non-finite")
    if useful is not None and oracle_error > useful * max(scale, abs(expected)):
        return Outcome(
            Verdict.INCONCLUSIVE,
            oracle,
            err,
            tol,
            f"{what}: {oracle}'s own error estimate {oracle_error:.3g} is too large at scale {scale:.3g}",
        )
    rel = {"rel": _relative(float(err), max(scale, floor))}
    if not np.isfinite(err) or err > tol:
        return Outcome(
            Verdict.FAIL,
            oracle,
            err,
            tol,
            f"{what}: torch gives {actual!r}, {oracle} gives {expected!r} (|diff| {err:.3g} > tolerance {tol:.3g})",
            rel,
        )
    return Outcome(Verdict.PASS, oracle, err, tol, f"{what}: torch matches {oracle}", rel)


def _relative(error: float, scale: float) -> float:
    """The error in the units a relative tolerance is written in (``autograd_conformance.facts``: ``rel``)."""
    if scale > 0:
        return error / scale
    return 0.0 if error == 0 else float("inf")
