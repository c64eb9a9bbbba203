"""Ranges of torch versions: where a registry fact (forward mode, double backward) or a
convention (``autograd_conformance.conventions``) holds.  The suite runs a matrix of torch releases,
and what torch supports or computes changes between them."""

from __future__ import annotations

import functools
from typing import NamedTuple

Version = tuple[int, int]  # (major, minor): patch releases do not change autograd formulas


def version_tuple(version: str) -> Version:
    """``"2.9.1+cu128"`` -> ``(2, 9)``."""
    major, minor = version.split("+")[0].split(".")[:2]
    return int(major), int(minor)


@functools.cache
def installed_torch() -> Version:
    import torch

    return version_tuple(torch.__version__)


class Versions(NamedTuple):
    """torch versions from ``since`` up to, not including, ``until``."""

    since: Version = (0, 0)
    until: Version = (99, 0)

    def holds(self, version: Version | None = None) -> bool:
        """Whether the range holds for ``version`` (default: the installed torch)."""
        return self.since <= (version or installed_torch()) < self.until

    def __str__(self) -> str:
        if self == EVERY_VERSION:
            return "every torch version"
        if self.since >= self.until:
            return "no torch version"
        low = f"torch >= {self.since[0]}.{self.since[1]}" if self.since > (0, 0) else ""
        high = f"torch < {self.until[0]}.{self.until[1]}" if self.until < (99, 0) else ""
        return ", ".join(p for p in (low, high) if p)


EVERY_VERSION = Versions()
NO_VERSION = Versions(until=(0, 0))
