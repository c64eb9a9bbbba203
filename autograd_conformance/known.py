"""Known torch bugs that a correct user op meets: ``check_op`` reports them as such instead of failing the user.

The suite's own known failures live in ``baselines/`` (one entry per cell, with a repro); these are the
ones that follow from *how* a user's op is written, not from the op itself, so every user op of that kind
meets them.  Each entry names the properties it explains, the kind of op, the torch versions it was seen
on and the upstream issue; a property it explains that passes is simply a pass (the bug did not show).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class KnownTorchBug:
    properties: tuple[str, ...]
    applies: Callable[[Any], bool]  # to the user's callable
    reason: str


def _autograd_function(fn: Any) -> bool:
    owner = getattr(fn, "__self__", None)
    return isinstance(owner, type) and issubclass(owner, torch.autograd.Function)


KNOWN: tuple[KnownTorchBug, ...] = (
    KnownTorchBug(
        ("second_fwd_fwd", "third_fwd"),
        _autograd_function,
        "torch bug pytorch/pytorch#197867 (open; seen on 2.9.1 and 2.13.0): torch.func.jvp nested through an "
        "autograd.Function drops its jvp's dependence on the saved inputs, so forward over forward gives 0 for "
        "a Function whose jvp is right (tests/test_check_op.py shows it on x**3)",
    ),
)


def known_bug(fn: Any, prop: str) -> KnownTorchBug | None:
    """The known torch bug that explains ``prop`` failing for ``fn``, if any."""
    return next((bug for bug in KNOWN if prop in bug.properties and bug.applies(fn)), None)
