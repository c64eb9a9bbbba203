"""pytest plugin: run the suite with one planted fault installed for the whole session.

    pytest suites -p tests.faults.plugin --plant-fault exp_tiny_relative [--fault-stats stats.json]

The fault is installed in ``pytest_configure`` (before collection) and removed in
``pytest_unconfigure``.  ``--fault-stats`` writes the detection cost as JSON: the
Hypothesis examples run (over every test of the session, in run order) and the
seconds since the first test started, up to and including the first failing
example, plus the test it failed in.  The counts come from a Hypothesis
observability callback (coverage collection off); examples Hypothesis rejected
(``assume``) are not counted.  With a fault planted, the profile runs without its shrink phase: the first
failing example is reported as found.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pytest

STACK = pytest.StashKey[contextlib.ExitStack]()
COUNTER = pytest.StashKey["DetectionCost"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("planted faults", "mutation testing of the suite (tests/faults)")
    group.addoption(
        "--plant-fault", default=None, help="install this planted fault (a name from tests/faults) for the session"
    )
    group.addoption(
        "--fault-stats", default=None, help="write the detection cost (examples, seconds) to this JSON file"
    )


class DetectionCost:
    """Counts Hypothesis examples until the first failing one."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.examples = 0
        self.per_test: dict[str, int] = {}
        self.first_failure: dict[str, Any] | None = None

    def __call__(self, observation: Any) -> None:
        if getattr(observation, "type", None) != "test_case" or self.first_failure is not None:
            return
        if observation.status == "gave_up":
            return
        test = observation.property
        self.examples += 1
        self.per_test[test] = self.per_test.get(test, 0) + 1
        if observation.status == "failed":
            self.first_failure = {
                "test_id": test,
                "examples": self.examples,
                "examples_in_test": self.per_test[test],
                "seconds": round(time.perf_counter() - (self.start or time.perf_counter()), 3),
                "how_generated": observation.how_generated,
            }

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.start is None:
            self.start = time.perf_counter()

    def summary(self) -> dict[str, Any]:
        return {"examples_run": self.examples, "tests_run": len(self.per_test), "first_failure": self.first_failure}


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("--plant-fault")
    stats = config.getoption("--fault-stats")
    if not name and not stats:
        return
    stack = contextlib.ExitStack()
    config.stash[STACK] = stack
    if stats:
        from hypothesis.internal import observability

        observability.OBSERVABILITY_COLLECT_COVERAGE = False  # Hypothesis supports patching this; tracing is slow
        counter = DetectionCost()
        config.stash[COUNTER] = counter
        config.pluginmanager.register(counter, "planted-fault-cost")
        observability.add_observability_callback(counter)
        stack.callback(observability.remove_observability_callback, counter)
    if name and name != "none":
        from tests.faults import FAULTS_BY_NAME

        if name not in FAULTS_BY_NAME:
            raise pytest.UsageError(f"--plant-fault {name!r}: no such fault; choose from {', '.join(FAULTS_BY_NAME)}")
        stack.enter_context(FAULTS_BY_NAME[name].patch())
        _without_shrinking()


def _without_shrinking() -> None:
    """Reload the session's profile without its shrink phase.  A planted fault only has to be caught and
    attributed; shrinking its failure to a minimal example is what a real finding needs, and here it cost more
    than the detection (conv2d's fault: most of its 133 s, every smaller shape a new JAX program)."""
    from hypothesis import Phase, settings

    name = settings.get_current_profile_name()
    phases = tuple(p for p in settings.get_profile(name).phases if p is not Phase.shrink)
    settings.register_profile(name, parent=settings.get_profile(name), phases=phases)
    settings.load_profile(name)


def pytest_report_header(config: pytest.Config) -> str | None:
    name = config.getoption("--plant-fault")
    return f"planted fault: {name}" if name else None


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(STACK, None)
    if stack is None:
        return
    stack.close()
    counter = config.stash.get(COUNTER, None)
    stats = config.getoption("--fault-stats")
    if counter is not None and stats:
        record = {"fault": config.getoption("--plant-fault"), **counter.summary()}
        Path(stats).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
