"""Repository-wide pytest configuration: Hypothesis profile, header, results plugin."""

from __future__ import annotations

import platform
from typing import Any

from autograd_conformance.profiles import load_default_profile

# Problems found while this file is imported are reported as usage errors by pytest_configure,
# with their cause, rather than as a traceback from importing conftest.py.
_SETUP_ERRORS: list[str] = []
try:
    import autograd_conformance.jaxsetup  # noqa: F401  (x64 + CPU before any JAX array exists)
except ImportError as exc:
    _SETUP_ERRORS.append(str(exc))
try:
    load_default_profile()
except ValueError as exc:
    _SETUP_ERRORS.append(str(exc))

pytest_plugins = ["autograd_conformance.reports.pytest_plugin"]

# The ops --ops added (for the header) and the known torch bugs their cells meet (expected failures).
_USER_OPS: dict[str, Any] = {"names": [], "known": {}}

# Why --device cannot run here (no CUDA), decided once in pytest_configure; None when it can.
_DEVICE_UNAVAILABLE: dict[str, str | None] = {"reason": None}


def pytest_addoption(parser) -> None:
    parser.getgroup("conformance").addoption(
        "--ops",
        default=None,
        metavar="FILE",
        help="a file of your ops (declare_op at module level): they join every cell and the random trees",
    )


def pytest_configure(config) -> None:
    """Check that the device the run asked for exists (the run's options reach the suites as the
    ``run_options`` fixture of autograd_conformance.reports.pytest_plugin); add the user's ops of ``--ops`` to the registry."""
    import pytest

    if _SETUP_ERRORS:
        raise pytest.UsageError("\n".join(_SETUP_ERRORS))

    if config.getoption("--ops"):
        from autograd_conformance.suite_ops import OpsFileError, join_suite, known_bugs

        try:
            added = join_suite(config.getoption("--ops"))
        except OpsFileError as exc:
            raise pytest.UsageError(str(exc)) from None
        _USER_OPS["names"], _USER_OPS["known"] = [op.name for op in added], known_bugs(added)

    from autograd_conformance import execution

    device = config.getoption("--device", default="cpu")
    try:
        unavailable = execution.check_device(device)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if unavailable and config.getoption("--require-device", default=False):
        raise pytest.UsageError(
            f"--device {device} with --require-device, but this machine has no such device ({unavailable})"
        )
    _DEVICE_UNAVAILABLE["reason"] = unavailable


def pytest_collection_modifyitems(config, items) -> None:
    """On a machine without CUDA, CUDA cells are 'not run', never failed and never silently dropped."""
    import pytest

    for item in items:
        marker, case = item.get_closest_marker("conformance"), getattr(item, "callspec", None)
        op = getattr(case.params.get("case"), "op", None) if case else None
        bug = marker and _USER_OPS["known"].get((op, marker.kwargs.get("property")))
        if bug:
            item.add_marker(pytest.mark.xfail(reason=bug, strict=False))
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

    seed = config.getoption("hypothesis_seed", default=None)
    return [
        f"autograd conformance: torch {torch.__version__}, jax {jax.__version__}, "
        f"hypothesis {hypothesis.__version__}, python {platform.python_version()}",
        f"device {config.getoption('--device')}, hypothesis profile {settings._current_profile}, "
        f"seed {seed if seed is not None else ('derandomized' if settings().derandomize else 'random')}",
        *([f"your ops (--ops): {', '.join(_USER_OPS['names'])}"] if _USER_OPS["names"] else []),
    ]
