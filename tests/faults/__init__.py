"""The planted-fault catalogue: semantics (``semantics.py``), gradient (``gradients.py``), execution-path
(``paths.py``), ``torch.autograd.functional`` (``functional.py``), backward-hook (``hooks.py``), custom
Function (``functions.py``), anomaly, backward-root and inference-mode (``anomaly.py``), threaded/reentrant
backward, selective checkpointing and saved-tensor (``threads.py``), and in-place-on-view (``inplace.py``) faults.

One list, :data:`FAULTS`; every entry is a :class:`~tests.faults.semantics.Fault` with a
name, a kind, the property that must catch it, the suite tests to run and ``patch()``,
a context manager that installs it through torch's public API.  :data:`ISSUE_KINDS`
are the fault kinds issue 6 asks for; :func:`issue_kind` says which one a fault is.

Run the suite under one fault with the plugin (``tests/faults/plugin.py``)::

    pytest suites -p tests.faults.plugin --plant-fault exp_tiny_relative
"""

from __future__ import annotations

from tests.faults.anomaly import FAULTS as ANOMALY_FAULTS
from tests.faults.functional import FAULTS as FUNCTIONAL_FAULTS
from tests.faults.functions import FAULTS as FUNCTION_FAULTS
from tests.faults.gradients import FAULTS as GRADIENT_FAULTS
from tests.faults.gradients import GradientFault
from tests.faults.hooks import FAULTS as HOOK_FAULTS
from tests.faults.inplace import FAULTS as INPLACE_FAULTS
from tests.faults.paths import FAULTS as PATH_FAULTS
from tests.faults.semantics import FAULTS as SEMANTICS_FAULTS
from tests.faults.semantics import Fault
from tests.faults.threads import FAULTS as THREAD_FAULTS

FAULTS: list[Fault] = [
    *GRADIENT_FAULTS,
    *SEMANTICS_FAULTS,
    *PATH_FAULTS,
    *FUNCTIONAL_FAULTS,
    *HOOK_FAULTS,
    *FUNCTION_FAULTS,
    *ANOMALY_FAULTS,
    *THREAD_FAULTS,
    *INPLACE_FAULTS,
]
FAULTS_BY_NAME: dict[str, Fault] = {f.name: f for f in FAULTS}
assert len(FAULTS_BY_NAME) == len(FAULTS), "fault names must be unique"

# The kinds issue 6 lists.  Gradient faults carry theirs as ``kind``; semantics faults are mapped below.
ISSUE_KINDS: tuple[str, ...] = (
    "a sign flip in one region of the domain",
    "a tiny relative error (1e-5) everywhere",
    "an error only in float32",
    "an error only for non-contiguous inputs",
    "an error only when an operand broadcasts",
    "an error only when both operands are the same tensor (x*x)",
    "an error only for tensors above some size",
    "an error only in the second derivative",
    "an error only in forward mode",
    "a wrong denominator in a quotient rule",
    "a matmul gradient missing a transpose for square operands",
    "a reduction dividing by the wrong count",
    "the vector seed is ignored",
    "a second backward overwrites instead of accumulating",
    "zero_ or zero_grad does nothing",
    "one op drops requires_grad",
    "Variable ignores requires_grad",
    ".data returns a copy",
)
_SEMANTICS_ISSUE_KIND = {
    "seed_ignored": "the vector seed is ignored",
    "accumulate_overwrites": "a second backward overwrites instead of accumulating",
    "zero_noop": "zero_ or zero_grad does nothing",
    "module_zero_grad_noop": "zero_ or zero_grad does nothing",
    "optimizer_zero_grad_noop": "zero_ or zero_grad does nothing",
    "sin_drops_requires_grad": "one op drops requires_grad",
    "variable_ignores_requires_grad": "Variable ignores requires_grad",
    "data_copy": ".data returns a copy",
}


def issue_kind(fault: Fault) -> str | None:
    """The issue-6 kind a fault covers, or None for an extra fault beyond the issue's list."""
    if fault.kind in ISSUE_KINDS:
        return fault.kind
    return _SEMANTICS_ISSUE_KIND.get(fault.name)


def allowed_properties(fault: Fault) -> tuple[str, ...]:
    """The properties whose FAIL attributes the fault correctly."""
    return getattr(fault, "allowed", None) or (fault.prop,)  # gradient and path faults list theirs


__all__ = ["FAULTS", "FAULTS_BY_NAME", "ISSUE_KINDS", "Fault", "GradientFault", "allowed_properties", "issue_kind"]
