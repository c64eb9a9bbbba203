"""The semantics properties are sharp: each planted fault makes its property FAIL, and nothing else breaks.

For each fault of ``tests/faults/semantics.py``, ``hooks.py``, ``functions.py``, ``anomaly.py``, ``threads.py`` and
``inplace.py`` the fault's target tests run in-process (pytester) with the fault applied around each test call, under
the ``fast`` profile without shrinking and with results written to a temporary folder.  The run must fail, and the
failure must be a FAIL verdict of the fault's property (attribution), not an ERROR.  Without any fault the same tests
pass.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import Phase, settings

from tests.faults import allowed_properties
from tests.faults.anomaly import FAULTS as ANOMALY_FAULTS
from tests.faults.functions import FAULTS as FUNCTION_FAULTS
from tests.faults.hooks import FAULTS as HOOK_FAULTS
from tests.faults.inplace import FAULTS as INPLACE_FAULTS
from tests.faults.semantics import FAULTS as SEMANTICS_FAULTS
from tests.faults.semantics import Fault
from tests.faults.threads import FAULTS as THREAD_FAULTS
from tests.helpers import ROOT, result_records, suite_options

pytest_plugins = ["pytester"]
FAULTS: list[Fault] = [
    *SEMANTICS_FAULTS, *HOOK_FAULTS, *FUNCTION_FAULTS, *ANOMALY_FAULTS, *THREAD_FAULTS, *INPLACE_FAULTS,
]  # fmt: skip


def _warm() -> None:
    """Import what the suites import lazily (optimizers pull in torch._dynamo) once, outside pytester's
    sys.modules snapshot: re-importing torch internals in every in-process run is slow and re-registers ops."""
    import torch

    p = torch.zeros(1, requires_grad=True)
    for opt in (torch.optim.SGD([p], lr=0.1), torch.optim.Adam([p], lr=0.1)):
        p.grad = torch.ones(1)
        opt.step()
        opt.zero_grad()


_warm()

# The fast profile without shrinking: a fault only has to be detected here, not minimised.
settings.register_profile(
    "semantics-sharpness", parent=settings.get_profile("fast"), phases=[Phase.explicit, Phase.generate]
)


class ApplyFault:
    """A pytest plugin: the fault is active only while a test body runs.  It notes the Hypothesis profile
    the run collected its tests under (``@given`` takes the profile's settings when it decorates)."""

    def __init__(self, fault: Fault | None) -> None:
        self.fault = fault
        self.profile: str | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.profile = settings.get_current_profile_name()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        if self.fault is None:
            return (yield)
        with self.fault.patch():
            return (yield)


def run_suite(pytester: pytest.Pytester, tests: list[str], fault: Fault | None) -> tuple[int, list[dict]]:
    out = pytester.path / "results"
    plugin = ApplyFault(fault)
    # @given takes the loaded profile's settings when it decorates: a suite module imported earlier in this
    # process (the catalog test collects every suite in-process, under CI's ci profile) would run its cells
    # with 4 derandomized examples instead of this profile's 10.  Import them afresh under this run's profile.
    for name in [m for m in sys.modules if m.startswith("suites.test_")]:
        del sys.modules[name]
    result = pytester.runpytest_inprocess(
        *[str(ROOT / t) for t in tests],
        *suite_options(
            "--no-baseline",
            "-q",
            "--hypothesis-profile=semantics-sharpness",
            # A fixed seed: runs without a fault must not meet a known torch finding by chance (abs' second
            # derivative through a custom Function is a zero tensor: baselines/torch-*.txt), for they run
            # without the baseline.
            "--hypothesis-seed=0",
            f"--results-dir={out}",
            "--results-label=sharpness",
        ),
        plugins=[plugin],
    )
    assert plugin.profile == "semantics-sharpness", f"the suite ran under the {plugin.profile!r} profile"
    return int(result.ret), result_records(out)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_is_caught_by_its_property(pytester: pytest.Pytester, fault: Fault) -> None:
    ret, results = run_suite(pytester, list(fault.tests), fault)
    summary = [(r["test_id"].split("::")[-1], r["property"], r["verdict"], r["examples"]) for r in results]
    assert results, f"{fault.name}: no results were written"
    assert ret != 0, f"{fault.name} ({fault.kind}) was not caught: {summary}"
    errors = [r for r in results if r["verdict"] == "error"]
    assert not errors, (
        f"{fault.name}: ERROR instead of a FAIL verdict: {[(r['test_id'], r['message'][:300]) for r in errors]}"
    )
    allowed = allowed_properties(fault)  # the properties that attribute it correctly (tests.sharpness likewise)
    caught = [r for r in results if r["property"] in allowed and r["verdict"] == "fail"]
    assert caught, f"{fault.name}: no FAIL from {allowed}: {summary}"
    for r in caught:
        assert r["repro"] and "import torch" in r["repro"], (
            f"{fault.name}: the failure of {r['test_id']} carries no repro"
        )


def test_the_same_tests_pass_without_faults(pytester: pytest.Pytester) -> None:
    tests = sorted({t for f in FAULTS for t in f.tests})
    ret, results = run_suite(pytester, tests, None)
    bad = [
        (r["test_id"], r["verdict"], r["message"][:300]) for r in results if r["verdict"] not in ("pass", "convention")
    ]
    assert ret == 0 and not bad, f"unpatched torch fails the sharpness selection: {bad}"
    assert {f.prop for f in FAULTS} <= {r["property"] for r in results}, "every fault's property ran"
