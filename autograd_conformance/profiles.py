"""Hypothesis profiles.  Registered here and loaded explicitly by conftest.py.

Hypothesis loads its own ``ci`` profile by itself when ``CI=true``; we register a
``ci`` of our own with the same spirit (derandomized, no database, no deadline,
print the reproduction blob) and load a profile explicitly, so the choice is ours.
A registered profile inherits what it leaves unset from the profile loaded at the
time, which under ``CI=true`` is Hypothesis's derandomized one: so every profile
says ``derandomize`` itself, or ``--hypothesis-seed`` and soak seeds would do
nothing on a CI machine.

* ``default``  – a local run of ``pytest suites``.
* ``ci``       – the gate: derandomized, so a given torch always gets the same verdicts; few examples
  per cell (``CI_EXAMPLES``), for it runs every cell of two torch versions inside CI's budget.
* ``fast``     – the project's own tests and the planted-fault sharpness runs' smoke subset.
* ``thorough`` – long hunts for new findings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

_SUPPRESS = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,  # the `record` fixture deliberately spans all examples of a test
]

settings.register_profile("default", max_examples=25, deadline=None, derandomize=False, suppress_health_check=_SUPPRESS)
# The ci profile's examples per cell.  It was 13 until the registry grew to 435 ops (4,225 cells): a cold
# run of one version then took about 54 minutes on 2 cores, and CI (two versions and the project's tests)
# ran past its 90.  At 4, a 10% sample of the cells took 145 s cold where it took 324 s at 13, and half
# the JAX programs; a whole cold run of 2.9.1 took 17 minutes (with suites/cases.PER_OP_SEED;
# docs/measurements.md, twelfth session), and 7.5 once XLA compiled fast (autograd_conformance/jaxsetup.py) and every
# example drew the same choices (autograd_conformance/strategies/examples.py: thirteenth session).  The random-tree cells keep
# their 260 (``tree_examples``); the default, thorough and soak runs go deeper.
CI_EXAMPLES = 4
CI_TREE_EXAMPLES = 260
settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_SUPPRESS,
)
settings.register_profile(
    "fast", max_examples=10, deadline=None, derandomize=False, database=None, suppress_health_check=_SUPPRESS
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, derandomize=False, suppress_health_check=_SUPPRESS
)

PROFILE_ENV = "CONFORMANCE_PROFILE"
Test = TypeVar("Test", bound=Callable[..., Any])
PROFILES = ("default", "ci", "fast", "thorough")


def load_default_profile() -> str:
    """Load the profile named by $CONFORMANCE_PROFILE, else ``default``.  ``--hypothesis-profile`` overrides both."""
    name = os.environ.get(PROFILE_ENV, "default")
    if name not in PROFILES:
        raise ValueError(
            f"${PROFILE_ENV}={name!r} is not a Hypothesis profile of this suite; use one of {', '.join(PROFILES)}"
        )
    settings.load_profile(name)
    return name


def tree_examples() -> int:
    """Examples for the random-tree properties: these are where composition bugs hide, so they get more
    (20 times the profile's; the ci profile's few per cell would leave them 80, so it keeps 260)."""
    if settings.get_current_profile_name() == "ci":
        return CI_TREE_EXAMPLES
    return settings().max_examples * 20


def higher_order_examples() -> int:
    """Examples for the other second-order compositions and third order: a third of the profile's (at
    least 4).  Their findings so far are wrong everywhere or on a whole input region (a zero, y = 0), and
    their 1,060 cells at the full count would add about 25 minutes to each version's ci-profile run on 2
    cores (docs/measurements.md); the soak and the thorough profile run more."""
    return max(4, settings().max_examples // 3)


def higher_order(test: Test) -> Test:
    """``@higher_order`` on a cell: it draws ``higher_order_examples()`` (read when the test module is imported,
    after conftest.py has loaded the profile)."""
    return settings(max_examples=higher_order_examples())(test)
