"""Configure JAX once, process-wide, before any array exists: CPU only, float64 on.

Import this module before ``jax`` anywhere in the suite.  The JAX oracle is
always CPU float64, whatever device torch runs on.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_ENABLE_X64", "1")

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
