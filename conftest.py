"""Repository-wide pytest configuration: Hypothesis profile, header, results plugin."""

from __future__ import annotations

import platform

import conformance.jaxsetup  # noqa: F401  (x64 + CPU before any JAX array exists)
from conformance.profiles import load_default_profile

load_default_profile()

pytest_plugins = ["reports.pytest_plugin"]


def pytest_report_header(config) -> list[str]:
    import hypothesis
    import jax
    import torch
    from hypothesis import settings

    from conformance.device import device_name

    seed = config.getoption("hypothesis_seed", default=None)
    return [
        f"autograd conformance: torch {torch.__version__}, jax {jax.__version__}, "
        f"hypothesis {hypothesis.__version__}, python {platform.python_version()}",
        f"device {device_name(config)}, hypothesis profile {settings._current_profile}, "
        f"seed {seed if seed is not None else ('derandomized' if settings().derandomize else 'random')}",
    ]
