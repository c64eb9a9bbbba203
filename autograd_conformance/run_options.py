"""Where and how a run executes torch: the one owner of ``--device`` and ``--exec-path``.

The results plugin (``autograd_conformance.reports.pytest_plugin``) registers both options and builds one
``RunOptions`` from them; the suites receive it from the ``run_options`` fixture
(conftest.py) and pass it to the strategies, which put it in every ``Example`` they draw.
Nothing reads the options from anywhere else.  Torch-free, so the report tools can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograd_conformance.reports.results import (
    EXEC_PATHS,  # the results format names the paths (see autograd_conformance.execution)
)


@dataclass(frozen=True)
class RunOptions:
    device: str = "cpu"  # torch's device; the oracles always stay on the CPU in float64
    path: str = "eager"  # one of EXEC_PATHS

    def __post_init__(self) -> None:
        if self.path not in EXEC_PATHS:
            raise ValueError(f"unknown execution path {self.path!r}; choose one of {', '.join(EXEC_PATHS)}")

    @classmethod
    def from_config(cls, config: Any) -> RunOptions:
        """The options a pytest run was given (``--device``, ``--exec-path``)."""
        return cls(device=config.getoption("--device"), path=config.getoption("--exec-path"))
