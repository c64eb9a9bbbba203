"""Repository-wide pytest configuration: Hypothesis profile, header, results plugin."""

from __future__ import annotations

import platform

from conformance.profiles import load_default_profile

# Problems found while this file is imported are reported as usage errors by pytest_configure,
# with their cause, rather than as a traceback from importing conftest.py.
_SETUP_ERRORS: list[str] = []
try:
    import conformance.jaxsetup  # noqa: F401  (x64 + CPU before any JAX array exists)
except ImportError as exc:
    _SETUP_ERRORS.append(str(exc))
try:
    load_default_profile()
except ValueError as exc:
    _SETUP_ERRORS.append(str(exc))

pytest_plugins = ["reports.pytest_plugin"]

# Why --device cannot run here (no CUDA), decided once in pytest_configure; None when it can.
_DEVICE_UNAVAILABLE: dict[str, str | None] = {"reason": None}


def pytest_configure(config) -> None:
    """Point the suite at the device and execution path the run asked for."""
    import pytest

    if _SETUP_ERRORS:
        raise pytest.UsageError("\n".join(_SETUP_ERRORS))

    from conformance import execution

    device = config.getoption("--device", default="cpu")
    path = config.getoption("--exec-path", default="eager")
    try:
        unavailable = execution.check_device(device)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if unavailable and config.getoption("--require-device", default=False):
        raise pytest.UsageError(f"--device {device} with --require-device, but this machine has no such device ({unavailable})")
    _DEVICE_UNAVAILABLE["reason"] = unavailable
    execution.configure(device=device, path=path)


def pytest_collection_modifyitems(config, items) -> None:
    """On a machine without CUDA, CUDA cells are 'not run', never failed and never silently dropped."""
    import pytest

    reason = _DEVICE_UNAVAILABLE["reason"]
    if reason:
        for item in items:
            if item.get_closest_marker("conformance"):
                item.add_marker(pytest.mark.skip(reason=reason))


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
