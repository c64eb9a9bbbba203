"""Hypothesis strategies: tensors inside op domains, expression trees, seeds, layouts, kinks.

Every draw is labelled: strategies here take a ``Draw`` – ``draw(strategy, label)`` –
built from ``st.data()`` with :func:`labelled`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def labelled(data: st.DataObject):
    """A ``draw(strategy, label)`` function over Hypothesis's ``data`` object."""

    def draw(strategy: st.SearchStrategy[Any], label: str) -> Any:
        return data.draw(strategy, label=label)

    return draw
