"""Configure JAX once, process-wide, before any array exists: CPU only, float64 on.

Import this module before ``jax`` anywhere in the suite.  The JAX oracle is
always CPU float64, whatever device torch runs on.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_ENABLE_X64", "1")

# XLA:CPU compiles each oracle program for speed of execution, but the suite runs a program a handful of times
# and compiles thousands (one per op, parameters and shape): compile time is what counts.  Without LLVM's
# optimisation passes and with the older fusion emitters, the backend compiles 2.8 times faster (a ci-profile
# sample of 39 ops, 412 programs, jaxlib 0.10.2: 74.5 s -> 26.5 s; the sample 134 s -> 92 s in all) and the
# programs compute the same IEEE float64 operations.  Measured on jaxlib 0.10 only: an older jaxlib (0.7.1, for
# torch 2.3.1) may not know a flag, and XLA aborts on an unknown one, so it is left as it was.  Flags the user
# sets in $XLA_FLAGS win.
FAST_COMPILE_FLAGS = {"--xla_backend_optimization_level": "0", "--xla_cpu_use_fusion_emitters": "false"}


def _jaxlib_at_least(major: int, minor: int) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return tuple(int(p) for p in version("jaxlib").split(".")[:2]) >= (major, minor)
    except (PackageNotFoundError, ValueError):
        return False


if _jaxlib_at_least(0, 10):
    _user_flags = os.environ.get("XLA_FLAGS", "")
    _added = [f"{k}={v}" for k, v in FAST_COMPILE_FLAGS.items() if k not in _user_flags]
    os.environ["XLA_FLAGS"] = " ".join([_user_flags, *_added]).strip()

try:
    import jax
except ImportError as exc:  # pragma: no cover - exercised by tests/test_jax_missing.py
    raise ImportError(
        f"The JAX oracle needs jax and jaxlib (CPU), and `import jax` failed: {type(exc).__name__}: {exc}.  "
        "Install them with `pip install jax jaxlib` (JAX 0.10 needs numpy >= 2; constraints/ pins a pair per "
        "torch version), or run through nox (`nox -s conformance`), which installs everything."
    ) from exc

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

_DEFAULT_CACHE = os.path.join(os.path.dirname(__file__), "..", ".cache", "jax")
_CACHE_SETTING = os.environ.get("CONFORMANCE_JAX_CACHE", _DEFAULT_CACHE)
# One cache per JAX version: the version matrix runs JAX 0.7.1 (torch 2.3.1) beside 0.10.2, and a
# JAX 0.7.1 worker reading the folder 0.10.2 processes were writing segfaulted (2026-12-01).
CACHE_DIR: str = os.path.join(os.path.abspath(_CACHE_SETTING), jax.__version__) if _CACHE_SETTING else ""  # "" turns the disk caches off
if CACHE_DIR:
    # A persistent compilation cache makes the second run of the suite start warm.
    jax.config.update("jax_compilation_cache_dir", CACHE_DIR)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

JAX_VERSION: str = jax.__version__
